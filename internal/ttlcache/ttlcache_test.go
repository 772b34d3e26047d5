package ttlcache

import (
	"fmt"
	"testing"
	"time"
)

// TestLRU checks expiry by the clock, eviction of the least recently
// used entry, Remove and Key.
func TestLRU(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := New[int](2, time.Second, func() time.Time { return now })
	c.Put("a", 1)
	c.Put("b", 2)
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("Get(a) = %d, %v; want 1, true", v, ok)
	}
	c.Put("c", 3) // b is the least recently used
	if _, ok := c.Get("b"); ok {
		t.Errorf("Get(b) after a third entry: found; want it evicted")
	}
	now = now.Add(999 * time.Millisecond)
	if v, ok := c.Get("c"); !ok || v != 3 {
		t.Errorf("Get(c) before its expiry = %d, %v; want 3, true", v, ok)
	}
	now = now.Add(time.Millisecond)
	if _, ok := c.Get("c"); ok {
		t.Errorf("Get(c) at its expiry: found; want a miss")
	}
	c.Put("a", 10)
	c.Remove("a")
	if _, ok := c.Get("a"); ok || c.Len() != 0 {
		t.Errorf("after Remove: found a or Len %d; want nothing", c.Len())
	}
	if got, want := Key("x", "y"), "x\x00y"; got != want {
		t.Errorf("Key = %q; want %q", got, want)
	}
	for i := range 5 {
		c.Put(fmt.Sprint(i), i)
	}
	if c.Len() != 2 {
		t.Errorf("Len after 5 puts = %d; want the capacity 2", c.Len())
	}
}
