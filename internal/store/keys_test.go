package store_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/agency"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/kms"
)

// record returns a key record with recognisable bytes; the store does not
// look inside them.
func record(id, agencyID string, t kms.KeyType, at time.Time) kms.Record {
	return kms.Record{
		ID: id, AgencyID: agencyID, Type: t,
		Public: []byte("pub-" + id), WrappedDEK: []byte{0, 1, 2, 0xff, 0}, Sealed: []byte("sealed\x00" + id),
		CreatedAt: at, Status: kms.StatusActive,
	}
}

func seedAgencies(t *testing.T, db *store.DB, ids ...string) {
	t.Helper()
	for _, id := range ids {
		a, k := newAgency(id, clock)
		if err := db.CreateAgency(t.Context(), a, k); err != nil {
			t.Fatal(err)
		}
	}
}

func sameRecord(a, b kms.Record) bool {
	return a.ID == b.ID && a.AgencyID == b.AgencyID && a.Type == b.Type &&
		bytes.Equal(a.Public, b.Public) && bytes.Equal(a.WrappedDEK, b.WrappedDEK) && bytes.Equal(a.Sealed, b.Sealed) &&
		a.CreatedAt.Equal(b.CreatedAt) && a.CreatedAt.Location() == b.CreatedAt.Location() &&
		a.Status == b.Status && a.ReplacedBy == b.ReplacedBy
}

func TestKeys(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		seedAgencies(t, db, "agy_a", "agy_b")
		k1 := record("key_1", "agy_a", kms.Ed25519, clock.UTC().Truncate(time.Microsecond))
		k2 := record("key_2", "agy_a", kms.P256, k1.CreatedAt.Add(time.Millisecond))
		kb := record("key_b", "agy_b", kms.Ed25519, k1.CreatedAt)
		for _, r := range []kms.Record{k2, k1, kb} {
			if err := db.CreateKey(ctx, r); err != nil {
				t.Fatalf("CreateKey(%s) error = %v", r.ID, err)
			}
		}

		got, err := db.Key(ctx, "agy_a", "key_1")
		if err != nil || !sameRecord(got, k1) {
			t.Errorf("Key = %+v, %v; want %+v", got, err, k1)
		}
		list, err := db.ListKeys(ctx, "agy_a")
		if err != nil || len(list) != 2 || list[0].ID != "key_1" || list[1].ID != "key_2" {
			t.Errorf("ListKeys(agy_a) = %d keys, %v; want key_1, key_2", len(list), err)
		}

		errs := []struct {
			name string
			err  error
			kind errkind.Kind
		}{
			{"Key of another agency", func() error { _, err := db.Key(ctx, "agy_b", "key_1"); return err }(), errkind.NotFound},
			{"Key absent", func() error { _, err := db.Key(ctx, "agy_a", "key_x"); return err }(), errkind.NotFound},
			{"CreateKey same id", db.CreateKey(ctx, record("key_1", "agy_a", kms.Ed25519, clock)), errkind.Conflict},
			{"CreateKey missing agency", db.CreateKey(ctx, record("key_9", "agy_none", kms.Ed25519, clock)), errkind.NotFound},
			{"RotateKey of another agency", db.RotateKey(ctx, "agy_b", "key_1", record("key_10", "agy_b", kms.Ed25519, clock)), errkind.NotFound},
		}
		for _, e := range errs {
			wantKind(t, e.name, e.err, e.kind)
		}
		if _, err := db.Key(ctx, "agy_b", "key_10"); err == nil {
			t.Errorf("the new key of a failed RotateKey was stored")
		}

		if err := db.RotateKey(ctx, "agy_a", "key_1", record("key_3", "agy_a", kms.Ed25519, clock)); err != nil {
			t.Fatalf("RotateKey error = %v", err)
		}
		old, _ := db.Key(ctx, "agy_a", "key_1")
		if old.Status != kms.StatusRotated || old.ReplacedBy != "key_3" {
			t.Errorf("rotated key = %s replaced by %q; want rotated, key_3", old.Status, old.ReplacedBy)
		}
		wantKind(t, "RotateKey twice", db.RotateKey(ctx, "agy_a", "key_1", record("key_4", "agy_a", kms.Ed25519, clock)), errkind.Conflict)
		_, err = db.Key(ctx, "agy_a", "key_4")
		wantKind(t, "new key of a conflicting RotateKey", err, errkind.NotFound)
	})
}

func didRecord(d, agencyID, keyID string, t kms.KeyType, at time.Time) agency.DIDRecord {
	return agency.DIDRecord{DID: d, AgencyID: agencyID, Method: "key", KeyID: keyID, KeyType: t, Status: agency.StatusActive, CreatedAt: at.UTC().Truncate(time.Microsecond)}
}

func TestDIDs(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		seedAgencies(t, db, "agy_a", "agy_b")
		d1 := didRecord("did:key:z1", "agy_a", "key_1", kms.Ed25519, clock)
		d2 := didRecord("did:key:z2", "agy_a", "key_2", kms.P256, clock.Add(time.Second))
		if err := db.CreateKeyAndDID(ctx, record("key_2", "agy_a", kms.P256, clock), d2); err != nil {
			t.Fatalf("CreateKeyAndDID error = %v", err)
		}
		if err := db.CreateKeyAndDID(ctx, record("key_1", "agy_a", kms.Ed25519, clock), d1); err != nil {
			t.Fatalf("CreateKeyAndDID error = %v", err)
		}
		got, err := db.DID(ctx, "agy_a", d2.DID)
		if err != nil || got != d2 {
			t.Errorf("DID = %+v, %v; want %+v", got, err, d2)
		}
		list, err := db.DIDs(ctx, "agy_a")
		if err != nil || len(list) != 2 || list[0] != d1 || list[1] != d2 {
			t.Errorf("DIDs = %+v, %v; want d1, d2", list, err)
		}
		if list, err := db.DIDs(ctx, "agy_b"); err != nil || len(list) != 0 {
			t.Errorf("DIDs(agy_b) = %+v, %v; want none", list, err)
		}
		_, err = db.DID(ctx, "agy_b", d1.DID)
		wantKind(t, "DID of another agency", err, errkind.NotFound)

		// Failed writes leave nothing behind: neither the key nor the DID.
		failures := []struct {
			name string
			key  kms.Record
			did  agency.DIDRecord
			kind errkind.Kind
		}{
			{"DID exists", record("key_5", "agy_a", kms.Ed25519, clock), didRecord(d1.DID, "agy_a", "key_5", kms.Ed25519, clock), errkind.Conflict},
			{"key exists", record("key_1", "agy_a", kms.Ed25519, clock), didRecord("did:key:z6", "agy_a", "key_1", kms.Ed25519, clock), errkind.Conflict},
			{"key of another agency", record("key_7", "agy_b", kms.Ed25519, clock), didRecord("did:key:z7", "agy_a", "key_7", kms.Ed25519, clock), errkind.NotFound},
			{"missing agency", record("key_8", "agy_none", kms.Ed25519, clock), didRecord("did:key:z8", "agy_none", "key_8", kms.Ed25519, clock), errkind.NotFound},
		}
		for _, f := range failures {
			t.Run(f.name, func(t *testing.T) {
				wantKind(t, "CreateKeyAndDID", db.CreateKeyAndDID(ctx, f.key, f.did), f.kind)
				if f.key.ID != "key_1" {
					if _, err := db.Key(ctx, f.key.AgencyID, f.key.ID); err == nil {
						t.Errorf("key %s of a failed CreateKeyAndDID was stored", f.key.ID)
					}
				}
				if f.did.DID != d1.DID {
					if _, err := db.DID(ctx, f.did.AgencyID, f.did.DID); err == nil {
						t.Errorf("%s of a failed CreateKeyAndDID was stored", f.did.DID)
					}
				}
			})
		}
	})
}

func TestRotateDIDStore(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		seedAgencies(t, db, "agy_a", "agy_b")
		d1 := didRecord("did:key:z1", "agy_a", "key_1", kms.Ed25519, clock)
		if err := db.CreateKeyAndDID(ctx, record("key_1", "agy_a", kms.Ed25519, clock), d1); err != nil {
			t.Fatal(err)
		}
		next := didRecord("did:key:z2", "agy_a", "key_2", kms.Ed25519, clock)
		wantKind(t, "RotateDID of another agency",
			db.RotateDID(ctx, "agy_b", d1.DID, record("key_2", "agy_b", kms.Ed25519, clock), didRecord("did:key:z2", "agy_b", "key_2", kms.Ed25519, clock)),
			errkind.NotFound)
		if err := db.RotateDID(ctx, "agy_a", d1.DID, record("key_2", "agy_a", kms.Ed25519, clock), next); err != nil {
			t.Fatalf("RotateDID error = %v", err)
		}
		old, err := db.DID(ctx, "agy_a", d1.DID)
		if err != nil || old.Status != agency.StatusRotated || old.ReplacedBy != next.DID {
			t.Errorf("old DID = %+v, %v; want rotated, replaced by %s", old, err, next.DID)
		}
		oldKey, err := db.Key(ctx, "agy_a", "key_1")
		if err != nil || oldKey.Status != kms.StatusRotated || oldKey.ReplacedBy != "key_2" {
			t.Errorf("old key = %s replaced by %q, %v; want rotated, key_2", oldKey.Status, oldKey.ReplacedBy, err)
		}
		if got, err := db.DID(ctx, "agy_a", next.DID); err != nil || got != next {
			t.Errorf("new DID = %+v, %v; want %+v", got, err, next)
		}
		wantKind(t, "RotateDID of a rotated DID",
			db.RotateDID(ctx, "agy_a", d1.DID, record("key_3", "agy_a", kms.Ed25519, clock), didRecord("did:key:z3", "agy_a", "key_3", kms.Ed25519, clock)),
			errkind.Conflict)
		if _, err := db.Key(ctx, "agy_a", "key_3"); err == nil {
			t.Errorf("key of a failed RotateDID was stored")
		}
	})
}
