package provenance

import (
	"slices"
	"strings"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// findLeaf returns the index of the leaf.
func findLeaf(links []Link, byHash map[string]int, leaf string) (int, error) {
	if leaf != "" {
		i, ok := byHash[leaf]
		if !ok {
			return 0, errkind.Field(errkind.Invalid, "leaf", "%s is not the hash of any of the credentials sent", leaf)
		}
		return i, nil
	}
	named := map[string]bool{}
	for _, l := range links {
		for _, p := range l.Parents {
			named[p] = true
		}
	}
	var roots []string
	idx := 0
	for i, l := range links {
		if !named[l.Hash] {
			roots = append(roots, l.Hash)
			idx = i
		}
	}
	switch len(roots) {
	case 1:
		return idx, nil
	case 0:
		return 0, nil // every credential is someone's parent: a cycle, which the graph check names
	}
	return 0, errkind.Field(errkind.Invalid, "leaf", "%d credentials are named as a parent by no other (%s); say which is the leaf", len(roots), strings.Join(roots, ", "))
}

// checkParents checks that each parent is present and no later than its child.
func checkParents(links []Link, byHash map[string]int) {
	for i := range links {
		l := &links[i]
		if slices.ContainsFunc(l.Errors, func(f Finding) bool { return f.Check == CheckAttestation }) {
			continue
		}
		for _, p := range l.Parents {
			j, ok := byHash[p]
			switch {
			case !ok:
				l.fail(CheckParents, "parent %s is missing: it is not among the credentials sent", p)
			case j == i:
				l.fail(CheckCycle, "names itself as its parent")
			case !links[j].Issued.IsZero() && links[j].Issued.After(l.Issued):
				l.fail(CheckParents, "parent %s was issued at %s, after this attestation (%s): an attestation can only build on earlier ones",
					p, links[j].Issued.UTC().Format(time.RFC3339), l.Issued.UTC().Format(time.RFC3339))
			}
		}
		l.pass(CheckParents)
	}
}

// checkGraph walks the parents from the leaf: a parent already on the
// path closes a cycle; a credential the walk never reaches is not part
// of the leaf's chain.
func checkGraph(links []Link, byHash map[string]int, leaf int) {
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]int, len(links))
	var path []int
	var walk func(i int)
	walk = func(i int) {
		state[i] = onPath
		path = append(path, i)
		for _, p := range links[i].Parents {
			j, ok := byHash[p]
			if !ok || j == i {
				continue
			}
			switch state[j] {
			case onPath:
				k := slices.Index(path, j)
				var names []string
				for _, n := range path[k:] {
					names = append(names, short(links[n].Hash))
				}
				links[i].fail(CheckCycle, "parent %s is also its descendant: the links form a cycle %s → %s", p, strings.Join(names, " → "), short(p))
			case unseen:
				walk(j)
			}
		}
		path = path[:len(path)-1]
		state[i] = done
	}
	walk(leaf)
	for i := range links {
		if state[i] == unseen {
			links[i].fail(CheckChain, "is not an ancestor of the leaf %s", links[leaf].Hash)
			continue
		}
		links[i].pass(CheckCycle)
		links[i].pass(CheckChain)
	}
}

func short(h string) string { return h[:12] + "…" }
