package oid4vci

import (
	"context"
	"errors"
	"testing"
)

// failingStore fails every Apply of several groups, and the groups that
// redeem offer "bad".
type failingStore struct {
	Store
	calls int
}

func (s *failingStore) Apply(_ context.Context, groups [][]Write) ([]Applied, error) {
	s.calls++
	if len(groups) > 1 {
		return nil, errors.New("transaction failed")
	}
	if groups[0][0].ID == "bad" {
		return nil, errors.New("bad write")
	}
	return []Applied{{Failed: -1}}, nil
}

// TestWriteBatcherFallback: when the transaction of several callers
// fails, each caller's group is applied on its own, so only the failing
// caller sees an error.
func TestWriteBatcherFallback(t *testing.T) {
	s := &failingStore{}
	b := &writeBatcher{store: s}
	var batch []*writeWaiter
	for _, id := range []string{"a", "bad", "c"} {
		batch = append(batch, &writeWaiter{group: []Write{{Kind: WriteRedeem, ID: id}}, done: make(chan struct{})})
	}
	b.commit(context.Background(), batch)
	for i, w := range batch {
		select {
		case <-w.done:
		default:
			t.Fatalf("caller %d was not woken", i)
		}
		if bad := i == 1; (w.err != nil) != bad || (!bad && w.res.Failed != -1) {
			t.Errorf("caller %d: got %+v, %v; want an error only for the bad write", i, w.res, w.err)
		}
	}
	if s.calls != 4 {
		t.Errorf("got %d Apply calls; want 4 (the batch, then each alone)", s.calls)
	}
}
