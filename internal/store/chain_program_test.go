package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/registry"
)

// TestProgramState checks the programs' key-value state: a block's
// writes, kept in memory until the commit, are seen by its own reads and
// scans laid over the database's rows; rolling back to a savepoint undoes
// them; a failed block leaves nothing; scans are bytewise ordered and
// bounded by prefix; the state digest covers the table.
func TestProgramState(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		keys := func(es []registry.ProgramEntry) string {
			var ks []string
			for _, e := range es {
				ks = append(ks, e.Key+"="+string(e.Value))
			}
			return strings.Join(ks, " ")
		}
		before, err := db.StateDigest(ctx)
		must(err)
		must(db.InBlockTx(ctx, func(tx registry.BlockTx) error {
			for _, k := range []string{"p/b", "p/a", "p/c", "p/A", "q/a", "p"} {
				must(tx.ProgramPut(ctx, k, []byte(`"`+k+`"`)))
			}
			return nil
		}))
		after, err := db.StateDigest(ctx)
		must(err)
		if after == before {
			t.Error("state digest unchanged by program state; want it to cover program_state")
		}
		got, err := db.ProgramScan(ctx, "p/", "", 10)
		must(err)
		if want := `p/A="p/A" p/a="p/a" p/b="p/b" p/c="p/c"`; keys(got) != want {
			t.Errorf("scan p/: got %s; want %s", keys(got), want)
		}
		must(db.InBlockTx(ctx, func(tx registry.BlockTx) error {
			must(tx.ProgramDelete(ctx, "p/a"))
			must(tx.ProgramPut(ctx, "p/b", []byte(`2`)))
			must(tx.ProgramPut(ctx, "p/d", []byte(`"d"`)))
			if got, _ := tx.ProgramScan(ctx, "p/", "p/A", 2); keys(got) != `p/b=2 p/c="p/c"` {
				t.Errorf("scan in block after p/A, limit 2: got %s; want p/b=2 p/c=\"p/c\"", keys(got))
			}
			must(tx.Savepoint(ctx, "op"))
			must(tx.ProgramPut(ctx, "p/c", []byte(`3`)))
			must(tx.ProgramDelete(ctx, "p/d"))
			must(tx.ProgramPut(ctx, "p/e", []byte(`5`)))
			must(tx.RollbackTo(ctx, "op"))
			_, err := tx.ProgramGet(ctx, "p/a")
			wantKind(t, "get of a key deleted in the block", err, errkind.NotFound)
			if v, err := tx.ProgramGet(ctx, "p/b"); err != nil || string(v) != "2" {
				t.Errorf("get p/b in block: got %s, %v; want 2", v, err)
			}
			return nil
		}))
		got, err = db.ProgramScan(ctx, "p/", "", 10)
		must(err)
		if want := `p/A="p/A" p/b=2 p/c="p/c" p/d="d"`; keys(got) != want {
			t.Errorf("scan after commit: got %s; want %s", keys(got), want)
		}
		boom := errors.New("boom")
		if err := db.InBlockTx(ctx, func(tx registry.BlockTx) error {
			must(tx.ProgramPut(ctx, "p/z", []byte(`1`)))
			return boom
		}); !errors.Is(err, boom) {
			t.Fatalf("failed block: got %v; want boom", err)
		}
		_, err = db.ProgramGet(ctx, "p/z")
		wantKind(t, "get of a key written by a failed block", err, errkind.NotFound)
	})
}

// TestPrefetchProgram: keys read ahead give the database's values (or
// none) to the block's reads, under the block's own writes, also after a
// write is rolled back; the next block reads what was committed.
func TestPrefetchProgram(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		get := func(tx registry.BlockTx, key string) string {
			t.Helper()
			v, err := tx.ProgramGet(ctx, key)
			if errors.Is(err, errkind.NotFound) {
				return "none"
			}
			must(err)
			return string(v)
		}
		prefetch := func(tx registry.BlockTx, keys ...string) {
			t.Helper()
			must(tx.(interface {
				PrefetchProgram(ctx context.Context, keys []string) error
			}).PrefetchProgram(ctx, keys))
		}
		must(db.InBlockTx(ctx, func(tx registry.BlockTx) error {
			return tx.ProgramPut(ctx, "pf/a", []byte(`1`))
		}))
		must(db.InBlockTx(ctx, func(tx registry.BlockTx) error {
			prefetch(tx, "pf/a", "pf/none", "pf/a")
			if got := get(tx, "pf/a"); got != "1" {
				t.Errorf("pf/a read ahead: got %s; want 1", got)
			}
			if got := get(tx, "pf/none"); got != "none" {
				t.Errorf("pf/none read ahead: got %s; want none", got)
			}
			must(tx.Savepoint(ctx, "op"))
			must(tx.ProgramPut(ctx, "pf/a", []byte(`2`)))
			must(tx.ProgramPut(ctx, "pf/none", []byte(`3`)))
			if got := get(tx, "pf/a") + " " + get(tx, "pf/none"); got != "2 3" {
				t.Errorf("after writes: got %s; want 2 3", got)
			}
			must(tx.RollbackTo(ctx, "op"))
			if got := get(tx, "pf/a") + " " + get(tx, "pf/none"); got != "1 none" {
				t.Errorf("after a rollback: got %s; want 1 none", got)
			}
			must(tx.ProgramPut(ctx, "pf/a", []byte(`4`)))
			prefetch(tx, "pf/a") // a key the block wrote keeps the block's value
			if got := get(tx, "pf/a"); got != "4" {
				t.Errorf("written, then read ahead: got %s; want 4", got)
			}
			return nil
		}))
		must(db.InBlockTx(ctx, func(tx registry.BlockTx) error {
			prefetch(tx, "pf/a", "pf/none")
			if got := get(tx, "pf/a") + " " + get(tx, "pf/none"); got != "4 none" {
				t.Errorf("next block: got %s; want 4 none", got)
			}
			return nil
		}))
	})
}
