package api_test

import (
	"context"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcutil/base58"

	urbis "github.com/urbis-id/urbis"
	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

type resolution struct {
	Document           map[string]any `json:"didDocument"`
	ResolutionMetadata map[string]any `json:"didResolutionMetadata"`
	DocumentMetadata   map[string]any `json:"didDocumentMetadata"`
}

func TestResolveRepresentations(t *testing.T) {
	_, router := contract(t)
	e := newEnvs(t, api.Config{})[0]
	const id = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	tests := []struct {
		accept   string
		wantCT   string
		wantBare bool
	}{
		{"", "application/did-resolution", false},
		{"application/did-resolution", "application/did-resolution", false},
		{`application/ld+json;profile="https://w3id.org/did-resolution"`, "application/did-resolution", false},
		{"application/did+ld+json", "application/did+ld+json", true},
		{"application/did+json", "application/did+json", true},
		{"text/html, application/did+json;q=0.5, application/did+ld+json;q=0.9", "application/did+ld+json", true},
		{"*/*", "application/did-resolution", false},
		{"application/json", "application/json", false},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/1.0/identifiers/"+id, nil)
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			status, body := exchange(t, e, router, req, nil, true)
			if status != http.StatusOK {
				t.Fatalf("got %d %s; want 200", status, body)
			}
			var doc map[string]any
			if tt.wantBare {
				if err := json.Unmarshal(body, &doc); err != nil {
					t.Fatal(err)
				}
			} else {
				var r resolution
				if err := json.Unmarshal(body, &r); err != nil {
					t.Fatal(err)
				}
				if r.ResolutionMetadata["contentType"] != "application/did+ld+json" {
					t.Errorf("got contentType %v; want application/did+ld+json", r.ResolutionMetadata["contentType"])
				}
				doc = r.Document
			}
			if doc["id"] != id {
				t.Errorf("got document id %v; want %s", doc["id"], id)
			}
		})
	}
}

// TestResolveDIDKeyVectors resolves every Ed25519 and P-256 did:key vector
// published by the did:key specification through the HTTP endpoint, and
// compares the key bytes it answers with the vector's own.
func TestResolveDIDKeyVectors(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "vectors", "did-key")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("published vectors not here (%v); did/ carries its own copy", err)
	}
	e := newEnvs(t, api.Config{})[0]
	type key struct {
		PublicKeyBase58 string                     `json:"publicKeyBase58"`
		PublicKeyJwk    struct{ Crv, X, Y string } `json:"publicKeyJwk"`
	}
	type vector struct {
		VerificationKeyPair *key `json:"verificationKeyPair"`
		VerificationMethod  *key `json:"verificationMethod"`
	}
	checked := map[string]int{}
	for _, file := range []string{"ed25519-x25519.json", "nist-curves.json"} {
		raw, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		var vectors map[string]vector
		if err := json.Unmarshal(raw, &vectors); err != nil {
			t.Fatal(err)
		}
		for id, v := range vectors {
			k := v.VerificationKeyPair
			if k == nil {
				k = v.VerificationMethod
			}
			var wantX, wantY, crv string
			b64 := base64.RawURLEncoding.EncodeToString
			switch {
			case k == nil:
				t.Fatalf("vector %s has no key", id)
			case k.PublicKeyJwk.X != "":
				wantX, wantY = k.PublicKeyJwk.X, k.PublicKeyJwk.Y
			case strings.HasPrefix(id, "did:key:z6Mk"):
				wantX = b64(base58.Decode(k.PublicKeyBase58))
			case strings.HasPrefix(id, "did:key:zDn"):
				raw := base58.Decode(k.PublicKeyBase58)
				x, y := elliptic.UnmarshalCompressed(elliptic.P256(), raw)
				if x == nil {
					x, y = elliptic.Unmarshal(elliptic.P256(), raw) //nolint:staticcheck // vector bytes, not a key in use
				}
				if x == nil {
					t.Fatalf("vector %s: publicKeyBase58 is not a P-256 point", id)
				}
				wantX, wantY = b64(x.FillBytes(make([]byte, 32))), b64(y.FillBytes(make([]byte, 32)))
			}
			switch {
			case strings.HasPrefix(id, "did:key:z6Mk"):
				crv = "Ed25519"
			case strings.HasPrefix(id, "did:key:zDn"):
				crv = "P-256"
			default:
				continue // other curves: did/ checks them
			}
			t.Run(id, func(t *testing.T) {
				resp, body := e.do(t, http.MethodGet, "/1.0/identifiers/"+id+"?publicKeyFormat=JsonWebKey2020", "", "", "Accept", "application/did+json")
				if resp.StatusCode != 200 {
					t.Fatalf("got %d %s; want 200", resp.StatusCode, body)
				}
				var doc struct {
					VerificationMethod []struct {
						PublicKeyJwk struct{ Crv, X, Y string } `json:"publicKeyJwk"`
					} `json:"verificationMethod"`
				}
				if err := json.Unmarshal(body, &doc); err != nil || len(doc.VerificationMethod) == 0 {
					t.Fatalf("got document %s; want a verification method", body)
				}
				got := doc.VerificationMethod[0].PublicKeyJwk
				if got.Crv != crv || got.X != wantX || got.Y != wantY {
					t.Errorf("got JWK crv %s x %s y %s; want crv %s x %s y %s", got.Crv, got.X, got.Y, crv, wantX, wantY)
				}
				checked[crv]++
			})
		}
	}
	if checked["Ed25519"] == 0 || checked["P-256"] == 0 {
		t.Fatalf("checked %v; want every Ed25519 and P-256 vector", checked)
	}
}

// deactivatedMethod is a DID method whose every DID is deactivated, to
// check the 410 answer without a chain.
type deactivatedMethod struct{}

func (deactivatedMethod) Method() string { return "gone" }

func (deactivatedMethod) Resolve(_ context.Context, id did.DID, _ did.ResolveOptions) (*did.Resolution, error) {
	if id.ID == "missing" {
		return nil, errkind.New(errkind.NotFound, "%s is not on record", id).WithCode("NOT_FOUND")
	}
	return &did.Resolution{
		Document:         &did.Document{ID: id.String()},
		DocumentMetadata: did.DocumentMetadata{Deactivated: true, Updated: "2026-01-02T03:04:05Z"},
	}, nil
}

func TestResolveDeactivatedAndNotFound(t *testing.T) {
	resolver := did.NewResolver(did.ResolverConfig{}, deactivatedMethod{})
	s, err := api.NewServer(api.Config{}, api.Deps{Resolver: resolver, Spec: urbis.OpenAPI, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/1.0/identifiers/did:gone:abc")
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Status              int            `json:"status"`
		DidDocumentMetadata map[string]any `json:"didDocumentMetadata"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&p)
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone || p.DidDocumentMetadata["deactivated"] != true {
		t.Errorf("got %d with metadata %v; want 410 with deactivated: true", resp.StatusCode, p.DidDocumentMetadata)
	}

	resp, err = http.Get(srv.URL + "/1.0/identifiers/did:gone:missing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("got %d %s; want 404 application/problem+json", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// TestResolveDIDWebThroughServer resolves a did:web hosted on a loopback
// TLS server, and checks that the second resolution comes from the cache.
func TestResolveDIDWebThroughServer(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	mk, err := did.EncodeMultikey(pub)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	hits := 0
	host := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		fmt.Fprintf(w, `{"@context":["https://www.w3.org/ns/did/v1","https://w3id.org/security/multikey/v1"],"id":%q,
			"verificationMethod":[{"id":"%s#k1","type":"Multikey","controller":%q,"publicKeyMultibase":%q}]}`, id, id, id, mk)
	}))
	defer host.Close()
	id = "did:web:" + strings.ReplaceAll(strings.TrimPrefix(host.URL, "https://"), ":", "%3A")

	pool := host.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	resolver := did.NewResolver(did.ResolverConfig{TTL: map[string]time.Duration{did.MethodWeb: time.Minute}},
		did.NewWebMethod(did.WebOptions{AllowPrivate: true, RootCAs: pool}))
	s, err := api.NewServer(api.Config{}, api.Deps{Resolver: resolver, Cache: resolver, Spec: urbis.OpenAPI})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	for i := range 2 {
		resp, err := http.Get(srv.URL + "/1.0/identifiers/" + id)
		if err != nil {
			t.Fatal(err)
		}
		var r resolution
		_ = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if resp.StatusCode != 200 || r.Document["id"] != id {
			t.Fatalf("request %d: got %d id %v; want 200 id %s", i, resp.StatusCode, r.Document["id"], id)
		}
	}
	if hits != 1 {
		t.Errorf("got %d fetches of did.json; want 1 (the second answer from the cache)", hits)
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(m), "urbis_resolver_cache_hits_total 1") {
		t.Errorf("got metrics without urbis_resolver_cache_hits_total 1:\n%s", grepLines(string(m), "urbis_resolver"))
	}
	if !strings.Contains(string(m), `urbis_http_requests_total{code="200",method="GET",route="/1.0/identifiers/:did"} 2`) {
		t.Errorf("got metrics without the two resolutions counted:\n%s", grepLines(string(m), "urbis_http_requests_total"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
