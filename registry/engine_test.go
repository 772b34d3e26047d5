package registry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

func TestSoloCommitsAndProves(t *testing.T) {
	for _, ns := range openStores(t) {
		t.Run(ns.name, func(t *testing.T) {
			g, _, val := newGenesis(t)
			s := startSolo(t, ns.st, g, val, nil)
			ctx := context.Background()
			var wg sync.WaitGroup
			ops := make([]registry.SignedOp, 20)
			for i := range ops {
				ops[i], _ = create(t, g, seedKey(string(rune('a'+i))))
			}
			for _, op := range ops {
				wg.Go(func() {
					if st := submitWait(t, s, op); st.Status != registry.StatusCommitted {
						t.Errorf("got %+v; want committed", st)
					}
				})
			}
			wg.Wait()
			for _, op := range ops {
				st, err := s.Status(ctx, op.Hash)
				if err != nil || st.Status != registry.StatusCommitted || st.Height == 0 || st.Kind != registry.KindDIDCreate {
					t.Fatalf("got status %+v, %v; want committed in a block", st, err)
				}
				p, err := s.Proof(ctx, op.Hash)
				if err != nil {
					t.Fatal(err)
				}
				if err := registry.CheckProof(p, g); err != nil {
					t.Errorf("CheckProof: %v", err)
				}
				if p.Header.Height != st.Height || p.Index != st.Index {
					t.Errorf("got proof at %d/%d; want %d/%d", p.Header.Height, p.Index, st.Height, st.Index)
				}
			}
			head, err := ns.st.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
			if again, _ := ns.st.Head(ctx); again.Height != head.Height {
				t.Errorf("got head %d after idle intervals; want %d (empty intervals make no block)", again.Height, head.Height)
			}
			prev := registry.ZeroHash
			var prevTime time.Time
			for h := uint64(1); h <= head.Height; h++ {
				b, err := ns.st.Block(ctx, h)
				if err != nil {
					t.Fatal(err)
				}
				if b.Header.Previous != prev || b.Header.Time.Before(prevTime) || b.Header.Time.Before(genesisTime) {
					t.Fatalf("block %d: got previous %s at %s; want %s, not before %s", h, b.Header.Previous, b.Header.Time, prev, prevTime)
				}
				prev, prevTime = b.Header.Hash(), b.Header.Time
			}
		})
	}
}

func TestSoloConflictingUpdates(t *testing.T) {
	for _, ns := range openStores(t) {
		t.Run(ns.name, func(t *testing.T) {
			g, _, val := newGenesis(t)
			s := startSolo(t, ns.st, g, val, batched(2))
			k := seedKey("alice")
			alice, id := create(t, g, k)
			bob, _ := create(t, g, seedKey("bob"))
			submitAll(t, s, alice, bob)
			a := update(t, g, id, 1, k, seedKey("alice-a"))
			b := update(t, g, id, 1, k, seedKey("alice-b"))
			got := submitAll(t, s, a, b)
			if got[0].Status != registry.StatusCommitted || got[1].Status != registry.StatusRejected ||
				!strings.Contains(got[1].Reason, "stale version: the DID is at version 2") {
				t.Fatalf("got %+v and %+v; want the first committed and the second rejected as stale", got[0], got[1])
			}
			if st, err := ns.st.OpStatus(context.Background(), b.Hash); err != nil || st.Status != registry.StatusRejected {
				t.Errorf("got stored status %+v, %v; want rejected", st, err)
			}
			head, _ := ns.st.Head(context.Background())
			if head.OpCount != 1 {
				t.Errorf("got %d operations in the block; want 1 (the rejected one is not in it)", head.OpCount)
			}
			v, err := ns.st.LatestDIDVersion(context.Background(), id)
			if err != nil || v.Version != 2 || v.OpHash != a.Hash {
				t.Errorf("got version %+v, %v; want version 2 from the first update", v, err)
			}
		})
	}
}

func TestSoloReplay(t *testing.T) {
	for _, ns := range openStores(t) {
		t.Run(ns.name, func(t *testing.T) {
			g, _, val := newGenesis(t)
			s := startSolo(t, ns.st, g, val, batched(2))
			k := seedKey("alice")
			op, id := create(t, g, k)
			// Same nonce, other content, same block: the second is a replay.
			other := sign(t, g, registry.KindDIDUpdate, id+"#key-1", 1, registry.DIDUpdate{DID: id, PreviousVersion: 0, Document: spec(t, k)}, k)
			got := submitAll(t, s, op, other)
			if got[0].Status != registry.StatusCommitted || got[1].Status != registry.StatusRejected {
				t.Fatalf("got %+v and %+v; want committed and rejected", got[0], got[1])
			}
			ctx := context.Background()
			again, err := s.Submit(ctx, op.JWS)
			if err != nil || again.Status != registry.StatusCommitted || again.Hash != op.Hash {
				t.Errorf("got %+v, %v resubmitting a committed operation; want its committed status", again, err)
			}
			stale := sign(t, g, registry.KindDIDUpdate, id+"#key-1", 1, registry.DIDUpdate{DID: id, PreviousVersion: 1, Document: spec(t, seedKey("x"))}, k)
			_, err = s.Submit(ctx, stale.JWS)
			wantKind(t, err, errkind.Conflict, "replayed or out-of-order nonce: got 1, want 2")
		})
	}
}

func TestSoloSubmitRefuses(t *testing.T) {
	for _, ns := range openStores(t) {
		t.Run(ns.name, func(t *testing.T) {
			g, _, val := newGenesis(t)
			s := startSolo(t, ns.st, g, val, nil)
			k := seedKey("alice")
			kd, _ := did.NewKey(k.Public())
			kid := kd.String() + "#" + kd.ID
			root := registry.AnchorPayload{Root: strings.Repeat("a", 64)}
			otherChain, _ := registry.NewOperation("other", registry.KindAnchor, kid, 1, root)
			oc, _ := registry.Sign(otherChain, k)
			op, id := create(t, g, k)
			tests := []struct {
				name string
				jws  string
				kind errkind.Kind
				want string
			}{
				{"not a JWS", "hello", errkind.Invalid, "compact JWS"},
				{"other chain", oc.JWS, errkind.Invalid, `operation is for chain "other"`},
				{"bad signature", sign(t, g, registry.KindAnchor, kid, 1, root, seedKey("mallory")).JWS, errkind.Forbidden, "does not verify"},
				{"did:web signer", sign(t, g, registry.KindAnchor, "did:web:example.org#k", 1, root, k).JWS, errkind.Forbidden, "signers must be did:urbis, did:key or did:jwk"},
				{"create signed by a stranger", sign(t, g, registry.KindDIDCreate, id+"#key-1", 1, op.Op.Payload, seedKey("mallory")).JWS, errkind.Forbidden, "does not verify"},
				{"update of an unknown DID", update(t, g, id, 1, k, k).JWS, errkind.Forbidden, "does not exist on this chain"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					_, err := s.Submit(context.Background(), tt.jws)
					wantKind(t, err, tt.kind, tt.want)
				})
			}
		})
	}
}

func TestSoloShutdownCommitsPending(t *testing.T) {
	for _, ns := range openStores(t) {
		t.Run(ns.name, func(t *testing.T) {
			g, _, val := newGenesis(t)
			s, err := registry.NewSolo(registry.SoloConfig{Store: ns.st, Genesis: g, ValidatorID: g.Validators[0].ID, ValidatorKey: val, Interval: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx) }()
			op, _ := create(t, g, seedKey("alice"))
			if _, err := s.Submit(context.Background(), op.JWS); err != nil {
				t.Fatal(err)
			}
			short, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer stop()
			st, err := s.Wait(short, op.Hash)
			if !errors.Is(err, context.DeadlineExceeded) || st.Status != registry.StatusPending {
				t.Fatalf("got %+v, %v; want pending and a deadline error", st, err)
			}
			_, err = s.Proof(context.Background(), op.Hash)
			wantKind(t, err, errkind.NotFound, "unknown")
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("Run: %v", err)
			}
			st, err = s.Wait(context.Background(), op.Hash)
			if err != nil || st.Status != registry.StatusCommitted {
				t.Errorf("got %+v, %v after shutdown; want committed", st, err)
			}
			other, _ := create(t, g, seedKey("bob"))
			_, err = s.Submit(context.Background(), other.JWS)
			wantKind(t, err, errkind.Unavailable, "shutting down")
		})
	}
}

func TestSoloBlockTimeNeverGoesBack(t *testing.T) {
	for _, ns := range openStores(t) {
		t.Run(ns.name, func(t *testing.T) {
			g, _, val := newGenesis(t)
			var mu sync.Mutex
			now := genesisTime.Add(time.Hour)
			clock := func() time.Time {
				mu.Lock()
				defer mu.Unlock()
				now = now.Add(-time.Minute)
				return now
			}
			s := startSolo(t, ns.st, g, val, func(c *registry.SoloConfig) { c.Clock = clock; c.MaxOps = 1 })
			var last time.Time
			for i := range 3 {
				op, _ := create(t, g, seedKey(string(rune('a'+i))))
				st := submitWait(t, s, op)
				if st.Time.Before(last) {
					t.Errorf("got block time %s after %s; want it never earlier", st.Time, last)
				}
				last = st.Time
			}
			if !last.Equal(genesisTime.Add(59 * time.Minute)) {
				t.Errorf("got last block time %s; want the first block's, %s", last, genesisTime.Add(59*time.Minute))
			}
		})
	}
}

// TestSoloStartsBlockAtATenth checks the group commit under load: with
// an interval that never ends, fewer than a tenth of MaxOps pending
// operations wait, and the operation that makes a tenth starts a block
// of all of them at once.
func TestSoloStartsBlockAtATenth(t *testing.T) {
	st := openStores(t)[0].st
	g, _, val := newGenesis(t)
	s := startSolo(t, st, g, val, batched(1000))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ops := make([]registry.SignedOp, 100)
	for i := range ops {
		ops[i], _ = create(t, g, seedKey(fmt.Sprintf("tenth-%d", i)))
	}
	for _, op := range ops[:99] {
		if _, err := s.Submit(ctx, op.JWS); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := st.Head(ctx); !errors.Is(err, errkind.NotFound) {
		t.Fatalf("got head error %v with 99 operations pending; want no block before a tenth of MaxOps (100)", err)
	}
	if _, err := s.Submit(ctx, ops[99].JWS); err != nil {
		t.Fatal(err)
	}
	for _, op := range ops {
		if got, err := s.Wait(ctx, op.Hash); err != nil || got.Status != registry.StatusCommitted || got.Height != 1 {
			t.Fatalf("got %+v, %v; want committed in block 1", got, err)
		}
	}
}
