package statuslist

import (
	"context"
	"errors"
	"sync"

	"github.com/urbis-id/urbis/internal/errkind"
)

// maxBatch bounds how many waiting callers one AllocateMany call serves.
const maxBatch = 256

// leaseAhead is how many indexes beyond those its waiting callers need
// one AllocateMany call claims, for the callers that come next: they are
// served from memory, without a store call (a write transaction) of
// their own. Indexes claimed but never handed out (the process stopped)
// stay marked, handed out to nobody, like those of credentials that
// failed to be signed; at most leaseAhead per open list are lost so.
const leaseAhead = 256

// openState is what an Allocator over a BatchStore keeps of one issuer's
// open list of one purpose: a copy of its used set, refreshed from every
// store call, the indexes it has claimed and not handed out yet, and the
// callers waiting for an index. One goroutine at a time (the leader)
// talks to the store for all of them, so callers that arrive while a
// store call is under way share the next one.
type openState struct {
	mu      sync.Mutex
	waiting []*waiter
	leading bool

	// Owned by the leader.
	list   *List // nil until opened, or after a conflict
	count  int   // set bits of list.Used
	leased []int // indexes of list claimed in the store, not handed out yet, in the random order drawn
}

type waiter struct {
	done     chan struct{}
	alloc    Allocation
	err      error
	attempts int
}

// stateOf returns the shared state of purpose lists of issuer.
func (a *Allocator) stateOf(purpose, issuer string) *openState {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := [2]string{purpose, issuer}
	s, ok := a.open[k]
	if !ok {
		s = &openState{}
		a.open[k] = s
	}
	return s
}

// allocateBatched is Allocate over a BatchStore.
func (a *Allocator) allocateBatched(ctx context.Context, bs BatchStore, purpose, issuer string) (Allocation, error) {
	s := a.stateOf(purpose, issuer)
	w := &waiter{done: make(chan struct{})}
	s.mu.Lock()
	s.waiting = append(s.waiting, w)
	lead := !s.leading
	s.leading = true
	s.mu.Unlock()
	if lead {
		// The leader serves every caller waiting on s, this one among
		// them, until none is left. Its store calls outlive this caller's
		// cancellation: others wait on them too.
		go a.lead(context.WithoutCancel(ctx), bs, s, purpose, issuer)
	}
	select {
	case <-w.done:
		return w.alloc, w.err
	case <-ctx.Done():
		// The index, if one comes, is handed out to nobody; it stays
		// marked, like one whose credential failed to be signed.
		return Allocation{}, errkind.Wrap(errkind.Unavailable, ctx.Err(), "statuslist: allocation abandoned")
	}
}

// lead serves the callers waiting on s until none are left.
func (a *Allocator) lead(ctx context.Context, bs BatchStore, s *openState, purpose, issuer string) {
	for {
		s.mu.Lock()
		if len(s.waiting) == 0 {
			s.leading = false
			s.mu.Unlock()
			return
		}
		n := min(len(s.waiting), maxBatch)
		batch := s.waiting[:n:n]
		s.waiting = s.waiting[n:]
		s.mu.Unlock()

		left := a.serve(ctx, bs, s, batch, purpose, issuer)
		if len(left) > 0 {
			s.mu.Lock()
			s.waiting = append(left, s.waiting...)
			s.mu.Unlock()
		}
	}
}

// serve makes one attempt to hand out an index to each waiter of batch
// and returns those that are to try again.
func (a *Allocator) serve(ctx context.Context, bs BatchStore, s *openState, batch []*waiter, purpose, issuer string) []*waiter {
	finish := func(ws []*waiter, err error) {
		for _, w := range ws {
			w.err = err
			close(w.done)
		}
	}
	if s.list == nil {
		l, err := bs.OpenList(ctx, purpose, issuer, a.size)
		if err != nil {
			finish(batch, err)
			return nil
		}
		if l.Purpose != purpose || l.Issuer != issuer || l.Used == nil || l.Used.Len() != l.Size {
			finish(batch, errkind.New(errkind.Internal, "statuslist: store returned list %q (%s, %s, %d bits) for %s, %s", l.ID, l.Purpose, l.Issuer, l.Size, purpose, issuer))
			return nil
		}
		s.list, s.count = &l, l.Used.Count()
	}
	l := s.list
	if len(s.leased) > 0 {
		n := min(len(batch), len(s.leased))
		for k, i := range s.leased[:n] {
			batch[k].alloc = Allocation{ListID: l.ID, Index: i, Purpose: purpose}
			close(batch[k].done)
		}
		s.leased, batch = s.leased[n:], batch[n:]
		if len(batch) == 0 {
			return nil
		}
	}
	capacity := a.Capacity(l.Size)
	if s.count >= capacity {
		s.list = nil
		if err := bs.CloseList(ctx, l.ID); err != nil {
			finish(batch, err)
			return nil
		}
		return a.retry(batch)
	}
	// Draw distinct free indexes, each uniformly among those still free:
	// for the batch, and leaseAhead more for those to come.
	want := min(len(batch)+leaseAhead, capacity-s.count)
	picked := make([]int, 0, want)
	draw := l.Used.Clone()
	for range want {
		i, err := pick(draw, a.rand)
		if err != nil {
			finish(batch, err)
			return nil
		}
		draw.Set(i, true)
		picked = append(picked, i)
	}
	claimed, used, err := bs.AllocateMany(ctx, l.ID, picked, capacity)
	switch {
	case errors.Is(err, errkind.Conflict):
		s.list = nil // closed meanwhile: open the list again
		return a.retry(batch)
	case err != nil:
		finish(batch, err)
		return nil
	case used == nil || used.Len() != l.Size:
		s.list = nil
		finish(batch, errkind.New(errkind.Internal, "statuslist: store returned no used set of %d bits for list %q", l.Size, l.ID))
		return nil
	}
	l.Used, s.count = used, used.Count()
	n := min(len(batch), len(claimed))
	for k, i := range claimed[:n] {
		batch[k].alloc = Allocation{ListID: l.ID, Index: i, Purpose: purpose}
		close(batch[k].done)
	}
	s.leased = claimed[n:]
	return a.retry(batch[n:])
}

// retry returns those of ws that may try again, failing the others.
func (a *Allocator) retry(ws []*waiter) []*waiter {
	var left []*waiter
	for _, w := range ws {
		w.attempts++
		if w.attempts >= maxAllocateAttempts {
			w.err = errkind.New(errkind.Unavailable, "statuslist: no index allocated after %d attempts; too much contention", maxAllocateAttempts)
			close(w.done)
			continue
		}
		left = append(left, w)
	}
	return left
}
