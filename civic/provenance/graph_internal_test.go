package provenance

import (
	"strings"
	"testing"
	"time"
)

// A cycle needs attestations that name each other's hashes, which no one
// can issue (each hash covers the parents it names), so the graph checks
// are attacked here on links made by hand.
func TestGraphChecks(t *testing.T) {
	h := func(c byte) string { return strings.Repeat(string(c), hashLen) }
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	link := func(c byte, at int, parents ...byte) Link {
		l := Link{Hash: h(c), Issued: t0.Add(time.Duration(at) * time.Hour)}
		for _, p := range parents {
			l.Parents = append(l.Parents, h(p))
		}
		return l
	}
	cases := []struct {
		name  string
		links []Link
		leaf  string
		want  []string // "hash letter:check" of the failures, in link order
	}{
		{"a chain", []Link{link('c', 3, 'b'), link('b', 2, 'a'), link('a', 1)}, "", nil},
		{"two parents", []Link{link('c', 3, 'a', 'b'), link('b', 2), link('a', 1)}, "", nil},
		{"a cycle of two", []Link{link('c', 3, 'b'), link('b', 2, 'a'), link('a', 1, 'b')}, "", []string{"a:parents", "a:cycle"}},
		{"a cycle of three, no leaf", []Link{link('c', 1, 'b'), link('b', 1, 'a'), link('a', 1, 'c')}, "", []string{"a:cycle"}},
		{"itself as parent", []Link{link('a', 1, 'a')}, h('a'), []string{"a:cycle"}},
		{"a missing parent", []Link{link('b', 2, 'a', 'z'), link('a', 1)}, "", []string{"b:parents"}},
		{"a later parent", []Link{link('b', 1, 'a'), link('a', 2)}, "", []string{"b:parents"}},
		{"a stray credential", []Link{link('b', 2, 'a'), link('a', 1), link('x', 1)}, h('b'), []string{"x:chain"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			byHash := map[string]int{}
			for i, l := range c.links {
				byHash[l.Hash] = i
			}
			leaf, err := findLeaf(c.links, byHash, c.leaf)
			if err != nil {
				t.Fatal(err)
			}
			checkParents(c.links, byHash)
			checkGraph(c.links, byHash, leaf)
			var got []string
			for _, l := range c.links {
				for _, f := range l.Errors {
					got = append(got, l.Hash[:1]+":"+f.Check)
				}
			}
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("failures: got %v; want %v", got, c.want)
			}
		})
	}
	byHash := map[string]int{h('a'): 0, h('b'): 1}
	if _, err := findLeaf([]Link{link('a', 1), link('b', 1)}, byHash, ""); err == nil || !strings.Contains(err.Error(), "2 credentials are named as a parent by no other") {
		t.Errorf("two leaves: got %v; want an error asking which is the leaf", err)
	}
}
