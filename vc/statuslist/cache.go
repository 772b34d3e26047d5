package statuslist

import (
	"bytes"
	"container/list"
	"sync"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// CacheConfig bounds a Cache.
type CacheConfig struct {
	MaxEntries int              // at most this many lists
	MaxBytes   int64            // at most this many bytes of bodies in all
	TTL        time.Duration    // the longest an entry is served
	Clock      func() time.Time // time.Now if nil
}

// Cache keeps status list credentials a verifier has fetched, keyed by
// URL, as the bytes fetched. It evicts the least recently used entries to
// stay within MaxEntries and MaxBytes, and serves none older than its
// TTL. Fetching is the caller's. It is safe for concurrent use.
type Cache struct {
	cfg CacheConfig

	mu    sync.Mutex
	order *list.List // front is most recently used; values are *cacheEntry
	items map[string]*list.Element
	bytes int64
}

type cacheEntry struct {
	url     string
	body    []byte
	expires time.Time
}

// NewCache returns an empty Cache; every bound must be positive.
func NewCache(cfg CacheConfig) (*Cache, error) {
	switch {
	case cfg.MaxEntries < 1:
		return nil, errkind.Field(errkind.Invalid, "maxEntries", "%d; want at least 1", cfg.MaxEntries)
	case cfg.MaxBytes < 1:
		return nil, errkind.Field(errkind.Invalid, "maxBytes", "%d; want at least 1", cfg.MaxBytes)
	case cfg.TTL <= 0:
		return nil, errkind.Field(errkind.Invalid, "ttl", "%v; want a positive duration", cfg.TTL)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Cache{cfg: cfg, order: list.New(), items: make(map[string]*list.Element)}, nil
}

// Get returns the body cached for url unless it is absent or expired.
// The caller must not modify it.
func (c *Cache) Get(url string) ([]byte, bool) {
	now := c.cfg.Clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[url]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.remove(el)
		return nil, false
	}
	c.order.MoveToFront(el)
	return e.body, true
}

// Put caches a copy of body for url, replacing any earlier entry, for
// ttl or the cache's TTL, whichever is shorter; ttl <= 0 means the
// cache's TTL. A list's own "ttl" property (in milliseconds) can be
// passed here. A body larger than MaxBytes is not cached.
func (c *Cache) Put(url string, body []byte, ttl time.Duration) {
	if ttl <= 0 || ttl > c.cfg.TTL {
		ttl = c.cfg.TTL
	}
	e := &cacheEntry{url: url, body: bytes.Clone(body), expires: c.cfg.Clock().Add(ttl)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[url]; ok {
		c.remove(el)
	}
	if int64(len(body)) > c.cfg.MaxBytes {
		return
	}
	c.items[url] = c.order.PushFront(e)
	c.bytes += int64(len(e.body))
	for c.order.Len() > c.cfg.MaxEntries || c.bytes > c.cfg.MaxBytes {
		c.remove(c.order.Back())
	}
}

// Len returns the number of entries and their total bytes, expired
// entries not yet evicted included.
func (c *Cache) Len() (entries int, size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len(), c.bytes
}

func (c *Cache) remove(el *list.Element) {
	e := c.order.Remove(el).(*cacheEntry)
	delete(c.items, e.url)
	c.bytes -= int64(len(e.body))
}
