package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	urbis "github.com/urbis-id/urbis"
	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/internal/store/storetest"
)

func TestOperationsEndpoints(t *testing.T) {
	e := newEnvs(t, api.Config{})[0]
	tests := []struct {
		path, wantCT, wantIn string
	}{
		{"/healthz", "application/json", `"status":"ok"`},
		{"/readyz", "application/json", `"migrations":"ok"`},
		{"/metrics", "text/plain", "go_goroutines"},
		{"/openapi.yaml", "application/yaml", "openapi: 3"},
		{"/docs", "text/html", "/1.0/identifiers/{did}"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := e.do(t, http.MethodGet, tt.path, "", "")
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.wantCT) || !strings.Contains(string(body), tt.wantIn) {
				t.Errorf("got %d %q; want 200 %s containing %q", resp.StatusCode, resp.Header.Get("Content-Type"), tt.wantCT, tt.wantIn)
			}
		})
	}
	if _, body := e.do(t, http.MethodGet, "/openapi.yaml", "", ""); string(body) != string(urbis.OpenAPI) {
		t.Errorf("served openapi.yaml differs from the embedded document")
	}
}

func TestReadyzFailsWhenDatabaseIsClosed(t *testing.T) {
	e := newEnvs(t, api.Config{})[0]
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	resp, body := e.do(t, http.MethodGet, "/readyz", "", "")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("got %d %q %s; want 503 application/problem+json", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

func TestRequestID(t *testing.T) {
	e := newEnvs(t, api.Config{})[0]
	resp, _ := e.do(t, http.MethodGet, "/healthz", "", "", "X-Request-Id", "abc-123")
	if got := resp.Header.Get("X-Request-Id"); got != "abc-123" {
		t.Errorf("got X-Request-Id %q; want the client's abc-123", got)
	}
	resp, _ = e.do(t, http.MethodGet, "/healthz", "", "", "X-Request-Id", strings.Repeat("x", 100))
	if got := resp.Header.Get("X-Request-Id"); len(got) != 16 {
		t.Errorf("got X-Request-Id %q for an oversized one; want a fresh 16-hex id", got)
	}
}

func TestRateLimitPublicEndpoints(t *testing.T) {
	e := newEnvs(t, api.Config{RateLimit: 1, RateBurst: 3})[0]
	const path = "/1.0/identifiers/did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	codes := map[int]int{}
	for range 6 {
		resp, body := e.do(t, http.MethodGet, path, "", "")
		codes[resp.StatusCode]++
		if resp.StatusCode == http.StatusTooManyRequests {
			if resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "rate limit") {
				t.Errorf("got 429 without Retry-After or explanation: %s", body)
			}
		}
	}
	if codes[200] != 3 || codes[429] != 3 {
		t.Errorf("got status counts %v; want 3×200 then 3×429 (burst 3)", codes)
	}
	// Probes and agency endpoints are not limited per client address.
	for range 5 {
		if resp, _ := e.do(t, http.MethodGet, "/healthz", "", ""); resp.StatusCode != 200 {
			t.Fatalf("healthz got %d; want 200 (not rate limited)", resp.StatusCode)
		}
		if resp, _ := e.do(t, http.MethodGet, "/dids", e.key, ""); resp.StatusCode != 200 {
			t.Fatalf("GET /dids got %d; want 200 (authenticated, not limited per address)", resp.StatusCode)
		}
	}
}

// syncFlag is a registry engine's catching-up report that the test sets.
type syncFlag struct{ behind atomic.Bool }

func (f *syncFlag) CatchingUp() bool { return f.behind.Load() }

func TestReadyzWaitsForValidatorToCatchUp(t *testing.T) {
	db := storetest.Open(t)[0]
	flag := &syncFlag{}
	flag.behind.Store(true)
	s, err := api.NewServer(api.Config{}, api.Deps{Ready: db, Sync: flag, Spec: urbis.OpenAPI})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	get := func() (int, string) {
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(); code != http.StatusServiceUnavailable || !strings.Contains(body, "catching up") {
		t.Errorf("while catching up: got %d %s; want 503 naming the catch-up", code, body)
	}
	flag.behind.Store(false)
	if code, body := get(); code != http.StatusOK || !strings.Contains(body, `"consensus":"ok"`) {
		t.Errorf("caught up: got %d %s; want 200 with consensus ok", code, body)
	}
}
