package store_test

import (
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/vc/issuer"
)

// SearchStatuses lists an agency's credentials newest first, matches a
// part of the id whatever its case and with no wildcard, keeps to one
// instance, and never returns another agency's; NoteStatus notes only the
// agency's own entries.
func TestSearchStatusesAndNotes(t *testing.T) {
	for _, db := range storetest.Open(t) {
		t.Run(db.Dialect(), func(t *testing.T) {
			ctx := t.Context()
			w := newWorld(db)
			mk := func(name string) (string, issuer.Instance, string) {
				a, _, err := w.agencies.Create(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				rec, err := w.agencies.CreateDID(ctx, a.ID, "key", "Ed25519")
				if err != nil {
					t.Fatal(err)
				}
				in := issuer.Instance{ID: "iss_" + name, AgencyID: a.ID, DID: rec.DID, Format: issuer.FormatLDP, Cryptosuite: "eddsa-rdfc-2022",
					Types: []string{"T"}, StatusPurposes: []string{"revocation", "suspension"}, CreatedAt: clock}
				if err := db.CreateIssuer(ctx, in); err != nil {
					t.Fatal(err)
				}
				l, err := db.OpenList(ctx, "revocation", rec.DID, 131072)
				if err != nil {
					t.Fatal(err)
				}
				return a.ID, in, l.ID
			}
			agencyA, inA, listA := mk("a")
			agencyB, inB, listB := mk("b")
			add := func(agency string, in issuer.Instance, list, id string, idx int, at time.Time) {
				t.Helper()
				recs := []issuer.StatusRecord{
					{CredentialID: id, Purpose: "revocation", ListID: list, Index: idx, AgencyID: agency, IssuerID: in.ID, CreatedAt: at},
					{CredentialID: id, Purpose: "suspension", ListID: list, Index: idx + 1000, AgencyID: agency, IssuerID: in.ID, CreatedAt: at},
				}
				if err := db.AddStatuses(ctx, recs); err != nil {
					t.Fatal(err)
				}
			}
			add(agencyA, inA, listA, "urn:uuid:A-old", 1, clock)
			add(agencyA, inA, listA, "urn:uuid:A-new_1", 2, clock.Add(time.Minute))
			add(agencyB, inB, listB, "urn:uuid:B-1", 3, clock.Add(2*time.Minute))

			ids := func(recs []issuer.StatusRecord) []string {
				var out []string
				for _, r := range recs {
					out = append(out, r.CredentialID+"/"+r.Purpose)
				}
				return out
			}
			cases := []struct {
				name string
				f    issuer.CredentialSearch
				want []string
			}{
				{"all, newest first", issuer.CredentialSearch{Limit: 10}, []string{"urn:uuid:A-new_1/revocation", "urn:uuid:A-new_1/suspension", "urn:uuid:A-old/revocation", "urn:uuid:A-old/suspension"}},
				{"limit counts credentials", issuer.CredentialSearch{Limit: 1}, []string{"urn:uuid:A-new_1/revocation", "urn:uuid:A-new_1/suspension"}},
				{"part of the id, any case", issuer.CredentialSearch{IDContains: "a-OLD", Limit: 10}, []string{"urn:uuid:A-old/revocation", "urn:uuid:A-old/suspension"}},
				{"_ is no wildcard", issuer.CredentialSearch{IDContains: "new_", Limit: 10}, []string{"urn:uuid:A-new_1/revocation", "urn:uuid:A-new_1/suspension"}},
				{"% is no wildcard", issuer.CredentialSearch{IDContains: "%", Limit: 10}, nil},
				{"B's id", issuer.CredentialSearch{IDContains: "B-1", Limit: 10}, nil},
				{"B's instance", issuer.CredentialSearch{IssuerID: inB.ID, Limit: 10}, nil},
			}
			for _, c := range cases {
				got, err := db.SearchStatuses(ctx, agencyA, c.f)
				if err != nil || !equalStrings(ids(got), c.want) {
					t.Errorf("%s: got %v, %v; want %v", c.name, ids(got), err, c.want)
				}
			}

			// B notes A's entry: nothing. A notes it: listed.
			if err := db.NoteStatus(ctx, agencyB, "urn:uuid:A-old", "revocation", "B was here", clock); err != nil {
				t.Fatal(err)
			}
			if err := db.NoteStatus(ctx, agencyA, "urn:uuid:A-old", "suspension", "first", clock.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if err := db.NoteStatus(ctx, agencyA, "urn:uuid:A-old", "suspension", "second", clock.Add(2*time.Hour)); err != nil {
				t.Fatal(err)
			}
			got, err := db.SearchStatuses(ctx, agencyA, issuer.CredentialSearch{IDContains: "A-old", Limit: 10})
			if err != nil || len(got) != 2 {
				t.Fatalf("after notes: %+v, %v", got, err)
			}
			if got[0].Reason != "" || !got[0].ChangedAt.IsZero() {
				t.Errorf("revocation entry: got note %q at %v; want none (B's note refused)", got[0].Reason, got[0].ChangedAt)
			}
			if got[1].Reason != "second" || !got[1].ChangedAt.Equal(clock.Add(2*time.Hour)) {
				t.Errorf("suspension entry: got note %q at %v; want the last one, second", got[1].Reason, got[1].ChangedAt)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
