// Package groupcommit runs the leader of a group commit: callers queue
// items, and the first caller that finds no leader starts one, which
// hands the waiting items, at most Max at a time, to Commit until none is
// left. Items that arrive while a Commit runs wait for the next one, so a
// burst of callers shares few transactions (one fsync each) instead of
// one each. Waking the callers is Commit's job.
package groupcommit

import (
	"context"
	"sync"
)

// Queue is a group commit's waiting line. The zero Queue needs Commit
// (and Max, 0 meaning 256) set before use; it is safe for concurrent use.
type Queue[T any] struct {
	// Max bounds the items of one Commit.
	Max int
	// Commit writes batch, in arrival order, and wakes its callers.
	Commit func(ctx context.Context, batch []T)

	mu      sync.Mutex
	waiting []T
	leading bool
}

// Add queues item and, when no leader is running, starts one. The leader
// runs on a context without ctx's cancellation: other callers wait on its
// commits too.
func (q *Queue[T]) Add(ctx context.Context, item T) {
	q.mu.Lock()
	q.waiting = append(q.waiting, item)
	lead := !q.leading
	q.leading = true
	q.mu.Unlock()
	if lead {
		go q.lead(context.WithoutCancel(ctx))
	}
}

// lead commits the waiting items until none is left.
func (q *Queue[T]) lead(ctx context.Context) {
	max := q.Max
	if max <= 0 {
		max = 256
	}
	for {
		q.mu.Lock()
		if len(q.waiting) == 0 {
			q.leading = false
			q.mu.Unlock()
			return
		}
		n := min(len(q.waiting), max)
		batch := q.waiting[:n:n]
		q.waiting = q.waiting[n:]
		q.mu.Unlock()
		q.Commit(ctx, batch)
	}
}
