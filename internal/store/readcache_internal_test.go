package store

import (
	"fmt"
	"testing"
)

// TestGenCacheRacingWrite: a value read before a write commits, and put
// after, is not served; overflowing the per-key generations does not make
// an old entry current again.
func TestGenCacheRacingWrite(t *testing.T) {
	var c genCache[string]
	g := c.generation("a")
	c.bump("a") // a write commits between the read and the put
	c.put("a", g, "old")
	if v, ok := c.get("a"); ok {
		t.Errorf("got %q from a read that raced a write; want a miss", v)
	}
	c.put("a", c.generation("a"), "new")
	if v, ok := c.get("a"); !ok || v != "new" {
		t.Errorf("got %q, %v; want new", v, ok)
	}
	c.put("b", c.generation("b"), "b0")
	old := c.generation("a")
	for i := range readCacheEntries + 1 { // overflows keyGen
		c.bump(fmt.Sprint("k", i))
	}
	if _, ok := c.get("a"); ok {
		t.Error("entry a survived the reset of per-key generations")
	}
	if c.generation("a") <= old {
		t.Errorf("generation of a went from %d to %d; want it to grow", old, c.generation("a"))
	}
	c.bumpAll()
	if _, ok := c.get("b"); ok {
		t.Error("entry b survived bumpAll")
	}
}
