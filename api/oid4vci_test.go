package api_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/did"
)

// offsetClock is a clock that tests move forward.
type offsetClock struct{ offset atomic.Int64 }

func (c *offsetClock) now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *offsetClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// oidWallet is a minimal OpenID4VCI wallet with an Ed25519 did:key.
type oidWallet struct {
	e    *env
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
	did  string
	kid  string
}

func newOIDWallet(t *testing.T, e *env) *oidWallet {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	id, err := did.NewKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return &oidWallet{e: e, pub: pub, priv: priv, did: id.String(), kid: id.String() + "#" + strings.TrimPrefix(id.String(), "did:key:")}
}

// proofOpts change one thing of a proof JWT.
type proofOpts struct {
	typ      string
	aud      string
	iat      time.Time
	nonce    string
	noNonce  bool
	useJWK   bool
	signWith ed25519.PrivateKey
}

// proof signs a proof of possession JWT.
func (w *oidWallet) proof(t *testing.T, o proofOpts) string {
	t.Helper()
	h := jws.NewHeaders()
	typ := o.typ
	if typ == "" {
		typ = "openid4vci-proof+jwt"
	}
	h.Set(jws.TypeKey, typ)
	if o.useJWK {
		k, err := jwk.FromRaw(w.pub)
		if err != nil {
			t.Fatal(err)
		}
		h.Set(jws.JWKKey, k)
	} else {
		h.Set(jws.KeyIDKey, w.kid)
	}
	aud := o.aud
	if aud == "" {
		aud = testPublicURL
	}
	iat := o.iat
	if iat.IsZero() {
		iat = w.e.oidClock.now()
	}
	claims := map[string]any{"aud": aud, "iat": iat.Unix()}
	if !o.noNonce {
		claims["nonce"] = o.nonce
	}
	payload, _ := json.Marshal(claims)
	key := w.priv
	if o.signWith != nil {
		key = o.signWith
	}
	b, err := jws.Sign(payload, jws.WithKey(jwa.EdDSA, key, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// oidResp is an answer of an OID4VCI endpoint.
type oidResp struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (r oidResp) errorCode() string { s, _ := r.body["error"].(string); return s }

func (w *oidWallet) send(t *testing.T, method, path, ct, auth string, body []byte) oidResp {
	t.Helper()
	req, err := http.NewRequest(method, w.e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := oidResp{status: resp.StatusCode, header: resp.Header, raw: raw}
	json.Unmarshal(raw, &out.body)
	return out
}

// fetchOffer follows the offer URI to the credential offer object.
func (w *oidWallet) fetchOffer(t *testing.T, offerURI string) (code string, offer map[string]any) {
	t.Helper()
	u, err := url.Parse(offerURI)
	if err != nil || u.Scheme != "openid-credential-offer" {
		t.Fatalf("offer URI %q", offerURI)
	}
	ref := u.Query().Get("credential_offer_uri")
	if !strings.HasPrefix(ref, testPublicURL+"/oid4vci/offers/") {
		t.Fatalf("credential_offer_uri %q; want one under %s", ref, testPublicURL)
	}
	r := w.send(t, http.MethodGet, strings.TrimPrefix(ref, testPublicURL), "", "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("fetch offer: got %d %s; want 200", r.status, r.raw)
	}
	grant, _ := r.body["grants"].(map[string]any)["urn:ietf:params:oauth:grant-type:pre-authorized_code"].(map[string]any)
	code, _ = grant["pre-authorized_code"].(string)
	if code == "" || r.body["credential_issuer"] != testPublicURL {
		t.Fatalf("offer %s; want a pre-authorized code from %s", r.raw, testPublicURL)
	}
	return code, r.body
}

func (w *oidWallet) token(t *testing.T, code, tx string) oidResp {
	t.Helper()
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"}, "pre-authorized_code": {code}}
	if tx != "" {
		form.Set("tx_code", tx)
	}
	return w.send(t, http.MethodPost, "/oid4vci/token", "application/x-www-form-urlencoded", "", []byte(form.Encode()))
}

func (w *oidWallet) accessToken(t *testing.T, code, tx string) string {
	t.Helper()
	r := w.token(t, code, tx)
	tok, _ := r.body["access_token"].(string)
	if r.status != http.StatusOK || tok == "" || r.body["token_type"] != "Bearer" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token: got %d %v %s; want 200 with a Bearer token, no-store", r.status, r.header, r.raw)
	}
	if _, ok := r.body["c_nonce"]; ok {
		t.Errorf("token response has c_nonce; OID4VCI 1.0 moved it to the nonce endpoint")
	}
	return tok
}

func (w *oidWallet) nonce(t *testing.T) string {
	t.Helper()
	r := w.send(t, http.MethodPost, "/oid4vci/nonce", "", "", nil)
	n, _ := r.body["c_nonce"].(string)
	if r.status != http.StatusOK || n == "" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("nonce: got %d %s; want 200 with c_nonce, no-store", r.status, r.raw)
	}
	return n
}

func (w *oidWallet) credential(t *testing.T, token string, req map[string]any) oidResp {
	t.Helper()
	b, _ := json.Marshal(req)
	return w.send(t, http.MethodPost, "/oid4vci/credential", "application/json", token, b)
}

// offer makes an offer with the agency key and returns the answer.
func (e *env) offer(t *testing.T, key string, req map[string]any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(req)
	resp, got := e.do(t, http.MethodPost, "/oid4vci/offers", key, string(b))
	var out map[string]any
	json.Unmarshal(got, &out)
	return resp.StatusCode, out
}

func (e *env) mustOffer(t *testing.T, req map[string]any) map[string]any {
	t.Helper()
	st, out := e.offer(t, e.key, req)
	if st != http.StatusCreated {
		t.Fatalf("create offer: got %d %v; want 201", st, out)
	}
	return out
}

// holderKeyOf reads cnf.jwk of an SD-JWT VC as an Ed25519 key.
func holderKeyOf(t *testing.T, sdjwt string) ed25519.PublicKey {
	t.Helper()
	jwt, _, _ := strings.Cut(sdjwt, "~")
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("SD-JWT %q", sdjwt)
	}
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Cnf struct{ JWK json.RawMessage }
	}
	json.Unmarshal(b, &claims)
	k, err := jwk.ParseKey(claims.Cnf.JWK)
	if err != nil {
		t.Fatalf("cnf.jwk of %s: %v", b, err)
	}
	var raw ed25519.PublicKey
	if err := k.Raw(&raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

// jwtSubject reads vc.credentialSubject.id of a JWT-VC.
func jwtSubject(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Sub string
		VC  struct{ CredentialSubject map[string]any } `json:"vc"`
	}
	json.Unmarshal(b, &claims)
	id, _ := claims.VC.CredentialSubject["id"].(string)
	return id
}

// envelope wraps a compact credential for /credentials/verify.
func envelope(mediaType, tok string) map[string]any {
	return map[string]any{"@context": []any{"https://www.w3.org/ns/credentials/v2"}, "type": "EnvelopedVerifiableCredential", "id": "data:" + mediaType + "," + tok}
}

// TestOID4VCIFlow runs the pre-authorized code flow for each format with a
// test wallet: offer with a transaction code, token, nonce, credential,
// and checks the holder binding and that the credential verifies.
func TestOID4VCIFlow(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			issuerDID := e.newDID(t, e.key, "Ed25519")
			for _, format := range []string{"dc+sd-jwt", "jwt_vc_json", "ldp_vc"} {
				t.Run(format, func(t *testing.T) {
					id := e.createIssuer(t, e.key, issuerDID, format, "ExampleDegreeCredential")
					cfgID := id + ":ExampleDegreeCredential"
					// Metadata lists the configuration.
					w := newOIDWallet(t, e)
					meta := w.send(t, http.MethodGet, "/.well-known/openid-credential-issuer", "", "", nil)
					confs, _ := meta.body["credential_configurations_supported"].(map[string]any)
					conf, _ := confs[cfgID].(map[string]any)
					if meta.status != 200 || conf["format"] != format || meta.body["nonce_endpoint"] != testPublicURL+"/oid4vci/nonce" {
						t.Fatalf("metadata: got %d %s; want configuration %s of format %s", meta.status, meta.raw, cfgID, format)
					}
					as := w.send(t, http.MethodGet, "/.well-known/oauth-authorization-server", "", "", nil)
					if as.body["token_endpoint"] != testPublicURL+"/oid4vci/token" {
						t.Errorf("authorization server metadata %s; want token_endpoint %s/oid4vci/token", as.raw, testPublicURL)
					}

					out := e.mustOffer(t, map[string]any{"issuerId": id, "credentialSubject": map[string]any{"name": "Alice Example"}, "txCode": map[string]any{"length": 6, "description": "The code in your letter"}})
					tx, _ := out["txCode"].(string)
					if len(tx) != 6 {
						t.Fatalf("txCode %q; want 6 digits", tx)
					}
					code, offer := w.fetchOffer(t, out["offerUri"].(string))
					grant := offer["grants"].(map[string]any)["urn:ietf:params:oauth:grant-type:pre-authorized_code"].(map[string]any)
					if txs, _ := grant["tx_code"].(map[string]any); txs["length"] != float64(6) || txs["input_mode"] != "numeric" || txs["description"] != "The code in your letter" {
						t.Errorf("offer tx_code %v; want numeric, length 6, the description", grant["tx_code"])
					}
					if ids, _ := offer["credential_configuration_ids"].([]any); len(ids) != 1 || ids[0] != cfgID {
						t.Errorf("offer configurations %v; want [%s]", ids, cfgID)
					}
					tok := w.accessToken(t, code, tx)
					useJWK := format == "dc+sd-jwt"
					r := w.credential(t, tok, map[string]any{
						"credential_configuration_id": cfgID,
						"proofs":                      map[string]any{"jwt": []string{w.proof(t, proofOpts{nonce: w.nonce(t), useJWK: useJWK})}},
					})
					creds, _ := r.body["credentials"].([]any)
					if r.status != http.StatusOK || len(creds) != 1 {
						t.Fatalf("credential: got %d %s; want 200 with one credential", r.status, r.raw)
					}
					cred := creds[0].(map[string]any)["credential"]
					var toVerify any
					switch format {
					case "dc+sd-jwt":
						tok := cred.(string)
						if got := holderKeyOf(t, tok); !got.Equal(w.pub) {
							t.Errorf("cnf.jwk is %x; want the proof's key %x", got, w.pub)
						}
						toVerify = envelope("application/dc+sd-jwt", tok)
					case "jwt_vc_json":
						tok := cred.(string)
						if got := jwtSubject(t, tok); got != w.did {
							t.Errorf("credentialSubject.id %q; want the holder's DID %s", got, w.did)
						}
						toVerify = envelope("application/jwt", tok)
					case "ldp_vc":
						sub, _ := cred.(map[string]any)["credentialSubject"].(map[string]any)
						if sub["id"] != w.did || sub["name"] != "Alice Example" {
							t.Errorf("credentialSubject %v; want id %s and the offered name", sub, w.did)
						}
						toVerify = cred
					}
					if st, res := e.verify(t, toVerify); st != http.StatusOK || !res.Verified {
						t.Errorf("verify: got %d %+v; want verified", st, res)
					}
					// The configuration was issued: the claims are gone.
					again := w.credential(t, tok, map[string]any{
						"credential_configuration_id": cfgID,
						"proofs":                      map[string]any{"jwt": []string{w.proof(t, proofOpts{nonce: w.nonce(t)})}},
					})
					if again.status != 400 || again.errorCode() != "invalid_credential_request" {
						t.Errorf("second request: got %d %s; want 400 invalid_credential_request", again.status, again.raw)
					}
				})
			}
		})
	}
}

// TestOID4VCIBatch issues three credentials to three keys in one request.
func TestOID4VCIBatch(t *testing.T) {
	e := newEnvs(t, api.Config{})[0]
	id := e.createIssuer(t, e.key, e.newDID(t, e.key, "Ed25519"), "dc+sd-jwt", "ExampleDegreeCredential")
	out := e.mustOffer(t, map[string]any{"issuerId": id, "credentialSubject": map[string]any{"name": "Alice Example"}})
	w := newOIDWallet(t, e)
	code, _ := w.fetchOffer(t, out["offerUri"].(string))
	tok := w.accessToken(t, code, "")
	n := w.nonce(t)
	wallets := []*oidWallet{w, newOIDWallet(t, e), newOIDWallet(t, e)}
	var proofs []string
	for _, x := range wallets {
		proofs = append(proofs, x.proof(t, proofOpts{nonce: n, useJWK: true}))
	}
	r := w.credential(t, tok, map[string]any{"credential_configuration_id": id + ":ExampleDegreeCredential", "proofs": map[string]any{"jwt": proofs}})
	creds, _ := r.body["credentials"].([]any)
	if r.status != 200 || len(creds) != 3 {
		t.Fatalf("batch: got %d %s; want 200 with 3 credentials", r.status, r.raw)
	}
	for i, c := range creds {
		tok := c.(map[string]any)["credential"].(string)
		if got := holderKeyOf(t, tok); !got.Equal(wallets[i].pub) {
			t.Errorf("credential %d: cnf.jwk %x; want proof %d's key %x", i, got, i, wallets[i].pub)
		}
		if st, res := e.verify(t, envelope("application/dc+sd-jwt", tok)); st != 200 || !res.Verified {
			t.Errorf("credential %d: verify got %d %+v; want verified", i, st, res)
		}
	}
}

// TestOID4VCIOfferQR checks the QR code of an offer.
func TestOID4VCIOfferQR(t *testing.T) {
	e := newEnvs(t, api.Config{})[0]
	id := e.createIssuer(t, e.key, e.newDID(t, e.key, "Ed25519"), "ldp_vc", "ExampleDegreeCredential")
	out := e.mustOffer(t, map[string]any{"issuerId": id, "credentialSubject": map[string]any{"name": "Alice Example"}})
	qr := out["qrUrl"].(string)
	resp, b := e.do(t, http.MethodGet, strings.TrimPrefix(qr, testPublicURL), "", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("QR: got %d %s; want 200 image/png", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if got := qrText(t, b); got != out["offerUri"] {
		t.Errorf("the QR code reads %q; want the offer's offerUri %s", got, out["offerUri"])
	}
	expiresAt, _ := time.Parse(time.RFC3339Nano, out["expiresAt"].(string))
	expires, err := http.ParseTime(resp.Header.Get("Expires"))
	if cc := resp.Header.Get("Cache-Control"); cc != "private" || err != nil || !expires.Equal(expiresAt.Truncate(time.Second)) {
		t.Errorf("caching: got Cache-Control %q, Expires %q; want private, %s", cc, resp.Header.Get("Expires"), expiresAt.Format(http.TimeFormat))
	}
	if resp, _ := e.do(t, http.MethodGet, "/oid4vci/offers/nope/qr.png", "", ""); resp.StatusCode != 404 {
		t.Errorf("QR of an unknown offer: got %d; want 404", resp.StatusCode)
	}
	e.oidClock.advance(time.Until(expiresAt) + time.Second)
	if resp, _ := e.do(t, http.MethodGet, strings.TrimPrefix(qr, testPublicURL), "", ""); resp.StatusCode != 404 {
		t.Errorf("QR of an expired offer: got %d; want 404", resp.StatusCode)
	}
}

// TestOID4VCIConcurrentToken redeems one code with ten parallel requests.
func TestOID4VCIConcurrentToken(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			id := e.createIssuer(t, e.key, e.newDID(t, e.key, "Ed25519"), "dc+sd-jwt", "ExampleDegreeCredential")
			out := e.mustOffer(t, map[string]any{"issuerId": id, "credentialSubject": map[string]any{"name": "A"}, "txCode": true})
			w := newOIDWallet(t, e)
			code, _ := w.fetchOffer(t, out["offerUri"].(string))
			var ok, grant atomic.Int32
			var wg sync.WaitGroup
			for range 10 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := w.token(t, code, out["txCode"].(string))
					switch {
					case r.status == 200:
						ok.Add(1)
					case r.status == 400 && r.errorCode() == "invalid_grant":
						grant.Add(1)
					default:
						t.Errorf("token: got %d %s; want 200 or 400 invalid_grant", r.status, r.raw)
					}
				}()
			}
			wg.Wait()
			if ok.Load() != 1 || grant.Load() != 9 {
				t.Errorf("10 parallel token requests: %d succeeded, %d invalid_grant; want 1 and 9", ok.Load(), grant.Load())
			}
		})
	}
}

// TestOID4VCIConcurrentCredential sends parallel credential requests,
// which the server group-commits: one access token issues its
// configuration once, and one c_nonce is spent once, across offers.
func TestOID4VCIConcurrentCredential(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			id := e.createIssuer(t, e.key, e.newDID(t, e.key, "Ed25519"), "dc+sd-jwt", "ExampleDegreeCredential")
			config := id + ":ExampleDegreeCredential"
			w := newOIDWallet(t, e)
			token := func() string {
				out := e.mustOffer(t, map[string]any{"issuerId": id, "credentialSubject": map[string]any{"name": "A"}})
				code, _ := w.fetchOffer(t, out["offerUri"].(string))
				return w.accessToken(t, code, "")
			}
			// run sends 10 credential requests at once; req(i) gives the
			// access token and proof nonce of the i-th.
			run := func(req func(i int) (string, string)) (ok, refused int, codes map[string]int) {
				codes = map[string]int{}
				var mu sync.Mutex
				var wg sync.WaitGroup
				for i := range 10 {
					tok, n := req(i)
					p := w.proof(t, proofOpts{nonce: n})
					wg.Add(1)
					go func() {
						defer wg.Done()
						r := w.credential(t, tok, map[string]any{"credential_configuration_id": config, "proofs": map[string]any{"jwt": []string{p}}})
						mu.Lock()
						defer mu.Unlock()
						switch r.status {
						case 200:
							ok++
						case 400:
							refused++
							codes[r.errorCode()]++
						default:
							t.Errorf("credential: got %d %s; want 200 or 400", r.status, r.raw)
						}
					}()
				}
				wg.Wait()
				return ok, refused, codes
			}
			tok := token()
			if ok, refused, codes := run(func(int) (string, string) { return tok, w.nonce(t) }); ok != 1 || refused != 9 || codes["invalid_credential_request"] != 9 {
				t.Errorf("one token, 10 nonces: %d issued, %d refused %v; want 1 and 9 invalid_credential_request", ok, refused, codes)
			}
			n := w.nonce(t)
			toks := make([]string, 10)
			for i := range toks {
				toks[i] = token()
			}
			if ok, refused, codes := run(func(i int) (string, string) { return toks[i], n }); ok != 1 || refused != 9 || codes["invalid_nonce"] != 9 {
				t.Errorf("10 tokens, one nonce: %d issued, %d refused %v; want 1 and 9 invalid_nonce", ok, refused, codes)
			}
		})
	}
}
