package statuslist

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
)

// batchMemStore is a memStore that is a BatchStore, counting its calls.
type batchMemStore struct {
	*memStore
	calls int
}

var _ BatchStore = (*batchMemStore)(nil)

func (s *batchMemStore) AllocateMany(_ context.Context, id string, indexes []int, limit int) ([]int, *Bitstring, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	l, ok := s.lists[id]
	if !ok {
		return nil, nil, errkind.New(errkind.NotFound, "no list %q", id)
	}
	if l.Closed {
		return nil, nil, errkind.New(errkind.Conflict, "list %q is closed", id)
	}
	for _, i := range indexes {
		if _, err := l.Used.Get(i); err != nil {
			return nil, nil, errkind.New(errkind.Invalid, "index %d outside %q", i, id)
		}
	}
	var claimed []int
	count := l.Used.Count()
	for _, i := range indexes {
		if count >= limit {
			break
		}
		if v, _ := l.Used.Get(i); !v {
			l.Used.Set(i, true)
			claimed = append(claimed, i)
			count++
		}
	}
	return claimed, l.Used.Clone(), nil
}

func newBatchAllocator(t *testing.T, cfg Config) (*Allocator, *batchMemStore) {
	t.Helper()
	clock := newFakeClock()
	store := &batchMemStore{memStore: newMemStore(clock.Now)}
	cfg.Clock = clock.Now
	a, err := NewAllocator(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a, store
}

func TestBatchedAllocateOpensNewListWhenFull(t *testing.T) {
	a, store := newBatchAllocator(t, Config{FillRatio: 3.5 / MinSize})
	ctx := context.Background()
	var lists []string
	for range 7 {
		got, err := a.Allocate(ctx, PurposeSuspension, issuer)
		if err != nil {
			t.Fatal(err)
		}
		lists = append(lists, got.ListID)
	}
	want := []string{"list-1", "list-1", "list-1", "list-2", "list-2", "list-2", "list-3"}
	for i := range want {
		if lists[i] != want[i] {
			t.Fatalf("got lists %v; want %v", lists, want)
		}
	}
	for _, id := range []string{"list-1", "list-2"} {
		if l, _ := store.List(ctx, id); !l.Closed || l.Used.Count() != 3 {
			t.Errorf("%s: closed %v, %d used; want closed with 3", id, l.Closed, l.Used.Count())
		}
	}
}

// TestBatchedAllocateTwoAllocators has two allocators, as two processes
// would, share one store: no index is handed out twice, each list stops
// at its capacity, every index marked used was handed out or is still
// leased by one of them, and concurrent callers share store calls.
func TestBatchedAllocateTwoAllocators(t *testing.T) {
	clock := newFakeClock()
	store := &batchMemStore{memStore: newMemStore(clock.Now)}
	const capacity = 150
	var as []*Allocator
	for range 2 {
		a, err := NewAllocator(store, Config{FillRatio: (capacity + 0.5) / MinSize, Clock: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		as = append(as, a)
	}
	ctx := context.Background()
	var mu sync.Mutex
	seen := map[Allocation]bool{}
	perList := map[string]int{}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for range 50 {
				got, err := as[g%2].Allocate(ctx, PurposeRevocation, issuer)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[got] {
					t.Errorf("got %v twice; want each once", got)
				}
				seen[got] = true
				perList[got.ListID]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 800 {
		t.Errorf("got %d distinct allocations; want 800", len(seen))
	}
	for id, n := range perList {
		l, err := store.List(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		leased := 0
		for _, a := range as {
			if st := settled(a.stateOf(PurposeRevocation, issuer)); st.list != nil && st.list.ID == id {
				leased += len(st.leased)
			}
		}
		if n > capacity || l.Used.Count() != n+leased {
			t.Errorf("list %s: handed out %d, %d leased, %d used; want at most %d handed out, used = handed out + leased", id, n, leased, l.Used.Count(), capacity)
		}
	}
	if store.calls >= 800 {
		t.Logf("%d store calls for 800 allocations; no batching happened", store.calls)
	}
}

func TestBatchedAllocateSpreads(t *testing.T) {
	a, _ := newBatchAllocator(t, Config{})
	ctx := context.Background()
	const n = 2000
	var low int
	for range n {
		got, err := a.Allocate(ctx, PurposeRevocation, issuer)
		if err != nil {
			t.Fatal(err)
		}
		if got.Index < MinSize/2 {
			low++
		}
	}
	// Uniform picks land in the lower half about n/2 times (sd ~22).
	if low < n/2-150 || low > n/2+150 {
		t.Errorf("%d of %d indexes in the lower half; want about %d", low, n, n/2)
	}
}

// settled waits until s has no leader, which may still be at work after
// its last caller was served, and returns s.
func settled(s *openState) *openState {
	for {
		s.mu.Lock()
		leading := s.leading
		s.mu.Unlock()
		if !leading {
			return s
		}
		runtime.Gosched()
	}
}

// TestBatchedAllocateLeasesAhead checks that one store call claims
// leaseAhead indexes beyond those asked for, and that the callers after
// it are served from them, each a distinct index marked used.
func TestBatchedAllocateLeasesAhead(t *testing.T) {
	a, store := newBatchAllocator(t, Config{})
	ctx := context.Background()
	seen := map[int]bool{}
	var list string
	for range 2*leaseAhead + 1 {
		got, err := a.Allocate(ctx, PurposeRevocation, issuer)
		if err != nil {
			t.Fatal(err)
		}
		if seen[got.Index] {
			t.Fatalf("index %d handed out twice", got.Index)
		}
		seen[got.Index] = true
		list = got.ListID
	}
	if store.calls != 2 {
		t.Errorf("%d store calls for %d allocations one after another; want 2 (each claims %d ahead)", store.calls, 2*leaseAhead+1, leaseAhead)
	}
	l, err := store.List(ctx, list)
	if err != nil {
		t.Fatal(err)
	}
	for i := range seen {
		if v, _ := l.Used.Get(i); !v {
			t.Errorf("index %d was handed out but is not marked used", i)
		}
	}
	if got, want := l.Used.Count(), 2*(leaseAhead+1); got != want {
		t.Errorf("%d indexes marked used; want %d (two calls of 1 + %d)", got, want, leaseAhead)
	}
}
