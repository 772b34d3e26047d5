package store_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/agency"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/kms"
)

type world struct {
	db       *store.DB
	keys     *kms.Custodian
	agencies *agency.Service
}

func newWorld(db *store.DB) world {
	now := func() time.Time { return clock }
	keys := kms.NewCustodian(db, kms.GenerateMasterKey(), now)
	return world{db: db, keys: keys, agencies: agency.NewService(db, keys, now)}
}

// signVerify signs a message with the custody key behind rec and checks
// the signature against the public key the DID itself encodes.
func signVerify(t *testing.T, w world, rec agency.DIDRecord) {
	t.Helper()
	ctx := t.Context()
	s, err := w.keys.Signer(ctx, rec.AgencyID, rec.KeyID)
	if err != nil {
		t.Fatalf("Signer(%s) error = %v", rec.KeyID, err)
	}
	pub := publicOfDID(t, w, rec)
	msg := []byte("title transfer #42")
	switch p := pub.(type) {
	case ed25519.PublicKey:
		sig, err := s.Sign(rand.Reader, msg, crypto.Hash(0))
		if err != nil || !ed25519.Verify(p, msg, sig) {
			t.Errorf("Ed25519 signature by %s does not verify against %s (%v)", rec.KeyID, rec.DID, err)
		}
	case *ecdsa.PublicKey:
		h := sha256.Sum256(msg)
		sig, err := s.Sign(rand.Reader, h[:], crypto.SHA256)
		if err != nil || !ecdsa.VerifyASN1(p, h[:], sig) {
			t.Errorf("P-256 signature by %s does not verify against %s (%v)", rec.KeyID, rec.DID, err)
		}
	default:
		t.Fatalf("DID %s encodes a %T", rec.DID, pub)
	}
}

// publicOfDID returns the public key that the custody record of rec
// holds, after checking that deriving the DID from it gives rec.DID.
func publicOfDID(t *testing.T, w world, rec agency.DIDRecord) crypto.PublicKey {
	t.Helper()
	k, err := w.keys.Public(t.Context(), rec.AgencyID, rec.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	var d did.DID
	if rec.Method == "key" {
		d, err = did.NewKey(k.Public)
	} else {
		d, err = did.NewJWK(k.Public)
	}
	if err != nil || d.String() != rec.DID {
		t.Fatalf("DID of key %s = %s, %v; want %s", rec.KeyID, d, err, rec.DID)
	}
	return k.Public
}

func TestEndToEnd(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		w := newWorld(db)

		land, landKey, err := w.agencies.Create(ctx, "  Land Registry  ")
		if err != nil {
			t.Fatalf("Create error = %v", err)
		}
		if land.Name != "Land Registry" || !strings.HasPrefix(land.ID, "agy_") || !strings.HasPrefix(landKey, "urbis_") {
			t.Errorf("Create = %+v, key %q...; want trimmed name, agy_ id, urbis_ key", land, landKey[:8])
		}
		elections, electionsKey, err := w.agencies.Create(ctx, "Election Office")
		if err != nil {
			t.Fatal(err)
		}

		if got, err := w.agencies.Get(ctx, land.ID); err != nil || got != land {
			t.Errorf("Get = %+v, %v; want %+v", got, err, land)
		}
		if list, err := w.agencies.List(ctx); err != nil || len(list) != 2 {
			t.Errorf("List = %+v, %v; want 2 agencies", list, err)
		}

		// Authentication.
		auth := []struct {
			name string
			key  string
			want string
			kind errkind.Kind
		}{
			{"land", landKey, land.ID, ""},
			{"elections", electionsKey, elections.ID, ""},
			{"missing", "", "", errkind.Unauthorized},
			{"malformed", "hunter2", "", errkind.Unauthorized},
			{"unknown", "urbis_" + strings.Repeat("A", 43), "", errkind.Unauthorized},
		}
		for _, a := range auth {
			got, err := w.agencies.Authenticate(ctx, a.key)
			if a.kind != "" {
				wantKind(t, "Authenticate("+a.name+")", err, a.kind)
				continue
			}
			if err != nil || got.ID != a.want {
				t.Errorf("Authenticate(%s) = %+v, %v; want %s", a.name, got, err, a.want)
			}
		}
		second, err := w.agencies.IssueKey(ctx, land.ID)
		if err != nil {
			t.Fatalf("IssueKey error = %v", err)
		}
		if got, err := w.agencies.Authenticate(ctx, second); err != nil || got.ID != land.ID {
			t.Errorf("Authenticate(issued key) = %+v, %v; want %s", got, err, land.ID)
		}
		_, err = w.agencies.IssueKey(ctx, "agy_nobody")
		wantKind(t, "IssueKey(unknown agency)", err, errkind.NotFound)

		// DIDs of every method and key type.
		var recs []agency.DIDRecord
		for _, method := range []string{"key", "jwk"} {
			for _, kt := range []string{"Ed25519", "P-256"} {
				rec, err := w.agencies.CreateDID(ctx, land.ID, method, kt)
				if err != nil {
					t.Fatalf("CreateDID(%s, %s) error = %v", method, kt, err)
				}
				if !strings.HasPrefix(rec.DID, "did:"+method+":") || rec.Status != agency.StatusActive || string(rec.KeyType) != kt {
					t.Errorf("CreateDID(%s, %s) = %+v", method, kt, rec)
				}
				got, err := w.agencies.DID(ctx, land.ID, rec.DID)
				if err != nil || got != rec {
					t.Errorf("DID = %+v, %v; want %+v", got, err, rec)
				}
				signVerify(t, w, rec)
				recs = append(recs, rec)
			}
		}
		list, err := w.agencies.ListDIDs(ctx, land.ID)
		if err != nil || len(list) != 4 {
			t.Errorf("ListDIDs = %d, %v; want 4", len(list), err)
		}

		// Isolation: the election office sees none of it.
		_, err = w.agencies.DID(ctx, elections.ID, recs[0].DID)
		wantKind(t, "DID of another agency", err, errkind.NotFound)
		_, err = w.agencies.RotateDID(ctx, elections.ID, recs[0].DID)
		wantKind(t, "RotateDID of another agency", err, errkind.NotFound)
		_, err = w.keys.Signer(ctx, elections.ID, recs[0].KeyID)
		wantKind(t, "Signer with another agency's key", err, errkind.NotFound)
		if l, err := w.agencies.ListDIDs(ctx, elections.ID); err != nil || len(l) != 0 {
			t.Errorf("ListDIDs(elections) = %d, %v; want 0", len(l), err)
		}

		// Bad input.
		bad := []struct {
			method, keyType, field string
		}{
			{"web", "Ed25519", "method"},
			{"", "Ed25519", "method"},
			{"key", "RSA", "keyType"},
			{"jwk", "", "keyType"},
		}
		for _, b := range bad {
			_, err := w.agencies.CreateDID(ctx, land.ID, b.method, b.keyType)
			var e *errkind.Error
			if !errors.As(err, &e) || e.Kind != errkind.Invalid || e.Field != b.field {
				t.Errorf("CreateDID(%q, %q) error = %v; want Invalid about %s", b.method, b.keyType, err, b.field)
			}
		}
		_, err = w.agencies.CreateDID(ctx, "agy_nobody", "key", "Ed25519")
		wantKind(t, "CreateDID for an unknown agency", err, errkind.NotFound)
		if keys, _ := w.keys.List(ctx, land.ID); len(keys) != 4 {
			t.Errorf("custody holds %d keys of the land registry; want 4 (failed CreateDIDs leave none)", len(keys))
		}

		// Rotation: a new DID on a new key; both resolvable.
		old := recs[2] // did:jwk, Ed25519
		next, err := w.agencies.RotateDID(ctx, land.ID, old.DID)
		if err != nil {
			t.Fatalf("RotateDID error = %v", err)
		}
		if next.DID == old.DID || next.KeyID == old.KeyID || next.Method != old.Method || next.KeyType != old.KeyType || next.Status != agency.StatusActive {
			t.Errorf("RotateDID = %+v; want a new active DID of the same method and key type as %+v", next, old)
		}
		signVerify(t, w, next)
		gotOld, err := w.agencies.DID(ctx, land.ID, old.DID)
		if err != nil || gotOld.Status != agency.StatusRotated || gotOld.ReplacedBy != next.DID {
			t.Errorf("old DID after rotation = %+v, %v; want rotated, replaced by %s", gotOld, err, next.DID)
		}
		oldKey, err := w.keys.Public(ctx, land.ID, old.KeyID)
		if err != nil || oldKey.Status != kms.StatusRotated || oldKey.ReplacedBy != next.KeyID {
			t.Errorf("old key after rotation = %+v, %v; want rotated, replaced by %s", oldKey, err, next.KeyID)
		}
		publicOfDID(t, w, gotOld) // the old DID still matches its (rotated) key
		_, err = w.keys.Signer(ctx, land.ID, old.KeyID)
		wantKind(t, "Signer with a rotated key", err, errkind.Gone)
		_, err = w.agencies.RotateDID(ctx, land.ID, old.DID)
		wantKind(t, "RotateDID of a rotated DID", err, errkind.Conflict)

		// Custodian.Rotate on its own, on the real store.
		k, err := w.keys.Generate(ctx, elections.ID, kms.P256)
		if err != nil {
			t.Fatal(err)
		}
		k2, err := w.keys.Rotate(ctx, elections.ID, k.ID)
		if err != nil || k2.Type != kms.P256 {
			t.Fatalf("Rotate = %+v, %v", k2, err)
		}
		_, err = w.keys.Rotate(ctx, elections.ID, k.ID)
		wantKind(t, "Rotate twice", err, errkind.Conflict)

		// Another master key cannot unseal what this one sealed.
		stranger := kms.NewCustodian(db, kms.GenerateMasterKey(), nil)
		_, err = stranger.Signer(ctx, land.ID, next.KeyID)
		wantKind(t, "Signer under another master key", err, errkind.Internal)

		// Revocation.
		n, err := w.agencies.RevokeKeys(ctx, land.ID)
		if err != nil || n != 2 {
			t.Errorf("RevokeKeys = %d, %v; want 2", n, err)
		}
		for _, key := range []string{landKey, second} {
			_, err := w.agencies.Authenticate(ctx, key)
			wantKind(t, "Authenticate(revoked)", err, errkind.Unauthorized)
		}
		if got, err := w.agencies.Authenticate(ctx, electionsKey); err != nil || got.ID != elections.ID {
			t.Errorf("other agency's key after revocation = %+v, %v", got, err)
		}
		_, err = w.agencies.RevokeKeys(ctx, "agy_nobody")
		wantKind(t, "RevokeKeys(unknown agency)", err, errkind.NotFound)
	})
}

// TestConcurrentWrites checks that concurrent writers wait for each other
// instead of failing (SQLite: busy timeout and immediate transactions),
// and that concurrent rotations of one DID let exactly one win.
func TestConcurrentWrites(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		w := newWorld(db)
		a, _, err := w.agencies.Create(ctx, "Grid Operator")
		if err != nil {
			t.Fatal(err)
		}
		const n = 16
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				_, err := w.agencies.CreateDID(ctx, a.ID, []string{"key", "jwk"}[i%2], "Ed25519")
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("concurrent CreateDID error = %v", err)
			}
		}
		list, err := w.agencies.ListDIDs(ctx, a.ID)
		if err != nil || len(list) != n {
			t.Fatalf("ListDIDs = %d, %v; want %d", len(list), err, n)
		}

		target := list[0].DID
		results := make(chan error, n)
		for range n {
			wg.Go(func() {
				_, err := w.agencies.RotateDID(ctx, a.ID, target)
				results <- err
			})
		}
		wg.Wait()
		close(results)
		won := 0
		for err := range results {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, errkind.Conflict):
				t.Errorf("concurrent RotateDID error = %v; want nil or Conflict", err)
			}
		}
		if won != 1 {
			t.Errorf("%d concurrent rotations succeeded; want exactly 1", won)
		}
		list, _ = w.agencies.ListDIDs(ctx, a.ID)
		keys, _ := w.keys.List(ctx, a.ID)
		if len(list) != n+1 || len(keys) != n+1 {
			t.Errorf("after the rotations: %d DIDs, %d keys; want %d of each (losers leave nothing)", len(list), len(keys), n+1)
		}
	})
}
