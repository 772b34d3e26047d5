package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// anchorBlock returns the anchor proofs of the leaves of one batch of n
// credentials, anchored in a signed block after another operation.
func anchorBlock(t *testing.T, n int, payload func(root string) AnchorPayload) (*Genesis, []AnchorProof) {
	g, _, val := testGenesis(t)
	k := seedKey("issuer")
	_, kid := keyKID(t, k)
	var leaves []string
	for i := range n {
		sum := sha256.Sum256(fmt.Appendf(nil, "credential %d", i))
		leaves = append(leaves, hex.EncodeToString(sum[:]))
	}
	root := MerkleRoot(leaves)
	other := signed(t, KindAnchor, kid, 1, AnchorPayload{Root: strings.Repeat("0", 64)}, k)
	op := signed(t, KindAnchor, kid, 2, payload(root), k)
	hashes := []string{other.Hash, op.Hash}
	h := Header{Chain: g.ChainID, Height: 7, Previous: ZeroHash, Time: genesisTime.Add(time.Hour), OpCount: 2,
		OpsRoot: MerkleRoot(hashes), StateRoot: g.Hash(), Proposer: "validator-1"}
	opProof := Proof{Operation: op.JWS, Hash: op.Hash, Index: 1, Path: MerklePath(hashes, 1), Header: h,
		Signatures: []Signature{SignHeader(h, "validator-1", val)}}
	var out []AnchorProof
	for i, l := range leaves {
		out = append(out, AnchorProof{Leaf: l, LeafIndex: i, BatchSize: n, MerklePath: MerklePath(leaves, i), Root: root, Operation: opProof})
	}
	return g, out
}

func TestCheckAnchorProof(t *testing.T) {
	counted := func(n int) func(string) AnchorPayload {
		return func(root string) AnchorPayload { return AnchorPayload{Root: root, Count: n} }
	}
	g, proofs := anchorBlock(t, 5, counted(5))
	issuer, _ := keyKID(t, seedKey("issuer"))
	for i, p := range proofs {
		t.Run(fmt.Sprint("good ", i), func(t *testing.T) {
			a, err := CheckAnchorProof(p, g)
			if err != nil {
				t.Fatalf("got %v; want no error", err)
			}
			if a.Issuer != issuer || a.Height != 7 || !a.Time.Equal(genesisTime.Add(time.Hour)) {
				t.Errorf("got %+v; want issuer %s at height 7, %s", a, issuer, genesisTime.Add(time.Hour))
			}
		})
	}
	_, single := anchorBlock(t, 1, counted(0))
	if _, err := CheckAnchorProof(single[0], g); err != nil {
		t.Errorf("batch of one: got %v; want no error", err)
	}
	_, miscounted := anchorBlock(t, 3, counted(4))
	_, otherRoot := testBlock(t, 1)
	edit := func(f func(p *AnchorProof)) AnchorProof {
		p := proofs[2]
		p.MerklePath = append([]string(nil), p.MerklePath...)
		f(&p)
		return p
	}
	flip := func(h string) string {
		if h[0] == '0' {
			return "1" + h[1:]
		}
		return "0" + h[1:]
	}
	tests := []struct {
		name string
		p    AnchorProof
		want string
	}{
		{"leaf altered", edit(func(p *AnchorProof) { p.Leaf = flip(p.Leaf) }), "does not lead from leaf"},
		{"leaf not hex", edit(func(p *AnchorProof) { p.Leaf = "abc" }), "64 lowercase hex"},
		{"index altered", edit(func(p *AnchorProof) { p.LeafIndex = 3 }), "does not lead from leaf"},
		{"index outside", edit(func(p *AnchorProof) { p.LeafIndex = 5 }), "does not lead from leaf"},
		{"size altered, same path", edit(func(p *AnchorProof) { p.BatchSize = 8 }), "counts 5 credentials"},
		{"size altered", edit(func(p *AnchorProof) { p.BatchSize = 3 }), "does not lead from leaf"},
		{"path altered", edit(func(p *AnchorProof) { p.MerklePath[0] = flip(p.MerklePath[0]) }), "does not lead from leaf"},
		{"path shortened", edit(func(p *AnchorProof) { p.MerklePath = p.MerklePath[1:] }), "does not lead from leaf"},
		{"root of another batch", edit(func(p *AnchorProof) {
			*p = miscounted[0]
			p.Root = proofs[0].Root
			p.MerklePath = proofs[0].MerklePath
			p.Leaf = proofs[0].Leaf
			p.LeafIndex = 0
			p.BatchSize = 5
		}), "anchors root"},
		{"count differs", miscounted[1], "counts 4 credentials"},
		{"operation proof altered", edit(func(p *AnchorProof) { p.Operation.Index = 0 }), "does not lead from operation"},
		{"header of another block", edit(func(p *AnchorProof) { p.Operation.Header.Height = 8 }), "proof block 8"},
		{"operation of another root", edit(func(p *AnchorProof) { p.Operation = otherRoot[0] }), "anchors root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CheckAnchorProof(tt.p, g)
			wantErr(t, err, errkind.Invalid, tt.want)
		})
	}
}
