package api_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/sdjwt"
	"github.com/urbis-id/urbis/verifiers/oid4vp"
)

// vpFixture is what the OpenID4VP tests present: credentials issued
// through the real server to one did:key holder.
type vpFixture struct {
	holder      *holderKey
	verifier    string         // the verifier's DID (of the env's agency)
	sdResident  string         // dc+sd-jwt ResidentCredential, cnf = holder's key
	ldpResident map[string]any // ldp_vc ResidentCredential
	revoked     map[string]any // ldp_vc ResidentCredential, revoked
	bbsDerived  map[string]any // ldp_vc-bbs ResidentCredential, derived to disclose the district only
}

func newVPFixture(t *testing.T, e *env) *vpFixture {
	t.Helper()
	f := &vpFixture{holder: newHolder(t), verifier: e.newDID(t, e.key, "Ed25519")}
	issuerDID := e.newDID(t, e.key, "Ed25519")
	subject := map[string]any{"id": f.holder.did, "district": "Mitte", "name": "Alice Example", "birthdate": "1990-04-01",
		"age_equal_or_over": map[string]any{"18": true, "65": false}}
	sdID := e.createIssuer(t, e.key, issuerDID, "dc+sd-jwt", "ResidentCredential")
	env := issued(t, e.issue(t, e.key, sdID, credentialFor("dc+sd-jwt", "", "ResidentCredential", subject), http.StatusCreated, map[string]any{"keyBinding": true}))
	_, f.sdResident, _ = strings.Cut(env["id"].(string), ",")
	ldpSubject := map[string]any{"id": f.holder.did, "district": "Mitte", "name": "Alice Example"}
	ldpID := e.createIssuer(t, e.key, issuerDID, "ldp_vc", "ResidentCredential")
	f.ldpResident = issued(t, e.issue(t, e.key, ldpID, credentialFor("ldp_vc", "", "ResidentCredential", ldpSubject), http.StatusCreated))
	withStatus := e.createIssuerWith(t, e.key, map[string]any{"did": e.newDID(t, e.key, "Ed25519"), "format": "ldp_vc",
		"types": []string{"ResidentCredential"}, "statusPurposes": []string{"revocation"}})
	f.revoked = issued(t, e.issue(t, e.key, withStatus, credentialFor("ldp_vc", "", "ResidentCredential", ldpSubject), http.StatusCreated))
	if st, b := e.setStatus(t, e.key, f.revoked["id"].(string), "revoked"); st != http.StatusOK {
		t.Fatalf("revoke: %d %s", st, b)
	}
	blsDID := e.newDID(t, e.key, "Bls12381G2")
	e.createIssuer(t, e.key, blsDID, "ldp_vc-bbs", "ResidentCredential")
	signed := issued(t, e.issue(t, e.key, "", map[string]any{"@context": vc11Examples, "type": []any{"VerifiableCredential", "ResidentCredential"},
		"issuer": blsDID, "credentialSubject": ldpSubject}, http.StatusCreated, map[string]any{"format": "ldp_vc-bbs"}))
	f.bbsDerived = issued(t, e.derive(t, map[string]any{"verifiableCredential": signed, "frame": map[string]any{
		"@context": vc11Examples, "type": []any{"VerifiableCredential", "ResidentCredential"}, "@explicit": true,
		"issuer": map[string]any{}, "issuanceDate": map[string]any{}, "credentialSubject": map[string]any{"@explicit": true, "district": map[string]any{}},
	}}, http.StatusCreated))
	return f
}

// vpCreated is the answer to POST /verifier/requests.
type vpCreated struct {
	ID, ClientID, RequestURI, URI string
}

// createVP creates a presentation request of the env's agency.
func (e *env) createVP(t *testing.T, body map[string]any) vpCreated {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, got := e.do(t, http.MethodPost, "/verifier/requests", e.key, string(b))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create request: got %d %s; want 201", resp.StatusCode, got)
	}
	var out struct {
		Id, ClientId, RequestUri, Uri string
	}
	if err := json.Unmarshal(got, &out); err != nil {
		t.Fatal(err)
	}
	return vpCreated{ID: out.Id, ClientID: out.ClientId, RequestURI: out.RequestUri, URI: out.Uri}
}

// testVPWallet is the wallet side: it reads the openid4vp URI, fetches
// and checks the request object, and posts vp_token.
type testVPWallet struct {
	e        *env
	resolver did.Resolver
}

func newVPWallet(e *env) *testVPWallet {
	return &testVPWallet{e: e, resolver: did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}, did.JWKMethod{})}
}

// local maps a URL under the test public URL to the test server.
func (w *testVPWallet) local(u string) string {
	return strings.Replace(u, testPublicURL, w.e.srv.URL, 1)
}

// fetchRaw GETs the request object of the openid4vp URI.
func (w *testVPWallet) fetchRaw(t *testing.T, uri string) (clientID string, status int, obj string) {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "openid4vp" {
		t.Fatalf("uri %q is not openid4vp://", uri)
	}
	q := u.Query()
	if q.Get("request_uri_method") != "get" {
		t.Errorf("request_uri_method = %q; want get", q.Get("request_uri_method"))
	}
	resp, err := http.Get(w.local(q.Get("request_uri")))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && resp.Header.Get("Content-Type") != "application/oauth-authz-req+jwt" {
		t.Errorf("request object Content-Type = %q; want application/oauth-authz-req+jwt", resp.Header.Get("Content-Type"))
	}
	return q.Get("client_id"), resp.StatusCode, string(b)
}

// fetch returns the verified request object of the openid4vp URI.
func (w *testVPWallet) fetch(t *testing.T, uri string) *oid4vp.RequestObject {
	t.Helper()
	clientID, st, obj := w.fetchRaw(t, uri)
	if st != http.StatusOK {
		t.Fatalf("GET request_uri: %d %s", st, obj)
	}
	ro, err := oid4vp.VerifyObject(context.Background(), w.resolver, obj, clientID)
	if err != nil {
		t.Fatalf("the wallet refuses the request object: %v", err)
	}
	if ro.ResponseType != "vp_token" || ro.ResponseMode != "direct_post" || ro.Nonce == "" || ro.State == "" || !strings.HasPrefix(ro.ResponseURI, testPublicURL+"/verifier/responses/") {
		t.Fatalf("request object %+v; want vp_token, direct_post, a nonce, a state and the response_uri", ro)
	}
	return ro
}

// post sends the form to the response_uri.
func (w *testVPWallet) post(t *testing.T, responseURI string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(w.local(responseURI), form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("response %d is not JSON: %s", resp.StatusCode, b)
	}
	return resp.StatusCode, out
}

// answer posts vp_token {id: [presentation]} with the request's state.
func (w *testVPWallet) answer(t *testing.T, ro *oid4vp.RequestObject, id string, p any) (int, map[string]any) {
	t.Helper()
	tok, _ := json.Marshal(map[string]any{id: []any{p}})
	return w.post(t, ro.ResponseURI, url.Values{"vp_token": {string(tok)}, "state": {ro.State}})
}

// vpResult is the body of GET /verifier/requests/{id}.
type vpResult struct {
	Status         string
	VerifiedClaims map[string][]struct {
		Format, Issuer string
		Types          []string
		Claims         []struct {
			Path  []any
			Value any
		}
	}
	ClaimsErased bool
	Checks       []string
	Errors       []struct{ Query, Check, Detail string }
	Webhook      string
}

func (e *env) vpResult(t *testing.T, key, id string) (int, vpResult) {
	t.Helper()
	resp, b := e.do(t, http.MethodGet, "/verifier/requests/"+id, key, "")
	var out vpResult
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, out
}

// tamperDisclosure replaces the disclosure of claim name in an SD-JWT
// presentation by one with value v (its digest no longer matches).
func tamperDisclosure(t *testing.T, pres, name string, v any) string {
	t.Helper()
	parts := strings.Split(pres, "~")
	for i := 1; i < len(parts)-1; i++ {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			continue
		}
		var d []any
		if json.Unmarshal(b, &d) == nil && len(d) == 3 && d[1] == name {
			d[2] = v
			nb, _ := json.Marshal(d)
			parts[i] = base64.RawURLEncoding.EncodeToString(nb)
			return strings.Join(parts, "~")
		}
	}
	t.Fatalf("no disclosure of %s in the presentation", name)
	return ""
}

func TestOID4VPFlow(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			f := newVPFixture(t, e)
			w := newVPWallet(e)
			h := f.holder
			residency := map[string]any{"did": f.verifier, "template": "residency", "params": map[string]any{"districts": "Mitte,Kreuzberg"}}

			t.Run("sd-jwt, the service polls", func(t *testing.T) {
				c := e.createVP(t, residency)
				if c.ClientID != "decentralized_identifier:"+f.verifier {
					t.Fatalf("created %+v; want the client_id of the verifier DID", c)
				}
				if st, r := e.vpResult(t, e.key, c.ID); st != 200 || r.Status != "pending" {
					t.Fatalf("before the answer: %d %+v; want pending", st, r)
				}
				ro := w.fetch(t, c.URI)
				// The wallet discloses the district and the name; only the district was asked.
				p, err := sdjwt.Present(f.sdResident, []string{"/district", "/name"}, &sdjwt.KeyBinding{Signer: h.key, Audience: ro.ClientID, Nonce: ro.Nonce})
				if err != nil {
					t.Fatal(err)
				}
				if st, body := w.answer(t, ro, "residency_sd_jwt", p); st != 200 || len(body) != 0 {
					t.Fatalf("answer: got %d %v; want 200 {}", st, body)
				}
				st, r := e.vpResult(t, e.key, c.ID)
				got := r.VerifiedClaims["residency_sd_jwt"]
				if st != 200 || r.Status != "verified" || len(got) != 1 || len(got[0].Claims) != 1 ||
					got[0].Claims[0].Value != "Mitte" || got[0].Types[0] != "ResidentCredential" || got[0].Format != "dc+sd-jwt" {
					t.Fatalf("result: %d %+v; want verified with the district only", st, r)
				}
				for _, check := range []string{"proof", "challenge", "domain", "holder", "issuer", "validity", "format", "query", "request"} {
					if !slices.Contains(r.Checks, check) {
						t.Errorf("checks %v lack %s", r.Checks, check)
					}
				}
				// The claims are handed out once.
				if _, r := e.vpResult(t, e.key, c.ID); r.Status != "verified" || r.VerifiedClaims != nil || !r.ClaimsErased {
					t.Errorf("second read: %+v; want verified, claims erased", r)
				}
				// Another agency does not see it.
				if st, _ := e.vpResult(t, e.otherKey, c.ID); st != http.StatusNotFound {
					t.Errorf("another agency: got %d; want 404", st)
				}
				// The same answer again: the request is single use.
				st, body := w.answer(t, ro, "residency_sd_jwt", p)
				if st != 400 || body["error"] != "invalid_request" || !strings.Contains(body["error_description"].(string), "already answered") {
					t.Errorf("replay: got %d %v; want 400 invalid_request, already answered", st, body)
				}
				// And the request object is gone.
				if _, st, obj := w.fetchRaw(t, c.URI); st != http.StatusGone || !strings.Contains(obj, "invalid_request_uri") {
					t.Errorf("request object after the answer: %d %s; want 410 invalid_request_uri", st, obj)
				}
			})

			t.Run("ldp_vc in a Data Integrity VP", func(t *testing.T) {
				c := e.createVP(t, residency)
				ro := w.fetch(t, c.URI)
				vp := h.ldpVP(t, h.did, ro.Nonce, ro.ClientID, f.ldpResident)
				if st, body := w.answer(t, ro, "residency_ldp", vp); st != 200 {
					t.Fatalf("answer: got %d %v; want 200", st, body)
				}
				_, r := e.vpResult(t, e.key, c.ID)
				got := r.VerifiedClaims["residency_ldp"]
				if r.Status != "verified" || len(got) != 1 || len(got[0].Claims) != 1 || got[0].Claims[0].Value != "Mitte" || !slices.Contains(r.Checks, "holderBinding") {
					t.Fatalf("result %+v; want verified with credentialSubject.district only", r)
				}
			})

			t.Run("ldp_vc: a BBS+ derived credential in a Data Integrity VP", func(t *testing.T) {
				c := e.createVP(t, residency)
				ro := w.fetch(t, c.URI)
				if st, body := w.answer(t, ro, "residency_ldp", h.ldpVP(t, h.did, ro.Nonce, ro.ClientID, f.bbsDerived)); st != 200 {
					t.Fatalf("answer: got %d %v; want 200", st, body)
				}
				_, r := e.vpResult(t, e.key, c.ID)
				got := r.VerifiedClaims["residency_ldp"]
				if r.Status != "verified" || len(got) != 1 || len(got[0].Claims) != 1 || got[0].Claims[0].Value != "Mitte" || !slices.Contains(r.Checks, "holderBinding") {
					t.Fatalf("result %+v; want verified with the district, bound to the holder", r)
				}
			})

			t.Run("age over 18 without the birth date", func(t *testing.T) {
				c := e.createVP(t, map[string]any{"did": f.verifier, "template": "age_over", "params": map[string]any{"threshold": "18"}})
				ro := w.fetch(t, c.URI)
				if strings.Contains(string(ro.DCQLQuery), "birth") {
					t.Fatalf("query %s asks for the birth date", ro.DCQLQuery)
				}
				p, err := sdjwt.Present(f.sdResident, []string{"/age_equal_or_over"}, &sdjwt.KeyBinding{Signer: h.key, Audience: ro.ClientID, Nonce: ro.Nonce})
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(p, base64.RawURLEncoding.EncodeToString([]byte("birthdate"))[:8]) {
					t.Log("note: presentation may carry the birthdate disclosure")
				}
				if st, body := w.answer(t, ro, "age_over", p); st != 200 {
					t.Fatalf("answer: got %d %v; want 200", st, body)
				}
				_, r := e.vpResult(t, e.key, c.ID)
				got := r.VerifiedClaims["age_over"]
				if r.Status != "verified" || len(got) != 1 || len(got[0].Claims) != 1 || got[0].Claims[0].Value != true {
					t.Fatalf("result %+v; want verified with age_equal_or_over/18 = true", r)
				}
				b, _ := json.Marshal(r)
				if strings.Contains(string(b), "1990") || strings.Contains(string(b), "birthdate") {
					t.Errorf("result %s holds the birth date", b)
				}
			})

			t.Run("jwt_vc_json in a JWT-VP: agency accreditation", func(t *testing.T) {
				iss := e.createIssuer(t, e.key, e.newDID(t, e.key, "Ed25519"), "jwt_vc_json", "AccreditationCredential")
				env := issued(t, e.issue(t, e.key, iss, credentialFor("jwt_vc_json", "", "AccreditationCredential",
					map[string]any{"id": h.did, "accreditedFor": "LandTitle", "district": "Mitte"}), http.StatusCreated))
				_, accr, _ := strings.Cut(env["id"].(string), ",")
				c := e.createVP(t, map[string]any{"did": f.verifier, "template": "agency_accreditation", "params": map[string]any{"type": "LandTitle"}})
				ro := w.fetch(t, c.URI)
				if st, body := w.answer(t, ro, "accreditation_jwt", h.jwtVP(t, ro.ClientID, ro.Nonce, accr)); st != 200 {
					t.Fatalf("answer: got %d %v; want 200", st, body)
				}
				_, r := e.vpResult(t, e.key, c.ID)
				got := r.VerifiedClaims["accreditation_jwt"]
				if r.Status != "verified" || len(got) != 1 || got[0].Format != "jwt_vc_json" || len(got[0].Claims) != 1 || got[0].Claims[0].Value != "LandTitle" {
					t.Fatalf("result %+v; want verified with accreditedFor only", r)
				}
				// The same kind of token for another type is refused by the query.
				c = e.createVP(t, map[string]any{"did": f.verifier, "template": "agency_accreditation", "params": map[string]any{"type": "ResidentCredential"}})
				ro = w.fetch(t, c.URI)
				if st, body := w.answer(t, ro, "accreditation_jwt", h.jwtVP(t, ro.ClientID, ro.Nonce, accr)); st != 400 || !strings.Contains(body["error_description"].(string), "does not accept") {
					t.Errorf("other type: got %d %v; want 400, a value the request does not accept", st, body)
				}
			})

			t.Run("land parcel", func(t *testing.T) {
				iss := e.createIssuer(t, e.key, e.newDID(t, e.key, "Ed25519"), "dc+sd-jwt", "LandTitle")
				env := issued(t, e.issue(t, e.key, iss, credentialFor("dc+sd-jwt", "", "LandTitle",
					map[string]any{"id": h.did, "parcel": "MIT-0815-42", "area": 412}), http.StatusCreated, map[string]any{"keyBinding": true}))
				_, title, _ := strings.Cut(env["id"].(string), ",")
				for _, tc := range []struct {
					parcel string
					want   int
				}{{"MIT-0815-42", 200}, {"MIT-0000-01", 400}} {
					c := e.createVP(t, map[string]any{"did": f.verifier, "template": "land_parcel", "params": map[string]any{"parcel": tc.parcel}})
					ro := w.fetch(t, c.URI)
					p, _ := sdjwt.Present(title, []string{"/parcel"}, &sdjwt.KeyBinding{Signer: h.key, Audience: ro.ClientID, Nonce: ro.Nonce})
					if st, body := w.answer(t, ro, "land_title_sd_jwt", p); st != tc.want {
						t.Errorf("parcel %s: got %d %v; want %d", tc.parcel, st, body, tc.want)
					}
				}
			})

			t.Run("webhook", func(t *testing.T) {
				got := make(chan oid4vp.WebhookBody, 1)
				hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					var b oid4vp.WebhookBody
					json.NewDecoder(r.Body).Decode(&b)
					got <- b
				}))
				defer hook.Close()
				body := map[string]any{"did": f.verifier, "template": "residency", "webhookUrl": hook.URL + "/result"}
				c := e.createVP(t, body)
				ro := w.fetch(t, c.URI)
				p, _ := sdjwt.Present(f.sdResident, []string{"/district"}, &sdjwt.KeyBinding{Signer: h.key, Audience: ro.ClientID, Nonce: ro.Nonce})
				if st, b := w.answer(t, ro, "residency_sd_jwt", p); st != 200 {
					t.Fatalf("answer: %d %v", st, b)
				}
				select {
				case b := <-got:
					if b.ID != c.ID || b.Status != oid4vp.StatusVerified || b.VerifiedClaims["residency_sd_jwt"][0].Claims[0].Value != "Mitte" {
						t.Fatalf("webhook got %+v; want the verified district", b)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("no webhook within 10 s")
				}
				deadline := time.Now().Add(5 * time.Second)
				for {
					_, r := e.vpResult(t, e.key, c.ID)
					if r.Webhook == "delivered" {
						if r.VerifiedClaims != nil || !r.ClaimsErased {
							t.Errorf("after delivery: %+v; want the claims erased", r)
						}
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("result %+v; want webhook delivered", r)
					}
					time.Sleep(20 * time.Millisecond)
				}
			})

			// The refusals: each is a 400 with the OAuth error and a reason.
			other := newHolder(t)
			tests := []struct {
				name    string
				query   string // the credential query id answered
				present func(ro *oid4vp.RequestObject) any
				form    func(ro *oid4vp.RequestObject, tok string) url.Values // nil: vp_token and the request's state
				want    string                                                // in error_description
				check   string                                                // the failed check in the result, "" when the request stays pending
			}{
				{"KB-JWT for another nonce", "residency_sd_jwt", func(ro *oid4vp.RequestObject) any {
					p, _ := sdjwt.Present(f.sdResident, []string{"/district"}, &sdjwt.KeyBinding{Signer: h.key, Audience: ro.ClientID, Nonce: "another-nonce"})
					return p
				}, nil, "challenge", "challenge"},
				{"KB-JWT for another audience", "residency_sd_jwt", func(ro *oid4vp.RequestObject) any {
					p, _ := sdjwt.Present(f.sdResident, []string{"/district"}, &sdjwt.KeyBinding{Signer: h.key, Audience: "decentralized_identifier:did:example:evil", Nonce: ro.Nonce})
					return p
				}, nil, "domain", "domain"},
				{"KB-JWT by another key", "residency_sd_jwt", func(ro *oid4vp.RequestObject) any {
					p, _ := sdjwt.Present(f.sdResident, []string{"/district"}, &sdjwt.KeyBinding{Signer: other.key, Audience: ro.ClientID, Nonce: ro.Nonce})
					return p
				}, nil, "proof", "proof"},
				{"disclosure that does not match its digest", "residency_sd_jwt", func(ro *oid4vp.RequestObject) any {
					p, _ := sdjwt.Present(f.sdResident, []string{"/district"}, nil)
					p = tamperDisclosure(t, p, "district", "Kreuzberg")
					// Bind the tampered presentation properly, so only the digest is wrong.
					p, err := rebind(p, h, ro)
					if err != nil {
						t.Fatal(err)
					}
					return p
				}, nil, "digest", "proof"},
				{"requested claim not disclosed", "residency_sd_jwt", func(ro *oid4vp.RequestObject) any {
					p, _ := sdjwt.Present(f.sdResident, []string{"/name"}, &sdjwt.KeyBinding{Signer: h.key, Audience: ro.ClientID, Nonce: ro.Nonce})
					return p
				}, nil, "not disclosed", "query"},
				{"VP with a wrong domain", "residency_ldp", func(ro *oid4vp.RequestObject) any {
					return h.ldpVP(t, h.did, ro.Nonce, "verifier.example", f.ldpResident)
				}, nil, "domain", "domain"},
				{"VP with another challenge", "residency_ldp", func(ro *oid4vp.RequestObject) any {
					return h.ldpVP(t, h.did, "another-nonce", ro.ClientID, f.ldpResident)
				}, nil, "challenge", "challenge"},
				{"BBS+ derived credential with a changed claim", "residency_ldp", func(ro *oid4vp.RequestObject) any {
					d := map[string]any{}
					b, _ := json.Marshal(f.bbsDerived)
					json.Unmarshal(b, &d)
					d["credentialSubject"].(map[string]any)["district"] = "Kreuzberg"
					return h.ldpVP(t, h.did, ro.Nonce, ro.ClientID, d)
				}, nil, "proof", "proof"},
				{"BBS+ derived credential about someone else", "residency_ldp", func(ro *oid4vp.RequestObject) any {
					return other.ldpVP(t, other.did, ro.Nonce, ro.ClientID, f.bbsDerived)
				}, nil, "not the holder", "holderBinding"},
				{"revoked credential", "residency_ldp", func(ro *oid4vp.RequestObject) any {
					return h.ldpVP(t, h.did, ro.Nonce, ro.ClientID, f.revoked)
				}, nil, "status", "status"},
				{"wrong format for the query", "residency_sd_jwt", func(ro *oid4vp.RequestObject) any {
					return h.ldpVP(t, h.did, ro.Nonce, ro.ClientID, f.ldpResident)
				}, nil, "presented as ldp_vp", "format"},
				{"wrong state", "residency_sd_jwt", func(ro *oid4vp.RequestObject) any { return "x~y~" }, func(ro *oid4vp.RequestObject, tok string) url.Values {
					return url.Values{"vp_token": {tok}, "state": {"not-the-state"}}
				}, "state", ""},
				{"unknown credential query id", "pid", func(ro *oid4vp.RequestObject) any { return "x~y~" }, nil, "not a credential query id", ""},
				{"vp_token not a JSON object", "", nil, func(ro *oid4vp.RequestObject, _ string) url.Values {
					return url.Values{"vp_token": {"eyJhbGciOi..."}, "state": {ro.State}}
				}, "vp_token", ""},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					c := e.createVP(t, residency)
					ro := w.fetch(t, c.URI)
					var tok string
					if tc.present != nil {
						b, _ := json.Marshal(map[string]any{tc.query: []any{tc.present(ro)}})
						tok = string(b)
					}
					form := url.Values{"vp_token": {tok}, "state": {ro.State}}
					if tc.form != nil {
						form = tc.form(ro, tok)
					}
					st, body := w.post(t, ro.ResponseURI, form)
					desc, _ := body["error_description"].(string)
					if st != 400 || body["error"] != "invalid_request" || !strings.Contains(desc, tc.want) {
						t.Fatalf("got %d %v; want 400 invalid_request mentioning %q", st, body, tc.want)
					}
					_, r := e.vpResult(t, e.key, c.ID)
					if tc.check == "" {
						if r.Status != "pending" {
							t.Errorf("result %+v; want still pending", r)
						}
						return
					}
					if r.Status != "failed" || r.VerifiedClaims != nil || !slices.ContainsFunc(r.Errors, func(f struct{ Query, Check, Detail string }) bool { return f.Check == tc.check }) {
						t.Errorf("result %+v; want failed on %s, no claims", r, tc.check)
					}
					// Single use: a correct answer now is refused too.
					p, _ := sdjwt.Present(f.sdResident, []string{"/district"}, &sdjwt.KeyBinding{Signer: h.key, Audience: ro.ClientID, Nonce: ro.Nonce})
					if st, body := w.answer(t, ro, "residency_sd_jwt", p); st != 400 || !strings.Contains(body["error_description"].(string), "already answered") {
						t.Errorf("answer after a refusal: %d %v; want 400 already answered", st, body)
					}
				})
			}

			t.Run("the wallet declines", func(t *testing.T) {
				c := e.createVP(t, residency)
				ro := w.fetch(t, c.URI)
				st, body := w.post(t, ro.ResponseURI, url.Values{"error": {"access_denied"}, "error_description": {"the user said no"}, "state": {ro.State}})
				if st != 200 {
					t.Fatalf("error response: got %d %v; want 200 (processed)", st, body)
				}
				_, r := e.vpResult(t, e.key, c.ID)
				if r.Status != "failed" || len(r.Errors) != 1 || r.Errors[0].Check != "wallet" || !strings.Contains(r.Errors[0].Detail, "access_denied: the user said no") {
					t.Errorf("result %+v; want failed on wallet, access_denied", r)
				}
			})

			t.Run("a VP made for one request is refused by another", func(t *testing.T) {
				c1 := e.createVP(t, residency)
				ro1 := w.fetch(t, c1.URI)
				p, _ := sdjwt.Present(f.sdResident, []string{"/district"}, &sdjwt.KeyBinding{Signer: h.key, Audience: ro1.ClientID, Nonce: ro1.Nonce})
				c2 := e.createVP(t, residency)
				ro2 := w.fetch(t, c2.URI)
				if st, body := w.answer(t, ro2, "residency_sd_jwt", p); st != 400 || !strings.Contains(body["error_description"].(string), "challenge") {
					t.Errorf("got %d %v; want 400 naming the challenge", st, body)
				}
			})

			t.Run("concurrent answers: exactly one counts", func(t *testing.T) {
				c := e.createVP(t, residency)
				ro := w.fetch(t, c.URI)
				p, _ := sdjwt.Present(f.sdResident, []string{"/district"}, &sdjwt.KeyBinding{Signer: h.key, Audience: ro.ClientID, Nonce: ro.Nonce})
				tok, _ := json.Marshal(map[string]any{"residency_sd_jwt": []any{p}})
				form := url.Values{"vp_token": {string(tok)}, "state": {ro.State}}.Encode()
				const n = 8
				codes := make(chan int, n)
				for range n {
					go func() {
						resp, err := http.Post(w.local(ro.ResponseURI), "application/x-www-form-urlencoded", strings.NewReader(form))
						if err != nil {
							codes <- 0
							return
						}
						resp.Body.Close()
						codes <- resp.StatusCode
					}()
				}
				ok, refused := 0, 0
				for range n {
					switch <-codes {
					case 200:
						ok++
					case 400:
						refused++
					}
				}
				if ok != 1 || refused != n-1 {
					t.Errorf("got %d accepted, %d refused; want 1 and %d", ok, refused, n-1)
				}
			})

			t.Run("unknown request", func(t *testing.T) {
				st, body := w.post(t, testPublicURL+"/verifier/responses/vpr_nope", url.Values{"vp_token": {"{}"}, "state": {"x"}})
				if st != 400 || body["error"] != "invalid_request" {
					t.Errorf("got %d %v; want 400 invalid_request", st, body)
				}
				resp, b := e.do(t, http.MethodGet, "/verifier/requests/vpr_nope/object", "", "")
				if resp.StatusCode != 404 || !strings.Contains(string(b), "invalid_request_uri") {
					t.Errorf("object: got %d %s; want 404 invalid_request_uri", resp.StatusCode, b)
				}
			})

			t.Run("tampered request object", func(t *testing.T) {
				c := e.createVP(t, residency)
				clientID, _, obj := w.fetchRaw(t, c.URI)
				parts := strings.Split(obj, ".")
				payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
				evil := strings.Replace(string(payload), testPublicURL+"/verifier/responses/", "https://evil.example/collect/", 1)
				parts[1] = base64.RawURLEncoding.EncodeToString([]byte(evil))
				_, err := oid4vp.VerifyObject(context.Background(), w.resolver, strings.Join(parts, "."), clientID)
				if err == nil || !strings.Contains(err.Error(), "signature") {
					t.Errorf("tampered object: got %v; want a signature error", err)
				}
				// Claimed for another verifier than the URI's client_id.
				_, err = oid4vp.VerifyObject(context.Background(), w.resolver, obj, "decentralized_identifier:did:example:other")
				if !errors.Is(err, errkind.Forbidden) {
					t.Errorf("other client_id: got %v; want Forbidden", err)
				}
			})

			t.Run("expired request", func(t *testing.T) {
				c := e.createVP(t, residency)
				ro := w.fetch(t, c.URI)
				later := oid4vp.NewService(oid4vp.Config{Store: e.db, PublicURL: testPublicURL, Clock: func() time.Time { return time.Now().Add(6 * time.Minute) }})
				_, err := later.Respond(context.Background(), c.ID, oid4vp.Response{VPToken: `{"residency_sd_jwt":["x"]}`, State: ro.State})
				var ke *errkind.Error
				if !errors.As(err, &ke) || ke.Code != "invalid_request" || !strings.Contains(err.Error(), "expired") {
					t.Errorf("answer after expiry: got %v; want invalid_request, expired", err)
				}
				if _, err := later.Object(context.Background(), c.ID); !errors.Is(err, errkind.Gone) {
					t.Errorf("request object after expiry: got %v; want Gone", err)
				}
				r, err := later.Result(context.Background(), "", c.ID)
				if !errors.Is(err, errkind.NotFound) {
					t.Errorf("result for no agency: %+v %v; want NotFound", r, err)
				}
				a, err := e.agencies.Authenticate(context.Background(), e.key)
				if err != nil {
					t.Fatal(err)
				}
				r, err = later.Result(context.Background(), a.ID, c.ID)
				if err != nil || r.Status != oid4vp.StatusFailed || r.Outcome == nil || r.Outcome.Errors[0].Check != oid4vp.CheckExpiry {
					t.Errorf("result after expiry: %+v %v; want failed on expiry", r, err)
				}
				muchLater := oid4vp.NewService(oid4vp.Config{Store: e.db, Clock: func() time.Time { return time.Now().Add(2 * time.Hour) }})
				if _, err := muchLater.Result(context.Background(), a.ID, c.ID); !errors.Is(err, errkind.NotFound) {
					t.Errorf("result past the result TTL: %v; want NotFound", err)
				}
				if n, err := muchLater.Purge(context.Background()); err != nil || n < 1 {
					t.Errorf("Purge = %d, %v; want the expired requests deleted", n, err)
				}
			})

			t.Run("bad requests", func(t *testing.T) {
				for _, tc := range []struct {
					body  string
					want  int
					field string
				}{
					{`{"did":"` + f.verifier + `"}`, 400, "/dcqlQuery"},
					{`{"did":"` + f.verifier + `","template":"nope"}`, 400, "/template"},
					{`{"did":"` + f.verifier + `","template":"age_over"}`, 400, "/params/threshold"},
					{`{"did":"` + f.verifier + `","template":"age_over","params":{"threshold":"x"}}`, 400, "/params/threshold"},
					{`{"did":"` + f.verifier + `","template":"residency","params":{"city":"x"}}`, 400, "/params/city"},
					{`{"did":"` + f.verifier + `","dcqlQuery":{"credentials":[]}}`, 400, "/dcqlQuery/credentials"},
					{`{"did":"` + f.verifier + `","dcqlQuery":{"credentials":[{"id":"a","format":"mso_mdoc","meta":{}}]}}`, 400, "/dcqlQuery/credentials/0/format"},
					{`{"did":"` + f.verifier + `","dcqlQuery":{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{},"claims":[{"path":[]}]}]}}`, 400, "/dcqlQuery/credentials/0/claims/0/path"},
					{`{"did":"` + f.verifier + `","template":"residency","webhookUrl":"ftp://x"}`, 400, "/webhookUrl"},
					{`{"did":"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp","template":"residency"}`, 404, "/did"},
					{`{"did":"` + f.verifier + `","presentationDefinition":{"id":"x","input_descriptors":[]}}`, 400, "/presentationDefinition/input_descriptors"},
				} {
					resp, b := e.do(t, http.MethodPost, "/verifier/requests", e.key, tc.body)
					var p struct{ Field string }
					json.Unmarshal(b, &p)
					if resp.StatusCode != tc.want || p.Field != tc.field {
						t.Errorf("%s: got %d %s; want %d naming %s", tc.body, resp.StatusCode, b, tc.want, tc.field)
					}
				}
				resp, b := e.do(t, http.MethodPost, "/verifier/responses/vpr_x", "", `{"vp_token":"{}"}`)
				if resp.StatusCode != http.StatusUnsupportedMediaType {
					t.Errorf("JSON response body: got %d %s; want 415", resp.StatusCode, b)
				}
			})
		})
	}
}

// rebind appends a KB-JWT by h for ro to an SD-JWT presentation without
// one, computing sd_hash over it as sent.
func rebind(pres string, h *holderKey, ro *oid4vp.RequestObject) (string, error) {
	enc := base64.RawURLEncoding
	sum := sha256.Sum256([]byte(pres))
	hb, _ := json.Marshal(map[string]any{"alg": "EdDSA", "typ": "kb+jwt"})
	pb, _ := json.Marshal(map[string]any{"iat": time.Now().Unix(), "aud": ro.ClientID, "nonce": ro.Nonce, "sd_hash": enc.EncodeToString(sum[:])})
	input := enc.EncodeToString(hb) + "." + enc.EncodeToString(pb)
	return pres + input + "." + enc.EncodeToString(ed25519.Sign(h.key, []byte(input))), nil
}

func TestVPWebhookTargets(t *testing.T) {
	strict := oid4vp.NewWebhooks(time.Second, false)
	for _, tc := range []struct {
		url  string
		kind errkind.Kind
	}{
		{"https://service.example/hook", ""},
		{"http://service.example/hook", errkind.Invalid},
		{"https://127.0.0.1/hook", errkind.Forbidden},
		{"https://10.1.2.3/hook", errkind.Forbidden},
		{"https://[::1]/hook", errkind.Forbidden},
		{"https://localhost/hook", errkind.Forbidden},
		{"/relative", errkind.Invalid},
	} {
		err := strict.CheckURL(tc.url)
		if (tc.kind == "" && err != nil) || (tc.kind != "" && !errors.Is(err, tc.kind)) {
			t.Errorf("CheckURL(%s) = %v; want %v", tc.url, err, tc.kind)
		}
	}
}

// vpContract is what the openapi.yaml examples of the verifier routes
// need: a pending request and a valid answer to it.
type vpContract struct {
	f    *vpFixture
	id   string
	form []byte
}

func vpContractFixture(t *testing.T, e *env) *vpContract {
	t.Helper()
	f := newVPFixture(t, e)
	c := e.createVP(t, map[string]any{"did": f.verifier, "template": "residency"})
	ro := newVPWallet(e).fetch(t, c.URI)
	p, err := sdjwt.Present(f.sdResident, []string{"/district"}, &sdjwt.KeyBinding{Signer: f.holder.key, Audience: ro.ClientID, Nonce: ro.Nonce})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := json.Marshal(map[string]any{"residency_sd_jwt": []any{p}})
	return &vpContract{f: f, id: c.ID, form: []byte(url.Values{"vp_token": {string(tok)}, "state": {ro.State}}.Encode())}
}

// rewrite makes an example body of the verifier routes fit this env.
func (v *vpContract) rewrite(t *testing.T, opID string, body []byte) []byte {
	t.Helper()
	switch opID {
	case "createVPRequest":
		var m map[string]any
		json.Unmarshal(body, &m)
		m["did"] = v.f.verifier
		b, _ := json.Marshal(m)
		return b
	case "postVPResponse":
		return v.form
	}
	return body
}
