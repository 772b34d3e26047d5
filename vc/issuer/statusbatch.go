package issuer

import (
	"context"
	"sync"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/groupcommit"
)

// maxStatusBatch bounds how many waiting issuances one write of the
// statusBatcher records.
const maxStatusBatch = 256

// statusBatcher group-commits the status entries and anchoring leaves of
// concurrent issuances: one goroutine at a time (the leader) writes the
// records of every waiting caller with one write call, one transaction, and
// callers that arrive meanwhile share the next one. A caller returns only
// once the call holding its entries has returned, so nothing is
// acknowledged before it is committed; the call's error reaches each of
// its callers. When a call of several callers fails, each caller's
// entries are written again on their own, so that one caller's conflict
// (a credential id issued twice) fails only that caller.
type statusBatcher struct {
	// write records statuses and leaves in one transaction.
	write func(ctx context.Context, recs []StatusRecord, leaves []IssuedLeaf) error

	queue     groupcommit.Queue[*statusWaiter]
	queueOnce sync.Once
}

type statusWaiter struct {
	recs   []StatusRecord
	leaves []IssuedLeaf
	done   chan struct{}
	err    error
}

// add records recs and leaves, returning once they are committed or have
// failed.
func (b *statusBatcher) add(ctx context.Context, recs []StatusRecord, leaves []IssuedLeaf) error {
	if len(recs) == 0 && len(leaves) == 0 {
		return nil
	}
	w := &statusWaiter{recs: recs, leaves: leaves, done: make(chan struct{})}
	b.queueOnce.Do(func() { b.queue.Max, b.queue.Commit = maxStatusBatch, b.commit })
	b.queue.Add(ctx, w)
	select {
	case <-w.done:
		return w.err
	case <-ctx.Done():
		// The entries may yet be committed; the credential was not
		// handed out, like one whose signing failed.
		return errkind.Wrap(errkind.Unavailable, ctx.Err(), "issuer: recording the credential's status abandoned")
	}
}

// commit records the entries of batch in one call and wakes its callers.
func (b *statusBatcher) commit(ctx context.Context, batch []*statusWaiter) {
	var all []StatusRecord
	var leaves []IssuedLeaf
	for _, w := range batch {
		all = append(all, w.recs...)
		leaves = append(leaves, w.leaves...)
	}
	err := b.write(ctx, all, leaves)
	if err != nil && len(batch) > 1 {
		// Nothing of the failed call was committed: find whose entries
		// fail by writing each caller's on their own.
		for _, w := range batch {
			w.err = b.write(ctx, w.recs, w.leaves)
			close(w.done)
		}
		return
	}
	for _, w := range batch {
		w.err = err
		close(w.done)
	}
}
