package did

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/urbis-id/urbis/internal/errkind"
)

// DefaultCacheSize is the number of resolution results a MultiResolver
// keeps when ResolverConfig.CacheSize is zero.
const DefaultCacheSize = 1000

// ResolverConfig configures a MultiResolver.
type ResolverConfig struct {
	// CacheSize bounds the number of cached results (DefaultCacheSize if 0).
	CacheSize int
	// TTL is how long the results of each method (by name) are cached; 0
	// or absent means not cached, unless the method has a CacheTTL()
	// method (WebMethod does), which then decides. did:key and did:jwk
	// need no cache.
	TTL map[string]time.Duration
	// Clock returns the current time (time.Now if nil).
	Clock func() time.Time
}

// cacheTTLer is implemented by methods that suggest how long their
// results may be cached.
type cacheTTLer interface {
	CacheTTL() time.Duration
}

// MultiResolver resolves and dereferences DIDs by dispatching to
// registered methods, caching results per method TTL in a bounded LRU.
// It is safe for concurrent use.
type MultiResolver struct {
	mu      sync.RWMutex
	methods map[string]Method
	ttl     map[string]time.Duration
	clock   func() time.Time
	cache   *lru
	flight  singleflight.Group
	hits    atomic.Uint64
	misses  atomic.Uint64
}

var _ Resolver = (*MultiResolver)(nil)

// NewResolver returns a resolver for the given methods.
func NewResolver(cfg ResolverConfig, methods ...Method) *MultiResolver {
	r := &MultiResolver{
		methods: make(map[string]Method),
		ttl:     make(map[string]time.Duration),
		clock:   cfg.Clock,
	}
	if r.clock == nil {
		r.clock = time.Now
	}
	size := cfg.CacheSize
	if size <= 0 {
		size = DefaultCacheSize
	}
	r.cache = newLRU(size)
	for name, ttl := range cfg.TTL {
		r.ttl[name] = ttl
	}
	for _, m := range methods {
		r.Register(m)
	}
	return r
}

// Register adds m, replacing any method of the same name. Results cached
// from a replaced method stay until they expire.
func (r *MultiResolver) Register(m Method) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.methods[m.Method()] = m
}

// Stats returns the number of cache hits and misses so far. Lookups for
// methods that are not cached count as neither.
func (r *MultiResolver) Stats() (hits, misses uint64) {
	return r.hits.Load(), r.misses.Load()
}

// Resolve resolves s, a DID or a DID URL whose only query parameters are
// versionId and versionTime (which then override opts). Errors are
// *errkind.Error with a DID Resolution code: INVALID_DID,
// INVALID_DID_URL, INVALID_OPTIONS, METHOD_NOT_SUPPORTED, NOT_FOUND, ...
// A deactivated DID resolves with DocumentMetadata.Deactivated set and a
// nil error. The result is the caller's to modify.
func (r *MultiResolver) Resolve(ctx context.Context, s string, opts ResolveOptions) (*Resolution, error) {
	id, opts, err := parseResolveInput(s, opts)
	if err != nil {
		return nil, err
	}
	res, _, err := r.lookup(ctx, id, opts)
	return res, err
}

// ResolveEncoded resolves s like Resolve and also returns the JSON
// encoding of the result: the bare document if bare, else the whole
// resolution result. A result served from the cache reuses an encoding
// made once, which spares a serving path the encoding work.
func (r *MultiResolver) ResolveEncoded(ctx context.Context, s string, opts ResolveOptions, bare bool) (*Resolution, []byte, error) {
	id, opts, err := parseResolveInput(s, opts)
	if err != nil {
		return nil, nil, err
	}
	res, entry, err := r.lookup(ctx, id, opts)
	if err != nil {
		return nil, nil, err
	}
	var b []byte
	if entry != nil {
		b, err = entry.encoded(bare)
	} else {
		b, err = encodeResolution(res, bare)
	}
	if err != nil {
		return nil, nil, err
	}
	return res, b, nil
}

// encodeResolution encodes res, or its document alone if bare.
func encodeResolution(res *Resolution, bare bool) ([]byte, error) {
	var v any = res
	if bare {
		v = res.Document
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "encode resolution result").WithCode(CodeInternalError)
	}
	return b, nil
}

// parseResolveInput parses a DID, or a DID URL whose only query
// parameters are versionId and versionTime, and merges those into opts.
func parseResolveInput(s string, opts ResolveOptions) (DID, ResolveOptions, error) {
	u, err := ParseURL(s)
	if err != nil {
		return DID{}, opts, err
	}
	if u.Path != "" || u.Fragment != "" {
		return DID{}, opts, invalidDID("%q is a DID URL with a path or fragment; resolve takes a DID (dereference DID URLs instead)", s)
	}
	if u.Query != "" {
		for _, kv := range strings.Split(u.Query, "&") {
			if k, _, _ := strings.Cut(kv, "="); k != "versionId" && k != "versionTime" {
				return DID{}, opts, invalidDID("%q has the query parameter %q; resolve accepts only versionId and versionTime", s, k)
			}
		}
	}
	if opts, err = mergeVersion(u, opts); err != nil {
		return DID{}, opts, err
	}
	return u.DID, opts, nil
}

// mergeVersion copies versionId and versionTime of u into opts and
// validates them.
func mergeVersion(u URL, opts ResolveOptions) (ResolveOptions, error) {
	for _, p := range []struct {
		name     string
		fromURL  string
		fromOpts *string
	}{{"versionId", u.VersionID, &opts.VersionID}, {"versionTime", u.VersionTime, &opts.VersionTime}} {
		if p.fromURL == "" {
			continue
		}
		if *p.fromOpts != "" && *p.fromOpts != p.fromURL {
			return opts, invalidURL("%s %q in the DID URL conflicts with the resolution option %q", p.name, p.fromURL, *p.fromOpts)
		}
		*p.fromOpts = p.fromURL
	}
	if opts.VersionTime != "" {
		if _, err := ParseVersionTime(opts.VersionTime); err != nil {
			return opts, errkind.New(errkind.Invalid, "resolution option versionTime %q is not an XML datetime such as 2002-10-10T17:00:00Z", opts.VersionTime).WithCode(CodeInvalidOptions)
		}
	}
	return opts, nil
}

// resolve resolves a parsed DID through its method and the cache.
func (r *MultiResolver) resolve(ctx context.Context, id DID, opts ResolveOptions) (*Resolution, error) {
	res, _, err := r.lookup(ctx, id, opts)
	return res, err
}

// lookup resolves a parsed DID through its method and the cache. It
// returns the caller's own copy of the result and, when the result came
// from the cache, the cache entry.
func (r *MultiResolver) lookup(ctx context.Context, id DID, opts ResolveOptions) (*Resolution, *lruEntry, error) {
	r.mu.RLock()
	m, ok := r.methods[id.Method]
	r.mu.RUnlock()
	if !ok {
		return nil, nil, errkind.New(errkind.Unsupported, "DID method %q is not supported by this resolver (supported: %s)", id.Method, r.methodNames()).WithCode(CodeMethodNotSupported)
	}
	ttl := r.ttlFor(m)
	if ttl <= 0 {
		res, err := r.call(ctx, m, id, opts)
		return res, nil, err
	}
	key := strings.Join([]string{id.String(), opts.PublicKeyFormat, opts.VersionID, opts.VersionTime, boolKey(opts.NoEncryptionKeyDerivation)}, "\x00")
	if e, ok := r.cache.get(key, r.clock()); ok {
		r.hits.Add(1)
		c := e.res.clone()
		c.ResolutionMetadata.Cached = true
		return c, e, nil
	}
	r.misses.Add(1)
	ch := r.flight.DoChan(key, func() (any, error) {
		// The shared call must not fail because the first caller gave up.
		res, err := r.call(context.WithoutCancel(ctx), m, id, opts)
		if err == nil {
			r.cache.put(key, res, r.clock().Add(ttl))
		}
		return res, err
	})
	select {
	case <-ctx.Done():
		return nil, nil, errkind.Wrap(errkind.Unavailable, ctx.Err(), "resolve %s", id).WithCode(CodeInternalError)
	case out := <-ch:
		if out.Err != nil {
			return nil, nil, out.Err
		}
		return out.Val.(*Resolution).clone(), nil, nil
	}
}

// call runs the method, normalises its error and fills the metadata the
// method left empty.
func (r *MultiResolver) call(ctx context.Context, m Method, id DID, opts ResolveOptions) (*Resolution, error) {
	start := r.clock()
	res, err := m.Resolve(ctx, id, opts)
	if err != nil {
		return nil, withCode(err, id)
	}
	if res == nil || (res.Document == nil && !res.DocumentMetadata.Deactivated) {
		return nil, errkind.New(errkind.Internal, "did:%s method returned no document for %s", id.Method, id).WithCode(CodeInternalError)
	}
	end := r.clock()
	md := &res.ResolutionMetadata
	if md.ContentType == "" {
		md.ContentType = ContentTypeDIDJSON
		if res.Document != nil && len(res.Document.Context) > 0 {
			md.ContentType = ContentTypeDIDLDJSON
		}
	}
	if md.Retrieved == "" {
		md.Retrieved = end.UTC().Format(time.RFC3339)
	}
	if md.Duration == 0 {
		md.Duration = end.Sub(start).Milliseconds()
	}
	if md.Method == "" {
		md.Method = id.Method
	}
	return res, nil
}

// withCode makes sure err is an *errkind.Error with a resolution code.
func withCode(err error, id DID) error {
	var e *errkind.Error
	if errors.As(err, &e) && e.Code != "" {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errkind.Wrap(errkind.Unavailable, err, "resolve %s", id).WithCode(CodeInternalError)
	}
	kind := errkind.KindOf(err)
	code := CodeInternalError
	switch kind {
	case errkind.Invalid:
		code = CodeInvalidDID
	case errkind.NotFound, errkind.Gone:
		code = CodeNotFound
	case errkind.NotAcceptable:
		code = CodeRepresentationNotSupported
	}
	return errkind.Wrap(kind, err, "resolve %s", id).WithCode(code)
}

func boolKey(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// ttlFor returns how long results of m are cached.
func (r *MultiResolver) ttlFor(m Method) time.Duration {
	if ttl, ok := r.ttl[m.Method()]; ok {
		return ttl
	}
	if t, ok := m.(cacheTTLer); ok {
		return t.CacheTTL()
	}
	return 0
}

// methodNames lists the registered method names for messages.
func (r *MultiResolver) methodNames() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.methods))
	for n := range r.methods {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// Dereference resolves the DID of the DID URL s and returns what it names:
// the *VerificationMethod or *Service named by its fragment, the *Service
// named by its service parameter, or the *Document when it has neither.
// A name that is absent gives NOT_FOUND; a DID URL path gives NOT_FOUND
// (no method here defines paths); a deactivated DID gives an error of
// kind Gone with code DEACTIVATED.
func (r *MultiResolver) Dereference(ctx context.Context, s string, opts ResolveOptions) (any, error) {
	u, err := ParseURL(s)
	if err != nil {
		return nil, err
	}
	if opts, err = mergeVersion(u, opts); err != nil {
		return nil, err
	}
	res, err := r.resolve(ctx, u.DID, opts)
	if err != nil {
		return nil, err
	}
	if res.DocumentMetadata.Deactivated {
		return nil, errkind.New(errkind.Gone, "%s is deactivated", u.DID).WithCode(CodeDeactivated)
	}
	doc := res.Document
	switch {
	case u.Path != "":
		return nil, errkind.New(errkind.NotFound, "%s: DID URL path %q names nothing; did:%s defines no paths", s, u.Path, u.DID.Method).WithCode(CodeNotFound)
	case u.Service != "":
		svc, ok := doc.ServiceByID("#" + u.Service)
		if !ok {
			return nil, errkind.New(errkind.NotFound, "%s has no service %q", u.DID, u.Service).WithCode(CodeNotFound)
		}
		if u.Fragment != "" {
			return nil, invalidURL("%q combines the service parameter with a fragment", s)
		}
		return svc, nil
	case u.Fragment != "":
		if vm, ok := doc.VerificationMethodByID("#" + u.Fragment); ok {
			return vm, nil
		}
		if svc, ok := doc.ServiceByID("#" + u.Fragment); ok {
			return svc, nil
		}
		return nil, errkind.New(errkind.NotFound, "%s has no verification method or service with fragment %q", u.DID, u.Fragment).WithCode(CodeNotFound)
	}
	return doc, nil
}
