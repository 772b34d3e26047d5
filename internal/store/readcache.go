package store

import (
	"sync"

	"github.com/urbis-id/urbis/registry"
	"github.com/urbis-id/urbis/vc/issuer"
	"github.com/urbis-id/urbis/vc/statuslist"
)

// Read caches for the verify path, which would otherwise read the same
// rows on every request: the schemas of a credential type, a status list,
// and the owner of a status list. Each entry is tagged with a generation
// read before the database was; writers bump the generation only after
// their transaction commits, so an entry filled from a read that raced a
// write carries the old generation and is refetched on next use. The
// caches see the writes of this process only: several processes sharing
// one database (not supported today) would need the generation in the
// database.

// readCacheEntries bounds each cache; on overflow it is emptied.
const readCacheEntries = 4096

// genCache maps keys to values tagged with a generation: one global
// generation (gen) or one per key (keyGen).
type genCache[V any] struct {
	mu     sync.Mutex
	gen    uint64
	keyGen map[string]uint64
	m      map[string]genEntry[V]
}

type genEntry[V any] struct {
	gen uint64
	v   V
}

// generation returns the current generation of key.
func (c *genCache[V]) generation(key string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen + c.keyGen[key]
}

// get returns key's value if it was stored at the current generation.
func (c *genCache[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || e.gen != c.gen+c.keyGen[key] {
		var zero V
		return zero, false
	}
	return e.v, true
}

// put stores v for key as read at generation gen.
func (c *genCache[V]) put(key string, gen uint64, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= readCacheEntries {
		c.m = map[string]genEntry[V]{}
	}
	c.m[key] = genEntry[V]{gen: gen, v: v}
}

// bumpAll invalidates every entry.
func (c *genCache[V]) bumpAll() {
	c.mu.Lock()
	c.gen++
	c.mu.Unlock()
}

// bump invalidates key's entry.
func (c *genCache[V]) bump(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keyGen == nil || len(c.keyGen) >= readCacheEntries {
		// Forgetting per-key generations could make an old entry current
		// again; moving the global generation past them all cannot.
		for _, g := range c.keyGen {
			c.gen += g + 1
		}
		c.keyGen = map[string]uint64{}
	}
	c.keyGen[key]++
}

// readCaches are the DB's read caches.
type readCaches struct {
	schemas   genCache[[]registry.Schema]   // by type; bumped by blocks that register schemas
	lists     genCache[statuslist.List]     // by list id; bumped by changes of that list
	listOwner genCache[issuer.StatusRecord] // by list id; a list's owner never changes
}

// cloneList returns l with its own Bitstrings: callers own what List
// returns.
func cloneList(l statuslist.List) statuslist.List {
	if l.Bits != nil {
		l.Bits = l.Bits.Clone()
	}
	if l.Used != nil {
		l.Used = l.Used.Clone()
	}
	return l
}
