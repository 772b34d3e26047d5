package store

import "sync"

// stateCacheSize bounds the DIDs the state cache holds (about 1 KiB
// each); when it is full, it starts again empty. Small, as a replay of
// a chain of a million creates fills it with DIDs it will not see again.
const stateCacheSize = 16_384

// stateCache holds the latest committed version (nil: none) and the nonce
// of recently used DIDs, so that a block's Prefetch does not read them
// again. Block transactions are the only writers of both tables, and
// InBlockTx updates the cache only after its commit succeeds; a failed
// commit empties it. Rows in it are never changed: readers share them.
type stateCache struct {
	mu      sync.Mutex
	entries map[string]stateEntry
}

type stateEntry struct {
	row   *dbDIDVersion
	nonce int64
}

func (c *stateCache) get(did string) (stateEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[did]
	return e, ok
}

// apply records what a committed block left: set holds DIDs whose latest
// version and nonce are both known, drop those only partly known.
func (c *stateCache) apply(set map[string]stateEntry, drop []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries)+len(set) > stateCacheSize {
		c.entries = make(map[string]stateEntry, len(set))
	}
	for _, d := range drop {
		delete(c.entries, d)
	}
	for d, e := range set {
		c.entries[d] = e
	}
}

func (c *stateCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = nil
}

// cacheUpdate works out, before flush empties the overlay, what the
// block leaves for the state cache: the latest version and nonce of each
// DID it prefetched or wrote, where both are known.
func (o *overlay) cacheUpdate() (map[string]stateEntry, []string) {
	set := make(map[string]stateEntry, len(o.dbRows)+len(o.versions))
	var drop []string
	known := func(d string) {
		row, rowKnown := o.dbRows[d]
		if v, ok := o.latest(d); ok {
			// Putting a version read the database's highest first.
			if max, read := o.dbLatest[d]; read && v.Version > max {
				c := *v // the overlay's log is cleared after the flush
				row, rowKnown = &c, true
			} else {
				rowKnown = false
			}
		}
		nonce, nonceKnown := o.dbNonces[d]
		if pos := o.nonces[d]; len(pos) > 0 {
			nonce, nonceKnown = o.log[pos[len(pos)-1]].nonce, true
		}
		if rowKnown && nonceKnown {
			set[d] = stateEntry{row: row, nonce: nonce}
		} else {
			drop = append(drop, d)
		}
	}
	for d := range o.dbRows {
		known(d)
	}
	for d := range o.versions {
		if _, done := set[d]; !done {
			known(d)
		}
	}
	for d := range o.nonces {
		if _, done := set[d]; !done {
			known(d)
		}
	}
	return set, drop
}
