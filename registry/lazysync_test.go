package registry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// gatedSync is a real store whose SyncBlocks waits for the test: it
// answers each call with the error the test sends on release.
type gatedSync struct {
	registry.LazyChainStore
	called  chan struct{}
	release chan error
}

func (g *gatedSync) SyncBlocks(ctx context.Context) error {
	g.called <- struct{}{}
	if err := <-g.release; err != nil {
		return err
	}
	return g.LazyChainStore.SyncBlocks(ctx)
}

func gate(t *testing.T, st registry.ChainStore) *gatedSync {
	t.Helper()
	ls, ok := st.(registry.LazyChainStore)
	if !ok {
		t.Fatalf("%T is not a LazyChainStore", st)
	}
	return &gatedSync{LazyChainStore: ls, called: make(chan struct{}, 16), release: make(chan error)}
}

// committedIn waits until the store itself has the operation committed.
func committedIn(t *testing.T, st registry.ChainStore, hash string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := st.OpStatus(context.Background(), hash)
		if err == nil && s.Status == registry.StatusCommitted {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("operation %s not committed in the store: %+v, %v", hash, s, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLazySyncAcknowledgesAfterSync: with a store that commits blocks
// without syncing them, the engine tells a waiter its operation is
// committed only after SyncBlocks has returned, although readers of the
// store see the block before.
func TestLazySyncAcknowledgesAfterSync(t *testing.T) {
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			g, _, val := newGenesis(t)
			st := gate(t, sk.open(t))
			s := startSolo(t, st, g, val, nil)
			defer func() { // let the engine's last syncs through at the end
				go func() {
					for range st.called {
						st.release <- nil
					}
				}()
			}()
			op, _ := create(t, g, seedKey("lazy"))
			ctx := context.Background()
			if _, err := s.Submit(ctx, op.JWS); err != nil {
				t.Fatal(err)
			}
			committedIn(t, st, op.Hash)
			<-st.called
			short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			got, err := s.Wait(short, op.Hash)
			cancel()
			if !errors.Is(err, errkind.Unavailable) || got.Status != registry.StatusPending {
				t.Fatalf("before the sync: got %+v, %v; want pending", got, err)
			}
			st.release <- nil
			waited, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			got, err = s.Wait(waited, op.Hash)
			if err != nil || got.Status != registry.StatusCommitted || got.Height != 1 {
				t.Fatalf("after the sync: got %+v, %v; want committed at height 1", got, err)
			}
		})
	}
}

// TestLazySyncFailureStops: when committed blocks cannot be synced, the
// engine stops with the error and never tells their waiters that they
// are committed.
func TestLazySyncFailureStops(t *testing.T) {
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			g, _, val := newGenesis(t)
			st := gate(t, sk.open(t))
			s, err := registry.NewSolo(registry.SoloConfig{Store: st, Genesis: g, ValidatorID: g.Validators[0].ID, ValidatorKey: val, Interval: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx) }()
			op, _ := create(t, g, seedKey("lazy-fail"))
			if _, err := s.Submit(ctx, op.JWS); err != nil {
				t.Fatal(err)
			}
			<-st.called
			disk := errkind.New(errkind.Unavailable, "disk on fire")
			st.release <- disk
			select {
			case err := <-done:
				if !errors.Is(err, disk) {
					t.Fatalf("Run returned %v; want the sync error", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not stop after a failed sync")
			}
			short, cancelWait := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancelWait()
			if got, _ := s.Wait(short, op.Hash); got.Status == registry.StatusCommitted {
				t.Fatalf("the waiter was told %+v after a failed sync", got)
			}
			other, _ := create(t, g, seedKey("lazy-after"))
			if _, err := s.Submit(context.Background(), other.JWS); !errors.Is(err, errkind.Unavailable) {
				t.Fatalf("Submit after the engine stopped: %v; want Unavailable", err)
			}
		})
	}
}
