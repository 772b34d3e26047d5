package did

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// fakeMethod is a did:fake method that records its calls.
type fakeMethod struct {
	calls       atomic.Int64
	mu          sync.Mutex
	lastOpts    ResolveOptions
	err         error
	deactivated bool
	delay       time.Duration
}

func (f *fakeMethod) Method() string { return "fake" }

func (f *fakeMethod) Resolve(ctx context.Context, id DID, opts ResolveOptions) (*Resolution, error) {
	f.calls.Add(1)
	f.mu.Lock()
	f.lastOpts = opts
	f.mu.Unlock()
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	if f.err != nil {
		return nil, f.err
	}
	if f.deactivated {
		return &Resolution{DocumentMetadata: DocumentMetadata{Deactivated: true}}, nil
	}
	did := id.String()
	return &Resolution{
		Document: &Document{
			ID:                 did,
			VerificationMethod: []VerificationMethod{{ID: did + "#k1", Type: TypeMultikey, Controller: did, PublicKeyMultibase: "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}},
			AssertionMethod:    []MethodRef{{Ref: "#k1"}},
			Service:            []Service{{ID: "#files", Type: StringSet{"Files"}, Endpoint: "https://files.example"}},
		},
		DocumentMetadata: DocumentMetadata{VersionID: opts.VersionID},
	}, nil
}

func TestResolverResolve(t *testing.T) {
	fake := &fakeMethod{}
	r := NewResolver(ResolverConfig{}, KeyMethod{}, JWKMethod{}, fake)
	tests := []struct {
		name     string
		in       string
		opts     ResolveOptions
		wantOpts ResolveOptions
		kind     errkind.Kind
		code     string
		contains string
	}{
		{name: "plain", in: "did:fake:1"},
		{name: "versionId from URL", in: "did:fake:1?versionId=7", wantOpts: ResolveOptions{VersionID: "7"}},
		{name: "versionTime from URL", in: "did:fake:1?versionTime=2021-01-01T00:00:00Z&versionId=2", wantOpts: ResolveOptions{VersionID: "2", VersionTime: "2021-01-01T00:00:00Z"}},
		{name: "same versionId twice", in: "did:fake:1?versionId=7", opts: ResolveOptions{VersionID: "7"}, wantOpts: ResolveOptions{VersionID: "7"}},
		{name: "format passed on", in: "did:fake:1", opts: ResolveOptions{PublicKeyFormat: "X"}, wantOpts: ResolveOptions{PublicKeyFormat: "X"}},
		{name: "conflicting versionId", in: "did:fake:1?versionId=7", opts: ResolveOptions{VersionID: "8"}, kind: errkind.Invalid, code: CodeInvalidDIDURL, contains: `versionId "7" in the DID URL conflicts with the resolution option "8"`},
		{name: "bad versionTime option", in: "did:fake:1", opts: ResolveOptions{VersionTime: "noon"}, kind: errkind.Invalid, code: CodeInvalidOptions, contains: `versionTime "noon"`},
		{name: "bad versionTime in URL", in: "did:fake:1?versionTime=noon", kind: errkind.Invalid, code: CodeInvalidDIDURL, contains: `versionTime "noon"`},
		{name: "unknown method", in: "did:example:1", kind: errkind.Unsupported, code: CodeMethodNotSupported, contains: `DID method "example" is not supported by this resolver (supported: fake, jwk, key)`},
		{name: "bad DID", in: "did:fake", kind: errkind.Invalid, code: CodeInvalidDID, contains: "has no method-specific id"},
		{name: "not a DID", in: "https://example.com", kind: errkind.Invalid, code: CodeInvalidDID, contains: `does not start with "did:"`},
		{name: "fragment", in: "did:fake:1#k1", kind: errkind.Invalid, code: CodeInvalidDID, contains: "path or fragment"},
		{name: "path", in: "did:fake:1/a", kind: errkind.Invalid, code: CodeInvalidDID, contains: "path or fragment"},
		{name: "service param", in: "did:fake:1?service=files", kind: errkind.Invalid, code: CodeInvalidDID, contains: `query parameter "service"`},
		{name: "bad key", in: "did:key:z6Mk0", kind: errkind.Invalid, code: CodeInvalidDID, contains: "not a base58btc character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := r.Resolve(context.Background(), tt.in, tt.opts)
			if tt.kind != "" {
				if res != nil {
					t.Errorf("Resolve: got a resolution; want nil")
				}
				checkErr(t, err, tt.kind, tt.code, tt.contains)
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q): got error %v; want nil", tt.in, err)
			}
			fake.mu.Lock()
			got := fake.lastOpts
			fake.mu.Unlock()
			if got != tt.wantOpts {
				t.Errorf("options seen by the method: got %+v; want %+v", got, tt.wantOpts)
			}
			if res.Document.ID != "did:fake:1" {
				t.Errorf("id: got %q; want did:fake:1", res.Document.ID)
			}
			md := res.ResolutionMetadata
			if md.ContentType != ContentTypeDIDJSON || md.Method != "fake" || md.Retrieved == "" {
				t.Errorf("resolution metadata: got %+v; want contentType %s, method fake, retrieved set", md, ContentTypeDIDJSON)
			}
		})
	}
	if hits, misses := r.Stats(); hits != 0 || misses != 0 {
		t.Errorf("Stats without cached methods: got %d, %d; want 0, 0", hits, misses)
	}
}

func TestResolverCache(t *testing.T) {
	fake := &fakeMethod{}
	clock := &fakeClock{now: time.Unix(0, 0)}
	r := NewResolver(ResolverConfig{CacheSize: 2, TTL: map[string]time.Duration{"fake": time.Hour}, Clock: clock.Now}, fake)
	resolve := func(s string, opts ResolveOptions) {
		t.Helper()
		if _, err := r.Resolve(context.Background(), s, opts); err != nil {
			t.Fatalf("Resolve(%s): %v", s, err)
		}
	}
	steps := []struct {
		did                string
		opts               ResolveOptions
		wantHits, wantMiss uint64
	}{
		{"did:fake:a", ResolveOptions{}, 0, 1},
		{"did:fake:a", ResolveOptions{}, 1, 1},
		{"did:fake:a?versionId=1", ResolveOptions{}, 1, 2}, // options are part of the key
		{"did:fake:a", ResolveOptions{VersionID: "1"}, 2, 2},
		{"did:fake:b", ResolveOptions{}, 2, 3}, // evicts did:fake:a (least recently used)
		{"did:fake:a?versionId=1", ResolveOptions{}, 3, 3},
		{"did:fake:a", ResolveOptions{}, 3, 4},
	}
	for i, st := range steps {
		resolve(st.did, st.opts)
		if hits, misses := r.Stats(); hits != st.wantHits || misses != st.wantMiss {
			t.Errorf("step %d (%s %+v): Stats: got %d hits, %d misses; want %d, %d", i, st.did, st.opts, hits, misses, st.wantHits, st.wantMiss)
		}
	}
	if n := r.cache.len(); n != 2 {
		t.Errorf("cache size: got %d; want 2", n)
	}
}

func TestResolverConcurrent(t *testing.T) {
	fake := &fakeMethod{delay: 50 * time.Millisecond}
	r := NewResolver(ResolverConfig{TTL: map[string]time.Duration{"fake": time.Minute}}, fake)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			did := "did:fake:" + string(rune('a'+i%4))
			res, err := r.Resolve(context.Background(), did, ResolveOptions{})
			if err == nil && res.Document.ID != did {
				err = errors.New("got the document of " + res.Document.ID + "; want " + did)
			}
			if err != nil {
				errs <- err
			}
			res.Document.ID = "mine" // each caller owns its copy
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := fake.calls.Load(); n != 4 {
		t.Errorf("method calls: got %d; want 4 (one per DID)", n)
	}
}

func TestResolverCancel(t *testing.T) {
	fake := &fakeMethod{delay: 200 * time.Millisecond}
	r := NewResolver(ResolverConfig{TTL: map[string]time.Duration{"fake": time.Minute}}, fake)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := r.Resolve(ctx, "did:fake:x", ResolveOptions{})
	checkErr(t, err, errkind.Unavailable, CodeInternalError, "context deadline exceeded")
}

func TestResolverMethodErrors(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		kind     errkind.Kind
		code     string
		contains string
	}{
		{"plain error", errors.New("disk on fire"), errkind.Internal, CodeInternalError, "resolve did:fake:x: disk on fire"},
		{"kind without code", errkind.New(errkind.NotFound, "no such DID"), errkind.NotFound, CodeNotFound, "no such DID"},
		{"code kept", errkind.New(errkind.Invalid, "bad").WithCode(CodeInvalidDID), errkind.Invalid, CodeInvalidDID, "bad"},
		{"deadline", context.DeadlineExceeded, errkind.Unavailable, CodeInternalError, "deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewResolver(ResolverConfig{}, &fakeMethod{err: tt.err})
			_, err := r.Resolve(context.Background(), "did:fake:x", ResolveOptions{})
			checkErr(t, err, tt.kind, tt.code, tt.contains)
			res := ErrorResolution(err)
			if res.ResolutionMetadata.Error != tt.code || res.Document != nil {
				t.Errorf("ErrorResolution: got %+v; want error %s and no document", res, tt.code)
			}
			if tt.kind == errkind.Internal && res.ResolutionMetadata.ErrorMessage != "internal error" {
				t.Errorf("ErrorResolution message: got %q; want the cause hidden", res.ResolutionMetadata.ErrorMessage)
			}
		})
	}
}

func TestResolverDeactivated(t *testing.T) {
	r := NewResolver(ResolverConfig{}, &fakeMethod{deactivated: true})
	res, err := r.Resolve(context.Background(), "did:fake:x", ResolveOptions{})
	if err != nil || !res.DocumentMetadata.Deactivated {
		t.Fatalf("Resolve: got %+v, %v; want deactivated and nil error", res, err)
	}
	_, err = r.Dereference(context.Background(), "did:fake:x#k1", ResolveOptions{})
	checkErr(t, err, errkind.Gone, CodeDeactivated, "did:fake:x is deactivated")
}

func TestResolverRegister(t *testing.T) {
	r := NewResolver(ResolverConfig{})
	if _, err := r.Resolve(context.Background(), "did:fake:x", ResolveOptions{}); errkind.KindOf(err) != errkind.Unsupported {
		t.Fatalf("before Register: got %v; want Unsupported", err)
	}
	r.Register(&fakeMethod{})
	if _, err := r.Resolve(context.Background(), "did:fake:x", ResolveOptions{}); err != nil {
		t.Fatalf("after Register: got %v; want nil", err)
	}
}

func TestDereference(t *testing.T) {
	const key = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
	fake := &fakeMethod{}
	r := NewResolver(ResolverConfig{}, KeyMethod{}, fake)
	tests := []struct {
		name     string
		in       string
		want     string // the id of the returned thing
		kind     errkind.Kind
		code     string
		contains string
	}{
		{name: "key method", in: key + "#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", want: "vm:" + key + "#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"},
		{name: "derived key", in: key + "#z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p", want: "vm:" + key + "#z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p"},
		{name: "document", in: key, want: "doc:" + key},
		{name: "fake method with version", in: "did:fake:1?versionId=3#k1", want: "vm:did:fake:1#k1"},
		{name: "service by fragment", in: "did:fake:1#files", want: "svc:#files"},
		{name: "service by parameter", in: "did:fake:1?service=files", want: "svc:#files"},
		{name: "missing fragment", in: key + "#nope", kind: errkind.NotFound, code: CodeNotFound, contains: `no verification method or service with fragment "nope"`},
		{name: "missing service", in: "did:fake:1?service=nope", kind: errkind.NotFound, code: CodeNotFound, contains: `has no service "nope"`},
		{name: "service and fragment", in: "did:fake:1?service=files#x", kind: errkind.Invalid, code: CodeInvalidDIDURL, contains: "combines"},
		{name: "path", in: "did:fake:1/some/path", kind: errkind.NotFound, code: CodeNotFound, contains: `path "/some/path" names nothing`},
		{name: "bad URL", in: "did:fake:1#a b", kind: errkind.Invalid, code: CodeInvalidDIDURL, contains: `contains " "`},
		{name: "unknown method", in: "did:nope:1#a", kind: errkind.Unsupported, code: CodeMethodNotSupported, contains: `"nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Dereference(context.Background(), tt.in, ResolveOptions{})
			if tt.kind != "" {
				checkErr(t, err, tt.kind, tt.code, tt.contains)
				return
			}
			if err != nil {
				t.Fatalf("Dereference(%q): got error %v; want nil", tt.in, err)
			}
			var id string
			switch v := got.(type) {
			case *VerificationMethod:
				id = "vm:" + v.ID
			case *Service:
				id = "svc:" + v.ID
			case *Document:
				id = "doc:" + v.ID
			default:
				t.Fatalf("Dereference(%q): got %T; want a method, service or document", tt.in, got)
			}
			if id != tt.want {
				t.Errorf("Dereference(%q): got %s; want %s", tt.in, id, tt.want)
			}
		})
	}
	if _, err := r.Dereference(context.Background(), "did:fake:1?versionId=3#k1", ResolveOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := fake.lastOpts.VersionID; got != "3" {
		t.Errorf("versionId seen by the method: got %q; want 3", got)
	}
}
