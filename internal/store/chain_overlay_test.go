package store_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/registry"
)

// TestBlockTxOverlay checks that a block transaction's reads of DID
// versions and nonces, which it keeps in memory until the commit, see
// its writes and the database's rows as the database would, with and
// without Prefetch, and that rolling back to a savepoint undoes both the
// kept writes and those in the database.
func TestBlockTxOverlay(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		schema := sampleState().schemas[0]
		for _, prefetch := range []bool{false, true} {
			name, old, fresh := "reads", "did:urbis:old1", "did:urbis:new1"
			if prefetch {
				name, old, fresh = "prefetch", "did:urbis:old2", "did:urbis:new2"
			}
			t.Run(name, func(t *testing.T) {
				must := func(err error) {
					t.Helper()
					if err != nil {
						t.Fatal(err)
					}
				}
				must(db.InBlockTx(ctx, func(tx registry.BlockTx) error {
					must(tx.PutDIDVersion(ctx, didVersion(old, 1, 1, t1)))
					must(tx.PutDIDVersion(ctx, didVersion(old, 2, 1, t2)))
					return tx.SetNonce(ctx, old, 2)
				}))
				var inTx registry.DIDVersion
				must(db.InBlockTx(ctx, func(tx registry.BlockTx) error {
					if prefetch {
						must(tx.(interface {
							Prefetch(ctx context.Context, dids []string) error
						}).Prefetch(ctx, []string{old, fresh, old}))
					}
					if v, err := tx.LatestDIDVersion(ctx, old); err != nil || v.Version != 2 {
						t.Errorf("LatestDIDVersion(old) = version %d, %v; want 2", v.Version, err)
					}
					if n, err := tx.Nonce(ctx, old); err != nil || n != 2 {
						t.Errorf("Nonce(old) = %d, %v; want 2", n, err)
					}
					_, err := tx.LatestDIDVersion(ctx, fresh)
					wantKind(t, "LatestDIDVersion(fresh)", err, errkind.NotFound)
					wantKind(t, "PutDIDVersion of a stored version", tx.PutDIDVersion(ctx, didVersion(old, 1, 2, t3)), errkind.Conflict)
					must(tx.PutDIDVersion(ctx, didVersion(old, 3, 2, t3)))
					wantKind(t, "PutDIDVersion of a version put in this block", tx.PutDIDVersion(ctx, didVersion(old, 3, 2, t3)), errkind.Conflict)
					must(tx.SetNonce(ctx, old, 3))
					for _, c := range []struct {
						name string
						read func() (registry.DIDVersion, error)
						want uint64
					}{
						{"LatestDIDVersion", func() (registry.DIDVersion, error) { return tx.LatestDIDVersion(ctx, old) }, 3},
						{"DIDVersion 1", func() (registry.DIDVersion, error) { return tx.DIDVersion(ctx, old, 1) }, 1},
						{"DIDVersion 3", func() (registry.DIDVersion, error) { return tx.DIDVersion(ctx, old, 3) }, 3},
						{"DIDVersionAt t2", func() (registry.DIDVersion, error) { return tx.DIDVersionAt(ctx, old, t2) }, 2},
						{"DIDVersionAt t3", func() (registry.DIDVersion, error) { return tx.DIDVersionAt(ctx, old, t3) }, 3},
					} {
						if v, err := c.read(); err != nil || v.Version != c.want {
							t.Errorf("%s = version %d, %v; want %d", c.name, v.Version, err, c.want)
						}
					}
					inTx, _ = tx.LatestDIDVersion(ctx, old)

					// An operation that writes a kept row and a database row,
					// then is rolled back.
					must(tx.Savepoint(ctx, "op"))
					must(tx.PutDIDVersion(ctx, didVersion(fresh, 1, 2, t3)))
					must(tx.SetNonce(ctx, fresh, 1))
					must(tx.SetNonce(ctx, old, 9))
					if !prefetch { // once per database
						must(tx.PutSchema(ctx, schema))
					}
					if v, err := tx.DIDVersionAt(ctx, fresh, t3); err != nil || v.Version != 1 {
						t.Errorf("DIDVersionAt(fresh) in the savepoint = version %d, %v; want 1", v.Version, err)
					}
					must(tx.RollbackTo(ctx, "op"))
					_, err = tx.LatestDIDVersion(ctx, fresh)
					wantKind(t, "LatestDIDVersion(fresh) after RollbackTo", err, errkind.NotFound)
					_, err = tx.Schema(ctx, schema.ID)
					wantKind(t, "Schema after RollbackTo", err, errkind.NotFound)
					if n, err := tx.Nonce(ctx, old); err != nil || n != 3 {
						t.Errorf("Nonce(old) after RollbackTo = %d, %v; want 3", n, err)
					}
					if n, err := tx.Nonce(ctx, fresh); err != nil || n != 0 {
						t.Errorf("Nonce(fresh) after RollbackTo = %d, %v; want 0", n, err)
					}
					return nil
				}))
				got, err := db.LatestDIDVersion(ctx, old)
				if err != nil || !reflect.DeepEqual(got, inTx) {
					t.Errorf("LatestDIDVersion after commit = %+v, %v; want %+v, as read in the block", got, err, inTx)
				}
				if n, err := db.Nonce(ctx, old); err != nil || n != 3 {
					t.Errorf("Nonce(old) after commit = %d, %v; want 3", n, err)
				}
				_, err = db.LatestDIDVersion(ctx, fresh)
				wantKind(t, "LatestDIDVersion(fresh) after commit", err, errkind.NotFound)
			})
		}
	})
}
