package oid4vp

import (
	"context"
	"sync"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/groupcommit"
)

// maxWriteBatch bounds the writes stored in one transaction.
const maxWriteBatch = 256

// writeBatcher group-commits concurrent writes (new requests, answers,
// erased claims): a caller that finds no write under way leads, storing
// every waiting write in one transaction (one fsync on SQLite instead of
// one per write), until none is left. Each caller returns once its write
// is committed or refused, so no wallet is told "verified", and no shop
// handed a request, before it is stored; the per-write result (Conflict
// for a request already answered) reaches each caller. When the
// transaction of several writes fails, each is written again on its own,
// so that one write's failure fails only its caller.
type writeBatcher struct {
	store Store

	queue     groupcommit.Queue[*writeWaiter]
	queueOnce sync.Once
}

type writeWaiter struct {
	w    Write
	done chan struct{}
	err  error
}

// add stores w, returning its own result.
func (b *writeBatcher) add(ctx context.Context, w Write) error {
	wt := &writeWaiter{w: w, done: make(chan struct{})}
	b.queueOnce.Do(func() { b.queue.Max, b.queue.Commit = maxWriteBatch, b.commit })
	b.queue.Add(ctx, wt)
	select {
	case <-wt.done:
		return wt.err
	case <-ctx.Done():
		return errkind.Wrap(errkind.Unavailable, ctx.Err(), "storing the presentation request abandoned; it may yet be stored")
	}
}

// commit stores the writes of batch in one call and wakes their callers.
func (b *writeBatcher) commit(ctx context.Context, batch []*writeWaiter) {
	writes := make([]Write, len(batch))
	for i, w := range batch {
		writes[i] = w.w
	}
	errs, err := b.store.WriteVPRequests(ctx, writes)
	if err != nil && len(batch) > 1 {
		// Nothing of the failed transaction was stored: write each on
		// its own.
		for _, w := range batch {
			errs, err := b.store.WriteVPRequests(ctx, []Write{w.w})
			w.err = err
			if err == nil && len(errs) == 1 {
				w.err = errs[0]
			}
			close(w.done)
		}
		return
	}
	for i, w := range batch {
		switch {
		case err != nil:
			w.err = err
		case i < len(errs):
			w.err = errs[i]
		}
		close(w.done)
	}
}
