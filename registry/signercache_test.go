package registry

import (
	"context"
	"errors"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
)

// TestBlockStateReadsWhatTheTransactionHolds checks that blockState
// answers Nonce and LatestDIDVersion as the transaction under it would,
// through accepted and rolled back operations.
func TestBlockStateReadsWhatTheTransactionHolds(t *testing.T) {
	ctx := context.Background()
	const a, b = "did:urbis:za", "did:urbis:zb"
	c := newSignerCache(10)
	tx := &memTx{memState: newMemState(), marks: map[string][]int{}}
	_ = tx.memState.PutDIDVersion(ctx, DIDVersion{DID: a, Version: 1})
	_ = tx.memState.SetNonce(ctx, a, 1)
	bs := newBlockState(tx, c)
	check := func(step string) {
		t.Helper()
		for _, d := range []string{a, b} {
			gotN, err1 := bs.Nonce(ctx, d)
			wantN, _ := tx.Nonce(ctx, d)
			gotV, err2 := bs.LatestDIDVersion(ctx, d)
			wantV, err3 := tx.LatestDIDVersion(ctx, d)
			if err1 != nil || gotN != wantN || gotV.Version != wantV.Version || (err2 == nil) != (err3 == nil) {
				t.Errorf("%s: %s: got nonce %d, version %d (%v); want %d, %d (%v)", step, d, gotN, gotV.Version, err2, wantN, wantV.Version, err3)
			}
		}
	}
	op := func(accept bool, writes func()) {
		_ = tx.Savepoint(ctx, "op")
		writes()
		if accept {
			bs.accept()
		} else {
			bs.discard()
			_ = tx.RollbackTo(ctx, "op")
		}
	}
	check("start")
	op(true, func() {
		_ = bs.PutDIDVersion(ctx, DIDVersion{DID: a, Version: 2})
		_ = bs.SetNonce(ctx, a, 2)
	})
	check("after an accepted update")
	op(false, func() {
		_ = bs.PutDIDVersion(ctx, DIDVersion{DID: a, Version: 3})
		_ = bs.SetNonce(ctx, a, 3)
		check("inside an operation")
	})
	check("after a rolled back update")
	op(true, func() {
		if _, err := bs.LatestDIDVersion(ctx, b); !errors.Is(err, errkind.NotFound) {
			t.Errorf("LatestDIDVersion of a new DID: %v; want NotFound", err)
		}
		_ = bs.PutDIDVersion(ctx, DIDVersion{DID: b, Version: 1})
		_ = bs.SetNonce(ctx, b, 1)
	})
	check("after a create")

	// After the commit the cache holds what the block left, and a fill
	// that raced with the commit is dropped.
	_, _, gen := c.lookup("did:urbis:zc")
	c.committed(bs)
	c.fillNonce("did:urbis:zc", 7, gen)
	for _, tt := range []struct {
		did     string
		nonce   uint64
		version uint64
	}{{a, 2, 2}, {b, 1, 1}} {
		e, ok, _ := c.lookup(tt.did)
		if !ok || e.nonce != tt.nonce || !e.versionOK || e.version.Version != tt.version {
			t.Errorf("cache of %s: got %+v, %v; want nonce %d, version %d", tt.did, e, ok, tt.nonce, tt.version)
		}
	}
	if _, ok, _ := c.lookup("did:urbis:zc"); ok {
		t.Errorf("a fill older than the commit was kept")
	}
}

func TestSignerCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := newSignerCache(2)
	gen := uint64(0)
	c.fillNonce("a", 1, gen)
	c.fillNonce("b", 1, gen)
	c.lookup("a")
	c.fillNonce("c", 1, gen)
	for d, want := range map[string]bool{"a": true, "b": false, "c": true} {
		if _, ok, _ := c.lookup(d); ok != want {
			t.Errorf("lookup(%s) = %v; want %v", d, ok, want)
		}
	}
}
