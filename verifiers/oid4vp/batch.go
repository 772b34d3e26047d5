package oid4vp

import (
	"context"
	"sync"

	"github.com/urbis-id/urbis/internal/errkind"
)

// maxAnswerBatch bounds the answers stored in one transaction.
const maxAnswerBatch = 256

// answerBatcher group-commits concurrent answers: a caller that finds no
// write under way leads, storing every waiting answer in one transaction
// (one fsync on SQLite instead of one per answer), until none is left.
// Each caller returns once its answer is committed or refused, so no
// wallet is told "verified" before the outcome is stored; the per-answer
// result (Conflict for a request already answered) reaches each caller.
type answerBatcher struct {
	store Store

	mu      sync.Mutex
	waiting []*answerWaiter
	leading bool
}

type answerWaiter struct {
	a    Answer
	done chan struct{}
	err  error
}

// add stores a, returning its own result.
func (b *answerBatcher) add(ctx context.Context, a Answer) error {
	w := &answerWaiter{a: a, done: make(chan struct{})}
	b.mu.Lock()
	b.waiting = append(b.waiting, w)
	lead := !b.leading
	b.leading = true
	b.mu.Unlock()
	if lead {
		// The leader's writes outlive this caller's cancellation: other
		// callers wait on them too.
		go b.lead(context.WithoutCancel(ctx))
	}
	select {
	case <-w.done:
		return w.err
	case <-ctx.Done():
		return errkind.Wrap(errkind.Unavailable, ctx.Err(), "storing the answer abandoned; it may yet be stored")
	}
}

func (b *answerBatcher) lead(ctx context.Context) {
	for {
		b.mu.Lock()
		if len(b.waiting) == 0 {
			b.leading = false
			b.mu.Unlock()
			return
		}
		n := min(len(b.waiting), maxAnswerBatch)
		batch := b.waiting[:n:n]
		b.waiting = b.waiting[n:]
		b.mu.Unlock()
		answers := make([]Answer, len(batch))
		for i, w := range batch {
			answers[i] = w.a
		}
		errs, err := b.store.AnswerVPRequests(ctx, answers)
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
}
