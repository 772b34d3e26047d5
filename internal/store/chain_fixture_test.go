package store_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/registry"
)

// Block times: UTC, to the microsecond, as the engine's clock gives them.
var (
	t1 = time.Date(2031, 3, 4, 10, 0, 0, 123456000, time.UTC)
	t2 = t1.Add(5 * time.Second)
	t3 = t2.Add(time.Hour)

	listA = "https://city.example/status/sl_a"
	listB = "https://city.example/status/sl_b"
)

const (
	didA = "did:urbis:3mJr7AoUXx2Wqd"
	didB = "did:urbis:9xQeWvG816bUfF"
	gov  = "did:urbis:governance"
)

func spec(key string) registry.DocumentSpec {
	return registry.DocumentSpec{
		VerificationMethod:   []registry.MethodSpec{{ID: "#key-1", Type: "Multikey", PublicKeyMultibase: "z6Mk" + key}},
		Authentication:       []string{"#key-1"},
		CapabilityInvocation: []string{"#key-1"},
		Service:              []registry.ServiceSpec{{ID: "#files", Type: "LinkedDomains", ServiceEndpoint: "https://example.org/<&>"}},
	}
}

func didVersion(did string, v, height uint64, at time.Time) registry.DIDVersion {
	return registry.DIDVersion{
		DID: did, Version: v, Document: spec(did[len(did)-4:] + string(rune('a'+v))),
		Height: height, Time: at, OpHash: hash("op", did, string(rune('0'+v))),
	}
}

func hash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p + "\x00"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// state is a representative chain state, and what each read returns.
type state struct {
	versions  []registry.DIDVersion
	nonces    map[string]uint64
	accs      []registry.Accreditation // in the order they were put
	events    []registry.AccreditationEvent
	schemas   []registry.Schema
	anchors   []registry.Anchor
	updates   []registry.StatusUpdate // in the order they were added
	noHistory string                  // an accreditation without events
}

func sampleState() state {
	acc1 := registry.Accreditation{
		ID: hash("acc1"), Issuer: didA, Accreditor: gov, Types: []string{"ResidentCard", "ParkingPermit"},
		Districts: []string{"north"}, ValidFrom: t1, ValidUntil: t3, MayDelegate: true,
		Status: "active", Height: 1, Time: t1,
	}
	acc2 := registry.Accreditation{
		ID: hash("acc2"), Issuer: didB, Accreditor: didA, Types: []string{"LibraryCard"},
		ValidFrom: t2, Delegated: true, Status: "suspended", Height: 2, Time: t2,
	}
	acc3 := registry.Accreditation{
		ID: hash("acc0"), Issuer: didA, Accreditor: gov, Types: []string{}, Districts: []string{},
		ValidFrom: t2, Status: "revoked", Height: 2, Time: t2,
	}
	return state{
		versions: []registry.DIDVersion{
			didVersion(didA, 1, 1, t1), didVersion(didA, 2, 2, t2),
			didVersion(didB, 1, 2, t2),
			func() registry.DIDVersion {
				v := didVersion(didB, 2, 3, t3)
				v.Document, v.Deactivated = registry.DocumentSpec{}, true
				return v
			}(),
		},
		// Mixed case: keys sort bytewise on both dialects, whatever the collation.
		nonces: map[string]uint64{didA: 3, didB: 2, gov: 1, "did:urbis:Zeta": 4, "did:urbis:alpha": 5},
		accs:   []registry.Accreditation{acc1, acc2, acc3},
		events: []registry.AccreditationEvent{
			{Accreditation: acc1.ID, Kind: registry.KindTrustAccredit, By: gov, Height: 1, Time: t1, OpHash: acc1.ID},
			{Accreditation: acc2.ID, Kind: registry.KindTrustAccredit, By: didA, Height: 2, Time: t2, OpHash: acc2.ID},
			{Accreditation: acc2.ID, Kind: registry.KindTrustSuspend, By: gov, Reason: "audit", Height: 2, Time: t2, OpHash: hash("s")},
			{Accreditation: acc2.ID, Kind: registry.KindTrustReinstate, By: gov, Height: 2, Time: t2, OpHash: hash("r")},
			{Accreditation: acc2.ID, Kind: registry.KindTrustSuspend, By: gov, Reason: "again", Height: 2, Time: t2, OpHash: hash("s2")},
		},
		noHistory: acc3.ID,
		schemas: []registry.Schema{{
			ID: hash("schema"), Type: "ResidentCard", Issuer: didA,
			Content: json.RawMessage(`{"type": "object", "properties": {"name": {"type": "string"}}}`),
			Height:  2, Time: t2, OpHash: hash("op", "schema"),
		}},
		anchors: []registry.Anchor{
			{Root: hash("root1"), Issuer: didA, Count: 1000, Type: "ResidentCard", Height: 2, Time: t2, OpHash: hash("op", "root1")},
			{Root: hash("root2"), Issuer: didA, Height: 3, Time: t3, OpHash: hash("op", "root2")},
		},
		updates: []registry.StatusUpdate{
			{List: listA, Index: 7, Purpose: registry.PurposeRevocation, Value: true, Issuer: didA, Height: 2, Time: t2, OpHash: hash("su1")},
			{List: listA, Index: 7, Purpose: registry.PurposeSuspension, Value: true, Issuer: didA, Height: 2, Time: t2, OpHash: hash("su2")},
			{List: listA, Index: 7, Purpose: registry.PurposeSuspension, Value: false, Issuer: didA, Height: 3, Time: t3, OpHash: hash("su3")},
			{List: listB, Index: 131071, Purpose: registry.PurposeRevocation, Value: true, Issuer: didB, Height: 3, Time: t3, OpHash: hash("su4")},
		},
	}
}

// write puts s through tx; reversed writes the rows of each kind in the
// opposite order (accreditations and events excepted: their order is
// state).
func (s state) write(t testing.TB, tx registry.BlockTx, reversed bool) {
	t.Helper()
	ctx := t.Context()
	order := func(n int, f func(i int) error) {
		t.Helper()
		for i := range n {
			if reversed {
				i = n - 1 - i
			}
			if err := f(i); err != nil {
				t.Fatal(err)
			}
		}
	}
	order(len(s.versions), func(i int) error { return tx.PutDIDVersion(ctx, s.versions[i]) })
	signers := []string{didA, didB, gov, "did:urbis:Zeta", "did:urbis:alpha"}
	order(len(signers), func(i int) error { return tx.SetNonce(ctx, signers[i], s.nonces[signers[i]]) })
	for _, a := range s.accs {
		if err := tx.PutAccreditation(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range s.events {
		if err := tx.AddAccreditationEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	order(len(s.schemas), func(i int) error { return tx.PutSchema(ctx, s.schemas[i]) })
	order(len(s.anchors), func(i int) error { return tx.PutAnchor(ctx, s.anchors[i]) })
	for _, u := range s.updates {
		if err := tx.AddStatusUpdate(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
}

// put writes s to db in one block transaction.
func (s state) put(t testing.TB, db *store.DB) {
	t.Helper()
	if err := db.InBlockTx(t.Context(), func(tx registry.BlockTx) error {
		s.write(t, tx, false)
		return nil
	}); err != nil {
		t.Fatalf("InBlockTx: %v", err)
	}
}

// jws returns a compact JWS-shaped string whose payload is an operation of
// kind, and its hash.
func jws(kind registry.Kind, nonce uint64) (string, string) {
	op, _ := json.Marshal(registry.Operation{Chain: "urbis-test", Kind: kind, Signer: didA + "#key-1", Nonce: nonce, Payload: json.RawMessage(`{}`)})
	enc := base64.RawURLEncoding.EncodeToString
	s := enc([]byte(`{"alg":"EdDSA","kid":"`+didA+`#key-1"}`)) + "." + enc(op) + "." + enc([]byte("signature"))
	h := sha256.Sum256([]byte(s))
	return s, hex.EncodeToString(h[:])
}

// block returns a block at height with n operations of kind anchor
// (numbered from first) and their hashes.
func block(height uint64, at time.Time, first uint64, n int) (registry.Block, []string) {
	b := registry.Block{
		Header: registry.Header{
			Chain: "urbis-test", Height: height, Previous: hash("block", string(rune('0'+height-1))), Time: at,
			OpCount: n, OpsRoot: hash("ops"), StateRoot: hash("state"), Proposer: "validator-1",
		},
		Signatures: []registry.Signature{{Validator: "validator-1", Signature: "c2ln"}},
		Ops:        []string{},
	}
	var hashes []string
	for i := range n {
		s, h := jws(registry.KindAnchor, first+uint64(i))
		b.Ops = append(b.Ops, s)
		hashes = append(hashes, h)
	}
	return b, hashes
}

// openAnother returns a new migrated database of dialect.
func openAnother(t *testing.T, dialect string) *store.DB {
	t.Helper()
	url := storetest.SQLitePath(t)
	if dialect == store.Postgres {
		url = storetest.PostgresURL(t)
	}
	db, err := store.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.MigrateUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	return db
}
