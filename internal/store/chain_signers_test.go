package store_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/registry"
)

// TestSigners checks that CountSigners and EachSigner list the DIDs that
// hold a committed nonce, and not those of an abandoned block.
func TestSigners(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		list := func() (int, []string) {
			t.Helper()
			n, err := db.CountSigners(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			if err := db.EachSigner(ctx, func(d string) { got = append(got, d) }); err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			return n, got
		}
		if n, got := list(); n != 0 || len(got) != 0 {
			t.Fatalf("empty store: got %d signers %v; want none", n, got)
		}
		err := db.InBlockTx(ctx, func(tx registry.BlockTx) error {
			if err := tx.SetNonce(ctx, "did:key:zB", 1); err != nil {
				return err
			}
			return tx.SetNonce(ctx, "did:key:zA", 3)
		})
		if err != nil {
			t.Fatal(err)
		}
		abandon := errors.New("abandon")
		err = db.InBlockTx(ctx, func(tx registry.BlockTx) error {
			if err := tx.SetNonce(ctx, "did:key:zC", 1); err != nil {
				return err
			}
			return abandon
		})
		if !errors.Is(err, abandon) {
			t.Fatalf("abandoned block: got %v; want %v", err, abandon)
		}
		want := []string{"did:key:zA", "did:key:zB"}
		if n, got := list(); n != len(want) || !slices.Equal(got, want) {
			t.Errorf("got %d signers %v; want %d %v", n, got, len(want), want)
		}
	})
}
