package registry_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/registry"
)

var genesisTime = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// namedStore is a chain store under test.
type namedStore struct {
	name string
	st   registry.ChainStore
}

// openStores returns empty, migrated chain stores to run a test on: the
// real database, SQLite always and PostgreSQL when
// URBIS_TEST_POSTGRES_URL is set.
func openStores(t testing.TB) []namedStore {
	var out []namedStore
	for _, k := range storeKinds() {
		out = append(out, namedStore{k.name, k.open(t)})
	}
	return out
}

// storeKind opens empty chain stores of one dialect.
type storeKind struct {
	name string
	open func(testing.TB) registry.ChainStore
}

// storeKinds lists the dialects the tests run on.
func storeKinds() []storeKind {
	kinds := []storeKind{{store.SQLite, func(t testing.TB) registry.ChainStore { return openDB(t, storetest.SQLitePath(t)) }}}
	if os.Getenv(storetest.EnvPostgresURL) != "" {
		kinds = append(kinds, storeKind{store.Postgres, func(t testing.TB) registry.ChainStore { return openDB(t, storetest.PostgresURL(t)) }})
	}
	return kinds
}

// openDB opens and migrates the database at url until t ends.
func openDB(t testing.TB, url string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.MigrateUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func seedKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func newGenesis(t testing.TB) (*registry.Genesis, ed25519.PrivateKey, ed25519.PrivateKey) {
	t.Helper()
	g, gov, val, err := registry.NewDevGenesis("engine-test", genesisTime)
	if err != nil {
		t.Fatal(err)
	}
	return g, gov, val
}

// startSolo runs a solo engine until the test ends.
func startSolo(t testing.TB, st registry.ChainStore, g *registry.Genesis, val ed25519.PrivateKey, edit func(*registry.SoloConfig)) *registry.Solo {
	t.Helper()
	cfg := registry.SoloConfig{Store: st, Genesis: g, ValidatorID: g.Validators[0].ID, ValidatorKey: val, Interval: 20 * time.Millisecond}
	if edit != nil {
		edit(&cfg)
	}
	s, err := registry.NewSolo(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return s
}

func multikey(t testing.TB, k crypto.Signer) string {
	t.Helper()
	mk, err := did.EncodeMultikey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return mk
}

func spec(t testing.TB, k crypto.Signer) registry.DocumentSpec {
	return registry.DocumentSpec{
		VerificationMethod:   []registry.MethodSpec{{ID: "#key-1", Type: "Multikey", PublicKeyMultibase: multikey(t, k)}},
		CapabilityInvocation: []string{"#key-1"},
	}
}

func sign(t testing.TB, g *registry.Genesis, kind registry.Kind, kid string, nonce uint64, payload any, k crypto.Signer) registry.SignedOp {
	t.Helper()
	op, err := registry.NewOperation(g.ChainID, kind, kid, nonce, payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := registry.Sign(op, k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func create(t testing.TB, g *registry.Genesis, k crypto.Signer) (registry.SignedOp, string) {
	t.Helper()
	id, payload, err := registry.NewDIDCreate(spec(t, k))
	if err != nil {
		t.Fatal(err)
	}
	return sign(t, g, registry.KindDIDCreate, id+"#key-1", 1, payload, k), id
}

func update(t testing.TB, g *registry.Genesis, id string, prev uint64, k, next crypto.Signer) registry.SignedOp {
	t.Helper()
	return sign(t, g, registry.KindDIDUpdate, id+"#key-1", prev+1, registry.DIDUpdate{DID: id, PreviousVersion: prev, Document: spec(t, next)}, k)
}

func submitWait(t testing.TB, s *registry.Solo, op registry.SignedOp) registry.OpStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := s.Submit(ctx, op.JWS)
	if err != nil {
		t.Fatalf("Submit %s: %v", op.Op.Kind, err)
	}
	if st.Hash != op.Hash {
		t.Fatalf("got hash %s; want %s", st.Hash, op.Hash)
	}
	st, err = s.Wait(ctx, op.Hash)
	if err != nil {
		t.Fatalf("Wait %s: %v", op.Op.Kind, err)
	}
	return st
}

func wantKind(t testing.TB, err error, k errkind.Kind, want string) {
	t.Helper()
	if !errors.Is(err, k) || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v; want a %s error mentioning %q", err, k, want)
	}
}

// batched returns a config edit that closes a block only when n
// operations are pending.
func batched(n int) func(*registry.SoloConfig) {
	return func(c *registry.SoloConfig) { c.Interval, c.MaxOps = time.Hour, n }
}

// submitAll submits ops and waits for all of them.
func submitAll(t testing.TB, s *registry.Solo, ops ...registry.SignedOp) []registry.OpStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, op := range ops {
		if _, err := s.Submit(ctx, op.JWS); err != nil {
			t.Fatalf("Submit %s: %v", op.Op.Kind, err)
		}
	}
	out := make([]registry.OpStatus, len(ops))
	for i, op := range ops {
		st, err := s.Wait(ctx, op.Hash)
		if err != nil {
			t.Fatalf("Wait %s: %v", op.Op.Kind, err)
		}
		out[i] = st
	}
	return out
}
