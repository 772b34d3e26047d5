package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	urbis "github.com/urbis-id/urbis"
	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/agency"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/kms"
)

// env is a real server over a real, migrated database.
type env struct {
	name     string
	srv      *httptest.Server
	api      *api.Server
	db       *store.DB
	agencies *agency.Service
	key      string // API key of agency "Test Agency"
	otherKey string // API key of another agency
}

// newEnvs returns one env per test database: SQLite always, PostgreSQL
// when URBIS_TEST_POSTGRES_URL is set.
func newEnvs(t *testing.T, cfg api.Config) []*env {
	t.Helper()
	var out []*env
	for _, db := range storetest.Open(t) {
		out = append(out, newEnv(t, db.Dialect(), db, cfg))
	}
	return out
}

func newEnv(t *testing.T, name string, db *store.DB, cfg api.Config) *env {
	t.Helper()
	ctx := context.Background()
	master, err := kms.ParseMasterKey("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	if err != nil {
		t.Fatal(err)
	}
	keys := kms.NewCustodian(db, master, time.Now)
	agencies := agency.NewService(db, keys, time.Now)
	resolver := did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}, did.JWKMethod{})
	s, err := api.NewServer(cfg, api.Deps{
		Agencies: agencies, Resolver: resolver, Ready: db, Cache: resolver,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Spec: urbis.OpenAPI,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	_, key, err := agencies.Create(ctx, "Test Agency")
	if err != nil {
		t.Fatal(err)
	}
	_, other, err := agencies.Create(ctx, "Other Agency")
	if err != nil {
		t.Fatal(err)
	}
	return &env{name: name, srv: srv, api: s, db: db, agencies: agencies, key: key, otherKey: other}
}

// do sends a request and returns the response with its body read.
func (e *env) do(t *testing.T, method, path, key string, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}
