package store_test

import (
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/agency"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/store"
)

func newAgency(id string, at time.Time) (agency.Agency, agency.APIKey) {
	return agency.Agency{ID: id, Name: "Agency " + id, CreatedAt: at},
		agency.APIKey{ID: "apk_" + id, AgencyID: id, Hash: agency.HashAPIKey("urbis_" + id), Prefix: "urbis_" + id[:2], CreatedAt: at}
}

func TestAgencies(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a, ka := newAgency("agy_a", clock)
		b, kb := newAgency("agy_b", clock.Add(time.Second))
		for _, x := range []struct {
			a agency.Agency
			k agency.APIKey
		}{{b, kb}, {a, ka}} {
			if err := db.CreateAgency(ctx, x.a, x.k); err != nil {
				t.Fatalf("CreateAgency(%s) error = %v", x.a.ID, err)
			}
		}

		got, err := db.Agency(ctx, "agy_a")
		want := agency.Agency{ID: "agy_a", Name: "Agency agy_a", CreatedAt: clock.UTC().Truncate(time.Microsecond)}
		if err != nil || got != want {
			t.Errorf("Agency = %+v, %v; want %+v", got, err, want)
		}
		_, err = db.Agency(ctx, "agy_nope")
		wantKind(t, "Agency(unknown)", err, errkind.NotFound)

		list, err := db.ListAgencies(ctx)
		if err != nil || len(list) != 2 || list[0].ID != "agy_a" || list[1].ID != "agy_b" {
			t.Errorf("ListAgencies = %+v, %v; want agy_a then agy_b (oldest first)", list, err)
		}

		tests := []struct {
			name string
			a    agency.Agency
			k    agency.APIKey
			kind errkind.Kind
		}{
			{"same agency id", agency.Agency{ID: "agy_a", Name: "x", CreatedAt: clock},
				agency.APIKey{ID: "apk_new1", AgencyID: "agy_a", Hash: "h1", Prefix: "p", CreatedAt: clock}, errkind.Conflict},
			{"same API key hash", agency.Agency{ID: "agy_c", Name: "x", CreatedAt: clock},
				agency.APIKey{ID: "apk_new2", AgencyID: "agy_c", Hash: ka.Hash, Prefix: "p", CreatedAt: clock}, errkind.Conflict},
			{"key for another agency", agency.Agency{ID: "agy_d", Name: "x", CreatedAt: clock},
				agency.APIKey{ID: "apk_new3", AgencyID: "agy_missing", Hash: "h3", Prefix: "p", CreatedAt: clock}, errkind.NotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := db.CreateAgency(ctx, tt.a, tt.k)
				wantKind(t, "CreateAgency", err, tt.kind)
				if tt.a.ID != "agy_a" {
					_, err := db.Agency(ctx, tt.a.ID)
					wantKind(t, "agency of a failed CreateAgency", err, errkind.NotFound)
				}
			})
		}
	})
}

func TestAPIKeys(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a, ka := newAgency("agy_a", clock)
		b, kb := newAgency("agy_b", clock)
		for _, x := range [][2]any{{a, ka}, {b, kb}} {
			if err := db.CreateAgency(ctx, x[0].(agency.Agency), x[1].(agency.APIKey)); err != nil {
				t.Fatal(err)
			}
		}
		second := agency.APIKey{ID: "apk_2", AgencyID: "agy_a", Hash: agency.HashAPIKey("second"), Prefix: "urbis_se", CreatedAt: clock}
		if err := db.CreateAPIKey(ctx, second); err != nil {
			t.Fatalf("CreateAPIKey error = %v", err)
		}
		wantKind(t, "CreateAPIKey with a used hash",
			db.CreateAPIKey(ctx, agency.APIKey{ID: "apk_3", AgencyID: "agy_b", Hash: second.Hash, Prefix: "x", CreatedAt: clock}), errkind.Conflict)
		wantKind(t, "CreateAPIKey of a missing agency",
			db.CreateAPIKey(ctx, agency.APIKey{ID: "apk_4", AgencyID: "agy_none", Hash: "h4", Prefix: "x", CreatedAt: clock}), errkind.NotFound)

		lookups := []struct {
			hash, want string
		}{{ka.Hash, "agy_a"}, {second.Hash, "agy_a"}, {kb.Hash, "agy_b"}}
		for _, l := range lookups {
			got, err := db.AgencyByAPIKeyHash(ctx, l.hash)
			if err != nil || got.ID != l.want || got.Name != "Agency "+l.want {
				t.Errorf("AgencyByAPIKeyHash = %+v, %v; want %s", got, err, l.want)
			}
		}
		_, err := db.AgencyByAPIKeyHash(ctx, agency.HashAPIKey("unknown"))
		wantKind(t, "AgencyByAPIKeyHash(unknown)", err, errkind.NotFound)

		n, err := db.RevokeAPIKeys(ctx, "agy_a", clock.Add(time.Hour))
		if err != nil || n != 2 {
			t.Fatalf("RevokeAPIKeys = %d, %v; want 2", n, err)
		}
		for _, h := range []string{ka.Hash, second.Hash} {
			_, err := db.AgencyByAPIKeyHash(ctx, h)
			wantKind(t, "AgencyByAPIKeyHash(revoked)", err, errkind.NotFound)
		}
		if got, err := db.AgencyByAPIKeyHash(ctx, kb.Hash); err != nil || got.ID != "agy_b" {
			t.Errorf("other agency's key after revocation = %+v, %v; want agy_b still valid", got, err)
		}
		if n, err := db.RevokeAPIKeys(ctx, "agy_a", clock); err != nil || n != 0 {
			t.Errorf("second RevokeAPIKeys = %d, %v; want 0", n, err)
		}
	})
}
