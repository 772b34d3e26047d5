package did

import (
	"container/list"
	"sync"
	"time"
)

// lru is a bounded least-recently-used cache of resolution results whose
// entries expire. It is safe for concurrent use.
type lru struct {
	mu    sync.Mutex
	max   int
	order *list.List // front is most recently used; values are *lruEntry
	items map[string]*list.Element
}

type lruEntry struct {
	key     string
	res     *Resolution
	expires time.Time

	// The JSON encodings of res as served from the cache (Cached set):
	// [0] the resolution result, [1] the bare document. Each is made once,
	// on first use, since cached results never change.
	encOnce [2]sync.Once
	enc     [2][]byte
	encErr  [2]error
}

// encoded returns the JSON encoding of the cached result: the bare
// document if bare, else the whole resolution result.
func (e *lruEntry) encoded(bare bool) ([]byte, error) {
	i := 0
	if bare {
		i = 1
	}
	e.encOnce[i].Do(func() {
		c := *e.res
		c.ResolutionMetadata.Cached = true
		e.enc[i], e.encErr[i] = encodeResolution(&c, bare)
	})
	return e.enc[i], e.encErr[i]
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), items: make(map[string]*list.Element)}
}

// get returns the entry for key unless it is absent or expired at now.
func (c *lru) get(key string, now time.Time) (*lruEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*lruEntry)
	if !now.Before(e.expires) {
		c.order.Remove(el)
		delete(c.items, key)
		return nil, false
	}
	c.order.MoveToFront(el)
	return e, true
}

// put stores res under key until expires, evicting the least recently
// used entry when the cache is full.
func (c *lru) put(key string, res *Resolution, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		// A fresh entry, so encodings of the old result are never served.
		el.Value = &lruEntry{key: key, res: res, expires: expires}
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&lruEntry{key: key, res: res, expires: expires})
	for c.order.Len() > c.max {
		el := c.order.Back()
		c.order.Remove(el)
		delete(c.items, el.Value.(*lruEntry).key)
	}
}

// len returns the number of entries, expired ones included.
func (c *lru) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
