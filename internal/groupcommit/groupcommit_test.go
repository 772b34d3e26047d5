package groupcommit

import (
	"context"
	"sync"
	"testing"
)

// TestQueueCommitsEveryItemOnceInBoundedBatches: items added at once from
// many goroutines are each committed once, in batches of at most Max,
// and concurrent adds share batches.
func TestQueueCommitsEveryItemOnceInBoundedBatches(t *testing.T) {
	const n, max = 500, 7
	var (
		mu      sync.Mutex
		seen    = map[int]int{}
		batches int
		release = make(chan struct{})
		wg      sync.WaitGroup
	)
	wg.Add(n)
	q := &Queue[int]{Max: max, Commit: func(_ context.Context, batch []int) {
		<-release // hold the first commit so that the others queue up
		mu.Lock()
		defer mu.Unlock()
		batches++
		if len(batch) > max {
			t.Errorf("a batch of %d items; want at most %d", len(batch), max)
		}
		for _, i := range batch {
			seen[i]++
			wg.Done()
		}
	}}
	for i := range n {
		go q.Add(context.Background(), i)
	}
	close(release)
	wg.Wait()
	for i := range n {
		if seen[i] != 1 {
			t.Errorf("item %d committed %d times; want once", i, seen[i])
		}
	}
	if batches >= n {
		t.Errorf("%d commits for %d items; want them shared", batches, n)
	}
}
