package api_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/vc/statuslist"
)

// sdJWTPayload returns the issuer-signed JWT's claims of an SD-JWT VC.
func sdJWTPayload(t *testing.T, tok string) map[string]any {
	t.Helper()
	jwt, _, _ := strings.Cut(tok, "~")
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not an SD-JWT: %s", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// statusToken fetches the Status List Token at path and returns the
// status of entry idx and the ETag.
func (e *env) statusToken(t *testing.T, path string, idx int) (uint8, string) {
	t.Helper()
	resp, b := e.do(t, http.MethodGet, path, "", "", "Accept", statuslist.TokenMediaType)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s as a token: got %d %s; want 200", path, resp.StatusCode, b)
	}
	if got := resp.Header.Get("Content-Type"); got != statuslist.TokenMediaType {
		t.Errorf("Content-Type: got %q; want %s", got, statuslist.TokenMediaType)
	}
	parts := strings.Split(string(b), ".")
	if len(parts) != 3 {
		t.Fatalf("token: got %s; want a compact JWT", b)
	}
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var h struct{ Typ, Kid string }
	json.Unmarshal(hb, &h)
	if h.Typ != statuslist.TokenType || !strings.HasPrefix(h.Kid, "did:") {
		t.Errorf("token header: got %s; want typ %s and a DID URL kid", hb, statuslist.TokenType)
	}
	pb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		Sub        string
		StatusList struct {
			Bits int
			Lst  string
		} `json:"status_list"`
	}
	if err := json.Unmarshal(pb, &c); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(c.Sub, path) {
		t.Errorf("sub: got %q; want the list URL ending in %s", c.Sub, path)
	}
	v, err := statuslist.TokenStatus(c.StatusList.Lst, c.StatusList.Bits, idx)
	if err != nil {
		t.Fatalf("TokenStatus: %v", err)
	}
	return v, resp.Header.Get("ETag")
}

func TestSDJWTTokenStatus(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			id := e.createIssuerWith(t, e.key, map[string]any{"did": e.newDID(t, e.key, "Ed25519"), "format": "dc+sd-jwt",
				"types": []string{"ExampleDegreeCredential"}, "statusPurposes": []string{"revocation"}})
			env := issued(t, e.issue(t, e.key, id, credentialFor("dc+sd-jwt", "", "ExampleDegreeCredential", map[string]any{"name": "Alice Example"}), http.StatusCreated))
			_, tok, _ := strings.Cut(env["id"].(string), ",")
			claims := sdJWTPayload(t, tok)
			ref, _ := claims["status"].(map[string]any)["status_list"].(map[string]any)
			uri, _ := ref["uri"].(string)
			idx, ok := ref["idx"].(float64)
			if !strings.Contains(uri, "/status/sl_") || !ok {
				t.Fatalf("status claim: got %v; want status_list with idx and uri", claims["status"])
			}
			jti, _ := claims["jti"].(string)
			if !strings.HasPrefix(jti, "urn:uuid:") {
				t.Fatalf("jti: got %q; want a urn:uuid the agency names the credential by", jti)
			}
			path := uri[strings.Index(uri, "/status/"):]
			// The status claim is always disclosed.
			e.issue(t, e.key, id, credentialFor("dc+sd-jwt", "", "ExampleDegreeCredential", map[string]any{"name": "Alice Example"}),
				http.StatusBadRequest, map[string]any{"disclosable": []string{"/status"}})

			if v, etag := e.statusToken(t, path, int(idx)); v != 0 || etag != `"0-jwt"` {
				t.Errorf("new credential: status %d, ETag %s; want 0, \"0-jwt\"", v, etag)
			}
			if code, res := e.verify(t, tok); code != http.StatusOK || !res.Verified || !slices.Contains(res.Checks, "status") {
				t.Errorf("verify before revocation: got %d %+v; want verified with the status check", code, res)
			}
			// The JSON form of the same list is still served by default.
			if resp, _ := e.do(t, http.MethodGet, path, "", ""); resp.Header.Get("Content-Type") != "application/vc+ld+json" {
				t.Errorf("default Content-Type: got %q; want application/vc+ld+json", resp.Header.Get("Content-Type"))
			}

			if code, b := e.setStatus(t, e.key, jti, "suspended"); code != http.StatusBadRequest {
				t.Errorf("suspend: got %d %s; want 400 (no suspension for dc+sd-jwt)", code, b)
			}
			if code, b := e.setStatus(t, e.otherKey, jti, "revoked"); code != http.StatusNotFound {
				t.Errorf("revoke by another agency: got %d %s; want 404", code, b)
			}
			if code, b := e.setStatus(t, e.key, jti, "revoked"); code != http.StatusOK {
				t.Fatalf("revoke: got %d %s; want 200", code, b)
			}
			if v, etag := e.statusToken(t, path, int(idx)); v != 1 || etag != `"1-jwt"` {
				t.Errorf("revoked: status %d, ETag %s; want 1, \"1-jwt\"", v, etag)
			}
			if resp, _ := e.do(t, http.MethodGet, path, "", "", "Accept", statuslist.TokenMediaType, "If-None-Match", `"1-jwt"`); resp.StatusCode != http.StatusNotModified {
				t.Errorf("If-None-Match current token: got %d; want 304", resp.StatusCode)
			}
			code, res := e.verify(t, tok)
			if code != http.StatusUnprocessableEntity || res.Verified {
				t.Fatalf("verify after revocation: got %d %+v; want 422, not verified", code, res)
			}
			want := "revoked: index " + strconv.Itoa(int(idx)) + " of status list " + uri + " is set"
			if !slices.ContainsFunc(res.Errors, func(f struct{ Check, Detail, Field string }) bool {
				return f.Check == "status" && strings.Contains(f.Detail, want)
			}) {
				t.Errorf("verify after revocation: got errors %+v; want status %q", res.Errors, want)
			}
		})
	}
}
