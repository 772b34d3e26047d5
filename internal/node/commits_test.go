package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/civic"
	"github.com/urbis-id/urbis/registry"
)

// TestVerifyAgainstCommits replays chains made by the application, which
// stores its blocks unsigned, with registry.VerifyWith and the CometBFT
// commits: a block checks when more than two thirds of the voting power
// of the validators in force at its consensus height (the genesis's,
// then as validator.set changed them, two heights later) signed its
// CometBFT block, and fails, naming the block, when the commit falls
// short, is signed by another set, lacks an operation, or the next block
// records another app hash. The node that stores the blocks holds no
// validator key: its database replays all the same.
func TestVerifyAgainstCommits(t *testing.T) {
	g, keys := testGenesis(t, 2) // v1, v2
	k3, stranger := seedKey("validator-3"), seedKey("stranger")
	v2, v3 := keys[1].Public().(ed25519.PublicKey), k3.Public().(ed25519.PublicKey)
	// good are the proposers of consensus heights 1 to 6: v3 is added at
	// height 1 (in force from 3), v2 removed at height 4 (out from 6);
	// height 3 commits no operation, so makes no registry block.
	good := []ed25519.PrivateKey{keys[0], keys[0], k3, keys[1], keys[1], k3}
	with := func(h int, p ed25519.PrivateKey) []ed25519.PrivateKey {
		ps := slices.Clone(good)
		ps[h-1] = p
		return ps
	}
	a1, a2 := Address(keys[0].Public().(ed25519.PublicKey)), Address(v2)
	signAt := func(height int64, addrs ...string) func(c *cometChain) {
		return func(c *cometChain) {
			c.signers = func(h int64, in []string) []string {
				if h != height {
					return nil
				}
				if addrs == nil {
					return in[:1]
				}
				return addrs
			}
		}
	}
	for _, c := range []struct {
		name      string
		proposers []ed25519.PrivateKey
		before    func(c *cometChain) // changes how the chain is made
		after     func(c *cometChain) // alters the blocks made
		height    uint64              // the registry block that fails, 0 if none
		want      string
	}{
		{"validators added and removed", good, nil, nil, 0, ""},
		{"proposed by a validator not yet in force", with(2, k3), nil, nil, 2,
			`proposer "v3", which is not a validator in force at block 2 (consensus height 2): the validator.set of block 1 gave it power 10 from consensus height 3`},
		{"proposed by a removed validator", with(6, keys[1]), nil, nil, 5,
			`proposer "v2", which is not a validator in force at block 5 (consensus height 6): the validator.set of block 3 removed it from consensus height 6`},
		{"proposed by a key that never was a validator", with(2, stranger), nil, nil, 2,
			`proposer "` + Address(stranger.Public().(ed25519.PublicKey)) + `", which is not a validator in force at block 2 (consensus height 2): neither the genesis of chain node-test nor a validator change before this block made it a validator`},
		{"a commit short of two thirds", good, signAt(4), nil, 3,
			"CometBFT block 4: the commit does not carry signatures of more than two thirds of the voting power"},
		{"signed by the removed validator and one in force", good, signAt(6, a1, a2), nil, 5,
			"CometBFT block 6: the commit does not carry signatures of more than two thirds of the voting power"},
		{"validator changes applied a height early", good, func(c *cometChain) { c.early = true }, nil, 2,
			"CometBFT block 2 is signed by another validator set than the one in force"},
		{"an operation missing from the CometBFT block", good, nil, func(c *cometChain) { c.blocks[5].Txs = nil }, 4,
			"operation 0 is not a transaction of CometBFT block 5"},
		{"the next block records another app hash", good, nil, func(c *cometChain) { c.metas[6].Header.AppHash = hashBytes(g.Hash()) }, 4,
			"CometBFT block 6 records the app hash " + g.Hash()},
	} {
		t.Run(c.name, func(t *testing.T) {
			kind := dbKinds()[0]
			db := openDB(t, kind)
			// The storing node holds no validator key at all.
			a, err := NewApp(context.Background(), AppConfig{Store: db, Genesis: g, Programs: civic.Programs()})
			if err != nil {
				t.Fatal(err)
			}
			chain := newCometChain(t, g, keys[0], keys[1], k3, stranger)
			if c.before != nil {
				c.before(chain)
			}
			gov := keySigner(t, "gov")
			alice, createA := create(t, g.ChainID, "alice")
			ops := [][]string{
				{gov.setValidator(t, g.ChainID, 1, "v3", v3, 10), createA},
				{alice.update(t, g.ChainID)},
				nil,
				{gov.setValidator(t, g.ChainID, 2, "v2", v2, 0), alice.update(t, g.ChainID)},
				{alice.update(t, g.ChainID)},
				{alice.update(t, g.ChainID)},
			}
			for i, p := range c.proposers {
				if resp := chain.finalize(a, p, ops[i]...); slices.ContainsFunc(codes(resp), func(c uint32) bool { return c != codeOK }) {
					t.Fatalf("consensus height %d: got codes %v; want all accepted", i+1, codes(resp))
				}
			}
			if c.after != nil {
				c.after(chain)
			}
			head, err := db.Head(context.Background())
			if err != nil || head.Height != 5 || head.ConsensusHeight != 6 {
				t.Fatalf("head: got block %d at consensus height %d (%v); want block 5 at 6", head.Height, head.ConsensusHeight, err)
			}
			err = chain.verify(db, openDB(t, kind), g)
			if c.height == 0 {
				if err != nil {
					t.Fatalf("registry verify: %v", err)
				}
				return
			}
			var ve *registry.VerifyError
			if !errors.As(err, &ve) || ve.Height != c.height || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("registry verify: got %v; want a failure at block %d saying %q", err, c.height, c.want)
			}
		})
	}
}

// TestVerifyWithoutCommits replays a chain of the application without
// its commits: the first block fails, saying where its authority is.
func TestVerifyWithoutCommits(t *testing.T) {
	g, keys := testGenesis(t, 1)
	db := openDB(t, dbKinds()[0])
	a := newApp(t, db, g, keys, 0)
	_, op := create(t, g.ChainID, "alice")
	newCometChain(t, g, keys[0]).finalize(a, keys[0], op)
	err := registry.Verify(context.Background(), db, openDB(t, dbKinds()[0]), g, nil, validatorPrograms(g)...)
	want := "block 1: made at consensus height 1, it carries no signature: its authority is the consensus engine's commit"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("registry verify without commits: got %v; want %q", err, want)
	}
}

func validatorPrograms(g *registry.Genesis) []registry.Program {
	return append(civic.Programs(), ValidatorProgram(g))
}
