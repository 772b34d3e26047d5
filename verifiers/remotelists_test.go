package verifiers_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/vc/jwtvc"
	"github.com/urbis-id/urbis/vc/statuslist"
	"github.com/urbis-id/urbis/verifiers"
)

// listServer serves status list credentials over HTTPS on loopback.
type listServer struct {
	srv  *httptest.Server
	pool *x509.CertPool
	hits atomic.Int64

	mu     sync.Mutex
	bodies map[string][]byte // by path
	cc     string            // Cache-Control of every answer
}

func newListServer(t *testing.T) *listServer {
	t.Helper()
	s := &listServer{bodies: map[string][]byte{}}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		body, ok := s.bodies[r.URL.Path]
		cc := s.cc
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		if cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		w.Write(body)
	}))
	t.Cleanup(s.srv.Close)
	s.pool = x509.NewCertPool()
	s.pool.AddCert(s.srv.Certificate())
	return s
}

func (s *listServer) publish(path string, body []byte, cc string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bodies[path], s.cc = body, cc
}

func TestRemoteStatusLists(t *testing.T) {
	s := newListServer(t)
	iss, other := newSigner(t), newSigner(t)
	now := t0.Add(time.Hour)
	clock := func() time.Time { return now }
	listAt := func(path string) string { return s.srv.URL + path }
	// signedList is the Data Integrity list at path with bit 7 as set,
	// signed by `by` and naming issuer.
	signedList := func(path string, by signer, issuer string, set bool) []byte {
		bits, _ := statuslist.NewBitstring(statuslist.MinSize)
		bits.Set(7, set)
		l, err := statuslist.ListCredential(listAt(path), issuer, "revocation", bits, t0)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(by.sign(t, l))
		return b
	}
	// jwtList is the list at path as a JWT-VC (VC 1.1) signed by by.
	jwtList := func(path string, by signer, set bool) []byte {
		bits, _ := statuslist.NewBitstring(statuslist.MinSize)
		bits.Set(7, set)
		l, err := statuslist.ListCredential(listAt(path), by.did, "revocation", bits, t0)
		if err != nil {
			t.Fatal(err)
		}
		l["@context"] = []any{"https://www.w3.org/2018/credentials/v1"}
		delete(l, "validFrom")
		l["issuanceDate"] = t0.Format(time.RFC3339)
		tok, err := jwtvc.Sign(l, by.priv, by.vm)
		if err != nil {
			t.Fatal(err)
		}
		return []byte(tok)
	}
	cred := func(path string) map[string]any {
		return iss.sign(t, map[string]any{
			"@context":          []any{"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/undefined-terms/v2"},
			"type":              []any{"VerifiableCredential", "ExampleCredential"},
			"issuer":            iss.did,
			"validFrom":         t0.Format(time.RFC3339),
			"credentialSubject": map[string]any{"id": "did:example:alice"},
			"credentialStatus":  statuslist.Entry(listAt(path), 7, "revocation"),
		})
	}
	resolver := did.NewResolver(did.ResolverConfig{}, did.KeyMethod{})
	newVerifier := func(t *testing.T, opts did.FetchOptions, cfg verifiers.RemoteListsConfig) *verifiers.Verifier {
		t.Helper()
		opts.RootCAs = s.pool
		cfg.Fetcher, cfg.Clock = did.NewFetcher(opts), clock
		lists, err := verifiers.NewRemoteLists(cfg)
		if err != nil {
			t.Fatal(err)
		}
		v := verifiers.NewVerifier(resolver, verifiers.NewTrust(fakeChain{}, fakeChain{}), clock)
		v.UseStatusLists(lists)
		return v
	}
	check := func(t *testing.T, v *verifiers.Verifier, c map[string]any, want string) {
		t.Helper()
		res, err := v.VerifyCredential(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if want == "" {
			if !res.Verified || !contains(res.Checks, verifiers.CheckStatus) {
				t.Errorf("got verified %v, errors %+v; want verified with a status check", res.Verified, res.Errors)
			}
			return
		}
		if res.Verified || len(res.Errors) != 1 || res.Errors[0].Check != verifiers.CheckStatus || !strings.Contains(res.Errors[0].Message, want) {
			t.Errorf("got verified %v, errors %+v; want one status error containing %q", res.Verified, res.Errors, want)
		}
	}
	loopback := did.FetchOptions{AllowPrivate: true}

	t.Run("checks", func(t *testing.T) {
		s.publish("/clear", signedList("/clear", iss, iss.did, false), "")
		s.publish("/revoked", signedList("/revoked", iss, iss.did, true), "")
		s.publish("/other", signedList("/other", other, other.did, false), "")
		s.publish("/jwt-clear", jwtList("/jwt-clear", iss, false), "")
		s.publish("/jwt-revoked", jwtList("/jwt-revoked", iss, true), "")
		s.publish("/jwt-other", jwtList("/jwt-other", other, false), "")
		s.publish("/garbage", []byte("<html>hello</html>"), "")
		s.publish("/big", []byte(`{"pad":"`+strings.Repeat("x", 5000)+`"}`), "")
		tampered := signedList("/tampered", iss, iss.did, false)
		tampered = []byte(strings.Replace(string(tampered), `"revocation"`, `"suspension"`, 1))
		s.publish("/tampered", tampered, "")
		v := newVerifier(t, did.FetchOptions{AllowPrivate: true, MaxBytes: 4096}, verifiers.RemoteListsConfig{})
		tests := []struct{ path, want string }{
			{"/clear", ""},
			{"/revoked", "revoked: index 7"},
			{"/other", "not by the credential's issuer"},
			{"/tampered", "STATUS_VERIFICATION_ERROR"},
			{"/jwt-clear", ""},
			{"/jwt-revoked", "revoked: index 7"},
			{"/jwt-other", "not by the credential's issuer"},
			{"/missing", "404"},
			{"/garbage", "neither a JSON status list credential nor a JWT-VC"},
			{"/big", "larger than the limit of 4096 bytes"},
		}
		for _, tt := range tests {
			t.Run(tt.path, func(t *testing.T) {
				c := cred(tt.path)
				if tt.want == "STATUS_VERIFICATION_ERROR" {
					res, _ := v.VerifyCredential(context.Background(), c)
					if res.Verified || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "status list") {
						t.Errorf("got %+v; want the status check failing on the tampered list", res.Errors)
					}
					return
				}
				check(t, v, c, tt.want)
			})
		}
	})

	t.Run("loopback refused by default", func(t *testing.T) {
		s.publish("/clear", signedList("/clear", iss, iss.did, false), "")
		before := s.hits.Load()
		check(t, newVerifier(t, did.FetchOptions{}, verifiers.RemoteListsConfig{}), cred("/clear"), "is loopback")
		if s.hits.Load() != before {
			t.Errorf("the server was reached; want the dial refused")
		}
	})

	t.Run("local lists are not fetched", func(t *testing.T) {
		local := signedList("/local", iss, iss.did, true)
		var m map[string]any
		json.Unmarshal(local, &m)
		before := s.hits.Load()
		v := newVerifier(t, loopback, verifiers.RemoteListsConfig{LocalPrefix: s.srv.URL + "/local",
			Local: fetchFunc(func(string) (map[string]any, error) { return m, nil })})
		check(t, v, cred("/local"), "revoked")
		if s.hits.Load() != before {
			t.Errorf("the server was reached for a local list; want the local fetcher only")
		}
	})

	t.Run("cache", func(t *testing.T) {
		tests := []struct {
			name   string
			cc     string
			cfg    verifiers.RemoteListsConfig
			after  time.Duration // a second verification this much later
			fetch2 bool          // whether it fetches again
		}{
			{"default TTL, within", "", verifiers.RemoteListsConfig{TTL: time.Minute}, 30 * time.Second, false},
			{"default TTL, past", "", verifiers.RemoteListsConfig{TTL: time.Minute}, 61 * time.Second, true},
			{"max-age, within", "public, max-age=600", verifiers.RemoteListsConfig{TTL: time.Minute}, 5 * time.Minute, false},
			{"max-age, past", "public, max-age=600", verifiers.RemoteListsConfig{TTL: time.Minute}, 11 * time.Minute, true},
			{"max-age capped", "max-age=86400", verifiers.RemoteListsConfig{MaxTTL: time.Hour}, 61 * time.Minute, true},
			{"no-store", "no-store", verifiers.RemoteListsConfig{}, 0, true},
			{"max-age=0", "max-age=0", verifiers.RemoteListsConfig{}, 0, true},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				path := "/cache" + string(rune('a'+i))
				s.publish(path, signedList(path, iss, iss.did, false), tt.cc)
				now = t0.Add(time.Hour)
				v := newVerifier(t, loopback, tt.cfg)
				before := s.hits.Load()
				check(t, v, cred(path), "")
				now = now.Add(tt.after)
				check(t, v, cred(path), "")
				if got, want := s.hits.Load()-before, int64(1); tt.fetch2 {
					want = 2
					if got != want {
						t.Errorf("got %d fetches; want %d", got, want)
					}
				} else if got != want {
					t.Errorf("got %d fetches; want %d (the second from the cache)", got, want)
				}
			})
		}
		now = t0.Add(time.Hour)
	})

	t.Run("cache bounded", func(t *testing.T) {
		v := newVerifier(t, loopback, verifiers.RemoteListsConfig{MaxEntries: 2})
		for _, p := range []string{"/b1", "/b2", "/b3"} {
			s.publish(p, signedList(p, iss, iss.did, false), "")
			check(t, v, cred(p), "")
		}
		before := s.hits.Load()
		check(t, v, cred("/b3"), "") // kept
		check(t, v, cred("/b1"), "") // evicted: the least recently used
		if got := s.hits.Load() - before; got != 1 {
			t.Errorf("got %d fetches; want 1 (only the evicted list)", got)
		}
	})
}
