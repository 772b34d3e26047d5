package oid4vp

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/sdjwt"
	"github.com/urbis-id/urbis/verifiers"
)

// OAuth error codes a wallet gets from the response endpoint.
const (
	ErrInvalidRequest    = "invalid_request"
	ErrInvalidRequestURI = "invalid_request_uri"
	ErrAccessDenied      = "access_denied"
)

// Response is what a wallet posts to the response_uri (form-encoded):
// vp_token and state (and presentation_submission when the request
// carries a presentation definition), or error and error_description
// when the wallet declines.
type Response struct {
	VPToken                string
	PresentationSubmission string
	State                  string
	Error                  string
	ErrorDescription       string
}

// Respond verifies a wallet's response to request id and stores the
// outcome. A wallet's error response (error, error_description) is
// stored as a failed outcome and acknowledged without error, as
// OpenID4VP 1.0 section 8.2 asks of a processed error response. The request is single use: its first well-formed response
// decides it (verified or failed), and any further one is refused with
// errkind.Conflict. Errors carry the OAuth error code (Code) for the
// wallet: invalid_request for an unknown, expired or already answered
// request, a wrong state, a malformed vp_token, or presentations that do
// not verify (the Outcome says why, also to the service).
func (s *Service) Respond(ctx context.Context, id string, in Response) (*Outcome, error) {
	// A request this process holds as pending is not read again: the
	// conditional UPDATE below refuses it if it was answered meanwhile.
	r, ok := s.pending.get(id)
	if !ok {
		var err error
		if r, err = s.cfg.Store.VPRequest(ctx, id); err != nil {
			if errkind.KindOf(err) == errkind.NotFound {
				return nil, errkind.New(errkind.Invalid, "no presentation request %s: the response_uri is unknown", id).WithCode(ErrInvalidRequest)
			}
			return nil, err
		}
	}
	now := s.cfg.Clock().UTC()
	switch {
	case in.State != r.State:
		return nil, errkind.Field(errkind.Invalid, "state", "does not match the request's state").WithCode(ErrInvalidRequest)
	case r.Status != StatusPending:
		return nil, errkind.New(errkind.Conflict, "presentation request %s was already answered; a response (and its nonce) is single use", id).WithCode(ErrInvalidRequest)
	case !now.Before(r.ExpiresAt):
		return nil, errkind.New(errkind.Invalid, "presentation request %s expired at %s", id, r.ExpiresAt.Format(time.RFC3339)).WithCode(ErrInvalidRequest)
	}
	var o *Outcome
	if in.Error != "" {
		o = &Outcome{Status: StatusFailed, Checks: []string{}, Errors: []Finding{{Check: CheckWallet, Detail: strings.TrimSpace(in.Error + ": " + in.ErrorDescription)}}}
	} else if r.Definition != nil {
		sub, root, err := parseSubmission(in.VPToken, in.PresentationSubmission, r.Definition)
		if err != nil {
			return nil, err
		}
		if o, err = s.verifySubmission(ctx, r, sub, root); err != nil {
			return nil, err
		}
	} else {
		if in.PresentationSubmission != "" {
			return nil, errkind.Field(errkind.Invalid, "presentation_submission", "is for a request with a presentation definition; this one has a DCQL query").WithCode(ErrInvalidRequest)
		}
		tokens, err := parseVPToken(in.VPToken, r.Query)
		if err != nil {
			return nil, err
		}
		o, err = s.verify(ctx, r, tokens)
		if err != nil {
			return nil, err
		}
	}
	o.AnsweredAt = now.Truncate(time.Microsecond)
	err := s.writes.add(ctx, Write{Answer: &Answer{ID: id, Outcome: *o}})
	if err == nil || errkind.KindOf(err) == errkind.Conflict {
		s.pending.drop(id) // answered, by this answer or another
	}
	if err != nil {
		if errkind.KindOf(err) == errkind.Conflict {
			return nil, errkind.New(errkind.Conflict, "presentation request %s was already answered; a response (and its nonce) is single use", id).WithCode(ErrInvalidRequest)
		}
		return nil, err
	}
	if r.WebhookURL != "" && s.cfg.Webhooks != nil {
		go s.deliver(context.WithoutCancel(ctx), r, *o)
	}
	if o.Status != StatusVerified && in.Error == "" {
		return o, errkind.New(errkind.Invalid, "the presentation was refused: %s", describe(o.Errors)).WithCode(ErrInvalidRequest)
	}
	return o, nil
}

func describe(fs []Finding) string {
	var parts []string
	for _, f := range fs {
		p := f.Check + ": " + f.Detail
		if f.Query != "" {
			p = f.Query + ": " + p
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

// parseVPToken reads vp_token: a JSON object from credential query ids
// of q to non-empty arrays of presentations (strings, or objects for
// ldp_vc).
func parseVPToken(raw string, q *Query) (map[string][]any, error) {
	bad := func(format string, args ...any) error {
		return errkind.Field(errkind.Invalid, "vp_token", format, args...).WithCode(ErrInvalidRequest)
	}
	if strings.TrimSpace(raw) == "" {
		return nil, bad("is required: a JSON object from credential query ids to arrays of presentations")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, bad("must be a JSON object from credential query ids to arrays of presentations: %v", err)
	}
	if len(m) == 0 {
		return nil, bad("holds no presentation")
	}
	out := map[string][]any{}
	for id, v := range m {
		cq, ok := q.credential(id)
		if !ok {
			return nil, bad("%q is not a credential query id of the request", id)
		}
		var list []any
		if err := json.Unmarshal(v, &list); err != nil || len(list) == 0 {
			return nil, bad("the value of %q must be a non-empty array of presentations", id)
		}
		if len(list) > 1 && !cq.Multiple {
			return nil, bad("%q holds %d presentations but the query asks for one (multiple is false)", id, len(list))
		}
		out[id] = list
	}
	return out, nil
}

// verify checks each presentation and the query.
func (s *Service) verify(ctx context.Context, r Request, tokens map[string][]any) (*Outcome, error) {
	o := &Outcome{Claims: map[string][]Presented{}, Checks: []string{}, Errors: []Finding{}}
	pass := func(c string) {
		if !slices.Contains(o.Checks, c) {
			o.Checks = append(o.Checks, c)
		}
	}
	ids := make([]string, 0, len(tokens))
	for id := range tokens {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	answered := map[string]bool{}
	for _, id := range ids {
		cq, _ := r.Query.credential(id)
		ok := true
		for i, p := range tokens[id] {
			fail := func(check, format string, args ...any) {
				where := id
				if len(tokens[id]) > 1 {
					where = fmt.Sprintf("%s[%d]", id, i)
				}
				o.Errors = append(o.Errors, Finding{Query: where, Check: check, Detail: fmt.Sprintf(format, args...)})
				ok = false
			}
			cred, err := s.checked(ctx, r, cq.Format, p, fail, pass)
			if err != nil {
				return nil, err
			}
			if cred == nil {
				continue
			}
			if err := cq.matchMeta(cred.vct, cred.types); err != nil {
				fail(CheckQuery, "%v", err)
				continue
			}
			claims, err := cq.matchClaims(cred.claims)
			if err != nil {
				fail(CheckQuery, "%v", err)
				continue
			}
			pass(CheckQuery)
			types := cred.types
			if cq.Format == FormatSDJWT {
				types = []string{cred.vct}
			}
			if claims == nil {
				claims = []ClaimValue{}
			}
			o.Claims[id] = append(o.Claims[id], Presented{Format: cq.Format, Issuer: cred.issuer, Types: types, Claims: claims})
		}
		answered[id] = ok
	}
	if err := r.Query.satisfied(answered); err != nil {
		if len(o.Errors) == 0 { // else the presentations' errors say why
			o.Errors = append(o.Errors, Finding{Check: CheckRequest, Detail: err.Error()})
		}
	} else {
		pass(CheckRequest)
	}
	o.Status = StatusVerified
	if len(o.Errors) > 0 {
		o.Status = StatusFailed
		o.Claims = nil // only the claims of a verified answer are kept
	}
	return o, nil
}

// checked verifies presentation p, given for a credential of format,
// with every check of the verifiers package (challenge = the nonce,
// domain = the client_id), and reads its credential. When p does not
// verify it reports why through fail and returns nil; an error is an
// internal one.
func (s *Service) checked(ctx context.Context, r Request, format string, p any, fail func(check, format string, args ...any), pass func(string)) (*credential, error) {
	res, err := s.cfg.Verifier.VerifyPresentation(ctx, p, verifiers.PresentationOptions{Challenge: r.Nonce, Domain: r.ClientID})
	if err != nil {
		if errkind.KindOf(err) == errkind.Internal {
			return nil, err
		}
		fail(verifiers.CheckPresentation, "%v", err)
		return nil, nil
	}
	if want := presentationFormat(format); res.Format != want {
		fail(CheckFormat, "the query asks for %s, presented as %s", format, res.Format)
		return nil, nil
	}
	if !res.Verified {
		// A failed credential is reported with its own checks
		// (status, proof, ...) rather than as "credentials".
		credFailed := slices.ContainsFunc(res.Credentials, func(cr *verifiers.Result) bool { return len(cr.Errors) > 0 })
		for _, f := range res.Errors {
			if f.Check == verifiers.CheckCredentials && credFailed {
				continue
			}
			fail(f.Check, "%s", f.Message)
		}
		for j, cr := range res.Credentials {
			for _, f := range cr.Errors {
				fail(f.Check, "credential %d: %s", j, f.Message)
			}
		}
		return nil, nil
	}
	for _, c := range res.Checks {
		pass(c)
	}
	for _, cr := range res.Credentials {
		for _, c := range cr.Checks {
			pass(c)
		}
	}
	pass(CheckFormat)
	cred, err := s.presented(ctx, format, p, res)
	if err != nil {
		fail(CheckQuery, "%v", err)
		return nil, nil
	}
	return cred, nil
}

func presentationFormat(f string) string {
	switch f {
	case FormatLDP:
		return verifiers.FormatLDPVP
	case FormatJWT:
		return verifiers.FormatJWTVP
	}
	return verifiers.FormatSDJWT
}

// credential is what the query is matched against.
type credential struct {
	issuer string
	vct    string
	types  []string
	claims map[string]any // processed SD-JWT claims, or the credential object
	raw    any            // the credential as presented in a VP: a JWT-VC string or an object
}

// presented reads the credential of a presentation that verified: the
// processed claims of an SD-JWT VC (those the verifier read, or else its
// issuer signature is checked again to process the disclosures), or the
// one credential of a VP.
func (s *Service) presented(ctx context.Context, format string, p any, res *verifiers.PresentationResult) (*credential, error) {
	switch format {
	case FormatSDJWT:
		if res != nil && res.Claims != nil {
			iss, _ := res.Claims["iss"].(string)
			vct, _ := res.Claims["vct"].(string)
			return &credential{issuer: iss, vct: vct, claims: res.Claims}, nil
		}
		tok, _ := p.(string)
		tok = strings.TrimSpace(tok)
		// The Key Binding JWT was checked by the verifier; the claims need
		// only the issuer-signed JWT and the disclosures.
		if i := strings.LastIndex(tok, "~"); i >= 0 {
			tok = tok[:i+1]
		}
		v, err := sdjwt.Verify(tok, sdjwt.VerifyOptions{
			Type: sdjwt.MediaType, Now: s.cfg.Clock,
			IssuerKey: func(header, _ map[string]any) (crypto.PublicKey, error) {
				kid, _ := header["kid"].(string)
				return s.keyFor(ctx, kid)
			},
		})
		if err != nil {
			return nil, err
		}
		iss, _ := v.Claims["iss"].(string)
		vct, _ := v.Claims["vct"].(string)
		return &credential{issuer: iss, vct: vct, claims: v.Claims}, nil
	case FormatLDP:
		vp, _ := p.(map[string]any)
		c, err := single(vp["verifiableCredential"])
		if err != nil {
			return nil, err
		}
		m, ok := c.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("the ldp_vc presentation must embed the credential as a JSON object")
		}
		cred := fromCredential(m)
		cred.raw = m
		return cred, nil
	default:
		tok, _ := p.(string)
		payload, err := jwtPayload(tok)
		if err != nil {
			return nil, err
		}
		vp, _ := payload["vp"].(map[string]any)
		c, err := single(vp["verifiableCredential"])
		if err != nil {
			return nil, err
		}
		ctok, _ := c.(string)
		cp, err := jwtPayload(ctok)
		if err != nil {
			return nil, fmt.Errorf("the jwt_vc_json presentation must embed a JWT-VC: %v", err)
		}
		m, _ := cp["vc"].(map[string]any)
		if m == nil {
			return nil, fmt.Errorf("the JWT-VC has no vc claim")
		}
		cred := fromCredential(m)
		cred.raw = ctok
		if iss, _ := cp["iss"].(string); iss != "" {
			cred.issuer = iss
		}
		return cred, nil
	}
}

func single(v any) (any, error) {
	switch t := v.(type) {
	case []any:
		if len(t) != 1 {
			return nil, fmt.Errorf("the presentation holds %d credentials; a presentation for a credential query holds one", len(t))
		}
		return t[0], nil
	case nil:
		return nil, fmt.Errorf("the presentation holds no credential")
	default:
		return t, nil
	}
}

func fromCredential(m map[string]any) *credential {
	c := &credential{claims: m}
	switch t := m["type"].(type) {
	case string:
		c.types = []string{t}
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok {
				c.types = append(c.types, s)
			}
		}
	}
	switch i := m["issuer"].(type) {
	case string:
		c.issuer = i
	case map[string]any:
		c.issuer, _ = i["id"].(string)
	}
	return c
}

func jwtPayload(tok string) (map[string]any, error) {
	parts := strings.Split(strings.TrimSpace(tok), ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a compact JWT")
	}
	b, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("JWT payload: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("JWT payload: %v", err)
	}
	return m, nil
}

// keyFor resolves the public key of the verification method kid.
func (s *Service) keyFor(ctx context.Context, kid string) (crypto.PublicKey, error) {
	id, _, ok := strings.Cut(kid, "#")
	if !ok || !strings.HasPrefix(id, "did:") {
		return nil, errkind.Field(errkind.Invalid, "kid", "%q is not a DID URL", kid)
	}
	res, err := s.cfg.Resolver.Resolve(ctx, id, did.ResolveOptions{})
	if err != nil {
		return nil, err
	}
	if res.Document == nil {
		return nil, errkind.New(errkind.NotFound, "DID %s has no document", id)
	}
	vm, ok := res.Document.VerificationMethodByID(kid)
	if !ok {
		return nil, errkind.New(errkind.NotFound, "DID %s has no verification method %s", id, kid)
	}
	return vm.PublicKey()
}
