package did

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// webServer is a TLS test server that publishes did:web documents.
type webServer struct {
	srv   *httptest.Server
	host  string // the DID form of host:port, e.g. 127.0.0.1%3A4431
	pool  *x509.CertPool
	hits  atomic.Int64
	mu    sync.Mutex
	docs  map[string]string // path -> body
	codes map[string]int    // path -> status
}

func newWebServer(t *testing.T) *webServer {
	t.Helper()
	w := &webServer{docs: map[string]string{}, codes: map[string]int{}}
	w.srv = httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.hits.Add(1)
		w.mu.Lock()
		body, ok := w.docs[r.URL.Path]
		code := w.codes[r.URL.Path]
		w.mu.Unlock()
		switch {
		case r.URL.Path == "/slow/did.json":
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
			return
		case r.URL.Path == "/chunked/did.json":
			rw.Header().Set("Content-Type", ContentTypeDIDJSON)
			for i := 0; i < 100; i++ {
				fmt.Fprint(rw, strings.Repeat(" ", 100))
				rw.(http.Flusher).Flush()
			}
			return
		case code != 0:
			http.Error(rw, http.StatusText(code), code)
			return
		case !ok:
			http.NotFound(rw, r)
			return
		}
		rw.Header().Set("Content-Type", ContentTypeDIDJSON)
		fmt.Fprint(rw, body)
	}))
	t.Cleanup(w.srv.Close)
	w.host = strings.Replace(strings.TrimPrefix(w.srv.URL, "https://"), ":", "%3A", 1)
	w.pool = x509.NewCertPool()
	w.pool.AddCert(w.srv.Certificate())
	return w
}

// did returns the did:web DID of the given path segments on the server.
func (w *webServer) did(path ...string) string {
	return strings.Join(append([]string{"did:web:" + w.host}, path...), ":")
}

// publish serves a document with the given id (and a key) at path.
func (w *webServer) publish(path, id string) {
	doc := fmt.Sprintf(`{"@context":["%s"],"id":%q,"verificationMethod":[{"id":"%s#k1","type":"Multikey","controller":%q,"publicKeyMultibase":"z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}],"assertionMethod":["#k1"]}`, ContextDIDv1, id, id, id)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.docs[path] = doc
}

func TestWebResolve(t *testing.T) {
	s := newWebServer(t)
	s.publish("/.well-known/did.json", s.did())
	s.publish("/user/alice/did.json", s.did("user", "alice"))
	s.publish("/wrong/did.json", "did:web:evil.example")
	s.mu.Lock()
	s.docs["/big/did.json"] = `{"id":"` + strings.Repeat("x", 5000) + `"}`
	s.docs["/junk/did.json"] = `<html>`
	s.codes["/gone/did.json"] = http.StatusGone
	s.codes["/broken/did.json"] = http.StatusInternalServerError
	s.mu.Unlock()

	web := NewWebMethod(WebOptions{AllowPrivate: true, RootCAs: s.pool, MaxBytes: 4096, Timeout: 500 * time.Millisecond})
	tests := []struct {
		name     string
		did      string
		opts     ResolveOptions
		kind     errkind.Kind // "" for success
		code     string
		contains string
	}{
		{name: "well-known", did: s.did()},
		{name: "path", did: s.did("user", "alice")},
		{name: "versionTime is answered with the current document", did: s.did(), opts: ResolveOptions{VersionTime: "2020-01-01T00:00:00Z"}},
		{name: "404", did: s.did("nobody"), kind: errkind.NotFound, code: CodeNotFound, contains: "answered 404 Not Found"},
		{name: "500", did: s.did("broken"), kind: errkind.NotFound, code: CodeNotFound, contains: "answered 500"},
		{name: "oversize", did: s.did("big"), kind: errkind.TooLarge, code: CodeInternalError, contains: "is larger than the limit of 4096 bytes"},
		{name: "oversize without length", did: s.did("chunked"), kind: errkind.TooLarge, code: CodeInternalError, contains: "is larger than the limit of 4096 bytes"},
		{name: "wrong id", did: s.did("wrong"), kind: errkind.Unavailable, code: CodeInternalError, contains: `holds the document of "did:web:evil.example"`},
		{name: "not a document", did: s.did("junk"), kind: errkind.Unavailable, code: CodeInternalError, contains: "is not a valid DID document"},
		{name: "timeout", did: s.did("slow"), kind: errkind.Unavailable, code: CodeInternalError, contains: "timed out (limit 500ms)"},
		{name: "versionId", did: s.did(), opts: ResolveOptions{VersionID: "1"}, kind: errkind.NotFound, code: CodeNotFound, contains: "keeps no history"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := Parse(tt.did)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.did, err)
			}
			res, err := web.Resolve(context.Background(), id, tt.opts)
			if tt.kind != "" {
				checkErr(t, err, tt.kind, tt.code, tt.contains)
				return
			}
			if err != nil {
				t.Fatalf("Resolve: got error %v; want nil", err)
			}
			if res.Document.ID != tt.did {
				t.Errorf("id: got %q; want %q", res.Document.ID, tt.did)
			}
			if res.ResolutionMetadata.ContentType != ContentTypeDIDJSON {
				t.Errorf("contentType: got %q; want %q", res.ResolutionMetadata.ContentType, ContentTypeDIDJSON)
			}
			vm := res.Document.MethodsFor(AssertionMethod)
			if len(vm) != 1 {
				t.Fatalf("assertionMethod: got %d methods; want 1", len(vm))
			}
			if _, err := vm[0].PublicKey(); err != nil {
				t.Errorf("PublicKey: got error %v; want nil", err)
			}
		})
	}
	t.Run("410 means deactivated", func(t *testing.T) {
		res, err := web.Resolve(context.Background(), DID{MethodWeb, strings.TrimPrefix(s.did("gone"), "did:web:")}, ResolveOptions{})
		if err != nil || !res.DocumentMetadata.Deactivated || res.Document != nil {
			t.Fatalf("Resolve: got %+v, %v; want deactivated, no document, nil error", res, err)
		}
	})
}

func TestWebRefusesPrivate(t *testing.T) {
	s := newWebServer(t)
	s.publish("/.well-known/did.json", s.did())
	port := s.srv.URL[strings.LastIndexByte(s.srv.URL, ':')+1:]
	web := NewWebMethod(WebOptions{RootCAs: s.pool, Timeout: time.Second})
	for _, did := range []string{s.did(), "did:web:localhost%3A" + port} {
		t.Run(did, func(t *testing.T) {
			id, _ := Parse(did)
			_, err := web.Resolve(context.Background(), id, ResolveOptions{})
			checkErr(t, err, errkind.Forbidden, CodeNotFound, "is loopback (private addresses are not allowed)")
		})
	}
	if n := s.hits.Load(); n != 0 {
		t.Errorf("server hits: got %d; want 0", n)
	}
}

func TestWebCheckDial(t *testing.T) {
	web := NewWebMethod(WebOptions{})
	tests := []struct {
		addr   string
		reason string // "" when allowed
	}{
		{"127.0.0.1:443", "loopback"},
		{"[::1]:443", "loopback"},
		{"[::ffff:127.0.0.1]:443", "loopback"},
		{"10.1.2.3:443", "private"},
		{"172.16.0.1:443", "private"},
		{"192.168.1.1:443", "private"},
		{"[fd00::1]:443", "private"},
		{"169.254.169.254:80", "link-local"},
		{"[fe80::1]:443", "link-local"},
		{"0.0.0.0:443", "unspecified"},
		{"[::]:443", "unspecified"},
		{"224.0.0.1:443", "multicast"},
		{"[ff02::1]:443", "multicast"},
		{"100.64.0.1:443", "shared address space"},
		{"0.1.2.3:443", "this network"},
		{"8.8.8.8:443", ""},
		{"[2001:4860:4860::8888]:443", ""},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := web.checkDial("tcp", tt.addr, nil)
			if tt.reason == "" {
				if err != nil {
					t.Errorf("checkDial(%s): got %v; want nil", tt.addr, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("checkDial(%s): got %v; want an error saying %q", tt.addr, err, tt.reason)
			}
		})
	}
	if err := NewWebMethod(WebOptions{AllowPrivate: true}).checkDial("tcp", "127.0.0.1:443", nil); err != nil {
		t.Errorf("checkDial with AllowPrivate: got %v; want nil", err)
	}
}

func TestWebURL(t *testing.T) {
	tests := []struct {
		did, want, contains string
	}{
		{"did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json", ""},
		{"did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json", ""},
		{"did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json", ""},
		{"did:web:Example.COM", "https://example.com/.well-known/did.json", ""},
		{"did:web:example.com:a%20b", "https://example.com/a%20b/did.json", ""},
		{"did:web:example.com%3A0", "", `port "0" is not a number from 1 to 65535`},
		{"did:web:example.com%3A99999", "", `port "99999"`},
		{"did:web:example.com%3A", "", `port ""`},
		{"did:web:example.com::alice", "", "path segment 1 of"},
		{"did:web:example.com:%2E%2E:x", "", `decodes to ".."`},
		{"did:web:example.com:a%2Fb", "", `decodes to "a/b"`},
		{"did:web:exa_mple.com", "", `contains "_"`},
		{"did:web:example.com%2Fx", "", `contains "/"`},
		{"did:web:user%40example.com", "", `contains "@"`},
		{"did:web:.example.com", "", `invalid label ""`},
		{"did:web:-a.com", "", `invalid label "-a"`},
	}
	for _, tt := range tests {
		t.Run(tt.did, func(t *testing.T) {
			id, err := Parse(tt.did)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.did, err)
			}
			got, err := WebURL(id)
			if tt.contains != "" {
				checkErr(t, err, errkind.Invalid, CodeInvalidDID, tt.contains)
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("WebURL(%s): got %q, %v; want %q, nil", tt.did, got, err, tt.want)
			}
		})
	}
}

// fakeClock is a settable clock for cache tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestWebCacheTTL(t *testing.T) {
	s := newWebServer(t)
	s.publish("/.well-known/did.json", s.did())
	clock := &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	web := NewWebMethod(WebOptions{AllowPrivate: true, RootCAs: s.pool, TTL: time.Minute})
	r := NewResolver(ResolverConfig{Clock: clock.Now}, web)
	steps := []struct {
		advance            time.Duration
		wantHits, wantMiss uint64
		wantFetches        int64
		wantCached         bool
	}{
		{0, 0, 1, 1, false},
		{30 * time.Second, 1, 1, 1, true},
		{29 * time.Second, 2, 1, 1, true},
		{time.Second, 2, 2, 2, false}, // exactly at the TTL: expired
		{time.Second, 3, 2, 2, true},
	}
	for i, st := range steps {
		clock.Advance(st.advance)
		res, err := r.Resolve(context.Background(), s.did(), ResolveOptions{})
		if err != nil {
			t.Fatalf("step %d: Resolve: got error %v; want nil", i, err)
		}
		if hits, misses := r.Stats(); hits != st.wantHits || misses != st.wantMiss {
			t.Errorf("step %d: Stats: got %d hits, %d misses; want %d, %d", i, hits, misses, st.wantHits, st.wantMiss)
		}
		if n := s.hits.Load(); n != st.wantFetches {
			t.Errorf("step %d: fetches: got %d; want %d", i, n, st.wantFetches)
		}
		if res.ResolutionMetadata.Cached != st.wantCached {
			t.Errorf("step %d: cached: got %v; want %v", i, res.ResolutionMetadata.Cached, st.wantCached)
		}
		if want := "2030-01-01T00:00:00Z"; i == 0 && res.ResolutionMetadata.Retrieved != want {
			t.Errorf("retrieved: got %q; want %q", res.ResolutionMetadata.Retrieved, want)
		}
		// The caller may modify its copy without touching the cache.
		res.Document.ID = "mutated"
	}
	// Errors are not cached.
	if _, err := r.Resolve(context.Background(), s.did("nobody"), ResolveOptions{}); !errorsIsKind(err, errkind.NotFound) {
		t.Fatalf("Resolve(missing): got %v; want NotFound", err)
	}
	before := s.hits.Load()
	_, _ = r.Resolve(context.Background(), s.did("nobody"), ResolveOptions{})
	if s.hits.Load() != before+1 {
		t.Errorf("missing document: got no second fetch; want errors not cached")
	}
}

func errorsIsKind(err error, k errkind.Kind) bool { return errkind.KindOf(err) == k }
