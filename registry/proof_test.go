package registry

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// testBlock returns a signed block of n anchor operations and its proofs.
func testBlock(t *testing.T, n int) (*Genesis, []Proof) {
	g, _, val := testGenesis(t)
	k := seedKey("issuer")
	_, kid := keyKID(t, k)
	var ops, hashes []string
	for i := range n {
		s := signed(t, KindAnchor, kid, uint64(i+1), AnchorPayload{Root: fmt.Sprintf("%064x", i)}, k)
		ops, hashes = append(ops, s.JWS), append(hashes, s.Hash)
	}
	h := Header{Chain: g.ChainID, Height: 3, Previous: ZeroHash, Time: genesisTime.Add(time.Hour), OpCount: n,
		OpsRoot: MerkleRoot(hashes), StateRoot: g.Hash(), Proposer: "validator-1"}
	sigs := []Signature{SignHeader(h, "validator-1", val)}
	var proofs []Proof
	for i := range n {
		proofs = append(proofs, Proof{Operation: ops[i], Hash: hashes[i], Index: i, Path: MerklePath(hashes, i), Header: h, Signatures: sigs})
	}
	return g, proofs
}

func TestCheckProof(t *testing.T) {
	g, proofs := testBlock(t, 5)
	for i, p := range proofs {
		t.Run(fmt.Sprint("good ", i), func(t *testing.T) {
			if err := CheckProof(p, g); err != nil {
				t.Errorf("got %v; want no error", err)
			}
		})
	}
	other, _ := testBlock(t, 5)
	other.ChainID = "other-chain"
	tests := []struct {
		name string
		edit func(*Proof, **Genesis)
		want string
	}{
		{"tampered operation", func(p *Proof, _ **Genesis) { p.Operation = proofs[1].Operation }, "not to the proof's hash"},
		{"tampered operation and hash", func(p *Proof, _ **Genesis) { p.Operation, p.Hash = proofs[1].Operation, proofs[1].Hash },
			"does not lead from operation"},
		{"wrong path", func(p *Proof, _ **Genesis) { p.Path = proofs[1].Path }, "does not lead from operation"},
		{"wrong index", func(p *Proof, _ **Genesis) { p.Index = 1 }, "does not lead from operation"},
		{"index outside", func(p *Proof, _ **Genesis) { p.Index = 9 }, "outside block 3"},
		{"unsigned header", func(p *Proof, _ **Genesis) { p.Signatures = nil }, "not signed"},
		{"header signed by another key", func(p *Proof, _ **Genesis) {
			p.Signatures = []Signature{SignHeader(p.Header, "validator-1", seedKey("mallory"))}
		}, "does not verify against the genesis key"},
		{"header signed by a stranger", func(p *Proof, _ **Genesis) {
			p.Signatures = []Signature{SignHeader(p.Header, "mallory", seedKey("mallory"))}
		}, `"mallory", which is not a genesis validator`},
		{"header edited after signing", func(p *Proof, _ **Genesis) { p.Header.StateRoot = ZeroHash }, "does not verify"},
		{"other chain", func(_ *Proof, gp **Genesis) { *gp = other }, `is for chain "test-chain"; the genesis is of chain "other-chain"`},
		{"no genesis", func(_ *Proof, gp **Genesis) { *gp = nil }, "no genesis"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, gg := proofs[0], g
			p.Path = append([]string(nil), p.Path...)
			tt.edit(&p, &gg)
			wantErr(t, CheckProof(p, gg), errkind.Invalid, tt.want)
		})
	}
}

func TestHeaderHash(t *testing.T) {
	h := Header{Chain: "c", Height: 1, Previous: ZeroHash, Time: time.Date(2030, 1, 1, 12, 0, 0, 5, time.UTC)}
	paris := h
	paris.Time = h.Time.In(time.FixedZone("CET", 3600))
	if h.Hash() != paris.Hash() {
		t.Errorf("got different hashes for one instant in two zones; want the same")
	}
	later := h
	later.Time = h.Time.Add(time.Nanosecond)
	if h.Hash() == later.Hash() {
		t.Errorf("got the same hash for two times; want different")
	}
	b, _ := Canonical(Header{Time: h.Time})
	if !strings.Contains(string(b), `"time":"2030-01-01T12:00:00.000000005Z"`) {
		t.Errorf("got %s; want the time in UTC RFC 3339 with nanoseconds", b)
	}
}
