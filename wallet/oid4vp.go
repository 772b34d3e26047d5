package wallet

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/bbs"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/jwtvc"
	"github.com/urbis-id/urbis/vc/ld"
	"github.com/urbis-id/urbis/vc/sdjwt"
	"github.com/urbis-id/urbis/verifiers/oid4vp"
)

// Plan is what the wallet would disclose to a verifier, for the holder
// to approve before anything leaves the wallet.
type Plan struct {
	// Verifier is the verifier's DID (from client_id); its request
	// object's signature was checked against it before the plan was made.
	Verifier string
	// Name is the verifier's display name from client_metadata, if any:
	// the verifier's own claim, not checked.
	Name string
	// Resolved says how the verifier's DID was resolved: "locally"
	// (did:key, did:jwk) or the resolver URL asked; ResolvedByRequestHost,
	// that the resolver was the request's own host.
	Resolved              string
	ResolvedByRequestHost bool
	ClientID              string
	ResponseURI           string
	Expires               time.Time
	Items                 []PlanItem
	// Unanswerable lists the credential queries no held credential
	// satisfies (with credential_sets, some may not be needed).
	Unanswerable []string
	// Query is the request's DCQL query: what is asked; or Definition,
	// its DIF Presentation Exchange definition (Items are then by input
	// descriptor id).
	Query      *oid4vp.Query
	Definition *oid4vp.Definition
	// Pairwise is the DID the wallet keeps for this verifier (its
	// client_id) when PlanOptions.Pairwise asked for one; PairwiseNew,
	// that it was made for this request.
	Pairwise    string
	PairwiseNew bool
	ro          *oid4vp.RequestObject
}

// PlanOptions tune PlanPresentationWith.
type PlanOptions struct {
	// Pairwise asks for the verifier's pairwise DID (see PairwiseDID) as
	// the holder wherever the credential allows it: a credential its
	// issuer bound to no DID or key. A credential bound to one of the
	// wallet's DIDs (a subject id) or keys (an SD-JWT VC's cnf) keeps that
	// binding, and the plan shows which DID the verifier will see.
	Pairwise bool
}

// PlanItem answers one DCQL credential query with one held credential.
type PlanItem struct {
	Query      string
	Credential Credential
	// Disclosed are the claims the verifier will see: with
	// Selective, only those asked for; otherwise the credential's format
	// cannot hide claims, and they are all its claims.
	Disclosed []Claim
	Selective bool
	// Always lists, for an SD-JWT VC, the claims its issuer signed in the
	// clear, which every presentation shows (issuer, type, times, the
	// holder's key in cnf, sub when the issuer put one).
	Always []string
	// Holder is the DID the presentation is bound to; Pairwise, that it
	// is the pairwise DID of this verifier. Without Pairwise under
	// PlanOptions.Pairwise, the credential's issuer bound it to Holder,
	// which the verifier sees.
	Holder   string
	Pairwise bool
	reveal   [][]any
}

// Claim is a claim path and its value.
type Claim struct {
	Path  []any
	Value any
}

// PathString writes p as a/b/0.
func (c Claim) PathString() string {
	var s []string
	for _, e := range c.Path {
		if e == nil {
			s = append(s, "*")
			continue
		}
		s = append(s, fmt.Sprint(e))
	}
	return strings.Join(s, ".")
}

// Outcome is the verifier's answer to a presentation.
type Outcome struct {
	Status int
	Body   string
}

// PlanPresentation fetches the request object of an openid4vp:// URI,
// checks its signature against the verifier's DID and matches its DCQL
// query against the held credentials. It sends nothing.
//
// The verifier's DID is resolved locally for did:key and did:jwk; other
// methods (did:urbis, did:web) are resolved by an Urbis resolver (GET
// /1.0/identifiers/{did}): the one SetResolver names, which the holder
// trusts, or else the host that serves the request object. In the second
// case the wallet trusts that host for the verifier's keys, as it trusts
// it with the request itself, and Plan.ResolvedByRequestHost says so.
func (w *Wallet) PlanPresentation(ctx context.Context, requestURI string) (*Plan, error) {
	return w.PlanPresentationWith(ctx, requestURI, PlanOptions{})
}

// PlanPresentationWith is PlanPresentation with options. With Pairwise,
// the verifier's pairwise DID is made (and stored) if the wallet has
// none yet, once the request's signature checked.
func (w *Wallet) PlanPresentationWith(ctx context.Context, requestURI string, opts PlanOptions) (*Plan, error) {
	req, err := FetchRequest(ctx, w.client(), requestURI, w.resolver, w.clock())
	if err != nil {
		return nil, err
	}
	ro := req.Object
	var (
		query *oid4vp.Query
		def   *oid4vp.Definition
	)
	if len(ro.DCQLQuery) == 0 && len(ro.PresentationDefinition) > 0 {
		if def, err = oid4vp.ParseDefinition(ro.PresentationDefinition); err != nil {
			return nil, fmt.Errorf("the request's presentation_definition: %w", err)
		}
	} else if query, err = oid4vp.ParseQuery(ro.DCQLQuery); err != nil {
		return nil, fmt.Errorf("the request's dcql_query: %w", err)
	}
	verifier := req.Verifier
	p := &Plan{Verifier: verifier, Name: req.Name, Resolved: req.Resolved, ResolvedByRequestHost: req.ResolvedByRequestHost, ClientID: ro.ClientID,
		ResponseURI: ro.ResponseURI, Query: query, Definition: def, ro: ro}
	if ro.Exp != 0 {
		p.Expires = time.Unix(ro.Exp, 0).UTC()
	}
	if opts.Pairwise {
		d, created, err := w.PairwiseDID(ro.ClientID)
		if err != nil {
			return nil, err
		}
		p.Pairwise, p.PairwiseNew = d.DID, created
	}
	if def != nil {
		// Presentation Exchange: every input descriptor is answered.
		var missing []string
		for i := range def.Descriptors {
			d := &def.Descriptors[i]
			if item, ok := w.matchDescriptor(d, p.Pairwise); ok {
				p.Items = append(p.Items, item)
			} else {
				missing = append(missing, d.ID)
			}
		}
		p.Unanswerable = missing
		if len(missing) > 0 {
			return p, fmt.Errorf("the request of %s: %w", verifier, errkind.New(errkind.NotFound, "the wallet holds no credential for %s", strings.Join(missing, ", ")))
		}
		return p, nil
	}
	matched := map[string]PlanItem{}
	for i := range query.Credentials {
		cq := &query.Credentials[i]
		if item, ok := w.match(cq, p.Pairwise); ok {
			matched[cq.ID] = item
		} else {
			p.Unanswerable = append(p.Unanswerable, cq.ID)
		}
	}
	need, err := needed(query, matched)
	if err != nil {
		return p, fmt.Errorf("the request of %s: %w", verifier, err)
	}
	for _, cq := range query.Credentials {
		if need[cq.ID] {
			p.Items = append(p.Items, matched[cq.ID])
		}
	}
	return p, nil
}

// needed returns the credential queries to answer: all of them, or with
// credential_sets, the first option of each required set that the
// wallet can answer whole; optional sets are left unanswered, so that
// no more is disclosed than the request needs.
func needed(q *oid4vp.Query, matched map[string]PlanItem) (map[string]bool, error) {
	need := map[string]bool{}
	if len(q.CredentialSets) == 0 {
		var missing []string
		for _, cq := range q.Credentials {
			if _, ok := matched[cq.ID]; !ok {
				missing = append(missing, cq.ID)
			}
			need[cq.ID] = true
		}
		if len(missing) > 0 {
			return nil, errkind.New(errkind.NotFound, "the wallet holds no credential for %s", strings.Join(missing, ", "))
		}
		return need, nil
	}
	for _, set := range q.CredentialSets {
		if set.Required != nil && !*set.Required {
			continue
		}
		ok := false
		for _, opt := range set.Options {
			whole := true
			for _, id := range opt {
				_, m := matched[id]
				whole = whole && m
			}
			if whole {
				for _, id := range opt {
					need[id] = true
				}
				ok = true
				break
			}
		}
		if !ok {
			var opts []string
			for _, o := range set.Options {
				opts = append(opts, strings.Join(o, "+"))
			}
			return nil, errkind.New(errkind.NotFound, "the wallet holds no credentials for any of %s", strings.Join(opts, ", "))
		}
	}
	return need, nil
}

// Request is a request object whose signature checked.
type Request struct {
	Object   *oid4vp.RequestObject
	Verifier string // the verifier's DID
	Name     string // client_metadata.client_name, unchecked
	Resolved string // "locally", or the resolver URL asked for the DID
	// ResolvedByRequestHost is true when that resolver is the host that
	// served the request.
	ResolvedByRequestHost bool
}

// FetchRequest fetches the request object of an openid4vp:// URI with c
// and checks it: typ, client_id, a signature by a key of the verifier's
// DID, not expired at now, vp_token by direct_post. did:urbis and did:web
// verifiers are resolved by the Urbis resolver at resolverBase, or when it
// is empty, by the request's host (see PlanPresentation).
func FetchRequest(ctx context.Context, c Client, requestURI, resolverBase string, now time.Time) (*Request, error) {
	u, err := url.Parse(strings.TrimSpace(requestURI))
	if err != nil || u.Scheme != "openid4vp" {
		return nil, errkind.New(errkind.Invalid, "%q is not an openid4vp:// URI", requestURI)
	}
	q := u.Query()
	ru := q.Get("request_uri")
	if ru == "" {
		return nil, errkind.New(errkind.Unsupported, "the request has no request_uri; only requests by reference are supported")
	}
	if m := q.Get("request_uri_method"); m != "" && m != "get" {
		return nil, errkind.New(errkind.Unsupported, "request_uri_method %q is not supported; only get", m)
	}
	compact, err := fetchObject(ctx, c, ru)
	if err != nil {
		return nil, err
	}
	verifier, _ := oid4vp.VerifierDID(q.Get("client_id"))
	res := remoteResolver{c: c, base: strings.TrimRight(resolverBase, "/")}
	if res.base == "" {
		res.base = baseOf(ru)
	}
	resolver := did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}, did.JWKMethod{}, res.method("urbis"), res.method("web"))
	ro, err := oid4vp.VerifyObject(ctx, resolver, compact, q.Get("client_id"))
	if err != nil {
		return nil, fmt.Errorf("refused: the request of %s does not check: %w", verifier, err)
	}
	verifier, _ = oid4vp.VerifierDID(ro.ClientID)
	switch {
	case ro.Exp != 0 && now.Unix() >= ro.Exp:
		return nil, errkind.New(errkind.Gone, "refused: the request of %s expired at %s", verifier, time.Unix(ro.Exp, 0).UTC().Format(time.RFC3339))
	case ro.ResponseType != "vp_token":
		return nil, errkind.New(errkind.Unsupported, "response_type %q is not supported; only vp_token", ro.ResponseType)
	case ro.ResponseMode != "direct_post":
		return nil, errkind.New(errkind.Unsupported, "response_mode %q is not supported; only direct_post", ro.ResponseMode)
	case ro.Nonce == "" || ro.ResponseURI == "":
		return nil, errkind.New(errkind.Invalid, "the request object has no nonce or no response_uri")
	}
	req := &Request{Object: ro, Verifier: verifier, Name: clientName(compact), Resolved: "locally"}
	if !strings.HasPrefix(verifier, "did:key:") && !strings.HasPrefix(verifier, "did:jwk:") {
		req.Resolved = res.base + "/1.0/identifiers/" + verifier
		req.ResolvedByRequestHost = resolverBase == ""
	}
	return req, nil
}

// Present carries out an approved plan: it builds one presentation per
// item, disclosing only the plan's claims, bound to the request's nonce
// and client_id with the key the credential is bound to, and posts them
// (direct_post) to the verifier.
func (w *Wallet) Present(ctx context.Context, p *Plan) (Outcome, error) {
	token := map[string]any{}
	var (
		list []any                              // Presentation Exchange: the presentations in order
		sub  = map[string]any{"id": randomID()} // and the submission that maps them
		dm   []any
	)
	for _, it := range p.Items {
		pres, err := w.presentation(ctx, it, p.ro)
		if err != nil {
			return Outcome{}, fmt.Errorf("%s: %w", it.Query, err)
		}
		token[it.Query] = []any{pres}
		list = append(list, pres)
		dm = append(dm, descriptorMapping(it, len(p.Items), len(list)-1))
	}
	var tok []byte
	var err error
	switch {
	case p.Definition != nil && len(list) == 1:
		if s, ok := list[0].(string); ok {
			tok = []byte(s) // a compact token is sent as it is
		} else {
			tok, err = json.Marshal(list[0])
		}
	case p.Definition != nil:
		tok, err = json.Marshal(list)
	default:
		tok, err = json.Marshal(token)
	}
	if err != nil {
		return Outcome{}, err
	}
	form := url.Values{"vp_token": {string(tok)}, "state": {p.ro.State}}
	if p.Definition != nil {
		sub["definition_id"], sub["descriptor_map"] = p.Definition.ID, dm
		b, err := json.Marshal(sub)
		if err != nil {
			return Outcome{}, err
		}
		form.Set("presentation_submission", string(b))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.ResponseURI, strings.NewReader(form.Encode()))
	if err != nil {
		return Outcome{}, errkind.Wrap(errkind.Invalid, err, "response_uri")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := w.client().Do(req)
	if err != nil {
		return Outcome{}, errkind.Wrap(errkind.Unavailable, err, "POST %s", req.URL.Redacted())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	out := Outcome{Status: resp.StatusCode, Body: strings.TrimSpace(string(b))}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Description string `json:"error_description"`
		}
		json.Unmarshal(b, &e)
		if e.Description == "" {
			e.Description = out.Body
		}
		return out, errkind.New(errkind.Unprocessable, "the verifier refused the presentation (%d): %s", resp.StatusCode, e.Description)
	}
	return out, nil
}

// descriptorMapping maps the input descriptor of it to the i-th of n
// presentations of vp_token (the token itself when n is 1).
func descriptorMapping(it PlanItem, n, i int) map[string]any {
	path := "$"
	if n > 1 {
		path = fmt.Sprintf("$[%d]", i)
	}
	m := map[string]any{"id": it.Query, "path": path}
	switch it.Credential.Format {
	case FormatSDJWT:
		m["format"] = FormatSDJWT
	case FormatLDP:
		m["format"] = "ldp_vp"
		m["path_nested"] = map[string]any{"id": it.Query, "format": FormatLDP, "path": "$.verifiableCredential[0]"}
	case FormatJWT:
		m["format"] = "jwt_vp_json"
		m["path_nested"] = map[string]any{"id": it.Query, "format": FormatJWT, "path": "$.vp.verifiableCredential[0]"}
	}
	return m
}

// presentation builds the presentation of one plan item.
func (w *Wallet) presentation(ctx context.Context, it PlanItem, ro *oid4vp.RequestObject) (any, error) {
	holder := it.Holder
	if holder == "" {
		var err error
		if holder, err = w.holderOf(it.Credential); err != nil {
			return nil, err
		}
	}
	signer, vm, err := w.Signer(holder)
	if err != nil {
		return nil, err
	}
	return Presentation(ctx, it.Credential, it.reveal, Holder{DID: holder, VerificationMethod: vm, Signer: signer, Issuers: w.issuerResolver(ro)}, ro, w.now())
}

// issuerResolver resolves issuers' DIDs (for a BBS+ derivation, which
// needs the issuer's key): did:key and did:jwk locally, others by the
// Urbis resolver of SetResolver or else of the request's host.
func (w *Wallet) issuerResolver(ro *oid4vp.RequestObject) did.Resolver {
	res := remoteResolver{c: w.client(), base: strings.TrimRight(w.resolver, "/")}
	if res.base == "" {
		res.base = baseOf(ro.ResponseURI)
	}
	return did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}, did.JWKMethod{}, res.method("urbis"), res.method("web"))
}

// Holder is the key a presentation is bound with: the holder's DID, the
// DID URL of its key, and the key.
type Holder struct {
	DID, VerificationMethod string
	Signer                  crypto.Signer
	// Issuers resolves issuers' DIDs, for BBS+ derivations; nil resolves
	// did:key and did:jwk only.
	Issuers did.Resolver
}

// Presentation presents c for the request ro, bound to h: a dc+sd-jwt
// with only the disclosures of the claim paths in reveal and a Key
// Binding JWT; an ldp_vc in a Data Integrity presentation, whole, or,
// when it has a BbsBlsSignature2020 proof, as a derived credential
// (BbsBlsSignatureProof2020) that discloses only the claims in reveal; a
// jwt_vc_json in a JWT-VP, whole.
func Presentation(ctx context.Context, c Credential, reveal [][]any, h Holder, ro *oid4vp.RequestObject, now time.Time) (any, error) {
	signer, vm, holder := h.Signer, h.VerificationMethod, h.DID
	switch c.Format {
	case FormatSDJWT:
		var tok string
		if err := json.Unmarshal(c.Raw, &tok); err != nil {
			return nil, err
		}
		var ptrs []string
		for _, p := range reveal {
			ptrs = append(ptrs, pointer(p))
		}
		return sdjwt.Present(tok, ptrs, &sdjwt.KeyBinding{Signer: signer, Audience: ro.ClientID, Nonce: ro.Nonce, IssuedAt: now})
	case FormatLDP:
		var cred map[string]any
		if err := json.Unmarshal(c.Raw, &cred); err != nil {
			return nil, err
		}
		if bbs.IsBBS(cred) {
			issuers := h.Issuers
			if issuers == nil {
				issuers = did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}, did.JWKMethod{})
			}
			derived, err := deriveBBS(ctx, c, reveal, issuers)
			if err != nil {
				return nil, err
			}
			cred = derived
		}
		vp := map[string]any{
			"@context": []any{"https://www.w3.org/ns/credentials/v2"}, "type": []any{"VerifiablePresentation"},
			"holder": holder, "verifiableCredential": []any{cred},
		}
		return dataintegrity.Sign(ctx, vp, dataintegrity.ProofOptions{
			VerificationMethod: vm, ProofPurpose: "authentication", Challenge: ro.Nonce, Domain: ro.ClientID, Created: now,
		}, signer, ld.Default())
	case FormatJWT:
		var tok string
		if err := json.Unmarshal(c.Raw, &tok); err != nil {
			return nil, err
		}
		vp := map[string]any{
			"@context": []any{"https://www.w3.org/2018/credentials/v1"}, "type": []any{"VerifiablePresentation"},
			"verifiableCredential": []any{tok},
		}
		return jwtvc.SignPresentation(vp, signer, vm, ro.ClientID, ro.Nonce, now)
	}
	return nil, errkind.New(errkind.Unsupported, "the wallet cannot present a %s credential", c.Format)
}

// pointer writes a claim path (no wildcards after matching) as a JSON
// pointer.
func pointer(path []any) string {
	esc := strings.NewReplacer("~", "~0", "/", "~1")
	var b strings.Builder
	for _, s := range path {
		b.WriteByte('/')
		switch v := s.(type) {
		case string:
			b.WriteString(esc.Replace(v))
		case float64:
			fmt.Fprintf(&b, "%d", int(v))
		case int:
			fmt.Fprintf(&b, "%d", v)
		default:
			b.WriteString("*")
		}
	}
	return b.String()
}

// fetchObject GETs a request object.
func fetchObject(ctx context.Context, c Client, ru string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ru, nil)
	if err != nil {
		return "", errkind.Wrap(errkind.Invalid, err, "request_uri")
	}
	req.Header.Set("Accept", oid4vp.RequestObjectType)
	resp, err := c.Do(req)
	if err != nil {
		return "", errkind.Wrap(errkind.Unavailable, err, "GET %s", req.URL.Redacted())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", oauthError(req, resp.StatusCode, b)
	}
	return strings.TrimSpace(string(b)), nil
}

// clientName reads client_metadata.client_name from a request object
// whose signature was checked.
func clientName(compact string) string {
	parts := strings.Split(compact, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Meta struct {
			Name string `json:"client_name"`
		} `json:"client_metadata"`
	}
	json.Unmarshal(b, &c)
	return c.Meta.Name
}

func baseOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

// remoteResolver resolves DIDs with the Urbis resolver of one host.
type remoteResolver struct {
	c    Client
	base string
}

func (r remoteResolver) method(name string) did.Method { return remoteMethod{r, name} }

type remoteMethod struct {
	r    remoteResolver
	name string
}

func (m remoteMethod) Method() string { return m.name }

func (m remoteMethod) Resolve(ctx context.Context, id did.DID, _ did.ResolveOptions) (*did.Resolution, error) {
	var res did.Resolution
	if err := getJSON(ctx, m.r.c, m.r.base+"/1.0/identifiers/"+url.PathEscape(id.String()), &res); err != nil {
		return nil, errkind.Wrap(errkind.NotFound, err, "resolve %s at %s", id, m.r.base)
	}
	return &res, nil
}
