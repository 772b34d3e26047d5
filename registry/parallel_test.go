package registry_test

import (
	"cmp"
	"context"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/registry"
)

// forge returns jws with one byte of its signature changed.
func forge(jws string) string {
	i := strings.LastIndexByte(jws, '.') + 5
	c := byte('A')
	if jws[i] == 'A' {
		c = 'B'
	}
	return jws[:i] + string(c) + jws[i+1:]
}

// pendingOps is a signer whose operations queue behind each other (so
// that only the first is verified at submission): a key rotation, then
// an update signed with the rotated-out key, the same nonce signed with
// the new key, and a forged signature; and another signer's forged
// operation behind its first. setup creates the DIDs (eight operations,
// as many as ops).
func pendingOps(t *testing.T, g *registry.Genesis) (setup []registry.SignedOp, ops []string, want []string) {
	k, k2 := seedKey("alice"), seedKey("alice-2")
	alice, id := create(t, g, k)
	bob, bobID := create(t, g, seedKey("bob"))
	carol, carolID := create(t, g, seedKey("carol"))
	setup = []registry.SignedOp{alice, bob, carol}
	for _, name := range []string{"dave", "erin", "frank", "grace", "heidi"} {
		op, _ := create(t, g, seedKey(name))
		setup = append(setup, op)
	}
	rotate := update(t, g, id, 1, k, k2)                  // nonce 2: key-1 becomes k2
	oldKey := update(t, g, id, 2, k, seedKey("alice-3"))  // nonce 3, signed by the old key
	newKey := update(t, g, id, 2, k2, seedKey("alice-4")) // nonce 3, signed by the new key
	forged := update(t, g, id, 3, k2, seedKey("alice-5")) // nonce 4, signature changed
	bobFirst := update(t, g, bobID, 1, seedKey("bob"), seedKey("bob-2"))
	bobForged := update(t, g, bobID, 2, seedKey("bob-2"), seedKey("bob-3"))
	// carol keeps her key: her forged operation is checked before the
	// block with the key it meets in the block.
	carolFirst := update(t, g, carolID, 1, seedKey("carol"), seedKey("carol"))
	carolForged := update(t, g, carolID, 2, seedKey("carol"), seedKey("carol"))
	ops = []string{rotate.JWS, bobFirst.JWS, carolFirst.JWS, oldKey.JWS, newKey.JWS, forge(forged.JWS), forge(bobForged.JWS), forge(carolForged.JWS)}
	want = []string{"", "", "", "signature does not verify", "", "signature does not verify", "signature does not verify", "signature does not verify"}
	return setup, ops, want
}

// applyAlone applies each of ops in its own block with a BlockApplier,
// so that every check runs in order, and returns the reasons.
func applyAlone(t *testing.T, st registry.ChainStore, g *registry.Genesis, ops []string) []string {
	t.Helper()
	ctx := context.Background()
	a := registry.NewBlockApplier(g)
	var reasons []string
	for i, op := range ops {
		h := registry.Header{Chain: g.ChainID, Height: uint64(i + 1), Previous: registry.ZeroHash, Time: genesisTime, Proposer: g.Validators[0].ID}
		err := st.InBlockTx(ctx, func(tx registry.BlockTx) error {
			b, err := a.Apply(ctx, tx, h, g.Hash(), []string{op})
			if err == nil {
				a.Committed(b)
				reasons = append(reasons, b.Ops[0].Reason)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return reasons
}

// TestBatchVerificationRejectsAsSequential checks that the operations
// the engine verifies on every core before a block (those whose signer
// had another pending) get exactly the verdicts they get when each is
// applied alone, and that the chain replays to the same state roots,
// under both signature rules (ZIP 215 verifies in batches).
func TestBatchVerificationRejectsAsSequential(t *testing.T) {
	for _, k := range storeKinds() {
		for _, rule := range []string{registry.SignatureRuleZIP215, registry.SignatureRuleStdlib} {
			t.Run(k.name+"/"+cmp.Or(rule, "stdlib"), func(t *testing.T) { batchVerificationRejectsAsSequential(t, k, rule) })
		}
	}
}

func batchVerificationRejectsAsSequential(t *testing.T, k storeKind, rule string) {
	g, _, val := newGenesis(t)
	g.Params.SignatureRule = rule
	setup, ops, want := pendingOps(t, g)
	live := k.open(t)
	s := startSolo(t, live, g, val, batched(len(ops)))
	submitAll(t, s, setup...)
	ctx := context.Background()
	for _, jws := range ops {
		if _, err := s.Submit(ctx, jws); err != nil {
			t.Fatalf("Submit: %v", err)
		}
	}
	var batched []string
	for _, jws := range ops {
		p, _ := registry.ParseSigned(jws)
		got, err := s.Wait(ctx, p.Hash)
		if err != nil {
			t.Fatal(err)
		}
		batched = append(batched, got.Reason)
	}
	var setupJWS []string
	for _, op := range setup {
		setupJWS = append(setupJWS, op.JWS)
	}
	alone := applyAlone(t, k.open(t), g, append(setupJWS, ops...))[len(setup):]
	for i := range ops {
		if batched[i] != alone[i] || !strings.Contains(batched[i], want[i]) || (want[i] == "") != (batched[i] == "") {
			t.Errorf("operation %d: got %q in one block and %q alone; want both %q", i, batched[i], alone[i], want[i])
		}
	}
	if err := registry.Verify(ctx, live, k.open(t), g, nil); err != nil {
		t.Errorf("Verify: %v", err)
	}
}
