package oid4vci

import (
	"context"
	"sync"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/groupcommit"
)

// WriteKind names the write of a Write.
type WriteKind int

// The writes a Store applies in groups.
const (
	// WriteCreateOffer stores Offer.
	WriteCreateOffer WriteKind = iota + 1
	// WriteRedeem is Store.Redeem of ID with TokenHash, TokenExpires,
	// PurgeAt and Max.
	WriteRedeem
	// WriteUseNonce is Store.UseNonce of NonceHash valid until
	// NonceExpires.
	WriteUseNonce
	// WriteMarkIssued is Store.MarkIssued of ID from Old to New,
	// clearing the claims when ClearClaims.
	WriteMarkIssued
)

// Write is one write of a group that Store.Apply commits; the fields its
// Kind uses are set.
type Write struct {
	Kind WriteKind

	Offer Offer

	ID           string
	TokenHash    string
	TokenExpires time.Time
	PurgeAt      time.Time
	Max          int

	NonceHash    string
	NonceExpires time.Time

	Old, New    []string
	ClearClaims bool
}

// Applied is the outcome of one group of Store.Apply.
type Applied struct {
	// Failed is the index of the write that did not apply (a code already
	// redeemed, a nonce already spent, issued marks changed meanwhile),
	// or -1 when all applied. The group's writes apply all or none.
	Failed int
}

// maxWriteBatch bounds the groups written in one transaction.
const maxWriteBatch = 256

// writeBatcher group-commits the writes of concurrent flows: a caller
// that finds no write under way leads, applying the groups of every
// waiting caller with one Store.Apply (one transaction, one fsync on
// SQLite instead of one per write), until none is left. Each group is
// decided on its own within the transaction, in arrival order, so single
// use holds as with one statement each: of two redemptions of one code,
// the second finds it redeemed. A caller returns only once the
// transaction holding its writes has committed (or failed), so nothing
// is acknowledged before it is durable. When the transaction of several
// callers fails, each caller's group is applied again on its own, so
// that one caller's failure fails only that caller.
type writeBatcher struct {
	store Store

	queue     groupcommit.Queue[*writeWaiter]
	queueOnce sync.Once
}

type writeWaiter struct {
	group []Write
	done  chan struct{}
	res   Applied
	err   error
}

// apply commits group, all or nothing, and returns the index of its write
// that did not apply (-1: all applied).
func (b *writeBatcher) apply(ctx context.Context, group ...Write) (int, error) {
	w := &writeWaiter{group: group, done: make(chan struct{})}
	b.queueOnce.Do(func() { b.queue.Max, b.queue.Commit = maxWriteBatch, b.commit })
	b.queue.Add(ctx, w)
	select {
	case <-w.done:
		return w.res.Failed, w.err
	case <-ctx.Done():
		// The writes may yet commit; the caller was told nothing.
		return 0, errkind.Wrap(errkind.Unavailable, ctx.Err(), "oid4vci: write abandoned")
	}
}

// commit applies the groups of batch in one call and wakes their callers.
func (b *writeBatcher) commit(ctx context.Context, batch []*writeWaiter) {
	groups := make([][]Write, len(batch))
	for i, w := range batch {
		groups[i] = w.group
	}
	res, err := b.store.Apply(ctx, groups)
	if err == nil && len(res) != len(batch) {
		err = errkind.New(errkind.Internal, "oid4vci: the store applied %d groups of %d", len(res), len(batch))
	}
	if err != nil && len(batch) > 1 {
		// Nothing of the failed transaction was committed: apply each
		// caller's group on its own.
		for _, w := range batch {
			r, err := b.store.Apply(ctx, [][]Write{w.group})
			switch {
			case err != nil:
				w.err = err
			case len(r) != 1:
				w.err = errkind.New(errkind.Internal, "oid4vci: the store applied %d groups of 1", len(r))
			default:
				w.res = r[0]
			}
			close(w.done)
		}
		return
	}
	for i, w := range batch {
		if err != nil {
			w.err = err
		} else {
			w.res = res[i]
		}
		close(w.done)
	}
}
