package vote_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/urbis-id/urbis/civic/vote"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// blocks is a chain written by hand: the recount reads nothing else, so
// it can be shown blocks that the state machine would never have made.
type blocks []registry.Block

func (b blocks) Head(context.Context) (registry.Header, error) {
	return b[len(b)-1].Header, nil
}

func (b blocks) Block(_ context.Context, h uint64) (registry.Block, error) {
	if h == 0 || h > uint64(len(b)) {
		return registry.Block{}, errkind.New(errkind.NotFound, "no block %d", h)
	}
	return b[h-1], nil
}

// TestRecountChecksEveryBallot recounts blocks holding ballots the chain
// would have refused: only the first ballot of each token, in the window,
// for an option, with a valid signature, is counted.
func TestRecountChecksEveryBallot(t *testing.T) {
	start := time.Now().UTC().Truncate(time.Second)
	c := &chain{clock: newClock(start)}
	c.g = &registry.Genesis{ChainID: "urbis-test"}
	e := c.election(t, "hand-made") // opens at start+1h, closes at start+2h
	auth := newActor(t)
	op := func(kind registry.Kind, payload any) string {
		s, err := registry.Sign(func() registry.Operation {
			o, err := registry.NewOperation("urbis-test", kind, auth.kid, 1, payload)
			if err != nil {
				t.Fatal(err)
			}
			return o
		}(), auth.key)
		if err != nil {
			t.Fatal(err)
		}
		return s.JWS
	}
	cast := func(p vote.CastPayload) string {
		s, err := vote.CastOp("urbis-test", p)
		if err != nil {
			t.Fatal(err)
		}
		return s.JWS
	}
	tokA, sigA := token(t)
	tokB, sigB := token(t)
	tokC, sigC := token(t)
	bad := slices.Clone(sigC)
	bad[0] ^= 1
	block := func(h uint64, at time.Time, ops ...string) registry.Block {
		return registry.Block{Header: registry.Header{Chain: "urbis-test", Height: h, Time: at}, Ops: ops}
	}
	chainBlocks := blocks{
		block(1, start, op(vote.KindCreate, e), cast(vote.NewCast(e.ID, tokC, sigC, "yes"))), // before the opening
		block(2, start.Add(90*time.Minute),
			cast(vote.NewCast(e.ID, tokA, sigA, "yes")),
			cast(vote.NewCast(e.ID, tokA, sigA, "no")),    // the same token again
			cast(vote.NewCast(e.ID, tokB, sigB, "maybe")), // no such option
			cast(vote.NewCast(e.ID, tokC, bad, "no")),     // a forged signature
			cast(vote.NewCast("other", tokB, sigB, "no")), // another election
			op(vote.KindToken, vote.TokenPayload{Election: e.ID, Resident: vote.ResidentHash(e.ID, "did:example:a")})),
		block(3, start.Add(100*time.Minute), cast(vote.NewCast(e.ID, tokB, sigB, "blank")), cast(vote.NewCast(e.ID, tokA, sigA, "blank"))),
		block(4, start.Add(3*time.Hour), cast(vote.NewCast(e.ID, tokC, sigC, "no"))), // after the closing
	}
	rc, err := vote.RecountFromBlocks(context.Background(), chainBlocks, e.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rc.Counts, []uint64{1, 0, 1}) || rc.Ballots != 2 || rc.Tokens != 1 || rc.Blocks != 4 {
		t.Errorf("recount: got counts %v, %d ballots, %d tokens, %d blocks; want [1 0 1], 2, 1, 4", rc.Counts, rc.Ballots, rc.Tokens, rc.Blocks)
	}
}
