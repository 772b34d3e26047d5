package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/urbis-id/urbis/registry"
)

// openSQLite opens and migrates a fresh SQLite database until t ends.
func openSQLite(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "urbis.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.MigrateUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	return db
}

// synchronous returns the synchronous setting of a block transaction's
// connection: 1 NORMAL, 2 FULL.
func synchronous(t *testing.T, tx registry.BlockTx) int {
	t.Helper()
	var n int
	if err := tx.(*chainTx).conn.QueryRowContext(t.Context(), "PRAGMA synchronous").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBlockConnSync: a lazy block commits on a connection that does not
// sync (NORMAL), a plain block on one that does (FULL), and the block is
// in the database, for every connection, before SyncBlocks; SyncBlocks
// syncs the write-ahead log.
func TestBlockConnSync(t *testing.T) {
	ctx := t.Context()
	db := openSQLite(t)
	for _, c := range []struct {
		name string
		run  func(context.Context, func(registry.BlockTx) error) error
		want int
	}{
		{"lazy", db.InBlockTxLazy, 1},
		{"plain", db.InBlockTx, 2},
		{"lazy again", db.InBlockTxLazy, 1},
	} {
		signer := "did:example:" + c.name
		err := c.run(ctx, func(tx registry.BlockTx) error {
			if got := synchronous(t, tx); got != c.want {
				t.Errorf("%s: synchronous = %d; want %d", c.name, got, c.want)
			}
			return tx.SetNonce(ctx, signer, 7)
		})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var n int
		if err := db.sql.QueryRowContext(ctx, "SELECT nonce FROM nonces WHERE signer = ?", signer).Scan(&n); err != nil || n != 7 {
			t.Fatalf("%s: another connection reads nonce %d, %v; want 7", c.name, n, err)
		}
	}
	if _, err := os.Stat(db.walPath); err != nil {
		t.Fatalf("the write-ahead log: %v", err)
	}
	if err := db.SyncBlocks(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestFailedLazyBlockDropsConn: after a lazy block fails, its connection,
// which does not sync its commits, is closed rather than returned to the
// pool: every pooled connection syncs (FULL), as other writers need.
func TestFailedLazyBlockDropsConn(t *testing.T) {
	ctx := t.Context()
	db := openSQLite(t)
	boom := errors.New("boom")
	if err := db.InBlockTxLazy(ctx, func(registry.BlockTx) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("got %v; want boom", err)
	}
	if db.block.conn != nil {
		t.Fatal("the failed block's connection is still the block connection")
	}
	held := make([]*sql.Conn, 0, poolSize)
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for i := range poolSize {
		conn, err := db.sql.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, conn)
		var n int
		if err := conn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Fatalf("pooled connection %d: synchronous = %d; want 2 (FULL)", i, n)
		}
	}
	for _, c := range held {
		c.Close()
	}
	held = held[:0]
	// The next block gets a new connection and commits.
	if err := db.InBlockTxLazy(ctx, func(tx registry.BlockTx) error { return tx.SetNonce(ctx, "did:example:next", 1) }); err != nil {
		t.Fatal(err)
	}
}

// TestSyncBlocksWithoutLog: SyncBlocks has nothing to do for an
// in-memory database, or when the log was checkpointed and removed.
func TestSyncBlocksWithoutLog(t *testing.T) {
	mem, err := Open(t.Context(), "file:blocks?mode=memory&cache=shared")
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	if mem.walPath != "" {
		t.Fatalf("in memory: walPath %q; want none", mem.walPath)
	}
	if err := mem.SyncBlocks(t.Context()); err != nil {
		t.Fatal(err)
	}
	db := openSQLite(t)
	db.walPath = filepath.Join(t.TempDir(), "gone.db-wal")
	if err := db.SyncBlocks(t.Context()); err != nil {
		t.Fatalf("no log: %v", err)
	}
}
