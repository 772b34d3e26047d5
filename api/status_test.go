package api_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/api"

	"github.com/urbis-id/urbis/vc/statuslist"
)

// statusEntry returns the credential's credentialStatus entry of purpose.
func statusEntry(t *testing.T, c map[string]any, purpose string) map[string]any {
	t.Helper()
	entries, _ := c["credentialStatus"].([]any)
	for _, x := range entries {
		if m, _ := x.(map[string]any); m["statusPurpose"] == purpose {
			return m
		}
	}
	t.Fatalf("credential has no %s entry: %v", purpose, c["credentialStatus"])
	return nil
}

func (e *env) setStatus(t *testing.T, key, id, status string) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"credentialId": id,
		"credentialStatus": []any{map[string]any{"type": "BitstringStatusListEntry", "status": status}}})
	resp, got := e.do(t, http.MethodPost, "/credentials/status", key, string(b))
	return resp.StatusCode, got
}

// statusBit fetches the list of the credential's purpose entry and
// returns the credential's bit and the list's ETag.
func (e *env) statusBit(t *testing.T, c map[string]any, purpose string) (bool, string) {
	t.Helper()
	entry := statusEntry(t, c, purpose)
	resp, b := e.do(t, http.MethodGet, "/status/"+listIDOf(t, c, purpose), "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET status list: got %d %s; want 200", resp.StatusCode, b)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/vc+ld+json" {
		t.Errorf("Content-Type: got %q; want application/vc+ld+json", got)
	}
	if got := resp.Header.Get("Cache-Control"); got != "public, max-age=60" {
		t.Errorf("Cache-Control: got %q; want public, max-age=60", got)
	}
	var list map[string]any
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	set, err := statuslist.Check(entry, list)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	// The list credential itself verifies: its proof is the issuer's.
	if code, res := e.verify(t, list); code != http.StatusOK {
		t.Errorf("verify the list credential: got %d %+v; want 200", code, res)
	}
	return set, resp.Header.Get("ETag")
}

func TestCredentialStatus(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			id := e.createIssuerWith(t, e.key, map[string]any{"did": e.newDID(t, e.key, "Ed25519"), "format": "ldp_vc",
				"types": []string{"ExampleDegreeCredential"}, "statusPurposes": []string{"revocation", "suspension"}})
			c := e.issueLDP(t, e.key, id)
			cid, _ := c["id"].(string)
			if set, etag := e.statusBit(t, c, "suspension"); set || etag != `"0"` {
				t.Fatalf("new credential: suspended %v, ETag %s; want false, \"0\"", set, etag)
			}
			listPath := "/status/" + listIDOf(t, c, "suspension")
			if resp, _ := e.do(t, http.MethodGet, listPath, "", "", "If-None-Match", `"0"`); resp.StatusCode != http.StatusNotModified {
				t.Errorf("If-None-Match current: got %d; want 304", resp.StatusCode)
			}

			steps := []struct {
				key, id, status string
				want            int
			}{
				{e.otherKey, cid, "suspended", http.StatusNotFound},
				{e.key, "urn:uuid:00000000-0000-4000-8000-000000000000", "revoked", http.StatusNotFound},
				{e.key, cid, "paused", http.StatusBadRequest},
				{e.key, cid, "suspended", http.StatusOK},
				{e.key, cid, "suspended", http.StatusOK},
				{e.key, cid, "active", http.StatusOK},
				{e.key, cid, "revoked", http.StatusOK},
				{e.key, cid, "revoked", http.StatusOK},
				{e.key, cid, "active", http.StatusConflict},
			}
			for _, s := range steps {
				code, b := e.setStatus(t, s.key, s.id, s.status)
				if code != s.want {
					t.Fatalf("%s %s: got %d %s; want %d", s.status, s.id, code, b, s.want)
				}
				if s.key == e.key && s.id == cid && s.status == "suspended" && code == http.StatusOK {
					if set, etag := e.statusBit(t, c, "suspension"); !set || etag != `"1"` {
						t.Errorf("suspended: bit %v, ETag %s; want true, \"1\"", set, etag)
					}
				}
			}
			if resp, _ := e.do(t, http.MethodGet, listPath, "", "", "If-None-Match", `"0"`); resp.StatusCode != http.StatusOK {
				t.Errorf("If-None-Match stale: got %d; want 200", resp.StatusCode)
			}
			if set, _ := e.statusBit(t, c, "revocation"); !set {
				t.Errorf("revoked: bit clear; want set")
			}
			if set, _ := e.statusBit(t, c, "suspension"); set {
				t.Errorf("reinstated: suspension bit set; want clear")
			}
			if resp, _ := e.do(t, http.MethodGet, "/status/sl_nosuchlist", "", ""); resp.StatusCode != http.StatusNotFound {
				t.Errorf("unknown list: got %d; want 404", resp.StatusCode)
			}
		})
	}
}

func TestVerifyStatus(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			dID := e.newDID(t, e.key, "Ed25519")
			both := []string{"revocation", "suspension"}
			for _, format := range []string{"ldp_vc", "jwt_vc_json"} {
				t.Run(format, func(t *testing.T) {
					id := e.createIssuerWith(t, e.key, map[string]any{"did": dID, "format": format,
						"types": []string{"ExampleDegreeCredential"}, "statusPurposes": both})
					b := e.issue(t, e.key, id, credentialFor(format, "", "ExampleDegreeCredential", map[string]any{"name": "Alice Example"}), http.StatusCreated)
					var out struct{ VerifiableCredential map[string]any }
					if err := json.Unmarshal(b, &out); err != nil {
						t.Fatal(err)
					}
					v := out.VerifiableCredential
					cid, _ := v["id"].(string)
					if format == "jwt_vc_json" {
						cid = jwtCredentialID(t, v)
					}
					steps := []struct {
						set      string // "" to verify as issued
						wantCode int
						wantText string // in the status error
					}{
						{"", http.StatusOK, ""},
						{"suspended", http.StatusUnprocessableEntity, "suspended"},
						{"active", http.StatusOK, ""},
						{"revoked", http.StatusUnprocessableEntity, "revoked"},
					}
					for _, s := range steps {
						if s.set != "" {
							if code, got := e.setStatus(t, e.key, cid, s.set); code != http.StatusOK {
								t.Fatalf("set %s: got %d %s; want 200", s.set, code, got)
							}
						}
						code, res := e.verify(t, v)
						if code != s.wantCode {
							t.Fatalf("after %q: got %d %+v; want %d", s.set, code, res, s.wantCode)
						}
						if s.wantText == "" {
							if !contains(res.Checks, "status") {
								t.Errorf("after %q: checks %v; want status among them", s.set, res.Checks)
							}
							continue
						}
						if len(res.Errors) != 1 || res.Errors[0].Check != "status" || !strings.Contains(res.Errors[0].Detail, s.wantText) {
							t.Errorf("after %q: errors %+v; want one status error saying %q", s.set, res.Errors, s.wantText)
						}
					}
				})
			}
			t.Run("no credentialStatus", func(t *testing.T) {
				id := e.createIssuerWith(t, e.key, map[string]any{"did": e.newDID(t, e.key, "Ed25519"), "format": "ldp_vc",
					"types": []string{"ExampleDegreeCredential"}, "statusPurposes": []string{}})
				c := e.issueLDP(t, e.key, id)
				if _, ok := c["credentialStatus"]; ok {
					t.Fatalf("credentialStatus %v; want none", c["credentialStatus"])
				}
				code, res := e.verify(t, c)
				if code != http.StatusOK || contains(res.Checks, "status") {
					t.Errorf("got %d, checks %v; want 200 without a status check", code, res.Checks)
				}
			})
		})
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// jwtCredentialID reads the jti of an enveloped JWT-VC.
func jwtCredentialID(t *testing.T, env map[string]any) string {
	t.Helper()
	_, tok, _ := strings.Cut(env["id"].(string), ",")
	parts := strings.Split(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct{ Jti string }
	if err := json.Unmarshal(b, &claims); err != nil || claims.Jti == "" {
		t.Fatalf("JWT-VC has no jti: %s", b)
	}
	return claims.Jti
}

func TestIssuerStatusPurposes(t *testing.T) {
	e := newEnvs(t, api.Config{})[0]
	ed, p256 := e.newDID(t, e.key, "Ed25519"), e.newDID(t, e.key, "P-256")
	tests := []struct {
		name     string
		did      string
		format   string
		purposes any // nil leaves statusPurposes out
		want     int
		wantSet  []string
	}{
		{"ldp_vc default", ed, "ldp_vc", nil, http.StatusCreated, []string{"revocation"}},
		{"jwt Ed25519 default", ed, "jwt_vc_json", nil, http.StatusCreated, []string{"revocation"}},
		{"jwt P-256 default", p256, "jwt_vc_json", nil, http.StatusCreated, []string{}},
		{"sd-jwt default", ed, "dc+sd-jwt", nil, http.StatusCreated, []string{}},
		{"both", ed, "ldp_vc", []string{"suspension", "revocation"}, http.StatusCreated, []string{"suspension", "revocation"}},
		{"none", ed, "ldp_vc", []string{}, http.StatusCreated, []string{}},
		{"jwt P-256 asked", p256, "jwt_vc_json", []string{"revocation"}, http.StatusBadRequest, nil},
		{"sd-jwt suspension", ed, "dc+sd-jwt", []string{"suspension"}, http.StatusBadRequest, nil},
		{"sd-jwt revocation", ed, "dc+sd-jwt", []string{"revocation"}, http.StatusCreated, []string{"revocation"}},
		{"unknown purpose", ed, "ldp_vc", []string{"message"}, http.StatusBadRequest, nil},
		{"twice", ed, "ldp_vc", []string{"revocation", "revocation"}, http.StatusBadRequest, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := map[string]any{"did": tc.did, "format": tc.format, "types": []string{"ExampleDegreeCredential"}}
			if tc.purposes != nil {
				req["statusPurposes"] = tc.purposes
			}
			b, _ := json.Marshal(req)
			resp, got := e.do(t, http.MethodPost, "/issuers", e.key, string(b))
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d %s; want %d", resp.StatusCode, got, tc.want)
			}
			if tc.wantSet == nil {
				return
			}
			var out struct{ StatusPurposes []string }
			json.Unmarshal(got, &out)
			if strings.Join(out.StatusPurposes, ",") != strings.Join(tc.wantSet, ",") || out.StatusPurposes == nil {
				t.Errorf("statusPurposes: got %v; want %v", out.StatusPurposes, tc.wantSet)
			}
		})
	}
}
