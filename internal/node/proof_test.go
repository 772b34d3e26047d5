package node

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/civic"
	"github.com/urbis-id/urbis/registry"
)

// TestProofAfterValidatorChanges checks the REST API's proof of an
// operation committed after validator.set added v3 and removed v2: the
// registry's Merkle path and header, vouched for by the CometBFT commit
// proof in Consensus, which carries the validator-set history; it checks
// against the genesis, and fails without the history, without the
// commit proof, with another operation's, or with the header altered.
func TestProofAfterValidatorChanges(t *testing.T) {
	ctx := context.Background()
	g, keys := testGenesis(t, 2)
	k3 := seedKey("validator-3")
	db := openDB(t, dbKinds()[0])
	a, err := NewApp(ctx, AppConfig{Store: db, Genesis: g, Programs: civic.Programs()})
	if err != nil {
		t.Fatal(err)
	}
	chain := newCometChain(t, g, keys[0], keys[1], k3)
	gov := keySigner(t, "gov")
	alice, createA := create(t, g.ChainID, "alice")
	for _, b := range []struct {
		proposer ed25519.PrivateKey
		ops      []string
	}{
		{keys[0], []string{gov.setValidator(t, g.ChainID, 1, "v3", k3.Public().(ed25519.PublicKey), 10), createA}},
		{keys[0], []string{gov.setValidator(t, g.ChainID, 2, "v2", keys[1].Public().(ed25519.PublicKey), 0)}},
		{k3, nil},
		{k3, []string{alice.update(t, g.ChainID)}},
		{keys[0], nil},
	} {
		chain.finalize(a, b.proposer, b.ops...)
	}
	proofOf := func(height int64, i int) registry.Proof {
		t.Helper()
		op := string(chain.blocks[height].Txs[i])
		st, err := db.OpStatus(ctx, opHash(op))
		if err != nil {
			t.Fatal(err)
		}
		p, err := registry.ProofFrom(ctx, db, st)
		if err != nil {
			t.Fatal(err)
		}
		cp := chain.commitProof(height, i)
		if p.Consensus, err = json.Marshal(cp); err != nil {
			t.Fatal(err)
		}
		return p
	}
	check := ConsensusCheck(chain.doc)
	good := proofOf(4, 0)
	if len(good.Signatures) != 0 || good.Header.ConsensusHeight != 4 {
		t.Fatalf("proof: got %d signatures at consensus height %d; want none, at 4", len(good.Signatures), good.Header.ConsensusHeight)
	}
	for _, c := range []struct {
		name  string
		edit  func(p *registry.Proof)
		check registry.ConsensusCheck
		want  string
	}{
		{"as served", func(*registry.Proof) {}, check, ""},
		{"without the validator-set history", func(p *registry.Proof) {
			var cp CommitProof
			_ = json.Unmarshal(p.Consensus, &cp)
			cp.History = nil
			p.Consensus, _ = json.Marshal(cp)
		}, check, "is signed by another validator set than the one in force"},
		{"checked without a consensus check", func(*registry.Proof) {}, nil, "the proof rests on its commit"},
		{"without the commit proof", func(p *registry.Proof) { p.Consensus = nil }, check, "carries no signature"},
		{"with another operation's commit proof", func(p *registry.Proof) { p.Consensus = proofOf(2, 0).Consensus }, check, "the commit proof is of another operation"},
		{"with the header's state root altered", func(p *registry.Proof) { p.Header.StateRoot = g.Hash() }, check, "the header's state root is " + g.Hash()},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := good
			p.Consensus = slices.Clone(good.Consensus)
			c.edit(&p)
			err := registry.CheckProofWith(p, g, c.check)
			if c.want == "" {
				if err != nil {
					t.Fatalf("CheckProofWith: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("CheckProofWith: got %v; want a failure saying %q", err, c.want)
			}
		})
	}
}

// TestLoadGenesis reads the genesis a proof is checked against from a
// registry genesis and from a CometBFT genesis: the same registry
// genesis, and the CometBFT validators (those of GenesisDoc for the
// registry genesis, the file's own for the CometBFT one).
func TestLoadGenesis(t *testing.T) {
	g, _ := testGenesis(t, 2)
	dir := t.TempDir()
	regFile, cmtFile := filepath.Join(dir, "registry.json"), filepath.Join(dir, "genesis.json")
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(regFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	doc, err := GenesisDoc(g)
	if err != nil {
		t.Fatal(err)
	}
	doc.Validators[1].Power = 30 // a genesis assembled by hand
	doc.AppState = b
	if err := doc.SaveAs(cmtFile); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file   string
		powers []int64
	}{
		{regFile, []int64{GenesisPower, GenesisPower}},
		{cmtFile, []int64{GenesisPower, 30}},
	} {
		gotG, gotDoc, err := LoadGenesis(c.file)
		if err != nil {
			t.Fatalf("LoadGenesis(%s): %v", c.file, err)
		}
		if gotG.Hash() != g.Hash() || gotDoc.ChainID != g.ChainID {
			t.Errorf("LoadGenesis(%s): got genesis %s of chain %s; want %s of %s", c.file, gotG.Hash(), gotDoc.ChainID, g.Hash(), g.ChainID)
		}
		var powers []int64
		for _, v := range gotDoc.Validators {
			powers = append(powers, v.Power)
		}
		if !slices.Equal(powers, c.powers) {
			t.Errorf("LoadGenesis(%s): got powers %v; want %v", c.file, powers, c.powers)
		}
	}
	if _, _, err := LoadGenesis(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("LoadGenesis of a missing file: got %v; want the registry's error", err)
	}
}
