package api_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/api"
)

// TestOID4VCIRefusals runs the flow with one thing wrong at a time and
// checks the protocol's error.
func TestOID4VCIRefusals(t *testing.T) {
	e := newEnvs(t, api.Config{})[0]
	id := e.createIssuer(t, e.key, e.newDID(t, e.key, "Ed25519"), "dc+sd-jwt", "ExampleDegreeCredential")
	cfgID := id + ":ExampleDegreeCredential"
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)

	// start makes an offer (with a 6-digit transaction code) and returns
	// the wallet, the code and the transaction code.
	start := func(t *testing.T) (*oidWallet, string, string) {
		out := e.mustOffer(t, map[string]any{"issuerId": id, "credentialSubject": map[string]any{"name": "Alice"}, "txCode": true})
		w := newOIDWallet(t, e)
		code, _ := w.fetchOffer(t, out["offerUri"].(string))
		return w, code, out["txCode"].(string)
	}
	wrongTx := func(tx string) string {
		if tx == "000000" {
			return "111111"
		}
		return "000000"
	}
	// credReq is a credential request with the given proofs.
	credReq := func(proofs ...string) map[string]any {
		return map[string]any{"credential_configuration_id": cfgID, "proofs": map[string]any{"jwt": proofs}}
	}

	tokenCases := []struct {
		name   string
		run    func(t *testing.T) oidResp
		status int
		code   string
	}{
		{"replayed pre-authorized code", func(t *testing.T) oidResp {
			w, code, tx := start(t)
			w.accessToken(t, code, tx)
			return w.token(t, code, tx)
		}, 400, "invalid_grant"},
		{"wrong tx_code", func(t *testing.T) oidResp {
			w, code, tx := start(t)
			return w.token(t, code, wrongTx(tx))
		}, 400, "invalid_grant"},
		{"tx_code attempts exhausted", func(t *testing.T) oidResp {
			w, code, tx := start(t)
			for range 5 {
				w.token(t, code, wrongTx(tx))
			}
			return w.token(t, code, tx) // the right one, too late
		}, 400, "invalid_grant"},
		{"missing tx_code", func(t *testing.T) oidResp {
			w, code, _ := start(t)
			return w.token(t, code, "")
		}, 400, "invalid_request"},
		{"expired code", func(t *testing.T) oidResp {
			w, code, tx := start(t)
			e.oidClock.advance(6 * time.Minute)
			defer e.oidClock.advance(-6 * time.Minute)
			return w.token(t, code, tx)
		}, 400, "invalid_grant"},
		{"unknown code", func(t *testing.T) oidResp {
			return newOIDWallet(t, e).token(t, "nope", "")
		}, 400, "invalid_grant"},
		{"wrong grant type", func(t *testing.T) oidResp {
			return newOIDWallet(t, e).send(t, http.MethodPost, "/oid4vci/token", "application/x-www-form-urlencoded", "", []byte("grant_type=authorization_code&code=x"))
		}, 400, "unsupported_grant_type"},
		{"replayed nonce", func(t *testing.T) oidResp {
			w, code, tx := start(t)
			tok := w.accessToken(t, code, tx)
			n := w.nonce(t)
			w2, code2, tx2 := start(t)
			tok2 := w2.accessToken(t, code2, tx2)
			if r := w.credential(t, tok, credReq(w.proof(t, proofOpts{nonce: n}))); r.status != 200 {
				t.Fatalf("first use: got %d %s", r.status, r.raw)
			}
			return w2.credential(t, tok2, credReq(w2.proof(t, proofOpts{nonce: n})))
		}, 400, "invalid_nonce"},
		{"replayed proof JWT", func(t *testing.T) oidResp {
			w, code, tx := start(t)
			tok := w.accessToken(t, code, tx)
			p := w.proof(t, proofOpts{nonce: w.nonce(t)})
			if r := w.credential(t, tok, credReq(p)); r.status != 200 {
				t.Fatalf("first use: got %d %s", r.status, r.raw)
			}
			w2, code2, tx2 := start(t)
			return w2.credential(t, w2.accessToken(t, code2, tx2), credReq(p))
		}, 400, "invalid_nonce"},
		{"repeated proof in one batch", func(t *testing.T) oidResp {
			w, code, tx := start(t)
			p := w.proof(t, proofOpts{nonce: w.nonce(t)})
			return w.credential(t, w.accessToken(t, code, tx), credReq(p, p))
		}, 400, "invalid_proof"},
		{"nonce not from this issuer", func(t *testing.T) oidResp {
			w, code, tx := start(t)
			return w.credential(t, w.accessToken(t, code, tx), credReq(w.proof(t, proofOpts{nonce: "made-up"})))
		}, 400, "invalid_nonce"},
		{"expired nonce", func(t *testing.T) oidResp {
			n := newOIDWallet(t, e).nonce(t)
			e.oidClock.advance(4 * time.Minute)
			defer e.oidClock.advance(-6 * time.Minute)
			w, code, tx := start(t)
			tok := w.accessToken(t, code, tx)
			e.oidClock.advance(2 * time.Minute)
			return w.credential(t, tok, credReq(w.proof(t, proofOpts{nonce: n})))
		}, 400, "invalid_nonce"},
		{"no nonce", func(t *testing.T) oidResp {
			w, code, tx := start(t)
			return w.credential(t, w.accessToken(t, code, tx), credReq(w.proof(t, proofOpts{noNonce: true})))
		}, 400, "invalid_nonce"},
		{"stale iat", func(t *testing.T) oidResp {
			w, code, tx := start(t)
			return w.credential(t, w.accessToken(t, code, tx), credReq(w.proof(t, proofOpts{nonce: w.nonce(t), iat: e.oidClock.now().Add(-time.Hour)})))
		}, 400, "invalid_proof"},
		{"iat in the future", func(t *testing.T) oidResp {
			w, code, tx := start(t)
			return w.credential(t, w.accessToken(t, code, tx), credReq(w.proof(t, proofOpts{nonce: w.nonce(t), iat: e.oidClock.now().Add(time.Hour)})))
		}, 400, "invalid_proof"},
		{"wrong aud", func(t *testing.T) oidResp {
			w, code, tx := start(t)
			return w.credential(t, w.accessToken(t, code, tx), credReq(w.proof(t, proofOpts{nonce: w.nonce(t), aud: "https://evil.example"})))
		}, 400, "invalid_proof"},
		{"bad signature", func(t *testing.T) oidResp {
			w, code, tx := start(t)
			return w.credential(t, w.accessToken(t, code, tx), credReq(w.proof(t, proofOpts{nonce: w.nonce(t), signWith: otherKey})))
		}, 400, "invalid_proof"},
		{"bad signature with jwk", func(t *testing.T) oidResp {
			w, code, tx := start(t)
			return w.credential(t, w.accessToken(t, code, tx), credReq(w.proof(t, proofOpts{nonce: w.nonce(t), useJWK: true, signWith: otherKey})))
		}, 400, "invalid_proof"},
		{"wrong typ", func(t *testing.T) oidResp {
			w, code, tx := start(t)
			return w.credential(t, w.accessToken(t, code, tx), credReq(w.proof(t, proofOpts{nonce: w.nonce(t), typ: "JWT"})))
		}, 400, "invalid_proof"},
		{"missing proof", func(t *testing.T) oidResp {
			w, code, tx := start(t)
			return w.credential(t, w.accessToken(t, code, tx), map[string]any{"credential_configuration_id": cfgID})
		}, 400, "invalid_proof"},
		{"not a JWS", func(t *testing.T) oidResp {
			w, code, tx := start(t)
			return w.credential(t, w.accessToken(t, code, tx), credReq("not-a-jwt"))
		}, 400, "invalid_proof"},
		{"batch too large", func(t *testing.T) oidResp {
			w, code, tx := start(t)
			n := w.nonce(t)
			var ps []string
			for range 6 {
				ps = append(ps, newOIDWallet(t, e).proof(t, proofOpts{nonce: n}))
			}
			return w.credential(t, w.accessToken(t, code, tx), credReq(ps...))
		}, 400, "invalid_credential_request"},
		{"unknown configuration", func(t *testing.T) oidResp {
			w, code, tx := start(t)
			return w.credential(t, w.accessToken(t, code, tx), map[string]any{"credential_configuration_id": id + ":Nope",
				"proofs": map[string]any{"jwt": []string{w.proof(t, proofOpts{nonce: w.nonce(t)})}}})
		}, 400, "unknown_credential_configuration"},
		{"pre-1.0 proof member", func(t *testing.T) oidResp {
			w, code, tx := start(t)
			return w.credential(t, w.accessToken(t, code, tx), map[string]any{"credential_configuration_id": cfgID,
				"proof": map[string]any{"proof_type": "jwt", "jwt": w.proof(t, proofOpts{nonce: w.nonce(t)})}})
		}, 400, "invalid_credential_request"},
		{"no access token", func(t *testing.T) oidResp {
			w := newOIDWallet(t, e)
			return w.credential(t, "", credReq(w.proof(t, proofOpts{nonce: w.nonce(t)})))
		}, 401, "invalid_token"},
		{"unknown access token", func(t *testing.T) oidResp {
			w := newOIDWallet(t, e)
			return w.credential(t, "made-up", credReq(w.proof(t, proofOpts{nonce: w.nonce(t)})))
		}, 401, "invalid_token"},
		{"access token after expiry", func(t *testing.T) oidResp {
			w, code, tx := start(t)
			tok := w.accessToken(t, code, tx)
			e.oidClock.advance(6 * time.Minute)
			defer e.oidClock.advance(-6 * time.Minute)
			return w.credential(t, tok, credReq(w.proof(t, proofOpts{nonce: w.nonce(t)})))
		}, 401, "invalid_token"},
	}
	for _, tc := range tokenCases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.run(t)
			if r.status != tc.status || r.errorCode() != tc.code {
				t.Fatalf("got %d %s; want %d with error %q", r.status, r.raw, tc.status, tc.code)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
				t.Errorf("Content-Type %q; want application/problem+json", ct)
			}
			if d, _ := r.body["error_description"].(string); d == "" || r.body["detail"] != d || r.body["status"] != float64(tc.status) {
				t.Errorf("body %s; want error_description equal to detail and status %d", r.raw, tc.status)
			}
			if tc.status == 401 && !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate %q; want Bearer error=\"invalid_token\"", r.header.Get("WWW-Authenticate"))
			}
		})
	}

	offerCases := []struct {
		name   string
		key    string
		req    map[string]any
		status int
		field  string
	}{
		{"another agency's issuer instance", e.otherKey, map[string]any{"issuerId": id, "credentialSubject": map[string]any{"name": "A"}}, 404, "/issuerId"},
		{"no API key", "", map[string]any{"issuerId": id, "credentialSubject": map[string]any{"name": "A"}}, 401, ""},
		{"subject id", e.key, map[string]any{"issuerId": id, "credentialSubject": map[string]any{"id": "did:example:1"}}, 400, "/credentialSubject/id"},
		{"tx_code too short", e.key, map[string]any{"issuerId": id, "credentialSubject": map[string]any{}, "txCode": map[string]any{"length": 3}}, 400, "/txCode/length"},
		{"foreign configuration", e.key, map[string]any{"issuerId": id, "credentialSubject": map[string]any{}, "credentialConfigurationIds": []string{"iss_x:Y"}}, 400, "/credentialConfigurationIds/0"},
		{"no subject", e.key, map[string]any{"issuerId": id}, 400, "/credentialSubject"},
		{"no issuer instance", e.key, map[string]any{"credentialSubject": map[string]any{}}, 400, "/issuerId"},
		{"another agency's configuration", e.otherKey, map[string]any{"credentialConfigurationIds": []string{cfgID}, "credentialSubject": map[string]any{}}, 404, "/issuerId"},
	}
	for _, tc := range offerCases {
		t.Run("offer/"+tc.name, func(t *testing.T) {
			st, out := e.offer(t, tc.key, tc.req)
			if st != tc.status || (tc.field != "" && out["field"] != tc.field) {
				t.Errorf("got %d %v; want %d naming %q", st, out, tc.status, tc.field)
			}
		})
	}
}
