package api_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	urbis "github.com/urbis-id/urbis"
	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/did"
)

// FuzzResolveEndpoint sends arbitrary DIDs and Accept headers to the
// resolution endpoint: every answer must be 200, or a 4xx/501
// application/problem+json, never a 500 or a panic. did:web is left out so
// the fuzzer never reaches the network.
func FuzzResolveEndpoint(f *testing.F) {
	resolver := did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}, did.JWKMethod{})
	s, err := api.NewServer(api.Config{}, api.Deps{Resolver: resolver, Spec: urbis.OpenAPI, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	h := s.Handler()
	for _, seed := range []struct{ id, accept string }{
		{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", ""},
		{"did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169", "application/did+json"},
		{"did:jwk:eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIiwieCI6ImFjYklRaXVNczNpOF91c3pFakoydHBUdFJNNEVVM3l6OTFQSDZDZEgyVjAiLCJ5IjoiX0tjeUxqOXZXTXB0bm1LdG00NkdxRHo4d2Y3NEk1TEtncmwyR3pIM25TRSJ9", "application/did-resolution"},
		{"did:Key:abc", "*/*"},
		{"did%3Akey%3Az6Mk", "text/html;q=0"},
		{"did:web:example.com%3A", "a/b;;"},
		{"did:key:z", "application/did+ld+json;q=2"},
	} {
		f.Add(seed.id, seed.accept)
	}
	f.Fuzz(func(t *testing.T, id, accept string) {
		if strings.ContainsAny(id, "/?#") || strings.Contains(strings.ToLower(id), "web") {
			return // not one path segment, or a did:web that would reach the network
		}
		req := httptest.NewRequest(http.MethodGet, "/1.0/identifiers/x", nil)
		req.URL.Path = "/1.0/identifiers/" + id
		req.URL.RawPath = ""
		req.RequestURI = ""
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		if strings.ContainsAny(accept, "\r\n") {
			return
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		code := w.Code
		switch {
		case code == 200:
		case code == 404 && !strings.HasPrefix(req.URL.EscapedPath(), "/1.0/identifiers/"):
		case code >= 400 && code < 500 || code == 501:
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("GET %q Accept %q: got %d with %q; want application/problem+json", id, accept, code, ct)
			}
		default:
			t.Errorf("GET %q Accept %q: got %d %s; want 200 or a 4xx/501 problem", id, accept, code, w.Body.String())
		}
	})
}
