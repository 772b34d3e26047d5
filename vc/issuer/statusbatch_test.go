package issuer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// gatedStatuses is a StatusStore whose AddStatuses waits for gate to be
// closed, then commits (or fails with err, or with Conflict for a
// credential named in conflict).
type gatedStatuses struct {
	StatusStore
	gate     chan struct{}
	err      error
	conflict string

	mu        sync.Mutex
	calls     int
	committed map[string]bool
}

func (g *gatedStatuses) AddStatuses(_ context.Context, recs []StatusRecord) error {
	if g.gate != nil {
		<-g.gate
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls++
	if g.err != nil {
		return g.err
	}
	for _, r := range recs {
		if r.CredentialID == g.conflict {
			return errkind.New(errkind.Conflict, "status of credential %s exists", r.CredentialID)
		}
	}
	for _, r := range recs {
		g.committed[r.CredentialID] = true
	}
	return nil
}

func (g *gatedStatuses) write(ctx context.Context, recs []StatusRecord, _ []IssuedLeaf) error {
	return g.AddStatuses(ctx, recs)
}

func (g *gatedStatuses) isCommitted(id string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.committed[id]
}

func addAll(b *statusBatcher, n int) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = b.add(context.Background(), []StatusRecord{{CredentialID: fmt.Sprint("urn:c:", i), Purpose: "revocation"}}, nil)
		})
	}
	wg.Wait()
	return errs
}

// A caller returns only after the call holding its entries has
// committed, and concurrent callers share calls.
func TestStatusBatchDurable(t *testing.T) {
	g := &gatedStatuses{gate: make(chan struct{}), committed: map[string]bool{}}
	b := &statusBatcher{write: g.write}
	const n = 40
	returned := make(chan int, n)
	for i := range n {
		go func() {
			id := fmt.Sprint("urn:c:", i)
			if err := b.add(context.Background(), []StatusRecord{{CredentialID: id, Purpose: "revocation"}}, nil); err != nil {
				t.Error(err)
			}
			if !g.isCommitted(id) {
				t.Errorf("add of %s returned before its entry was committed", id)
			}
			returned <- i
		}()
	}
	select {
	case i := <-returned:
		t.Fatalf("caller %d returned while the commit was held", i)
	case <-time.After(50 * time.Millisecond):
	}
	close(g.gate)
	for range n {
		<-returned
	}
	if g.calls >= n {
		t.Fatalf("%d AddStatuses calls for %d callers; want them grouped", g.calls, n)
	}
}

// A failed commit fails every caller of its batch.
func TestStatusBatchFailureReachesAll(t *testing.T) {
	g := &gatedStatuses{err: errkind.New(errkind.Unavailable, "disk gone"), committed: map[string]bool{}}
	b := &statusBatcher{write: g.write}
	for i, err := range addAll(b, 30) {
		if !errors.Is(err, errkind.Unavailable) {
			t.Fatalf("caller %d: %v; want the store's error", i, err)
		}
	}
}

// One caller's conflict fails that caller only.
func TestStatusBatchConflictIsolated(t *testing.T) {
	g := &gatedStatuses{gate: make(chan struct{}), conflict: "urn:c:3", committed: map[string]bool{}}
	b := &statusBatcher{write: g.write}
	go func() { time.Sleep(20 * time.Millisecond); close(g.gate) }()
	for i, err := range addAll(b, 10) {
		switch {
		case i == 3 && !errors.Is(err, errkind.Conflict):
			t.Fatalf("conflicting caller: %v; want Conflict", err)
		case i != 3 && err != nil:
			t.Fatalf("caller %d: %v", i, err)
		case i != 3 && !g.isCommitted(fmt.Sprint("urn:c:", i)):
			t.Fatalf("caller %d returned without its entry committed", i)
		}
	}
}
