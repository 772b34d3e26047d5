package store_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/registry"
)

// BenchmarkBlockTx applies blocks of 5,000 operations the way the engine
// does: each in a savepoint, reading the signer's nonce and the DID's
// latest version, then writing a DID version and the nonce, then
// releasing the savepoint; then the block itself. ops/s is operations
// applied and committed per second.
func BenchmarkBlockTx(b *testing.B) {
	const ops = 5000
	for _, db := range storetest.Open(b) {
		b.Run(db.Dialect(), func(b *testing.B) {
			ctx := b.Context()
			height := uint64(0)
			for b.Loop() {
				height++
				blk, hashes := benchBlock(height, ops)
				err := db.InBlockTx(ctx, func(tx registry.BlockTx) error {
					release := tx.(interface {
						ReleaseSavepoint(ctx context.Context, name string) error
					}).ReleaseSavepoint
					for i := range ops {
						did := "did:urbis:" + strconv.FormatUint(height, 10) + "-" + strconv.Itoa(i)
						if err := tx.Savepoint(ctx, "op"); err != nil {
							return err
						}
						n, err := tx.Nonce(ctx, did)
						if err != nil {
							return err
						}
						if _, err := tx.LatestDIDVersion(ctx, did); !errors.Is(err, errkind.NotFound) {
							return fmt.Errorf("LatestDIDVersion of a new DID: %v; want NotFound", err)
						}
						if err := tx.PutDIDVersion(ctx, didVersion(did, 1, height, t1)); err != nil {
							return err
						}
						if err := tx.SetNonce(ctx, did, n+1); err != nil {
							return err
						}
						if err := release(ctx, "op"); err != nil {
							return err
						}
					}
					return tx.PutBlock(ctx, blk, hashes)
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(ops)*float64(height)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

func benchBlock(height uint64, n int) (registry.Block, []string) {
	b, _ := block(height, t1, 0, 0)
	b.Header.OpCount = n
	hashes := make([]string, n)
	for i := range n {
		s, h := jws(registry.KindDIDCreate, height<<32|uint64(i))
		b.Ops = append(b.Ops, s)
		hashes[i] = h
	}
	return b, hashes
}

// BenchmarkLatestDIDVersion resolves DIDs among a thousand and among a
// million: the time per lookup should not grow with the number.
func BenchmarkLatestDIDVersion(b *testing.B) {
	for _, size := range []int{1_000, 1_000_000} {
		for _, db := range storetest.Open(b) {
			b.Run(fmt.Sprintf("%s/%d", db.Dialect(), size), func(b *testing.B) {
				fill(b, db, size)
				ctx := b.Context()
				i := 0
				for b.Loop() {
					i = (i + 7919) % size // a prime stride: scattered keys
					did := "did:urbis:" + strconv.Itoa(i+1)
					if v, err := db.LatestDIDVersion(ctx, did); err != nil || v.DID != did {
						b.Fatalf("LatestDIDVersion(%s) = %s, %v", did, v.DID, err)
					}
					if _, err := db.DIDVersionAt(ctx, did, t2); err != nil {
						b.Fatalf("DIDVersionAt(%s): %v", did, err)
					}
				}
			})
		}
	}
}

// fill gives db n DIDs with two versions each, in two statements.
func fill(b *testing.B, db *store.DB, n int) {
	b.Helper()
	for v, at := range map[int]any{1: t1, 2: t3} {
		storetest.Exec(b, db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "+
			"INSERT INTO did_versions (did, version, document, deactivated, height, time, op_hash) "+
			"SELECT 'did:urbis:' || i, ?, '{\"verificationMethod\":null,\"capabilityInvocation\":null}', ?, 1, ?, 'h' FROM n",
			n, v, false, at)
	}
}
