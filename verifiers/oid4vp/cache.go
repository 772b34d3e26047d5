package oid4vp

import (
	"sync"
	"time"
)

// maxCached bounds the pending requests the Service keeps in memory.
const maxCached = 4096

// pendingCache keeps the requests this process created while they are
// pending, so that serving the request object and reading the request
// for the wallet's answer need no database read (two of the three reads
// of a flow). Only what never changes is used from it: the request
// object, nonce, state, query, expiry, webhook. Whether a request is
// still pending is decided by the store's conditional UPDATE, as always:
// an entry leaves the cache when this process stores an answer (or learns
// of one), and a request answered by another process sharing the
// database is refused by the UPDATE, so nothing is answered twice; such
// a request's object may only be served by this process until it
// expires. A full cache caches nothing more until entries expire; the
// database then answers as before.
type pendingCache struct {
	mu sync.Mutex
	m  map[string]Request
}

func (c *pendingCache) put(r Request, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]Request{}
	}
	if len(c.m) >= maxCached {
		for id, x := range c.m {
			if !now.Before(x.ExpiresAt) {
				delete(c.m, id)
			}
		}
		if len(c.m) >= maxCached {
			return
		}
	}
	c.m[r.ID] = r
}

// get returns the pending request id if this process holds it.
func (c *pendingCache) get(id string) (Request, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[id]
	return r, ok
}

func (c *pendingCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}
