package verifiers

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/jwtvc"
	"github.com/urbis-id/urbis/vc/ld"
	"github.com/urbis-id/urbis/vc/sdjwt"
	"github.com/urbis-id/urbis/vc/statuslist"
)

// The named checks of a credential verification.
const (
	CheckCredential    = "credential" // the data model of a secured credential
	CheckProof         = "proof"
	CheckIssuer        = "issuer"
	CheckAccreditation = "accreditation"
	CheckSchema        = "schema"
	CheckValidity      = "validity"
)

// Formats the verifier detects.
const (
	FormatLDP   = "ldp_vc"
	FormatJWT   = "jwt_vc_json"
	FormatSDJWT = "dc+sd-jwt"
)

// Finding is a failed check (an error) or a remark about one (a warning).
type Finding struct {
	Check   string
	Message string
	Field   string // a JSON pointer into the credential, where there is one
}

// Result is the outcome of a verification. Verified is true when Errors
// is empty; Checks names the checks that passed, in order.
type Result struct {
	Verified bool
	Format   string
	Checks   []string
	Warnings []Finding
	Errors   []Finding
	// Notes say how a check was answered, where that is worth knowing:
	// which version of the issuer's DID document held its key.
	Notes []Finding

	subjects []string // the credentialSubject ids, "" for a subject without one
}

func (r *Result) pass(check string) {
	if !slices.Contains(r.Checks, check) && !r.failed(check) {
		r.Checks = append(r.Checks, check)
	}
}

func (r *Result) fail(check string, err error) {
	f := Finding{Check: check, Message: err.Error()}
	var e *errkind.Error
	if errors.As(err, &e) {
		f.Field = e.Field
		f.Message = e.Error()
	}
	r.Errors = append(r.Errors, f)
	r.Checks = slices.DeleteFunc(r.Checks, func(c string) bool { return c == check })
}

func (r *Result) failed(check string) bool {
	return slices.ContainsFunc(r.Errors, func(f Finding) bool { return f.Check == check })
}

func (r *Result) note(check, msg string) {
	n := Finding{Check: check, Message: msg}
	if !slices.Contains(r.Notes, n) {
		r.Notes = append(r.Notes, n)
	}
}

func (r *Result) warn(check, format string, args ...any) {
	r.Warnings = append(r.Warnings, Finding{Check: check, Message: fmt.Sprintf(format, args...)})
}

// Verifier verifies credentials.
type Verifier struct {
	resolver did.Resolver
	trust    *Trust
	clock    func() time.Time
	lists    ListFetcher
	verified verifiedLists
	decoded  statuslist.Decoder
	pureKeys pureKeys // keys of did:key and did:jwk verification methods
}

// NewVerifier returns a Verifier. A nil clock means time.Now.
func NewVerifier(resolver did.Resolver, trust *Trust, clock func() time.Time) *Verifier {
	if clock == nil {
		clock = time.Now
	}
	return &Verifier{resolver: resolver, trust: trust, clock: clock}
}

// claims is what the checks after the proof look at.
type claims struct {
	issuer   string
	types    []string
	subjects []map[string]any
	issued   time.Time
	from     time.Time
	until    time.Time
	status   any // credentialStatus, nil when absent
	// tokenStatus is an SD-JWT VC's status claim (Token Status List),
	// nil when absent.
	tokenStatus any
}

// VerifyCredential verifies a credential given as the VC-API
// verifiableCredential value: a JSON object with a proof (Data
// Integrity), an EnvelopedVerifiableCredential with a data: URL, or a
// compact JWT-VC or SD-JWT VC string. A failed check is reported in the
// Result; the error is for input that is no credential in any format
// (errkind.Invalid, naming the field) or for a failure of Urbis itself.
func (v *Verifier) VerifyCredential(ctx context.Context, in any) (*Result, error) {
	if m, ok := in.(map[string]any); ok && hasType(m, "EnvelopedVerifiableCredential") {
		tok, err := envelopedToken(m)
		if err != nil {
			return nil, err
		}
		in = tok
	}
	var (
		r   = &Result{}
		cl  *claims
		err error
	)
	switch t := in.(type) {
	case map[string]any:
		r.Format = FormatLDP
		cl, err = v.linkedData(ctx, t, r)
	case string:
		t = strings.TrimSpace(t)
		switch {
		case strings.Contains(t, "~"):
			r.Format = FormatSDJWT
			cl, err = v.sdJWT(ctx, t, r)
		case strings.HasPrefix(t, "ey") && strings.Count(t, ".") == 2:
			r.Format = FormatJWT
			cl, err = v.jwt(ctx, t, r)
		default:
			return nil, errkind.Field(errkind.Invalid, "", "is a string but neither a JWT-VC (eyJ... with two dots) nor an SD-JWT VC (with ~ separators)")
		}
	case nil:
		return nil, errkind.Field(errkind.Invalid, "", "is required: a credential with a proof, a JWT-VC or an SD-JWT VC")
	default:
		return nil, errkind.Field(errkind.Invalid, "", "must be a JSON object (a credential with a proof) or a string (a JWT-VC or an SD-JWT VC)")
	}
	if err != nil {
		return nil, err
	}
	if cl != nil {
		for _, s := range cl.subjects {
			id, _ := s["id"].(string)
			r.subjects = append(r.subjects, id)
		}
		if err := v.trustChecks(ctx, cl, r); err != nil {
			return nil, err
		}
		v.validity(cl, r)
		v.status(ctx, cl, r)
	}
	r.Verified = len(r.Errors) == 0
	return r, nil
}

// dataIntegrity verifies a credential secured with embedded proofs.
func (v *Verifier) dataIntegrity(ctx context.Context, m map[string]any, r *Result) (*claims, error) {
	if _, ok := m["proof"]; !ok {
		return nil, errkind.Field(errkind.Invalid, "/proof", "is required: a credential object must carry a Data Integrity proof (or send a JWT-VC or SD-JWT VC string)")
	}
	c, err := vc.NewCredential(m)
	if err != nil {
		return nil, err
	}
	cl := credentialClaims(c)
	keys, resolveErr := v.issuerDIKeys(m, cl.issued, r)
	res, err := dataintegrity.Verify(ctx, m, keys, ld.Default())
	switch {
	case *resolveErr != nil:
		r.fail(CheckIssuer, *resolveErr)
		r.fail(CheckProof, proofUnchecked(*resolveErr, "issuer"))
		return cl, nil
	case err != nil && errkind.KindOf(err) == errkind.Internal:
		return nil, err
	case err != nil:
		r.fail(CheckProof, err)
		return cl, nil
	}
	if err := res.Check(dataintegrity.Expect{ProofPurpose: "assertionMethod", Now: v.clock()}); err != nil {
		r.fail(CheckProof, err)
	} else {
		r.pass(CheckProof)
	}
	for _, p := range res.Proofs {
		signer, _, _ := strings.Cut(p.VerificationMethod, "#")
		if signer != cl.issuer {
			r.fail(CheckIssuer, errkind.Field(errkind.Forbidden, "/issuer", "the proof is by %s, which is not the issuer %s", p.VerificationMethod, cl.issuer))
		}
		if cl.issued.IsZero() && !p.Created.IsZero() {
			cl.issued = p.Created
		}
	}
	r.pass(CheckIssuer)
	return cl, nil
}

// jwt verifies a JWT-VC. Its signature is checked as of its issuance;
// the validity period is the validity check's business.
func (v *Verifier) jwt(ctx context.Context, tok string, r *Result) (*claims, error) {
	parsed, err := jwtvc.Parse(tok)
	if err != nil {
		r.fail(CheckProof, err)
		return nil, nil
	}
	payload := parsed.UnverifiedClaims()
	at := issuedAt(payload, v.clock())
	var resolveErr error
	got, err := parsed.Verify(func(kid string) (crypto.PublicKey, error) {
		k, err := v.issuerKey(ctx, kid, signedAt(payload, at), r)
		if err != nil {
			resolveErr = err
		}
		return k, err
	}, at)
	switch {
	case resolveErr != nil:
		r.fail(CheckIssuer, resolveErr)
		r.fail(CheckProof, proofUnchecked(resolveErr, "issuer"))
		return nil, nil
	case errkind.KindOf(err) == errkind.Forbidden:
		r.fail(CheckIssuer, err)
		return nil, nil
	case err != nil:
		r.fail(CheckProof, err)
		return nil, nil
	}
	r.pass(CheckProof)
	r.pass(CheckIssuer)
	c, err := vc.NewCredential(got.Credential)
	if err != nil {
		r.fail(CheckCredential, err)
		return nil, nil
	}
	cl := credentialClaims(c)
	if cl.issued.IsZero() {
		cl.issued = at
	}
	return cl, nil
}

// sdJWT verifies an SD-JWT VC as the issuer made it (with its
// disclosures); the claims checked are the disclosed ones.
func (v *Verifier) sdJWT(ctx context.Context, tok string, r *Result) (*claims, error) {
	first, _, _ := strings.Cut(tok, "~")
	payload, err := unverifiedPayload(first)
	if err != nil {
		r.fail(CheckProof, err)
		return nil, nil
	}
	at := issuedAt(payload, v.clock())
	var resolveErr error
	got, err := sdjwt.Verify(tok, sdjwt.VerifyOptions{
		Type: sdjwt.MediaType,
		// The validity period is the validity check's; a Key Binding JWT
		// is judged against the verifier's clock.
		Now:        v.clock,
		ClaimsTime: at,
		IssuerKey: func(header, cl map[string]any) (crypto.PublicKey, error) {
			kid, _ := header["kid"].(string)
			iss, _ := cl["iss"].(string)
			if id, _, _ := strings.Cut(kid, "#"); id == "" || id != iss {
				return nil, errkind.Field(errkind.Forbidden, "kid", "signing key %q does not belong to the issuer %q", kid, iss)
			}
			k, err := v.issuerKey(ctx, kid, signedAt(payload, at), r)
			if err != nil {
				resolveErr = err
			}
			return k, err
		},
	})
	switch {
	case resolveErr != nil:
		r.fail(CheckIssuer, resolveErr)
		r.fail(CheckProof, proofUnchecked(resolveErr, "issuer"))
		return nil, nil
	case errkind.KindOf(err) == errkind.Forbidden:
		r.fail(CheckIssuer, err)
		return nil, nil
	case err != nil:
		r.fail(CheckProof, err)
		return nil, nil
	}
	r.pass(CheckProof)
	r.pass(CheckIssuer)
	c := got.Claims
	cl := &claims{issued: at, types: []string{"VerifiableCredential"}}
	cl.issuer, _ = c["iss"].(string)
	if vct, _ := c["vct"].(string); vct != "" {
		cl.types = append(cl.types, vct)
	}
	cl.from = numericTime(c["nbf"])
	cl.until = numericTime(c["exp"])
	cl.tokenStatus = c["status"]
	subject := map[string]any{}
	for k, val := range c {
		switch k {
		case "iss", "vct", "iat", "nbf", "exp", "jti", "cnf", "status", "vct#integrity":
		case "sub":
			subject["id"] = val
		default:
			subject[k] = val
		}
	}
	cl.subjects = []map[string]any{subject}
	return cl, nil
}

// keyFor resolves a DID URL to the public key of a verification method
// its current document authorizes for assertions (see resolveKey).
func (v *Verifier) keyFor(ctx context.Context, kid string) (crypto.PublicKey, error) {
	k, _, err := v.resolveKey(ctx, kid, did.AssertionMethod, time.Time{})
	return k, err
}

// trustChecks runs the accreditation and schema checks of each type.
func (v *Verifier) trustChecks(ctx context.Context, cl *claims, r *Result) error {
	if r.failed(CheckIssuer) || r.failed(CheckProof) {
		return nil // nothing the issuer said can be relied on
	}
	// Issuance times are written in whole seconds, and the issuer
	// checked its accreditation at the precise time inside that second:
	// judge the trust state at the end of the second.
	at := cl.issued
	if at.IsZero() {
		at = v.clock()
	}
	at = at.Truncate(time.Second).Add(time.Second - time.Nanosecond)
	for _, typ := range cl.types {
		if typ == "VerifiableCredential" {
			continue
		}
		s, governed, err := v.trust.Governing(ctx, typ, at)
		if err != nil {
			return err
		}
		if !governed {
			v.warnUngoverned(r, typ)
			continue
		}
		ok, reason, err := v.trust.AccreditedAt(ctx, cl.issuer, typ, at)
		if err != nil {
			return err
		}
		if ok {
			r.pass(CheckAccreditation)
		} else {
			r.fail(CheckAccreditation, errkind.New(errkind.Forbidden, "%s is a governed type and the issuer was not accredited for it at issuance: %s", typ, reason))
		}
		if err := v.trust.ValidateSubjects(s, cl.subjects); err != nil {
			if errkind.KindOf(err) != errkind.Unprocessable {
				return err
			}
			var e *errkind.Error
			if errors.As(err, &e) {
				c := *e
				c.Field = "/credentialSubject" + e.Field
				err = &c
			}
			r.fail(CheckSchema, err)
		} else {
			r.pass(CheckSchema)
		}
	}
	return nil
}

func (v *Verifier) warnUngoverned(r *Result, typ string) {
	r.warn(CheckAccreditation, "not applicable: %s is not a governed type (no schema registered on chain), so any issuer may issue it", typ)
}

// validity checks the validity period against the clock.
func (v *Verifier) validity(cl *claims, r *Result) {
	if r.failed(CheckProof) {
		return
	}
	now := v.clock()
	switch {
	case !cl.from.IsZero() && now.Before(cl.from):
		r.fail(CheckValidity, errkind.New(errkind.Invalid, "the credential is not valid before %s", cl.from.UTC().Format(time.RFC3339)))
	case !cl.until.IsZero() && !now.Before(cl.until):
		r.fail(CheckValidity, errkind.New(errkind.Invalid, "the credential expired at %s", cl.until.UTC().Format(time.RFC3339)))
	default:
		r.pass(CheckValidity)
	}
}

func credentialClaims(c *vc.Credential) *claims {
	cl := &claims{issuer: c.Issuer().ID, types: c.Types()}
	for _, s := range c.Subjects() {
		cl.subjects = append(cl.subjects, s.Claims)
	}
	cl.from, cl.until = c.ValidityPeriod()
	cl.issued = cl.from
	cl.status = c.Map()["credentialStatus"]
	return cl
}

// envelopedToken reads the token of an EnvelopedVerifiableCredential.
func envelopedToken(m map[string]any) (string, error) {
	id, _ := m["id"].(string)
	rest, ok := strings.CutPrefix(id, "data:")
	if !ok {
		return "", errkind.Field(errkind.Invalid, "/id", "an EnvelopedVerifiableCredential's id must be a data: URL")
	}
	mt, data, ok := strings.Cut(rest, ",")
	if !ok || strings.Contains(mt, ";base64") {
		return "", errkind.Field(errkind.Invalid, "/id", "want data:<media type>,<compact token>")
	}
	return data, nil
}

func hasType(m map[string]any, t string) bool {
	switch v := m["type"].(type) {
	case string:
		return v == t
	case []any:
		return slices.Contains(v, any(t))
	}
	return false
}

// unverifiedPayload decodes a compact JWS payload without checking it,
// to read the issuance time before verifying.
func unverifiedPayload(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errkind.New(errkind.Invalid, "not a compact JWS: want three dot-separated parts")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "JWS payload is not base64url")
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "JWS payload is not a JSON object")
	}
	return m, nil
}

// issuedAt is when a JWT says it was issued: nbf, else iat, else def.
func issuedAt(payload map[string]any, def time.Time) time.Time {
	for _, c := range []string{"nbf", "iat"} {
		if t := numericTime(payload[c]); !t.IsZero() {
			return t
		}
	}
	return def
}

func numericTime(v any) time.Time {
	f, ok := v.(float64)
	if !ok {
		return time.Time{}
	}
	return time.Unix(int64(f), 0).UTC()
}

// diKeys resolves Data Integrity verification keys authorised for rel and
// remembers the last resolution error, so that a caller tells a key that
// could not be had (an issuer or holder problem) from a bad signature.
func (v *Verifier) diKeys(rel did.Relationship) (dataintegrity.KeyResolver, *error) {
	resolveErr := new(error)
	return func(ctx context.Context, vm string) (ed25519.PublicKey, error) {
		k, _, err := v.resolveKey(ctx, vm, rel, time.Time{})
		if err != nil {
			*resolveErr = err
			return nil, err
		}
		ed, ok := k.(ed25519.PublicKey)
		if !ok {
			*resolveErr = errkind.New(errkind.Unsupported, "%s is a %T key; these proofs need Ed25519", vm, k)
			return nil, *resolveErr
		}
		return ed, nil
	}, resolveErr
}
