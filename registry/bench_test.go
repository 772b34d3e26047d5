package registry_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/registry"
)

// submitParallel submits ops from GOMAXPROCS goroutines and waits for all.
func submitParallel(tb testing.TB, s *registry.Solo, ops []registry.SignedOp) {
	tb.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0) * 4
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(ops); i += workers {
				if _, err := s.Submit(ctx, ops[i].JWS); err != nil {
					tb.Errorf("Submit: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, op := range ops {
		st, err := s.Wait(ctx, op.Hash)
		if err != nil || st.Status != registry.StatusCommitted {
			tb.Fatalf("got %+v, %v; want committed", st, err)
		}
	}
}

// updates creates n DIDs through s and returns one signed did.update of each.
func updates(tb testing.TB, g *registry.Genesis, s *registry.Solo, n int) []registry.SignedOp {
	keys := make([]ed25519.PrivateKey, n)
	creates := make([]registry.SignedOp, n)
	ids := make([]string, n)
	for i := range n {
		keys[i] = seedKey(fmt.Sprint("bench", i))
		creates[i], ids[i] = create(tb, g, keys[i])
	}
	submitParallel(tb, s, creates)
	ups := make([]registry.SignedOp, n)
	for i := range n {
		ups[i] = update(tb, g, ids[i], 1, keys[i], keys[i])
	}
	return ups
}

// BenchmarkSoloDIDUpdate measures committed did.update operations per
// second through Submit, the sequencer and the store.
func BenchmarkSoloDIDUpdate(b *testing.B) {
	const n = 5000
	for _, ns := range storeKinds() {
		b.Run(ns.name, func(b *testing.B) {
			st := ns.open(b)
			g, _, val := newGenesis(b)
			s := startSolo(b, st, g, val, func(c *registry.SoloConfig) { c.Interval = 100 * time.Millisecond })
			ups := updates(b, g, s, n*b.N)
			b.ResetTimer()
			start := time.Now()
			submitParallel(b, s, ups)
			b.ReportMetric(float64(len(ups))/time.Since(start).Seconds(), "ops/s")
		})
	}
}

// BenchmarkVerify measures replayed operations per second.
func BenchmarkVerify(b *testing.B) {
	const n = 5000
	for _, ns := range storeKinds() {
		b.Run(ns.name, func(b *testing.B) {
			live := ns.open(b)
			g, _, val := newGenesis(b)
			s := startSolo(b, live, g, val, func(c *registry.SoloConfig) { c.Interval = 100 * time.Millisecond })
			submitParallel(b, s, updates(b, g, s, n))
			for _, over := range []bool{false, true} {
				name := "fresh"
				if over {
					name = "over-live" // as urbis registry verify replays
				}
				b.Run(name, func(b *testing.B) {
					for range b.N {
						b.StopTimer()
						fresh := ns.open(b)
						if over {
							if err := fresh.(*store.DB).ReplayOver(context.Background(), live.(*store.DB)); err != nil {
								b.Fatal(err)
							}
						}
						b.StartTimer()
						start := time.Now()
						if err := registry.Verify(context.Background(), live, fresh, g, nil); err != nil {
							b.Fatal(err)
						}
						b.ReportMetric(float64(2*n)/time.Since(start).Seconds(), "ops/s")
					}
				})
			}
		})
	}
}
