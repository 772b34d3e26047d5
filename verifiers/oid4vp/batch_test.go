package oid4vp

import (
	"context"
	"errors"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
)

// failingStore fails every write call of several writes, and the erasure
// of request "bad"; it answers Conflict for request "taken".
type failingStore struct {
	Store
	calls int
}

func (s *failingStore) WriteVPRequests(_ context.Context, writes []Write) ([]error, error) {
	s.calls++
	if len(writes) > 1 {
		return nil, errors.New("transaction failed")
	}
	switch {
	case writes[0].Erase == "bad":
		return nil, errors.New("bad write")
	case writes[0].Answer != nil && writes[0].Answer.ID == "taken":
		return []error{errkind.New(errkind.Conflict, "already answered")}, nil
	}
	return []error{nil}, nil
}

// TestWriteBatcherFallback: when the transaction of several writes fails,
// each is written on its own, so only the failing write's caller sees its
// error, and per-write results still reach their callers.
func TestWriteBatcherFallback(t *testing.T) {
	s := &failingStore{}
	b := &writeBatcher{store: s}
	writes := []Write{{Create: &Request{ID: "a"}}, {Erase: "bad"}, {Answer: &Answer{ID: "taken"}}, {Erase: "c"}}
	want := []errkind.Kind{"", errkind.Internal, errkind.Conflict, ""}
	var batch []*writeWaiter
	for _, w := range writes {
		batch = append(batch, &writeWaiter{w: w, done: make(chan struct{})})
	}
	b.commit(context.Background(), batch)
	for i, w := range batch {
		select {
		case <-w.done:
		default:
			t.Fatalf("caller %d was not woken", i)
		}
		if (w.err == nil) != (want[i] == "") || (w.err != nil && errkind.KindOf(w.err) != want[i]) {
			t.Errorf("caller %d: got %v; want kind %v", i, w.err, want[i])
		}
	}
	if s.calls != 5 {
		t.Errorf("got %d write calls; want 5 (the batch, then each alone)", s.calls)
	}
}
