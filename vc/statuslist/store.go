package statuslist

import (
	"context"
	"time"
)

// List is one status list of an issuer as kept in storage.
type List struct {
	ID      string
	Purpose string // PurposeRevocation or PurposeSuspension
	Issuer  string // the issuer DID
	Size    int    // length in bits; Bits and Used have this length
	Bits    *Bitstring
	Used    *Bitstring // bit i is set once index i has been handed out
	Closed  bool       // full: no more indexes are handed out from it
	Version uint64     // increases each time a status bit changes
	Updated time.Time  // when the list was created or a bit last changed
}

// Store keeps status lists. Each method is atomic; the Bitstrings in a
// returned List belong to the caller. Errors are errkind kinds.
// internal/store implements it.
type Store interface {
	// OpenList returns the list that issuer currently hands out purpose
	// indexes from, creating an empty one of size bits (Version 0,
	// Updated the creation time) when none is open. Concurrent calls for
	// the same issuer and purpose return the same list.
	OpenList(ctx context.Context, purpose, issuer string, size int) (List, error)

	// CloseList marks a list full, so OpenList never returns it again;
	// its statuses can still change. Closing a closed list does nothing.
	// NotFound if there is no such list.
	CloseList(ctx context.Context, listID string) error

	// Allocate marks index as handed out. Conflict if it already is or
	// the list is closed; NotFound if there is no such list; Invalid if
	// index is outside the list.
	Allocate(ctx context.Context, listID string, index int) error

	// SetStatus sets the status bit at index to value, as of at. When the
	// bit changes, Version increases by one and Updated becomes at;
	// setting a bit to the value it has changes nothing. NotFound if
	// there is no such list or index was never handed out.
	SetStatus(ctx context.Context, listID string, index int, value bool, at time.Time) error

	// List returns a list; NotFound if there is none.
	List(ctx context.Context, listID string) (List, error)
}

// BatchStore is a Store that also claims several indexes of a list in
// one atomic step. An Allocator over a BatchStore serves the callers that
// wait for the same list with one store call, which also claims indexes
// ahead for the callers to come (served from memory), keeps a copy of
// each open list's used set between calls, and learns the store's current
// used set from every call.
type BatchStore interface {
	Store

	// AllocateMany marks as handed out, in order, each of indexes that
	// is free, stopping once limit indexes of the list are handed out in
	// all (counting those handed out before). It returns the indexes it
	// marked and a copy of the list's used set afterwards. Conflict if
	// the list is closed; NotFound if there is no such list; Invalid if
	// an index is outside the list (then nothing is marked).
	AllocateMany(ctx context.Context, listID string, indexes []int, limit int) (claimed []int, used *Bitstring, err error)
}
