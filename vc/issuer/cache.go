package issuer

import (
	"container/list"
	"crypto"
	"sync"
	"time"
)

// Cache bounds and lifetimes. A cached signer is used for at most
// SignerTTL after it was read: a DID rotated or deactivated through
// another path than this Service (which forgets its entry at once, see
// ForgetDID) stops issuing with its old key within SignerTTL. Instance
// lookups are cached for InstanceTTL.
const (
	SignerTTL     = 5 * time.Second
	InstanceTTL   = 5 * time.Second
	cacheCapacity = 1024
)

// ttlLRU is a bounded, concurrency-safe LRU map whose entries expire ttl
// after they were put.
type ttlLRU[V any] struct {
	mu    sync.Mutex
	cap   int
	ttl   time.Duration
	clock func() time.Time
	ll    *list.List
	items map[string]*list.Element
}

type lruEntry[V any] struct {
	key     string
	val     V
	expires time.Time
}

func newTTLLRU[V any](capacity int, ttl time.Duration, clock func() time.Time) *ttlLRU[V] {
	return &ttlLRU[V]{cap: capacity, ttl: ttl, clock: clock, ll: list.New(), items: map[string]*list.Element{}}
}

func (c *ttlLRU[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	el, ok := c.items[key]
	if !ok {
		return zero, false
	}
	e := el.Value.(*lruEntry[V])
	if !c.clock().Before(e.expires) {
		c.ll.Remove(el)
		delete(c.items, key)
		return zero, false
	}
	c.ll.MoveToFront(el)
	return e.val, true
}

func (c *ttlLRU[V]) put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	exp := c.clock().Add(c.ttl)
	if el, ok := c.items[key]; ok {
		e := el.Value.(*lruEntry[V])
		e.val, e.expires = v, exp
		c.ll.MoveToFront(el)
		return
	}
	c.items[key] = c.ll.PushFront(&lruEntry[V]{key: key, val: v, expires: exp})
	for c.ll.Len() > c.cap {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*lruEntry[V]).key)
	}
}

// remove drops key's entry.
func (c *ttlLRU[V]) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.ll.Remove(el)
		delete(c.items, key)
	}
}

func (c *ttlLRU[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// cachedSigner is a signer of a DID with the verification method of its key.
type cachedSigner struct {
	signer crypto.Signer
	vm     string
	keyID  string
}

func cacheKey(parts ...string) string {
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return string(b)
}

// parsedListEntries bounds parsedLists; on overflow it starts over.
const parsedListEntries = 256

// parsedLists remembers the decoded JSON of signed status list
// credentials, so that serving a list to the verifier does not decode it
// on every request. The maps are shared: nobody may change them.
type parsedLists struct {
	mu sync.Mutex
	m  map[string]map[string]any
}

func (p *parsedLists) get(key string) (map[string]any, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m, ok := p.m[key]
	return m, ok
}

func (p *parsedLists) put(key string, m map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil || len(p.m) >= parsedListEntries {
		p.m = make(map[string]map[string]any)
	}
	p.m[key] = m
}
