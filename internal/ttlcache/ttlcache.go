// Package ttlcache is a bounded, concurrency-safe LRU map whose entries
// expire a fixed time after they were put: the short-lived caches of
// decrypted signers and looked-up records that spare a database read
// per request.
package ttlcache

import (
	"container/list"
	"sync"
	"time"
)

// LRU holds at most its capacity of entries, dropping the least recently
// used; an entry is not returned once its time to live has passed.
type LRU[V any] struct {
	mu    sync.Mutex
	cap   int
	ttl   time.Duration
	clock func() time.Time
	ll    *list.List
	items map[string]*list.Element
}

type entry[V any] struct {
	key     string
	val     V
	expires time.Time
}

// New returns an empty LRU of capacity entries that live ttl, by clock
// (time.Now if nil).
func New[V any](capacity int, ttl time.Duration, clock func() time.Time) *LRU[V] {
	if clock == nil {
		clock = time.Now
	}
	return &LRU[V]{cap: capacity, ttl: ttl, clock: clock, ll: list.New(), items: map[string]*list.Element{}}
}

// Get returns key's value unless it is absent or expired.
func (c *LRU[V]) Get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	el, ok := c.items[key]
	if !ok {
		return zero, false
	}
	e := el.Value.(*entry[V])
	if !c.clock().Before(e.expires) {
		c.ll.Remove(el)
		delete(c.items, key)
		return zero, false
	}
	c.ll.MoveToFront(el)
	return e.val, true
}

// Put sets key's value, to live the LRU's time to live from now.
func (c *LRU[V]) Put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	exp := c.clock().Add(c.ttl)
	if el, ok := c.items[key]; ok {
		e := el.Value.(*entry[V])
		e.val, e.expires = v, exp
		c.ll.MoveToFront(el)
		return
	}
	c.items[key] = c.ll.PushFront(&entry[V]{key: key, val: v, expires: exp})
	for c.ll.Len() > c.cap {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*entry[V]).key)
	}
}

// Remove drops key's entry.
func (c *LRU[V]) Remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.ll.Remove(el)
		delete(c.items, key)
	}
}

// Len returns how many entries the LRU holds, expired ones included.
func (c *LRU[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// Key joins parts into one key (NUL-separated), for entries keyed by
// several strings.
func Key(parts ...string) string {
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
