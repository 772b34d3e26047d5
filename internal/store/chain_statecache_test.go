package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/registry"
)

// TestPrefetchAcrossBlocks checks that what a block's Prefetch finds for
// DIDs that earlier blocks read or wrote (kept in memory between blocks)
// is what the database holds: the writes of committed blocks, never those
// of an abandoned block nor of a rolled-back operation.
func TestPrefetchAcrossBlocks(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a, b, c := "did:urbis:cacheA", "did:urbis:cacheB", "did:urbis:cacheC"
		prefetch := func(tx registry.BlockTx, dids ...string) error {
			return tx.(interface {
				Prefetch(ctx context.Context, dids []string) error
			}).Prefetch(ctx, dids)
		}
		block := func(fn func(tx registry.BlockTx) error) error {
			return db.InBlockTx(ctx, func(tx registry.BlockTx) error {
				if err := prefetch(tx, a, b, c); err != nil {
					return err
				}
				return fn(tx)
			})
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		// want checks, in a fresh block, each DID's latest version and
		// nonce (0, 0: none) against wantV/wantN and the database's own.
		want := func(step string, wantV map[string]uint64, wantN map[string]uint64) {
			t.Helper()
			must(block(func(tx registry.BlockTx) error {
				for _, d := range []string{a, b, c} {
					v, err := tx.LatestDIDVersion(ctx, d)
					if errors.Is(err, errkind.NotFound) {
						err = nil
					}
					n, nerr := tx.Nonce(ctx, d)
					if err != nil || nerr != nil || v.Version != wantV[d] || n != wantN[d] {
						t.Errorf("%s: %s has version %d, nonce %d (%v, %v); want %d, %d", step, d, v.Version, n, err, nerr, wantV[d], wantN[d])
					}
					stored, err := db.LatestDIDVersion(ctx, d)
					if err == nil && !reflect.DeepEqual(stored, v) {
						t.Errorf("%s: %s in the block = %+v; the database holds %+v", step, d, v, stored)
					}
				}
				return nil
			}))
		}
		want("empty", nil, nil)
		must(block(func(tx registry.BlockTx) error {
			must(tx.PutDIDVersion(ctx, didVersion(a, 1, 1, t1)))
			return tx.SetNonce(ctx, a, 1)
		}))
		want("after a committed create", map[string]uint64{a: 1}, map[string]uint64{a: 1})

		abandon := errors.New("abandoned")
		err := block(func(tx registry.BlockTx) error {
			must(tx.PutDIDVersion(ctx, didVersion(a, 2, 2, t2)))
			must(tx.SetNonce(ctx, a, 2))
			must(tx.PutDIDVersion(ctx, didVersion(b, 1, 2, t2)))
			must(tx.SetNonce(ctx, b, 1))
			return abandon
		})
		if !errors.Is(err, abandon) {
			t.Fatalf("abandoned block: got %v; want %v", err, abandon)
		}
		want("after an abandoned block", map[string]uint64{a: 1}, map[string]uint64{a: 1})

		must(block(func(tx registry.BlockTx) error {
			must(tx.PutDIDVersion(ctx, didVersion(a, 2, 2, t2)))
			must(tx.SetNonce(ctx, a, 2))
			must(tx.Savepoint(ctx, "op"))
			must(tx.PutDIDVersion(ctx, didVersion(b, 1, 2, t2)))
			must(tx.SetNonce(ctx, b, 1))
			must(tx.RollbackTo(ctx, "op"))
			must(tx.PutDIDVersion(ctx, didVersion(c, 1, 2, t2)))
			return tx.SetNonce(ctx, c, 1)
		}))
		want("after a block with a rolled-back operation", map[string]uint64{a: 2, c: 1}, map[string]uint64{a: 2, c: 1})

		// A nonce written without a prefetch of its signer.
		must(db.InBlockTx(ctx, func(tx registry.BlockTx) error { return tx.SetNonce(ctx, b, 5) }))
		want("after a nonce written without prefetch", map[string]uint64{a: 2, c: 1}, map[string]uint64{a: 2, b: 5, c: 1})
	})
}
