package verifiers

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/jwtvc"
	"github.com/urbis-id/urbis/vc/ld"
	"github.com/urbis-id/urbis/vc/sdjwt"
)

// The named checks of a presentation verification, besides CheckProof.
const (
	CheckPresentation  = "presentation" // the data model of the presentation
	CheckChallenge     = "challenge"
	CheckDomain        = "domain"
	CheckHolder        = "holder"
	CheckCredentials   = "credentials"
	CheckHolderBinding = "holderBinding"
)

// Formats of presentations.
const (
	FormatLDPVP = "ldp_vp"
	FormatJWTVP = "jwt_vp_json"
)

// PresentationOptions are what the verifier asked the holder to bind the
// presentation to. Empty values are not checked.
type PresentationOptions struct {
	Challenge string // the proof's challenge, a JWT-VP's or KB-JWT's nonce
	Domain    string // the proof's domain, a JWT-VP's or KB-JWT's aud
}

// PresentationResult is the outcome of a presentation verification:
// the checks of the presentation itself, and each embedded credential's
// Result in order.
type PresentationResult struct {
	Result
	Credentials []*Result
	// Claims are, for an SD-JWT VC presentation whose Key Binding JWT
	// verified, the claims it discloses (the issuer-signed claims with
	// its disclosures applied), so that a caller need not verify the
	// issuer's signature again to read them.
	Claims map[string]any
}

// VerifyPresentation verifies a presentation given as the VC-API
// verifiablePresentation value: a JSON object with a Data Integrity
// proof (purpose authentication), a compact JWT-VP, or an SD-JWT VC with
// a Key Binding JWT. Each embedded credential is verified with
// VerifyCredential, and each credential whose subject id is a DID must
// name the holder. Failed checks are reported in the result; the error
// is for input that is no presentation (errkind.Invalid) or a failure of
// Urbis itself.
func (v *Verifier) VerifyPresentation(ctx context.Context, in any, opts PresentationOptions) (*PresentationResult, error) {
	r := &PresentationResult{}
	var err error
	switch t := in.(type) {
	case map[string]any:
		r.Format = FormatLDPVP
		err = v.ldpVP(ctx, t, opts, r)
	case string:
		t = strings.TrimSpace(t)
		switch {
		case strings.Contains(t, "~"):
			r.Format = FormatSDJWT
			err = v.sdJWTVP(ctx, t, opts, r)
		case strings.HasPrefix(t, "ey") && strings.Count(t, ".") == 2:
			r.Format = FormatJWTVP
			err = v.jwtVP(ctx, t, opts, r)
		default:
			return nil, errkind.Field(errkind.Invalid, "", "is a string but neither a JWT-VP (eyJ... with two dots) nor an SD-JWT VC with a Key Binding JWT (with ~ separators)")
		}
	case nil:
		return nil, errkind.Field(errkind.Invalid, "", "is required: a presentation with a proof, a JWT-VP or an SD-JWT VC with key binding")
	default:
		return nil, errkind.Field(errkind.Invalid, "", "must be a JSON object (a presentation with a proof) or a string (a JWT-VP or an SD-JWT VC)")
	}
	if err != nil {
		return nil, err
	}
	r.Verified = len(r.Errors) == 0
	return r, nil
}

// ldpVP verifies a presentation secured with a Data Integrity proof.
func (v *Verifier) ldpVP(ctx context.Context, m map[string]any, opts PresentationOptions, r *PresentationResult) error {
	p, err := vc.NewPresentation(m)
	if err != nil {
		return err
	}
	r.pass(CheckPresentation)
	if _, ok := m["proof"]; !ok {
		r.fail(CheckProof, errkind.Field(errkind.Invalid, "/proof", "is required: the holder proves the presentation with a Data Integrity proof of purpose authentication"))
	} else {
		keys, resolveErr := v.diKeys(did.Authentication)
		res, err := dataintegrity.Verify(ctx, m, keys, ld.Default())
		switch {
		case *resolveErr != nil:
			r.fail(CheckHolder, *resolveErr)
			r.fail(CheckProof, errors.New("the proof cannot be checked without the holder's key"))
		case err != nil && errkind.KindOf(err) == errkind.Internal:
			return err
		case err != nil:
			r.fail(CheckProof, err)
		default:
			if err := res.Check(dataintegrity.Expect{ProofPurpose: "authentication", Now: v.clock()}); err != nil {
				r.fail(CheckProof, err)
			} else {
				r.pass(CheckProof)
			}
			var challenges, domains []string
			for _, pr := range res.Proofs {
				challenges = append(challenges, pr.Challenge)
				domains = append(domains, pr.Domain)
			}
			h, _ := p.Holder()
			r.binding(opts, challenges, domains)
			for i, pr := range res.Proofs {
				signer, _, _ := strings.Cut(pr.VerificationMethod, "#")
				switch {
				case h.ID == "":
					r.fail(CheckHolder, errkind.Field(errkind.Invalid, "/holder", "is required: the proof's key %s must belong to the presentation's holder", pr.VerificationMethod))
				case signer != h.ID:
					r.fail(CheckHolder, errkind.Field(errkind.Forbidden, proofPointer(i, len(res.Proofs)), "the proof is by %s, which is not the holder %s", pr.VerificationMethod, h.ID))
				}
			}
			r.pass(CheckHolder)
		}
	}
	h, _ := p.Holder()
	for _, c := range p.Credentials() {
		if err := v.embedded(ctx, c.Map(), "", h.ID, r); err != nil {
			return err
		}
	}
	for _, e := range p.Enveloped() {
		var in any = e.Data
		if e.Object != nil {
			in = e.Object
		}
		if err := v.embedded(ctx, in, e.Pointer, h.ID, r); err != nil {
			return err
		}
	}
	r.pass(CheckCredentials)
	if !r.failed(CheckHolderBinding) && len(r.Credentials) > 0 {
		r.pass(CheckHolderBinding)
	}
	return nil
}

// jwtVP verifies a JWT-VP and the credentials in its vp claim.
func (v *Verifier) jwtVP(ctx context.Context, tok string, opts PresentationOptions, r *PresentationResult) error {
	payload, err := unverifiedPayload(tok)
	if err != nil {
		return errkind.Field(errkind.Invalid, "", "%v", err)
	}
	iss, _ := payload["iss"].(string)
	// Check against what was asked, or else against what the token says,
	// so that the signature is checked either way.
	aud, nonce := opts.Domain, opts.Challenge
	if aud == "" {
		switch a := payload["aud"].(type) {
		case string:
			aud = a
		case []any:
			if len(a) > 0 {
				aud, _ = a[0].(string)
			}
		}
	}
	if nonce == "" {
		nonce, _ = payload["nonce"].(string)
	}
	var resolveErr error
	keyFor := func(kid string) (crypto.PublicKey, error) {
		rel := did.AssertionMethod
		if id, _, _ := strings.Cut(kid, "#"); id == iss {
			rel = did.Authentication
		}
		k, err := v.keyForRel(ctx, kid, rel)
		if err != nil && rel == did.Authentication {
			resolveErr = err
		}
		return k, err
	}
	got, err := jwtvc.VerifyPresentation(tok, keyFor, aud, nonce, v.clock())
	if err != nil {
		var e *errkind.Error
		field := ""
		if errors.As(err, &e) {
			field = e.Field
		}
		switch {
		case resolveErr != nil:
			r.fail(CheckHolder, resolveErr)
			r.fail(CheckProof, errors.New("the signature cannot be checked without the holder's key"))
		case errkind.KindOf(err) == errkind.Internal:
			return err
		case field == "nonce" || (nonce == "" && strings.Contains(err.Error(), "nonce")):
			r.fail(CheckChallenge, err)
		case field == "aud" || (aud == "" && strings.Contains(err.Error(), "audience")):
			r.fail(CheckDomain, err)
		case field == "kid" || field == "iss":
			r.fail(CheckHolder, err)
		case strings.HasPrefix(err.Error(), "vp.verifiableCredential["):
			r.fail(CheckCredentials, err)
		default:
			r.fail(CheckProof, err)
		}
		if !r.failed(CheckProof) {
			r.fail(CheckProof, errors.New("the presentation's signature was not accepted: see the other errors"))
		}
		return nil
	}
	r.pass(CheckPresentation)
	r.pass(CheckProof)
	r.pass(CheckHolder)
	if opts.Challenge != "" {
		r.pass(CheckChallenge)
	}
	if opts.Domain != "" {
		r.pass(CheckDomain)
	}
	if _, err := vc.NewPresentation(got.Presentation); err != nil {
		r.fail(CheckPresentation, err)
		return nil
	}
	var creds []any
	switch c := got.Presentation["verifiableCredential"].(type) {
	case nil:
	case []any:
		creds = c
	default:
		creds = []any{c}
	}
	for i, c := range creds {
		if err := v.embedded(ctx, c, fmt.Sprintf("/vp/verifiableCredential/%d", i), got.Holder, r); err != nil {
			return err
		}
	}
	r.pass(CheckCredentials)
	if !r.failed(CheckHolderBinding) && len(r.Credentials) > 0 {
		r.pass(CheckHolderBinding)
	}
	return nil
}

// sdJWTVP verifies an SD-JWT VC presented with a Key Binding JWT: the
// credential through VerifyCredential, the KB-JWT against the cnf key
// with aud the domain and nonce the challenge. The holder is the
// subject (sub) when it is a DID, whose authentication keys must include
// the cnf key.
func (v *Verifier) sdJWTVP(ctx context.Context, tok string, opts PresentationOptions, r *PresentationResult) error {
	if strings.HasSuffix(tok, "~") {
		r.pass(CheckPresentation)
		r.fail(CheckProof, errkind.New(errkind.Unauthorized, "the SD-JWT has no Key Binding JWT: a presentation must end with one, signed by the holder's cnf key"))
		return nil
	}
	r.pass(CheckPresentation)
	// The credential: issuer signature, trust, validity and status.
	cr, err := v.VerifyCredential(ctx, tok)
	if err != nil {
		return err
	}
	r.Credentials = append(r.Credentials, cr)
	if !cr.Verified {
		r.fail(CheckCredentials, errkind.Field(errkind.Invalid, "", "the SD-JWT VC did not verify: %s", firstError(cr)))
	}
	// The key binding, with the issuer key the credential check trusted.
	ver, err := sdjwt.Verify(tok, sdjwt.VerifyOptions{
		Type: sdjwt.MediaType,
		Now:  v.clock,
		IssuerKey: func(header, claims map[string]any) (crypto.PublicKey, error) {
			kid, _ := header["kid"].(string)
			k, _, err := v.resolveKey(ctx, kid, did.AssertionMethod, signedAt(claims, v.clock()))
			return k, err
		},
		Audience: opts.Domain,
		Nonce:    opts.Challenge,
	})
	var e *errkind.Error
	switch {
	case err != nil && errors.As(err, &e) && e.Field == "nonce":
		r.fail(CheckChallenge, err)
		r.fail(CheckProof, errors.New("the Key Binding JWT is bound to another challenge"))
		return nil
	case err != nil && errors.As(err, &e) && e.Field == "aud":
		r.fail(CheckDomain, err)
		r.fail(CheckProof, errors.New("the Key Binding JWT is bound to another domain"))
		return nil
	case err != nil:
		if !r.failed(CheckCredentials) {
			r.fail(CheckProof, err)
		} else {
			r.fail(CheckProof, errors.New("the Key Binding JWT cannot be checked: the credential did not verify"))
		}
		return nil
	case !ver.KeyBound:
		r.fail(CheckProof, errkind.New(errkind.Unauthorized, "the SD-JWT has no Key Binding JWT"))
		return nil
	}
	r.pass(CheckProof)
	if opts.Challenge != "" {
		r.pass(CheckChallenge)
	}
	if opts.Domain != "" {
		r.pass(CheckDomain)
	}
	r.pass(CheckCredentials)
	r.Claims = ver.Claims
	sub, _ := ver.Claims["sub"].(string)
	if !strings.HasPrefix(sub, "did:") {
		r.pass(CheckHolder)
		r.warn(CheckHolderBinding, "the credential names no subject DID (sub): the holder is whoever holds its cnf key")
		return nil
	}
	if err := v.holdsKey(ctx, sub, ver.HolderKey); err != nil {
		r.fail(CheckHolder, err)
		return nil
	}
	r.pass(CheckHolder)
	r.pass(CheckHolderBinding)
	return nil
}

// holdsKey reports (as nil) whether pub is an authentication key of the
// DID id.
func (v *Verifier) holdsKey(ctx context.Context, id string, pub crypto.PublicKey) error {
	res, err := v.resolver.Resolve(ctx, id, did.ResolveOptions{})
	if err != nil {
		return err
	}
	if res.Document == nil || res.DocumentMetadata.Deactivated {
		return errkind.New(errkind.Gone, "DID %s has no active document", id)
	}
	eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return errkind.New(errkind.Invalid, "the cnf key is a %T", pub)
	}
	for _, m := range res.Document.VerificationMethod {
		if !res.Document.Authorizes(did.Authentication, m.ID) {
			continue
		}
		if k, err := m.PublicKey(); err == nil && eq.Equal(k) {
			return nil
		}
	}
	return errkind.Field(errkind.Forbidden, "/cnf", "the key bound to the credential (cnf) is not an authentication key of the subject %s", id)
}

// embedded verifies one embedded credential and its holder binding.
func (v *Verifier) embedded(ctx context.Context, in any, ptr, holder string, r *PresentationResult) error {
	cr, err := v.VerifyCredential(ctx, in)
	if err != nil {
		if errkind.KindOf(err) == errkind.Internal {
			return err
		}
		r.fail(CheckCredentials, underField(err, ptr))
		r.Credentials = append(r.Credentials, &Result{Errors: []Finding{{Check: CheckCredential, Message: err.Error()}}})
		return nil
	}
	r.Credentials = append(r.Credentials, cr)
	if !cr.Verified {
		r.fail(CheckCredentials, errkind.Field(errkind.Invalid, ptr, "credential %d did not verify: %s", len(r.Credentials)-1, firstError(cr)))
	}
	n := len(r.Credentials) - 1
	if len(cr.subjects) == 0 {
		r.warn(CheckHolderBinding, "credential %d has no credentialSubject id: nothing binds it to the holder", n)
	}
	for _, s := range cr.subjects {
		switch {
		case s == "":
			r.warn(CheckHolderBinding, "credential %d has a subject without an id: nothing binds it to the holder", n)
		case !strings.HasPrefix(s, "did:"):
		case s != holder:
			r.fail(CheckHolderBinding, errkind.Field(errkind.Forbidden, ptr, "credential %d is about %s, not the holder %s", n, s, holder))
		}
	}
	return nil
}

// binding checks the proofs' challenges and domains against opts.
func (r *PresentationResult) binding(opts PresentationOptions, challenges, domains []string) {
	for _, c := range []struct {
		check, want string
		got         []string
	}{{CheckChallenge, opts.Challenge, challenges}, {CheckDomain, opts.Domain, domains}} {
		if c.want == "" {
			continue
		}
		ok := true
		for i, g := range c.got {
			field := proofPointer(i, len(c.got)) + "/" + c.check
			switch {
			case g == "":
				r.fail(c.check, errkind.Field(errkind.Invalid, field, "is missing; the request's %s must be in the proof", c.check))
				ok = false
			case g != c.want:
				r.fail(c.check, errkind.Field(errkind.Invalid, field, "does not match the request's %s", c.check))
				ok = false
			}
		}
		if ok {
			r.pass(c.check)
		}
	}
}

func proofPointer(i, n int) string {
	if n == 1 {
		return "/proof"
	}
	return fmt.Sprintf("/proof/%d", i)
}

func firstError(r *Result) string {
	if len(r.Errors) == 0 {
		return "no reason given"
	}
	return r.Errors[0].Check + ": " + r.Errors[0].Message
}

func underField(err error, p string) error {
	var e *errkind.Error
	if !errors.As(err, &e) {
		return err
	}
	c := *e
	c.Field = p + e.Field
	return &c
}

// keyForRel is keyFor for another verification relationship.
func (v *Verifier) keyForRel(ctx context.Context, kid string, rel did.Relationship) (crypto.PublicKey, error) {
	k, _, err := v.resolveKey(ctx, kid, rel, time.Time{})
	return k, err
}
