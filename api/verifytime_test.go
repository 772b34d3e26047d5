package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/api"
)

// verifyNotes verifies v and returns the result with its notes.
func (e *env) verifyNotes(t *testing.T, v any) (int, verifyResult, []struct{ Check, Detail string }) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"verifiableCredential": v})
	resp, got := e.do(t, http.MethodPost, "/credentials/verify", "", string(b))
	var out struct {
		verifyResult
		Notes []struct{ Check, Detail string }
	}
	if err := json.Unmarshal(got, &out); err != nil {
		t.Fatalf("verify: %d %s", resp.StatusCode, got)
	}
	return resp.StatusCode, out.verifyResult, out.Notes
}

// issueAll issues one credential with each instance, by format: the
// JSON-LD object, or the compact token.
func (e *env) issueAll(t *testing.T, ids map[string]string) map[string]any {
	t.Helper()
	out := map[string]any{}
	for format, id := range ids {
		c := issued(t, e.issue(t, e.key, id, credentialFor(format, "", "ExampleDegreeCredential", map[string]any{"name": "Alice Example"}), http.StatusCreated))
		var v any = c
		if format != "ldp_vc" {
			_, tok, _ := strings.Cut(c["id"].(string), ",")
			v = tok
		}
		out[format] = v
	}
	return out
}

// TestIssuerKeyAtIssuance issues with a did:urbis, rotates its key, and
// verifies: what the old key signed still verifies against the version in
// force at issuance, until a rotation declares that key compromised.
func TestIssuerKeyAtIssuance(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			resp, b := e.do(t, http.MethodPost, "/dids", e.key, `{"method":"urbis","keyType":"Ed25519"}`)
			var rec struct{ Did, KeyId string }
			if err := json.Unmarshal(b, &rec); err != nil || resp.StatusCode != http.StatusCreated {
				t.Fatalf("create did:urbis: %d %s", resp.StatusCode, b)
			}
			ids := map[string]string{}
			for _, f := range []string{"ldp_vc", "jwt_vc_json", "dc+sd-jwt"} {
				ids[f] = e.createIssuer(t, e.key, rec.Did, f, "ExampleDegreeCredential")
			}
			v1 := e.issueAll(t, ids) // signed by the key of version 1
			// An SD-JWT VC bound to a holder's key, for a presentation later.
			h := newHolder(t)
			env := issued(t, e.issue(t, e.key, ids["dc+sd-jwt"], credentialFor("dc+sd-jwt", "", "ExampleDegreeCredential",
				map[string]any{"id": h.did, "name": "Alice Example"}), http.StatusCreated, map[string]any{"keyBinding": true}))
			_, bound, _ := strings.Cut(env["id"].(string), ",")

			rotate := func(body string) {
				t.Helper()
				resp, b := e.do(t, http.MethodPost, "/dids/"+rec.Did+"/rotate", e.key, body)
				if resp.StatusCode != http.StatusCreated {
					t.Fatalf("rotate %s: got %d %s; want 201", body, resp.StatusCode, b)
				}
			}
			rotate("") // version 2, a plain rotation
			for format, c := range v1 {
				code, res, notes := e.verifyNotes(t, c)
				if code != http.StatusOK || !res.Verified || !slices.Contains(res.Checks, "issuer") {
					t.Errorf("%s signed before a plain rotation: got %d %+v; want verified", format, code, res)
					continue
				}
				if len(notes) == 0 || notes[0].Check != "issuer" || !strings.Contains(notes[0].Detail, "version 1") {
					t.Errorf("%s: got notes %+v; want an issuer note naming version 1", format, notes)
				}
			}

			// The holder presents the SD-JWT VC signed before the rotation.
			vp, _ := json.Marshal(map[string]any{"verifiablePresentation": present(t, bound, h, "verifier.example", "n-1"),
				"options": map[string]any{"challenge": "n-1", "domain": "verifier.example"}})
			if resp, b := e.do(t, http.MethodPost, "/presentations/verify", "", string(vp)); resp.StatusCode != http.StatusOK {
				t.Errorf("SD-JWT presentation of a credential signed before a plain rotation: got %d %s; want 200", resp.StatusCode, b)
			}

			v2 := e.issueAll(t, ids) // signed by the key of version 2
			for format, c := range v2 {
				if code, res, notes := e.verifyNotes(t, c); code != http.StatusOK || len(notes) == 0 || !strings.Contains(notes[0].Detail, "version 2") {
					t.Errorf("%s signed by version 2: got %d %+v, notes %+v; want verified with version 2", format, code, res, notes)
				}
			}
			// The body naming nothing else but a did:key is refused.
			keyDID := e.newDID(t, e.key, "Ed25519")
			if resp, b := e.do(t, http.MethodPost, "/dids/"+keyDID+"/rotate", e.key, `{"compromised":true}`); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "/compromised") {
				t.Errorf("compromised rotation of a did:key: got %d %s; want 400 naming /compromised", resp.StatusCode, b)
			}

			rotate(`{"compromised":true}`) // version 3: the key of version 2 is compromised
			for format, c := range v2 {
				code, res := e.verify(t, c)
				if code != http.StatusUnprocessableEntity || res.Verified || len(res.Errors) == 0 {
					t.Errorf("%s signed by the compromised key: got %d %+v; want 422", format, code, res)
					continue
				}
				if f := res.Errors[0]; f.Check != "issuer" || !strings.Contains(f.Detail, "declared compromised by version 3") {
					t.Errorf("%s: got error %+v; want the issuer check failing with \"declared compromised by version 3\"", format, f)
				}
			}
			for format, c := range v1 { // the key of version 1 was not compromised
				if code, res := e.verify(t, c); code != http.StatusOK || !res.Verified {
					t.Errorf("%s signed by version 1 after the compromise of version 2's key: got %d %+v; want verified", format, code, res)
				}
			}

			// Resolution shows the compromise, whatever the version.
			for _, q := range []string{"", "?versionId=2"} {
				resp, b = e.do(t, http.MethodGet, "/1.0/identifiers/"+rec.Did+q, "", "")
				var res struct {
					DidDocumentMetadata struct {
						Compromised []struct{ Id, Since, VersionId string }
					}
				}
				if err := json.Unmarshal(b, &res); err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("resolve%s: %d %s", q, resp.StatusCode, b)
				}
				got := res.DidDocumentMetadata.Compromised
				if len(got) != 1 || !strings.HasPrefix(got[0].Id, rec.Did+"#") || got[0].VersionId != "3" || got[0].Since == "" {
					t.Errorf("resolve%s: got compromised %+v; want one key of %s, by version 3", q, got, rec.Did)
				}
			}
		})
	}
}
