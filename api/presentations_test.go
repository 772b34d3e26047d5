package api_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/jwtvc"
	"github.com/urbis-id/urbis/vc/ld"
	"github.com/urbis-id/urbis/vc/sdjwt"
)

// holderKey is a did:key holder whose key the test holds.
type holderKey struct {
	did, vm string
	key     ed25519.PrivateKey
}

func newHolder(t *testing.T) *holderKey {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	id, err := did.NewKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	s := id.String()
	return &holderKey{did: s, vm: s + "#" + strings.TrimPrefix(s, "did:key:"), key: priv}
}

// ldpVP is a Data Integrity presentation by h of creds.
func (h *holderKey) ldpVP(t *testing.T, holder, challenge, domain string, creds ...any) map[string]any {
	t.Helper()
	vp := map[string]any{
		"@context": []any{"https://www.w3.org/ns/credentials/v2"},
		"type":     []any{"VerifiablePresentation"},
		"holder":   holder,
	}
	if len(creds) > 0 {
		vp["verifiableCredential"] = creds
	}
	signed, err := dataintegrity.Sign(context.Background(), vp, dataintegrity.ProofOptions{
		VerificationMethod: h.vm, ProofPurpose: "authentication",
		Challenge: challenge, Domain: domain, Created: time.Now(),
	}, h.key, ld.Default())
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// presentationFixture issues what the presentation tests present.
type presentationFixture struct {
	holder    *holderKey
	ldp       map[string]any // an ldp_vc about the holder
	jwt       string         // a jwt_vc_json about the holder
	revocable map[string]any // an ldp_vc about the holder with a revocation entry
	revokeID  string
	sd        string // a dc+sd-jwt about the holder, bound to its key (cnf)
}

func newPresentationFixture(t *testing.T, e *env) *presentationFixture {
	t.Helper()
	f := &presentationFixture{holder: newHolder(t)}
	issuerDID := e.newDID(t, e.key, "Ed25519")
	subject := map[string]any{"id": f.holder.did, "name": "Alice Example"}
	ldpID := e.createIssuer(t, e.key, issuerDID, "ldp_vc", "ExampleDegreeCredential")
	f.ldp = issued(t, e.issue(t, e.key, ldpID, credentialFor("ldp_vc", "", "ExampleDegreeCredential", subject), http.StatusCreated))
	jwtID := e.createIssuer(t, e.key, issuerDID, "jwt_vc_json", "ExampleDegreeCredential")
	env := issued(t, e.issue(t, e.key, jwtID, credentialFor("jwt_vc_json", "", "ExampleDegreeCredential", subject), http.StatusCreated))
	_, f.jwt, _ = strings.Cut(env["id"].(string), ",")
	sdID := e.createIssuer(t, e.key, issuerDID, "dc+sd-jwt", "ExampleDegreeCredential")
	env = issued(t, e.issue(t, e.key, sdID, credentialFor("dc+sd-jwt", "", "ExampleDegreeCredential", subject), http.StatusCreated, map[string]any{"keyBinding": true}))
	_, f.sd, _ = strings.Cut(env["id"].(string), ",")
	// Key binding is for dc+sd-jwt only.
	e.issue(t, e.key, ldpID, credentialFor("ldp_vc", "", "ExampleDegreeCredential", subject), http.StatusBadRequest, map[string]any{"keyBinding": true})
	withStatus := e.createIssuerWith(t, e.key, map[string]any{"did": e.newDID(t, e.key, "Ed25519"), "format": "ldp_vc",
		"types": []string{"ExampleDegreeCredential"}, "statusPurposes": []string{"revocation"}})
	f.revocable = issued(t, e.issue(t, e.key, withStatus, credentialFor("ldp_vc", "", "ExampleDegreeCredential", subject), http.StatusCreated))
	f.revokeID = f.revocable["id"].(string)
	return f
}

// sdJWTPresentation is an SD-JWT VC about h, issued by a did:key the test
// holds with h's key as cnf, presented with a KB-JWT for aud and nonce.
func (h *holderKey) sdJWTPresentation(t *testing.T, sub, aud, nonce string) string {
	t.Helper()
	iss := newHolder(t)
	claims := map[string]any{"iss": iss.did, "vct": "ExampleDegreeCredential", "name": "Alice Example", "iat": time.Now().Unix()}
	if sub != "" {
		claims["sub"] = sub
	}
	tok, err := sdjwt.Issue(claims, sdjwt.DisclosurePolicy{"/name"}, iss.key, sdjwt.IssueOptions{KeyID: iss.vm, HolderKey: h.key.Public()})
	if err != nil {
		t.Fatal(err)
	}
	out, err := sdjwt.Present(tok, []string{"/name"}, &sdjwt.KeyBinding{Signer: h.key, Audience: aud, Nonce: nonce})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (h *holderKey) jwtVP(t *testing.T, aud, nonce string, creds ...any) string {
	t.Helper()
	vp := map[string]any{
		"@context":             []any{"https://www.w3.org/2018/credentials/v1"},
		"type":                 []any{"VerifiablePresentation"},
		"verifiableCredential": creds,
	}
	tok, err := jwtvc.SignPresentation(vp, h.key, h.vm, aud, nonce, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type presentationAnswer struct {
	Verified    bool
	Checks      []string
	Warnings    []struct{ Check, Detail string }
	Errors      []struct{ Check, Detail string }
	Credentials []struct {
		Verified bool
		Errors   []struct{ Check string }
	}
}

func TestVerifyPresentation(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			f := newPresentationFixture(t, e)
			h := f.holder
			other := newHolder(t)
			const ch, dom = "c-123", "verifier.example"
			opts := map[string]any{"challenge": ch, "domain": dom}
			tampered := map[string]any{}
			b, _ := json.Marshal(f.ldp)
			json.Unmarshal(b, &tampered)
			tampered["credentialSubject"].(map[string]any)["name"] = "Mallory"

			// Revoke one credential before the table runs.
			resp, got := e.do(t, http.MethodPost, "/credentials/status", e.key, `{"credentialId":"`+f.revokeID+`","credentialStatus":[{"type":"BitstringStatusListEntry","status":"revoked"}]}`)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("revoke: got %d %s; want 200", resp.StatusCode, got)
			}

			tests := []struct {
				name      string
				vp        any
				opts      map[string]any
				want      int
				wantCheck string // a check that must pass (200) or fail (422)
			}{
				{"ldp_vp", h.ldpVP(t, h.did, ch, dom, f.ldp), opts, 200, "holderBinding"},
				{"jwt_vp", h.jwtVP(t, dom, ch, f.jwt), opts, 200, "credentials"},
				{"sd-jwt with key binding", h.sdJWTPresentation(t, h.did, dom, ch), opts, 200, "holder"},
				{"sd-jwt issued by Urbis with key binding", present(t, f.sd, h, dom, ch), opts, 200, "holderBinding"},
				{"sd-jwt issued by Urbis, wrong challenge", present(t, f.sd, h, dom, "other"), opts, 422, "challenge"},
				{"sd-jwt issued by Urbis, presented by another", present(t, f.sd, other, dom, ch), opts, 422, "proof"},
				{"no options", h.ldpVP(t, h.did, ch, dom, f.ldp), nil, 200, "proof"},
				{"wrong challenge", h.ldpVP(t, h.did, "other", dom, f.ldp), opts, 422, "challenge"},
				{"wrong domain", h.ldpVP(t, h.did, ch, "evil.example", f.ldp), opts, 422, "domain"},
				{"missing challenge", h.ldpVP(t, h.did, "", dom, f.ldp), opts, 422, "challenge"},
				{"jwt_vp wrong challenge", h.jwtVP(t, dom, "other", f.jwt), opts, 422, "challenge"},
				{"jwt_vp wrong domain", h.jwtVP(t, "evil.example", ch, f.jwt), opts, 422, "domain"},
				{"sd-jwt wrong challenge", h.sdJWTPresentation(t, h.did, dom, "other"), opts, 422, "challenge"},
				{"sd-jwt wrong domain", h.sdJWTPresentation(t, h.did, "evil.example", ch), opts, 422, "domain"},
				{"sd-jwt holder mismatch", h.sdJWTPresentation(t, other.did, dom, ch), opts, 422, "holder"},
				{"holder is not the signer", h.ldpVP(t, other.did, ch, dom, f.ldp), opts, 422, "holder"},
				{"credential about someone else", other.ldpVP(t, other.did, ch, dom, f.ldp), opts, 422, "holderBinding"},
				{"tampered credential", h.ldpVP(t, h.did, ch, dom, tampered), opts, 422, "credentials"},
				{"revoked credential", h.ldpVP(t, h.did, ch, dom, f.revocable), opts, 422, "credentials"},
			}
			// Why the embedded credential fails, where it does.
			credentialFailure := map[string]string{"tampered credential": "proof", "revoked credential": "status"}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					req := map[string]any{"verifiablePresentation": tc.vp}
					if tc.opts != nil {
						req["options"] = tc.opts
					}
					b, _ := json.Marshal(req)
					resp, got := e.do(t, http.MethodPost, "/presentations/verify", "", string(b))
					if resp.StatusCode != tc.want {
						t.Fatalf("got %d %s; want %d", resp.StatusCode, got, tc.want)
					}
					var ans presentationAnswer
					if err := json.Unmarshal(got, &ans); err != nil {
						t.Fatal(err)
					}
					if tc.want == 200 {
						if !ans.Verified || !has(ans.Checks, tc.wantCheck) {
							t.Errorf("got verified %v checks %v; want verified with %s", ans.Verified, ans.Checks, tc.wantCheck)
						}
						return
					}
					failed := false
					for _, f := range ans.Errors {
						failed = failed || f.Check == tc.wantCheck
					}
					if ans.Verified || !failed {
						t.Errorf("got %s; want a failed %s check", got, tc.wantCheck)
					}
					if why, ok := credentialFailure[tc.name]; ok {
						if len(ans.Credentials) != 1 || len(ans.Credentials[0].Errors) == 0 || ans.Credentials[0].Errors[0].Check != why {
							t.Errorf("got credential results %+v; want one failing %s", ans.Credentials, why)
						}
					}
				})
			}

			for _, body := range []string{`{"verifiablePresentation":`, `{"verifiablePresentation":42}`, `{"verifiablePresentation":{"type":"VerifiablePresentation"}}`} {
				resp, got := e.do(t, http.MethodPost, "/presentations/verify", "", body)
				if resp.StatusCode != http.StatusBadRequest {
					t.Errorf("%s: got %d %s; want 400", body, resp.StatusCode, got)
				}
			}
		})
	}
}

// present presents an issued SD-JWT with name disclosed and a KB-JWT by h.
func present(t *testing.T, tok string, h *holderKey, aud, nonce string) string {
	t.Helper()
	out, err := sdjwt.Present(tok, []string{"/name"}, &sdjwt.KeyBinding{Signer: h.key, Audience: aud, Nonce: nonce})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
