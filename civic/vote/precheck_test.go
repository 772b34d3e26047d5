package vote_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/civic/vote"
	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/registry"
)

// TestCastCheckedAheadOfBlock submits ballots at once, so that their
// tokens' signatures are checked at submission (in the submitters'
// goroutines) and remembered for the block: good ballots are committed;
// one with a forged signature, one with another token's signature and
// a second ballot with a counted token are rejected as when applied one
// at a time; ballots submitted before their election was committed
// (checked in the block only) are committed; and the chain replays.
func TestCastCheckedAheadOfBlock(t *testing.T) {
	eachDB(t, time.Now().UTC().Truncate(time.Second), func(t *testing.T, c *chain) {
		ctx := context.Background()
		auth := c.authority(t)
		e := c.election(t, "tram-2027")
		e.Opens = c.clock.now().Add(-time.Minute).Format(time.RFC3339)

		// The election and ballots for it, submitted together: at
		// submission there is no election to check the tokens with.
		n, _ := c.db.Nonce(ctx, auth.did)
		create := sign(t, c, auth, n+1, vote.KindCreate, e)
		jws := []string{create.JWS}
		type ballot struct {
			p      vote.CastPayload
			reason string
		}
		var ballots []ballot
		for range 3 {
			tok, sig := token(t)
			ballots = append(ballots, ballot{vote.NewCast(e.ID, tok, sig, "yes"), ""})
		}
		first := len(ballots)
		// After the election's block: good ballots, and bad ones among
		// them.
		var good []vote.CastPayload
		for range 6 {
			tok, sig := token(t)
			good = append(good, vote.NewCast(e.ID, tok, sig, "no"))
		}
		forged := vote.NewCast(e.ID, mustB64(t, good[0].Token), flip(mustB64(t, good[0].Signature)), "no")
		swapped := good[1]
		swapped.Signature = good[2].Signature
		for i, p := range good {
			ballots = append(ballots, ballot{p, ""})
			if i == 2 {
				ballots = append(ballots, ballot{forged, "does not verify"}, ballot{swapped, "does not verify"})
			}
		}
		ballots = append(ballots, ballot{good[3], "already counted"})

		for _, b := range ballots[:first] {
			jws = append(jws, castJWS(t, c, b.p))
		}
		statuses := submitMany(t, c, jws)
		if statuses[0].Status != registry.StatusCommitted {
			t.Fatalf("election: got %s (%s); want committed", statuses[0].Status, statuses[0].Reason)
		}
		jws = jws[:0]
		for _, b := range ballots[first:] {
			jws = append(jws, castJWS(t, c, b.p))
		}
		statuses = append(statuses[1:], submitMany(t, c, jws)...)
		for i, b := range ballots {
			st := statuses[i]
			switch {
			case b.reason == "" && st.Status != registry.StatusCommitted:
				t.Errorf("ballot %d: got %s (%s); want committed", i, st.Status, st.Reason)
			case b.reason != "" && (st.Status != registry.StatusRejected || !strings.Contains(st.Reason, b.reason)):
				t.Errorf("ballot %d: got %s (%s); want rejected with %q", i, st.Status, st.Reason, b.reason)
			}
		}
		tally, err := vote.NewService(vote.Config{State: c.db}).Tally(ctx, e.ID)
		if err != nil || tally.Ballots != 9 {
			t.Fatalf("got tally %+v, %v; want 9 ballots", tally, err)
		}
		fresh := storetest.Open(t)
		for _, db := range fresh {
			if db.Dialect() != c.db.Dialect() {
				continue
			}
			if err := registry.Verify(ctx, c.db, db, c.g, nil, vote.NewProgram()); err != nil {
				t.Errorf("Verify: %v", err)
			}
		}
	})
}

func sign(t *testing.T, c *chain, a actor, nonce uint64, kind registry.Kind, payload any) registry.SignedOp {
	t.Helper()
	op, err := registry.NewOperation(c.g.ChainID, kind, a.kid, nonce, payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := registry.Sign(op, a.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func castJWS(t *testing.T, c *chain, p vote.CastPayload) string {
	t.Helper()
	s, err := vote.CastOp(c.g.ChainID, p)
	if err != nil {
		t.Fatal(err)
	}
	return s.JWS
}

// submitMany submits every operation, then waits for each.
func submitMany(t *testing.T, c *chain, jws []string) []registry.OpStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hashes := make([]string, len(jws))
	for i, j := range jws {
		st, err := c.engine.Submit(ctx, j)
		if err != nil {
			t.Fatalf("Submit %d: %v", i, err)
		}
		hashes[i] = st.Hash
	}
	out := make([]registry.OpStatus, len(jws))
	for i, h := range hashes {
		st, err := c.engine.Wait(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = st
	}
	return out
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func flip(b []byte) []byte {
	b = append([]byte{}, b...)
	b[10] ^= 1
	return b
}
