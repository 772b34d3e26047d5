package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/registry"
)

// TestReadCachesSeeWrites: the verify path's cached reads (a type's
// schemas, a status list) show each committed write at once, and a
// rolled-back block leaves them as they were.
func TestReadCachesSeeWrites(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		l := openList(t, db)
		if err := db.Allocate(ctx, l.ID, 5); err != nil {
			t.Fatal(err)
		}
		for i, want := range []bool{true, false, true} {
			mustList(t, db, l.ID) // fill the cache
			if err := db.SetStatus(ctx, l.ID, 5, want, time.Now()); err != nil {
				t.Fatal(err)
			}
			got := mustList(t, db, l.ID)
			if v, _ := got.Bits.Get(5); v != want || got.Version != uint64(i+1) {
				t.Errorf("after SetStatus(%v) #%d: bit %v, version %d; want %v, %d", want, i+1, v, got.Version, want, i+1)
			}
			got.Bits.Set(6, true) // the caller owns what List returns
			if v, _ := mustList(t, db, l.ID).Bits.Get(6); v {
				t.Error("a change to a returned list reached the cache")
			}
		}

		const typ = "CacheTestCredential"
		if s, err := db.SchemasByType(ctx, typ); err != nil || len(s) != 0 {
			t.Fatalf("schemas before: got %v, %v; want none", s, err)
		}
		put := func(id string) func(registry.BlockTx) error {
			return func(tx registry.BlockTx) error {
				return tx.PutSchema(ctx, registry.Schema{ID: id, Type: typ, Issuer: "did:example:a",
					Content: json.RawMessage(`{"type":"object"}`), Height: 1, Time: time.Now().UTC().Truncate(time.Second), OpHash: id})
			}
		}
		rollback := errFail("roll back")
		if err := db.InBlockTx(ctx, func(tx registry.BlockTx) error { put(hash("s0"))(tx); return rollback }); err != rollback {
			t.Fatalf("rolled-back block: got %v", err)
		}
		if s, _ := db.SchemasByType(ctx, typ); len(s) != 0 {
			t.Errorf("after a rolled-back block: %d schemas; want 0", len(s))
		}
		if err := db.InBlockTx(ctx, put(hash("s1"))); err != nil {
			t.Fatal(err)
		}
		if s, _ := db.SchemasByType(ctx, typ); len(s) != 1 || s[0].ID != hash("s1") {
			t.Errorf("after a committed block: got %v; want schema %s", s, hash("s1"))
		}
	})
}

type errFail string

func (e errFail) Error() string { return string(e) }
