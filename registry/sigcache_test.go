package registry

import (
	"crypto/ed25519"
	"testing"
)

func TestSigCache(t *testing.T) {
	pub1, _, _ := ed25519.GenerateKey(nil)
	pub2, _, _ := ed25519.GenerateKey(nil)
	c := newSigCache(2)
	c.add("op1", pub1)
	c.add("op2", pub1)
	if !c.has("op1", pub1) || !c.has("op2", pub1) {
		t.Fatal("got a miss for a pair just added; want both remembered")
	}
	if c.has("op1", pub2) {
		t.Error("got a hit for op1 with another key; want a miss")
	}
	if c.has("unknown", nil) {
		t.Error("got a hit for a key of no known type; want a miss")
	}
	c.add("op3", pub2) // the cache holds two: op1 goes
	if c.has("op1", pub1) || !c.has("op2", pub1) || !c.has("op3", pub2) {
		t.Errorf("after a third pair: op1 %v, op2 %v, op3 %v; want false, true, true",
			c.has("op1", pub1), c.has("op2", pub1), c.has("op3", pub2))
	}
	if len(c.digests.set) != 2 {
		t.Errorf("cache holds %d pairs; want 2", len(c.digests.set))
	}
}
