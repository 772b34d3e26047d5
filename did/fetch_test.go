package did

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
)

func TestFetcher(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Header().Set("Cache-Control", "max-age=60")
			w.Write([]byte("hello"))
		case "/big":
			w.Write([]byte(strings.Repeat("x", 100)))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	ctx := context.Background()
	open := NewFetcher(FetchOptions{AllowPrivate: true, RootCAs: pool, MaxBytes: 50})

	got, err := open.Get(ctx, srv.URL+"/ok", "text/plain")
	if err != nil || got.Status != 200 || string(got.Body) != "hello" || got.Header.Get("Cache-Control") != "max-age=60" {
		t.Errorf("Get /ok: got %+v, %v; want 200 hello with its headers", got, err)
	}
	if got, err := open.Get(ctx, srv.URL+"/missing", "text/plain"); err != nil || got.Status != 404 || got.Body != nil {
		t.Errorf("Get /missing: got %+v, %v; want status 404, no body, no error", got, err)
	}
	errs := []struct {
		name string
		f    *Fetcher
		url  string
		kind errkind.Kind
		want string
	}{
		{"too large", open, srv.URL + "/big", errkind.TooLarge, "larger than the limit of 50 bytes"},
		{"plain http", open, "http://example.com/list", errkind.Invalid, "not an https URL"},
		{"loopback", NewFetcher(FetchOptions{RootCAs: pool}), srv.URL + "/ok", errkind.Forbidden, "is loopback (private addresses are not allowed)"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.f.Get(ctx, tt.url, "text/plain")
			if errkind.KindOf(err) != tt.kind || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want a %s error saying %q", err, tt.kind, tt.want)
			}
		})
	}
}
