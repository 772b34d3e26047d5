package store_test

import (
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
