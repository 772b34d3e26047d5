package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/api"
)

type problem struct {
	Type                  string         `json:"type"`
	Title                 string         `json:"title"`
	Status                int            `json:"status"`
	Detail                string         `json:"detail"`
	Field                 string         `json:"field"`
	DidResolutionMetadata map[string]any `json:"didResolutionMetadata"`
}

// TestBadInputGetsProblem sends malformed input of every kind and checks
// that each gets a 4xx application/problem+json answer that names what is
// wrong, and that the answer matches openapi.yaml.
func TestBadInputGetsProblem(t *testing.T) {
	_, router := contract(t)
	const vector = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	for _, e := range newEnvs(t, api.Config{MaxBodyBytes: 4096}) {
		t.Run(e.name, func(t *testing.T) {
			_, b := e.do(t, http.MethodPost, "/dids", e.otherKey, `{"method":"key","keyType":"P-256"}`)
			var others struct{ Did string }
			_ = json.Unmarshal(b, &others)
			if others.Did == "" {
				t.Fatalf("create DID of the other agency: %s", b)
			}
			tests := []struct {
				name        string
				method      string
				path        string
				key         string
				body        string
				header      []string
				wantStatus  int
				wantType    string // suffix of the problem type
				wantField   string
				wantInDetai string
			}{
				{"malformed JSON", "POST", "/dids", e.key, `{"method":`, nil, 400, "invalid", "", "malformed JSON"},
				{"JSON syntax error", "POST", "/dids", e.key, `{"method" "key"}`, nil, 400, "invalid", "", "byte"},
				{"wrong type", "POST", "/dids", e.key, `{"method":1,"keyType":"Ed25519"}`, nil, 400, "invalid", "/method", "must be a string"},
				{"unknown field", "POST", "/dids", e.key, `{"method":"key","keyType":"Ed25519","seed":"x"}`, nil, 400, "invalid", "/seed", "unknown field"},
				{"unknown method", "POST", "/dids", e.key, `{"method":"web","keyType":"Ed25519"}`, nil, 400, "invalid", "/method", "web"},
				{"unknown key type", "POST", "/dids", e.key, `{"method":"key","keyType":"RSA"}`, nil, 400, "invalid", "/keyType", "RSA"},
				{"missing fields", "POST", "/dids", e.key, `{}`, nil, 400, "invalid", "/method", ""},
				{"array instead of object", "POST", "/dids", e.key, `[]`, nil, 400, "invalid", "", "must be an object"},
				{"trailing data", "POST", "/dids", e.key, `{"method":"key","keyType":"Ed25519"} {}`, nil, 400, "invalid", "", "more than one"},
				{"empty body", "POST", "/dids", e.key, ` `, nil, 400, "invalid", "", "empty"},
				{"not JSON media type", "POST", "/dids", e.key, `method=key`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "bad-media-type", "", "application/json"},
				{"oversize body", "POST", "/dids", e.key, `{"method":"key","keyType":"Ed25519","x":"` + strings.Repeat("a", 5000) + `"}`, nil, 413, "too-large", "", "limit"},
				{"no API key", "GET", "/dids", "", "", nil, 401, "unauthorized", "", "Authorization"},
				{"wrong API key", "GET", "/dids", "urbis_wrong", "", nil, 401, "unauthorized", "", ""},
				{"not a bearer token", "GET", "/agency", "", "", []string{"Authorization", "Basic dXNlcjpwYXNz"}, 401, "unauthorized", "", "Bearer"},
				{"another agency's DID", "GET", "/dids/" + others.Did, e.key, "", nil, 404, "not-found", "", ""},
				{"rotate another agency's DID", "POST", "/dids/" + others.Did + "/rotate", e.key, "", nil, 404, "not-found", "", ""},
				{"uppercase method name", "GET", "/1.0/identifiers/did:Key:abc", "", "", nil, 400, "INVALID_DID", "", ""},
				{"not a DID", "GET", "/1.0/identifiers/urn:uuid:1234", "", "", nil, 400, "INVALID_DID", "", ""},
				{"empty method-specific id", "GET", "/1.0/identifiers/did:key:", "", "", nil, 400, "INVALID_DID", "", ""},
				{"percent sign without hex", "GET", "/1.0/identifiers/did:key:z6Mk%25zz", "", "", nil, 400, "INVALID_DID", "", ""},
				{"did:key not base58", "GET", "/1.0/identifiers/did:key:z0OIl", "", "", nil, 400, "INVALID_DID", "", ""},
				{"did:key truncated", "GET", "/1.0/identifiers/" + vector[:len(vector)-5], "", "", nil, 400, "INVALID_DID", "", ""},
				{"did:jwk not base64url", "GET", "/1.0/identifiers/did:jwk:!!!", "", "", nil, 400, "INVALID_DID", "", ""},
				{"unsupported method", "GET", "/1.0/identifiers/did:example:123", "", "", nil, 501, "METHOD_NOT_SUPPORTED", "", "example"},
				{"unsupported media type", "GET", "/1.0/identifiers/" + vector, "", "", []string{"Accept", "text/html"}, 406, "REPRESENTATION_NOT_SUPPORTED", "", "text/html"},
				{"malformed Accept", "GET", "/1.0/identifiers/" + vector, "", "", []string{"Accept", "a/b;;q=x"}, 406, "REPRESENTATION_NOT_SUPPORTED", "", ""},
				{"every type refused", "GET", "/1.0/identifiers/" + vector, "", "", []string{"Accept", "application/did+json;q=0"}, 406, "REPRESENTATION_NOT_SUPPORTED", "", ""},
				{"bad publicKeyFormat", "GET", "/1.0/identifiers/" + vector + "?publicKeyFormat=Bogus", "", "", nil, 400, "", "", "Bogus"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					req, err := http.NewRequest(tt.method, e.srv.URL, nil)
					if err != nil {
						t.Fatal(err)
					}
					// Opaque sends the path as written, bad escapes included.
					req.URL.Opaque = "//" + req.URL.Host + tt.path
					if tt.body != "" {
						req.Header.Set("Content-Type", "application/json")
					}
					if tt.key != "" {
						req.Header.Set("Authorization", "Bearer "+tt.key)
					}
					for i := 0; i+1 < len(tt.header); i += 2 {
						req.Header.Set(tt.header[i], tt.header[i+1])
					}
					status, body := exchange(t, e, router, req, []byte(tt.body), false)
					var p problem
					if err := json.Unmarshal(body, &p); err != nil {
						t.Fatalf("body is not JSON: %v: %s", err, body)
					}
					if status != tt.wantStatus || p.Status != tt.wantStatus {
						t.Errorf("got status %d (body %d); want %d\nbody: %s", status, p.Status, tt.wantStatus, body)
					}
					if !strings.HasSuffix(p.Type, tt.wantType) || p.Title == "" || p.Detail == "" {
						t.Errorf("got type %q title %q detail %q; want type ending %q with a title and a detail", p.Type, p.Title, p.Detail, tt.wantType)
					}
					if tt.wantField != "" && p.Field != tt.wantField {
						t.Errorf("got field %q; want %q (detail %q)", p.Field, tt.wantField, p.Detail)
					}
					if !strings.Contains(p.Detail, tt.wantInDetai) {
						t.Errorf("got detail %q; want it to mention %q", p.Detail, tt.wantInDetai)
					}
					if strings.HasPrefix(tt.path, "/1.0/") && tt.wantType != "" {
						// The metadata carries the precise code: the type's, or a case of it.
						if code, _ := p.DidResolutionMetadata["error"].(string); code == "" || (code != tt.wantType && !strings.HasSuffix(p.Type, tt.wantType)) {
							t.Errorf("got didResolutionMetadata %v; want an error code for %q", p.DidResolutionMetadata, tt.wantType)
						}
					}
				})
			}
		})
	}
}

// TestUnknownRoutesAndMethods checks the answers outside the contract.
func TestUnknownRoutesAndMethods(t *testing.T) {
	e := newEnvs(t, api.Config{})[0]
	tests := []struct {
		method, path string
		want         int
	}{
		{"GET", "/nowhere", 404},
		{"DELETE", "/dids", 405},
		{"PUT", "/1.0/identifiers/did:key:z6Mk", 405},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			resp, body := e.do(t, tt.method, tt.path, e.key, "")
			if resp.StatusCode != tt.want || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("got %d %q; want %d application/problem+json\nbody: %s", resp.StatusCode, resp.Header.Get("Content-Type"), tt.want, body)
			}
		})
	}
}
