package vote_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urbis-id/urbis/civic/vote"
	"github.com/urbis-id/urbis/registry"
)

func counts(t *testing.T, c *chain, id string) []uint64 {
	t.Helper()
	b, err := c.db.ProgramGet(context.Background(), "vote/c/"+id)
	if err != nil {
		t.Fatal(err)
	}
	var n []uint64
	if err := json.Unmarshal(b, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestElectionLifecycle(t *testing.T) {
	eachDB(t, time.Now().UTC().Truncate(time.Second), func(t *testing.T, c *chain) {
		auth := c.authority(t)
		e := c.election(t, "tram-2027")

		// Only an accredited authority creates elections.
		if st := c.op(t, newActor(t), vote.KindCreate, e); st.Status != registry.StatusRejected || !strings.Contains(st.Reason, "not accredited for ElectionAuthority") {
			t.Errorf("create by an unaccredited DID: got %s (%s); want rejected, not accredited", st.Status, st.Reason)
		}
		c.must(t, c.op(t, auth, vote.KindCreate, e))
		if st := c.op(t, auth, vote.KindCreate, e); st.Status != registry.StatusRejected || !strings.Contains(st.Reason, "already exists") {
			t.Errorf("create twice: got %s (%s); want rejected, already exists", st.Status, st.Reason)
		}

		// Tokens: one per resident, recorded by the authority only.
		h := vote.ResidentHash(e.ID, "did:example:alice")
		if st := c.op(t, newActor(t), vote.KindToken, vote.TokenPayload{Election: e.ID, Resident: h}); st.Status != registry.StatusRejected || !strings.Contains(st.Reason, "only the election's authority") {
			t.Errorf("token by another DID: got %s (%s); want rejected", st.Status, st.Reason)
		}
		c.must(t, c.op(t, auth, vote.KindToken, vote.TokenPayload{Election: e.ID, Resident: h}))
		if st := c.op(t, auth, vote.KindToken, vote.TokenPayload{Election: e.ID, Resident: h}); st.Status != registry.StatusRejected || !strings.Contains(st.Reason, "already received a ballot token") {
			t.Errorf("second token of a resident: got %s (%s); want rejected", st.Status, st.Reason)
		}

		tok, sig := token(t)
		good := vote.NewCast(e.ID, tok, sig, "yes")
		if st := c.cast(t, good); st.Status != registry.StatusRejected || !strings.Contains(st.Reason, "opens at") {
			t.Errorf("ballot before the opening: got %s (%s); want rejected", st.Status, st.Reason)
		}
		c.clock.add(90 * time.Minute) // open

		forged := sig
		forged = append([]byte{}, forged...)
		forged[10] ^= 1
		other, _ := token(t)
		cases := []struct {
			name   string
			p      vote.CastPayload
			reason string
		}{
			{"invalid signature", vote.NewCast(e.ID, tok, forged, "yes"), "does not verify"},
			{"signature of another token", vote.NewCast(e.ID, other, sig, "yes"), "does not verify"},
			{"no such option", vote.NewCast(e.ID, tok, sig, "maybe"), `"maybe" is not an option`},
			{"no such election", vote.NewCast("nope", tok, sig, "yes"), "no election nope"},
			{"bad token length", vote.CastPayload{Election: e.ID, Token: "AAAA", Signature: good.Signature, Choice: "yes"}, "64-byte ballot token"},
		}
		for _, tc := range cases {
			if st := c.cast(t, tc.p); st.Status != registry.StatusRejected || !strings.Contains(st.Reason, tc.reason) {
				t.Errorf("%s: got %s (%s); want rejected with %q", tc.name, st.Status, st.Reason, tc.reason)
			}
		}
		st := c.must(t, c.cast(t, good))
		if st := c.cast(t, vote.NewCast(e.ID, tok, sig, "no")); st.Status != registry.StatusRejected || !strings.Contains(st.Reason, "already counted") {
			t.Errorf("second ballot with the same token: got %s (%s); want rejected, already counted", st.Status, st.Reason)
		}
		tok2, sig2 := token(t)
		c.must(t, c.cast(t, vote.NewCast(e.ID, tok2, sig2, "no")))
		if got := counts(t, c, e.ID); !slices.Equal(got, []uint64{1, 1, 0}) {
			t.Errorf("live count: got %v; want [1 1 0]", got)
		}
		// The receipt under the nullifier names the ballot's operation.
		b, err := c.db.ProgramGet(context.Background(), "vote/n/"+e.ID+"/"+vote.Nullifier(tok))
		var r vote.Receipt
		if err == nil {
			err = json.Unmarshal(b, &r)
		}
		if err != nil || r.Operation != st.Hash || r.Choice != "yes" {
			t.Errorf("receipt: got %+v, %v; want operation %s, choice yes", r, err, st.Hash)
		}

		// Closing: not before the end, by the authority only, once.
		if st := c.op(t, auth, vote.KindClose, vote.ClosePayload{Election: e.ID}); st.Status != registry.StatusRejected || !strings.Contains(st.Reason, "is open until") {
			t.Errorf("close while open: got %s (%s); want rejected", st.Status, st.Reason)
		}
		c.clock.add(time.Hour) // closed
		tok3, sig3 := token(t)
		if st := c.cast(t, vote.NewCast(e.ID, tok3, sig3, "no")); st.Status != registry.StatusRejected || !strings.Contains(st.Reason, "closed at") {
			t.Errorf("ballot after the closing: got %s (%s); want rejected", st.Status, st.Reason)
		}
		if st := c.op(t, auth, vote.KindToken, vote.TokenPayload{Election: e.ID, Resident: vote.ResidentHash(e.ID, "did:example:bob")}); st.Status != registry.StatusRejected || !strings.Contains(st.Reason, "closed at") {
			t.Errorf("token after the closing: got %s (%s); want rejected", st.Status, st.Reason)
		}
		if st := c.op(t, newActor(t), vote.KindClose, vote.ClosePayload{Election: e.ID}); st.Status != registry.StatusRejected {
			t.Errorf("close by another DID: got %s; want rejected", st.Status)
		}
		c.must(t, c.op(t, auth, vote.KindClose, vote.ClosePayload{Election: e.ID}))
		b, err = c.db.ProgramGet(context.Background(), "vote/r/"+e.ID)
		var res vote.Result
		if err == nil {
			err = json.Unmarshal(b, &res)
		}
		if err != nil || !slices.Equal(res.Counts, []uint64{1, 1, 0}) || res.Ballots != 2 || res.Tokens != 1 {
			t.Errorf("result: got %+v, %v; want counts [1 1 0], 2 ballots, 1 token", res, err)
		}
		// The recount from the blocks alone agrees.
		rc, err := vote.RecountFromBlocks(context.Background(), c.db, e.ID, nil)
		if err != nil || !slices.Equal(rc.Counts, res.Counts) || rc.Ballots != 2 || rc.Tokens != 1 || rc.Closed == 0 {
			t.Errorf("recount: got %+v, %v; want counts [1 1 0], 2 ballots, 1 token, closed", rc, err)
		}
		if _, err := vote.RecountFromBlocks(context.Background(), c.db, "nope", nil); err == nil {
			t.Error("recount of an unknown election: got no error; want NotFound")
		}
	})
}

// TestSameTokenConcurrently casts one token from many goroutines at once,
// each ballot.cast signed by its own throwaway DID (so each is a distinct
// operation): exactly one is counted.
func TestSameTokenConcurrently(t *testing.T) {
	start := time.Now().UTC().Truncate(time.Second)
	eachDB(t, start, func(t *testing.T, c *chain) {
		auth := c.authority(t)
		e := c.election(t, "same-token")
		e.Opens = start.Add(-time.Minute).Format(time.RFC3339)
		c.must(t, c.op(t, auth, vote.KindCreate, e))
		tok, sig := token(t)
		const n = 40
		ops := make([]string, n)
		for i := range ops {
			s, err := vote.CastOp(c.g.ChainID, vote.NewCast(e.ID, tok, sig, e.Options[i%3]))
			if err != nil {
				t.Fatal(err)
			}
			ops[i] = s.JWS
		}
		var wg sync.WaitGroup
		sts := make([]registry.OpStatus, n)
		for i := range ops {
			wg.Add(1)
			go func() { defer wg.Done(); sts[i] = c.send(t, ops[i]) }()
		}
		wg.Wait()
		committed := 0
		for _, st := range sts {
			switch {
			case st.Status == registry.StatusCommitted:
				committed++
			case !strings.Contains(st.Reason, "already counted"):
				t.Errorf("a duplicate ballot: got %s (%s); want rejected, already counted", st.Status, st.Reason)
			}
		}
		if committed != 1 {
			t.Errorf("committed ballots with one token: got %d; want 1", committed)
		}
		var total uint64
		for _, x := range counts(t, c, e.ID) {
			total += x
		}
		if total != 1 {
			t.Errorf("counted ballots: got %d; want 1", total)
		}
	})
}
