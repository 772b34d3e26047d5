package registry

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// setter is a toy ValidatorSetter: val.set records a validator change
// (anyone may make one; internal/node's validator.set is the real one).
type setter struct{}

func (setter) Kinds() []ProgramKind {
	return []ProgramKind{{Kind: "val.set", Apply: func(context.Context, *Call) (any, error) { return nil, nil }}}
}

func (setter) ValidatorChange(k Kind, p json.RawMessage) (ValidatorChange, bool) {
	var c ValidatorChange
	if k != "val.set" || json.Unmarshal(p, &c) != nil || c.ID == "" {
		return c, false
	}
	return c, true
}

// TestVerifyFollowsValidatorChanges replays a solo chain whose blocks
// carry no consensus height: a change is in force from the block after
// the one that makes it. validator-2 is added by block 1 and removed by
// block 3; blocks re-signed by it check at blocks 2 and 3 and fail at
// blocks 1 and 4; consensus heights must increase.
func TestVerifyFollowsValidatorChanges(t *testing.T) {
	build := func(t *testing.T) (*Genesis, *memStore) {
		g, _, val := testGenesis(t)
		st := newMemStore()
		clock := genesisTime
		s, err := NewSolo(SoloConfig{Store: st, Genesis: g, ValidatorID: "validator-1", ValidatorKey: val, Programs: []Program{setter{}},
			Clock: func() time.Time { clock = clock.Add(time.Second); return clock }})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := s.loadHead(ctx); err != nil {
			t.Fatal(err)
		}
		a := keyActor(t, "alice")
		v2 := ValidatorChange{Validator: Validator{ID: "validator-2", PublicKey: multikey(t, seedKey("validator-2"))}, Power: 10}
		gone := v2
		gone.Power = 0
		for i, c := range []ValidatorChange{v2, {}, gone, {}} {
			var op SignedOp
			if c.ID != "" {
				op = signed(t, "val.set", a.kid, uint64(i+1), c, a.key)
			} else {
				op = signed(t, "val.set", a.kid, uint64(i+1), map[string]string{}, a.key) // no change
			}
			if _, err := s.Submit(ctx, op.JWS); err != nil {
				t.Fatal(err)
			}
			if _, err := s.produce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		return g, st
	}
	val, v2 := seedKey("validator"), seedKey("validator-2")
	sign := func(st *memState, h int, id string, k []byte) {
		b := &st.blocks[h-1]
		b.Signatures = []Signature{SignHeader(b.Header, id, k)}
	}
	// rechain sets the consensus heights of blocks 1 to 4 and links and
	// signs them again.
	rechain := func(st *memState, cons ...uint64) {
		prev := ZeroHash
		for i := range st.blocks {
			b := &st.blocks[i]
			b.Header.ConsensusHeight, b.Header.Previous = cons[i], prev
			b.Signatures = []Signature{SignHeader(b.Header, "validator-1", val)}
			prev = b.Header.Hash()
		}
	}
	for _, c := range []struct {
		name   string
		edit   func(st *memState)
		height uint64
		want   string
	}{
		{"signed by the genesis validator", func(*memState) {}, 0, ""},
		{"signed by validator-2 while in force", func(st *memState) { sign(st, 2, "validator-2", v2); sign(st, 3, "validator-2", v2) }, 0, ""},
		{"signed by validator-2 in the block that adds it", func(st *memState) { sign(st, 1, "validator-2", v2) }, 1,
			`header is signed by "validator-2", which is not a validator in force at block 1: neither the genesis of chain test-chain nor a validator change before this block made it a validator (in force: validator-1)`},
		{"signed by validator-2 once removed", func(st *memState) { sign(st, 4, "validator-2", v2) }, 4,
			`header is signed by "validator-2", which is not a validator in force at block 4: the val.set of block 3 removed it from block 4 (in force: validator-1)`},
		{"consensus heights increasing", func(st *memState) { rechain(st, 3, 4, 7, 8) }, 0, ""},
		// With consensus heights, a change made at height H is in force from H+2.
		{"signed by validator-2 two heights after its addition", func(st *memState) { rechain(st, 3, 5, 7, 9); sign(st, 2, "validator-2", v2) }, 0, ""},
		{"signed by validator-2 one height after its addition", func(st *memState) { rechain(st, 3, 4, 7, 9); sign(st, 2, "validator-2", v2) }, 2,
			`header is signed by "validator-2", which is not a validator in force at block 2 (consensus height 4): the val.set of block 1 gave it power 10 from consensus height 5`},
		{"signed by validator-2 one height after its removal", func(st *memState) { rechain(st, 3, 5, 7, 8); sign(st, 4, "validator-2", v2) }, 0, ""},
		{"signed by validator-2 two heights after its removal", func(st *memState) { rechain(st, 3, 5, 7, 9); sign(st, 4, "validator-2", v2) }, 4,
			`the val.set of block 3 removed it from consensus height 9`},
		{"consensus height going back", func(st *memState) { rechain(st, 3, 4, 4, 8) }, 3, "consensus height 4 does not follow block 2's 4"},
	} {
		t.Run(c.name, func(t *testing.T) {
			g, live := build(t)
			c.edit(live.st)
			err := Verify(context.Background(), live, newMemStore(), g, nil, setter{})
			if c.height == 0 {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			var ve *VerifyError
			if !errors.As(err, &ve) || ve.Height != c.height || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Verify: got %v; want a failure at block %d saying %q", err, c.height, c.want)
			}
		})
	}
}
