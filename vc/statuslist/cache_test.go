package statuslist

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

func newTestCache(t *testing.T, entries int, bytes int64) (*Cache, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	c, err := NewCache(CacheConfig{MaxEntries: entries, MaxBytes: bytes, TTL: 5 * time.Minute, Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return c, clock
}

func body(n int) []byte { return []byte(strings.Repeat("x", n)) }

// has returns which of urls are cached, as a string like "a b".
func has(c *Cache, urls ...string) string {
	var got []string
	for _, u := range urls {
		if _, ok := c.Get(u); ok {
			got = append(got, u)
		}
	}
	return strings.Join(got, " ")
}

func TestNewCacheConfig(t *testing.T) {
	for _, cfg := range []CacheConfig{
		{MaxEntries: 0, MaxBytes: 1, TTL: time.Second},
		{MaxEntries: 1, MaxBytes: 0, TTL: time.Second},
		{MaxEntries: 1, MaxBytes: 1, TTL: 0},
	} {
		if _, err := NewCache(cfg); errkind.KindOf(err) != errkind.Invalid {
			t.Errorf("NewCache(%+v) = %v; want Invalid", cfg, err)
		}
	}
}

func TestCacheEvictsByCount(t *testing.T) {
	c, _ := newTestCache(t, 2, 1<<20)
	c.Put("a", body(1), 0)
	c.Put("b", body(1), 0)
	if got := has(c, "a"); got != "a" { // a is now the most recently used
		t.Fatalf("got %q; want a", got)
	}
	c.Put("c", body(1), 0)
	if got, want := has(c, "a", "b", "c"), "a c"; got != want {
		t.Errorf("got cached %q; want %q (b least recently used)", got, want)
	}
	if n, size := c.Len(); n != 2 || size != 2 {
		t.Errorf("Len() = %d, %d; want 2, 2", n, size)
	}
}

func TestCacheEvictsByBytes(t *testing.T) {
	c, _ := newTestCache(t, 100, 100)
	c.Put("a", body(40), 0)
	c.Put("b", body(40), 0)
	c.Put("c", body(40), 0)
	if got, want := has(c, "a", "b", "c"), "b c"; got != want {
		t.Errorf("got cached %q; want %q", got, want)
	}
	c.Put("b", body(10), 0) // replacing frees the old bytes
	if _, size := c.Len(); size != 50 {
		t.Errorf("got %d bytes; want 50", size)
	}
	c.Put("huge", body(101), 0)
	c.Put("c", body(101), 0) // too big: not cached, and the old c goes
	if got, want := has(c, "b", "c", "huge"), "b"; got != want {
		t.Errorf("got cached %q; want %q (bodies over MaxBytes are not kept)", got, want)
	}
	if n, size := c.Len(); n != 1 || size != 10 {
		t.Errorf("Len() = %d, %d; want 1, 10", n, size)
	}
}

func TestCacheTTL(t *testing.T) {
	c, clock := newTestCache(t, 10, 1<<20)
	c.Put("long", body(3), 0)
	c.Put("short", body(3), time.Minute)
	c.Put("capped", body(3), time.Hour) // capped at the cache's 5 minutes
	tests := []struct {
		after time.Duration
		want  string
	}{
		{59 * time.Second, "long short capped"},
		{time.Minute, "long capped"},
		{5*time.Minute - time.Nanosecond, "long capped"},
		{5 * time.Minute, ""},
	}
	start := clock.Now()
	for _, tt := range tests {
		clock.Advance(start.Add(tt.after).Sub(clock.Now()))
		if got := has(c, "long", "short", "capped"); got != tt.want {
			t.Errorf("after %v: got cached %q; want %q", tt.after, got, tt.want)
		}
	}
	if n, size := c.Len(); n != 0 || size != 0 {
		t.Errorf("Len() = %d, %d; want expired entries gone", n, size)
	}
}

func TestCacheKeepsACopy(t *testing.T) {
	c, _ := newTestCache(t, 10, 1<<20)
	b := []byte("abc")
	c.Put("a", b, 0)
	b[0] = 'X'
	if got, _ := c.Get("a"); string(got) != "abc" {
		t.Errorf("got %q; want \"abc\" unaffected by the caller's later writes", got)
	}
}

func TestCacheConcurrent(t *testing.T) {
	c, _ := newTestCache(t, 16, 1<<10)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				u := fmt.Sprintf("u%d", (g*7+i)%40)
				if _, ok := c.Get(u); !ok {
					c.Put(u, body(i%100), 0)
				}
			}
		})
	}
	wg.Wait()
	if n, size := c.Len(); n > 16 || size > 1<<10 {
		t.Errorf("Len() = %d, %d; want at most 16 entries, 1024 bytes", n, size)
	}
}
