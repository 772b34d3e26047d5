package store_test

import (
	"strings"
	"testing"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/bls"
	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/kms"
	"github.com/urbis-id/urbis/vc/issuer"
)

// 00008 rebuilds keys and issuer_instances on SQLite: rows that other
// tables refer to survive it both ways, and the references stay enforced.
func TestBBSMigrationKeepsRows(t *testing.T) {
	for _, db := range storetest.Open(t) {
		t.Run(db.Dialect(), func(t *testing.T) {
			ctx := t.Context()
			w := newWorld(db)
			a, _, err := w.agencies.Create(ctx, "Civil Registry")
			if err != nil {
				t.Fatal(err)
			}
			rec, err := w.agencies.CreateDID(ctx, a.ID, "key", "Ed25519")
			if err != nil {
				t.Fatal(err)
			}
			in := issuer.Instance{ID: "iss_1", AgencyID: a.ID, DID: rec.DID, Format: issuer.FormatLDP, Cryptosuite: "eddsa-rdfc-2022",
				Types: []string{"ResidentCredential"}, StatusPurposes: []string{"revocation"}, CreatedAt: clock}
			if err := db.CreateIssuer(ctx, in); err != nil {
				t.Fatal(err)
			}
			l, err := db.OpenList(ctx, "revocation", rec.DID, 131072)
			if err != nil {
				t.Fatal(err)
			}
			st := issuer.StatusRecord{CredentialID: "urn:uuid:1", Purpose: "revocation", ListID: l.ID, Index: 3, AgencyID: a.ID, IssuerID: in.ID, CreatedAt: clock}
			if err := db.AddStatuses(ctx, []issuer.StatusRecord{st}); err != nil {
				t.Fatal(err)
			}
			check := func(when string) {
				t.Helper()
				if got, err := db.Issuer(ctx, a.ID, in.ID); err != nil || got.DID != rec.DID || len(got.StatusPurposes) != 1 {
					t.Errorf("%s: Issuer = %+v, %v; want the instance of %s", when, got, err, rec.DID)
				}
				if got, err := db.DID(ctx, a.ID, rec.DID); err != nil || got.KeyID != rec.KeyID {
					t.Errorf("%s: DID = %+v, %v; want it bound to %s", when, got, err, rec.KeyID)
				}
				if _, err := w.keys.Signer(ctx, a.ID, rec.KeyID); err != nil {
					t.Errorf("%s: Signer = %v; want the key unsealed", when, err)
				}
				if got, err := db.Statuses(ctx, a.ID, "urn:uuid:1"); err != nil || len(got) != 1 {
					t.Errorf("%s: Statuses = %+v, %v; want the entry", when, got, err)
				}
				bad := in
				bad.ID, bad.DID = "iss_bad", "did:key:z6MknotthereY"
				if err := db.CreateIssuer(ctx, bad); err == nil {
					t.Errorf("%s: CreateIssuer with an unknown DID: got nil; want the foreign key enforced", when)
				}
			}
			// Down through the later migrations to 00008 itself.
			for down := ""; down != "00008_bbs.sql"; {
				var err error
				if down, err = db.MigrateDown(ctx); err != nil || down == "" || down < "00008_bbs.sql" {
					t.Fatalf("MigrateDown = %q, %v; want down to 00008_bbs.sql", down, err)
				}
			}
			check("after down")
			if _, err := w.keys.Generate(ctx, a.ID, kms.Bls12381G2); err == nil {
				t.Errorf("Generate Bls12381G2 before 00008: got nil; want the type refused")
			}
			if _, err := db.MigrateUp(ctx); err != nil {
				t.Fatalf("MigrateUp = %v", err)
			}
			check("after up")
			k, err := w.keys.Generate(ctx, a.ID, kms.Bls12381G2)
			if err != nil {
				t.Fatalf("Generate Bls12381G2 after 00008: %v", err)
			}
			if _, err := w.keys.Signer(ctx, a.ID, k.ID); err != nil {
				t.Errorf("Signer of the Bls12381G2 key: %v", err)
			}
			brec, err := w.agencies.CreateDID(ctx, a.ID, "key", "Bls12381G2")
			if err != nil || !isBLSKey(brec.DID) || brec.KeyType != kms.Bls12381G2 {
				t.Fatalf("CreateDID key Bls12381G2 = %+v, %v; want a did:key:zUC7... DID", brec, err)
			}
			publicOfDID(t, w, brec) // the DID encodes the custody key
			bbs := in
			bbs.ID, bbs.Format, bbs.Cryptosuite, bbs.StatusPurposes = "iss_bbs", "ldp_vc-bbs", "BbsBlsSignature2020", []string{}
			if err := db.CreateIssuer(ctx, bbs); err != nil {
				t.Errorf("CreateIssuer ldp_vc-bbs: %v", err)
			}
			// The later migrations go down; 00008 refuses while a key needs it.
			for {
				down, err := db.MigrateDown(ctx)
				if err != nil {
					break
				}
				if down <= "00008_bbs.sql" {
					t.Errorf("MigrateDown with a Bls12381G2 key reverted %s; want 00008 refused", down)
					break
				}
			}
		})
	}
}

// isBLSKey reports whether id is a did:key of a BLS12-381 G2 key.
func isBLSKey(id string) bool {
	k, err := did.DecodeMultikey(strings.TrimPrefix(id, "did:key:"))
	_, ok := k.(*bls.PublicKey)
	return err == nil && ok
}
