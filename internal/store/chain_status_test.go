package store_test

import (
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/registry"
)

func TestStatusAt(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		s := sampleState()
		s.put(t, db)
		// Two changes of the same bit in one block: the later one wins.
		if err := db.InBlockTx(ctx, func(tx registry.BlockTx) error {
			for i, v := range []bool{true, false} {
				u := registry.StatusUpdate{List: listB, Index: 5, Purpose: registry.PurposeSuspension, Value: v,
					Issuer: didB, Height: 4, Time: t3.Add(time.Minute), OpHash: hash("same-block", string(rune('0'+i)))}
				if err := tx.AddStatusUpdate(ctx, u); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name    string
			list    string
			index   int
			purpose string
			at      time.Time
			value   bool
			height  uint64
			found   bool
		}{
			{"before any update", listA, 7, registry.PurposeRevocation, t1, false, 0, false},
			{"at the revocation", listA, 7, registry.PurposeRevocation, t2, true, 2, true},
			{"long after the revocation", listA, 7, registry.PurposeRevocation, t3.Add(time.Hour), true, 2, true},
			{"suspended", listA, 7, registry.PurposeSuspension, t3.Add(-time.Microsecond), true, 2, true},
			{"reinstated", listA, 7, registry.PurposeSuspension, t3, false, 3, true},
			{"another index", listA, 8, registry.PurposeRevocation, t3, false, 0, false},
			{"another list", listB, 7, registry.PurposeRevocation, t3, false, 0, false},
			{"last of one block", listB, 5, registry.PurposeSuspension, t3.Add(time.Minute), false, 4, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				v, h, found, err := db.StatusAt(ctx, tt.list, tt.index, tt.purpose, tt.at)
				if err != nil || v != tt.value || h != tt.height || found != tt.found {
					t.Errorf("StatusAt = %v, %d, %v, %v; want %v, %d, %v, nil", v, h, found, err, tt.value, tt.height, tt.found)
				}
			})
		}
		if got, err := db.StatusListIssuer(ctx, listB); err != nil || got != didB {
			t.Errorf("StatusListIssuer = %q, %v; want %s", got, err, didB)
		}
	})
}
