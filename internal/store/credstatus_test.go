package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/vc/issuer"
)

func TestCredentialStatuses(t *testing.T) {
	ctx := context.Background()
	for _, db := range storetest.Open(t) {
		t.Run(db.Dialect(), func(t *testing.T) {
			w := newWorld(db)
			a, _, err := w.agencies.Create(ctx, "Civil Registry")
			if err != nil {
				t.Fatal(err)
			}
			b, _, err := w.agencies.Create(ctx, "Land Registry")
			if err != nil {
				t.Fatal(err)
			}
			rec, err := w.agencies.CreateDID(ctx, a.ID, "key", "Ed25519")
			if err != nil {
				t.Fatal(err)
			}
			in := issuer.Instance{ID: "iss_1", AgencyID: a.ID, DID: rec.DID, Format: issuer.FormatLDP, Cryptosuite: "eddsa-rdfc-2022",
				Types: []string{"ResidentCredential"}, StatusPurposes: []string{"revocation", "suspension"}, CreatedAt: clock}
			if err := db.CreateIssuer(ctx, in); err != nil {
				t.Fatal(err)
			}
			if got, err := db.Issuer(ctx, a.ID, "iss_1"); err != nil || len(got.StatusPurposes) != 2 || got.StatusPurposes[1] != "suspension" {
				t.Fatalf("Issuer = %+v, %v; want statusPurposes [revocation suspension]", got, err)
			}
			var recs []issuer.StatusRecord
			for i, p := range in.StatusPurposes {
				l, err := db.OpenList(ctx, p, rec.DID, 131072)
				if err != nil {
					t.Fatal(err)
				}
				recs = append(recs, issuer.StatusRecord{CredentialID: "urn:uuid:1", Purpose: p, ListID: l.ID, Index: 10 + i,
					AgencyID: a.ID, IssuerID: in.ID, CreatedAt: clock})
			}
			if err := db.AddStatuses(ctx, recs); err != nil {
				t.Fatal(err)
			}
			if err := db.AddStatuses(ctx, recs[:1]); errkind.KindOf(err) != errkind.Conflict {
				t.Errorf("AddStatuses again: got %v; want Conflict", err)
			}
			got, err := db.Statuses(ctx, a.ID, "urn:uuid:1")
			if err != nil || len(got) != 2 || got[0] != norm(recs[0]) || got[1] != norm(recs[1]) {
				t.Errorf("Statuses = %+v, %v; want %+v", got, err, recs)
			}
			for _, q := range []struct{ agency, id string }{{b.ID, "urn:uuid:1"}, {a.ID, "urn:uuid:2"}} {
				if _, err := db.Statuses(ctx, q.agency, q.id); errkind.KindOf(err) != errkind.NotFound {
					t.Errorf("Statuses(%s, %s): got %v; want NotFound", q.agency, q.id, err)
				}
			}
			if r, err := db.ListRecord(ctx, recs[1].ListID); err != nil || r.IssuerID != "iss_1" || r.AgencyID != a.ID {
				t.Errorf("ListRecord = %+v, %v; want iss_1 of %s", r, err, a.ID)
			}
			if _, err := db.ListRecord(ctx, "sl_none"); errkind.KindOf(err) != errkind.NotFound {
				t.Errorf("ListRecord(sl_none): got %v; want NotFound", err)
			}
		})
	}
}

// norm is r as read back: its time in UTC, to the microsecond.
func norm(r issuer.StatusRecord) issuer.StatusRecord {
	r.CreatedAt = r.CreatedAt.UTC().Truncate(time.Microsecond)
	return r
}
