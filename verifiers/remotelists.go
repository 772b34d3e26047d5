package verifiers

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/statuslist"
)

// Defaults of RemoteListsConfig.
const (
	DefaultListEntries = 256
	DefaultListBytes   = 64 << 20
	DefaultListTTL     = 5 * time.Minute
	DefaultListMaxTTL  = time.Hour
)

// listAccept is the Accept header of a status list fetch: a JSON-LD
// credential (Data Integrity) or a JWT-VC.
const listAccept = "application/vc+ld+json, application/vc+jwt;q=0.9, application/vc;q=0.9, application/jwt;q=0.8, application/json;q=0.8"

// RemoteListsConfig configures RemoteLists.
type RemoteListsConfig struct {
	// Fetcher gets lists over HTTPS (required). Its options decide whether
	// private and loopback addresses may be fetched.
	Fetcher *did.Fetcher
	// Local, when set, serves the lists whose URL starts with LocalPrefix
	// (this service's own, from its database) without the network.
	Local       ListFetcher
	LocalPrefix string
	// MaxEntries and MaxBytes bound the cache of fetched lists
	// (DefaultListEntries and DefaultListBytes if 0).
	MaxEntries int
	MaxBytes   int64
	// TTL is how long a list is cached when its answer has no
	// Cache-Control max-age (DefaultListTTL if 0); MaxTTL caps any
	// max-age (DefaultListMaxTTL if 0).
	TTL    time.Duration
	MaxTTL time.Duration
	// Clock is the verifier's clock (time.Now if nil).
	Clock func() time.Time
}

// RemoteLists is a ListFetcher that fetches status list credentials over
// HTTPS and keeps them in a bounded LRU cache by URL, for the answer's
// Cache-Control max-age (no-store, no-cache and max-age=0: not kept) or
// the default TTL, never longer than MaxTTL. A JSON body is the list
// credential; a JWT body (a JWT-VC) is returned as an
// EnvelopedVerifiableCredential for the status check to verify. It
// verifies nothing itself: the status check verifies each list's proof
// and issuer. It is safe for concurrent use.
type RemoteLists struct {
	cfg    RemoteListsConfig
	cache  *statuslist.Cache
	flight singleflight.Group
}

var _ ListFetcher = (*RemoteLists)(nil)

// NewRemoteLists returns a RemoteLists with cfg, defaults filled in.
func NewRemoteLists(cfg RemoteListsConfig) (*RemoteLists, error) {
	if cfg.Fetcher == nil {
		return nil, errkind.Field(errkind.Invalid, "fetcher", "missing")
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultListEntries
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultListBytes
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultListTTL
	}
	if cfg.MaxTTL <= 0 {
		cfg.MaxTTL = DefaultListMaxTTL
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	cache, err := statuslist.NewCache(statuslist.CacheConfig{MaxEntries: cfg.MaxEntries, MaxBytes: cfg.MaxBytes, TTL: cfg.MaxTTL, Clock: cfg.Clock})
	if err != nil {
		return nil, err
	}
	return &RemoteLists{cfg: cfg, cache: cache}, nil
}

// FetchList implements ListFetcher.
func (l *RemoteLists) FetchList(ctx context.Context, url string) (map[string]any, []byte, error) {
	if l.cfg.Local != nil && l.cfg.LocalPrefix != "" && strings.HasPrefix(url, l.cfg.LocalPrefix) {
		return l.cfg.Local.FetchList(ctx, url)
	}
	if body, ok := l.cache.Get(url); ok {
		m, err := parseList(url, body)
		return m, body, err
	}
	ch := l.flight.DoChan(url, func() (any, error) {
		// The shared fetch must not fail because the first caller gave up.
		return l.fetch(context.WithoutCancel(ctx), url)
	})
	select {
	case <-ctx.Done():
		return nil, nil, errkind.Wrap(errkind.Unavailable, ctx.Err(), "fetch %s", url)
	case out := <-ch:
		if out.Err != nil {
			return nil, nil, out.Err
		}
		body := out.Val.([]byte)
		m, err := parseList(url, body)
		return m, body, err
	}
}

// fetch gets the body of the list at url and caches it.
func (l *RemoteLists) fetch(ctx context.Context, url string) ([]byte, error) {
	resp, err := l.cfg.Fetcher.Get(ctx, url, listAccept)
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK {
		kind := errkind.Unavailable
		if resp.Status == http.StatusNotFound || resp.Status == http.StatusGone {
			kind = errkind.NotFound
		}
		return nil, errkind.New(kind, "GET %s answered %d %s", url, resp.Status, http.StatusText(resp.Status))
	}
	if _, err := parseList(url, resp.Body); err != nil {
		return nil, err
	}
	if ttl, ok := l.ttl(resp.Header.Get("Cache-Control")); ok {
		l.cache.Put(url, resp.Body, ttl)
	}
	return resp.Body, nil
}

// ttl reads how long a list may be kept from its Cache-Control header:
// ok is false for no-store, no-cache and max-age=0.
func (l *RemoteLists) ttl(cc string) (time.Duration, bool) {
	ttl := l.cfg.TTL
	for _, d := range strings.Split(cc, ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return 0, false
		case "max-age":
			n, err := strconv.Atoi(strings.Trim(val, `"`))
			if err != nil || n < 0 {
				continue
			}
			if n == 0 {
				return 0, false
			}
			ttl = time.Duration(n) * time.Second
		}
	}
	return min(ttl, l.cfg.MaxTTL), true
}

// parseList reads a fetched body: a JSON object, or a compact JWT which
// it wraps as an EnvelopedVerifiableCredential.
func parseList(url string, body []byte) (map[string]any, error) {
	b := bytes.TrimSpace(body)
	if len(b) > 0 && b[0] == '{' {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "%s is not a JSON status list credential", url)
		}
		return m, nil
	}
	tok := string(b)
	if strings.HasPrefix(tok, "ey") && strings.Count(tok, ".") == 2 && !strings.ContainsAny(tok, " \t\r\n") {
		return map[string]any{
			"@context": []any{"https://www.w3.org/ns/credentials/v2"},
			"type":     "EnvelopedVerifiableCredential",
			"id":       "data:application/vc+jwt," + tok,
		}, nil
	}
	return nil, errkind.New(errkind.Invalid, "%s is neither a JSON status list credential nor a JWT-VC", url)
}
