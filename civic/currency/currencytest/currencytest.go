// Package currencytest runs the civic programs on the real chain engine
// for tests: a solo registry over each test database (SQLite, and
// PostgreSQL when URBIS_TEST_POSTGRES_URL is set), did:key accounts whose
// keys the test holds, and helpers to sign, submit and wait.
package currencytest

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/registry"
)

// Account is a did:key and its private key.
type Account struct {
	DID string
	KID string // the DID URL of its key
	Key ed25519.PrivateKey
}

// NewAccount returns the account whose key is derived from name.
func NewAccount(t testing.TB, name string) Account {
	t.Helper()
	seed := sha256.Sum256([]byte(name))
	return AccountOf(t, ed25519.NewKeyFromSeed(seed[:]))
}

// AccountOf returns the did:key account of key.
func AccountOf(t testing.TB, key ed25519.PrivateKey) Account {
	t.Helper()
	d, err := did.NewKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return Account{DID: d.String(), KID: d.String() + "#" + d.ID, Key: key}
}

// SignJWS signs payload as a compact JWS with a's key, its kid the
// account's DID URL: a consent or a meter reading.
func (a Account) SignJWS(t testing.TB, payload []byte) string {
	t.Helper()
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.KeyIDKey, a.KID)
	b, err := jws.Sign(payload, jws.WithKey(jwa.EdDSA, a.Key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Chain is a running solo engine over a real database.
type Chain struct {
	Name    string // the database dialect
	Genesis *registry.Genesis
	Gov     Account // the governance DID
	Engine  *registry.Solo
	DB      *store.DB
}

// Chains starts one chain running programs per test database.
func Chains(t *testing.T, programs ...registry.Program) []*Chain {
	t.Helper()
	var out []*Chain
	for _, db := range storetest.Open(t) {
		out = append(out, Start(t, db, programs...))
	}
	return out
}

// Start runs a solo engine with programs on db until the test ends.
func Start(t testing.TB, db *store.DB, programs ...registry.Program) *Chain {
	t.Helper()
	g, gov, val, err := registry.NewDevGenesis("civic-test", time.Now().UTC().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := registry.NewSolo(registry.SoloConfig{
		Store: db, Genesis: g, ValidatorID: g.Validators[0].ID, ValidatorKey: val,
		Interval: 5 * time.Millisecond, MaxOps: 2000, Clock: time.Now, Programs: programs,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("engine: %v", err)
		}
	})
	return &Chain{Name: db.Dialect(), Genesis: g, Gov: AccountOf(t, gov), Engine: eng, DB: db}
}

// Sign signs an operation of a with nonce.
func (c *Chain) Sign(t testing.TB, a Account, kind registry.Kind, nonce uint64, payload any) registry.SignedOp {
	t.Helper()
	op, err := registry.NewOperation(c.Genesis.ChainID, kind, a.KID, nonce, payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := registry.Sign(op, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Nonce returns a's last committed nonce.
func (c *Chain) Nonce(t testing.TB, a Account) uint64 {
	t.Helper()
	n, err := c.DB.Nonce(context.Background(), a.DID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Submit submits op and waits for its block: the status, or the error
// with which the engine refused it at submission.
func (c *Chain) Submit(op registry.SignedOp) (registry.OpStatus, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := c.Engine.Submit(ctx, op.JWS); err != nil {
		return registry.OpStatus{}, err
	}
	return c.Engine.Wait(ctx, op.Hash)
}

// Do signs an operation of a with its next nonce, submits it and waits.
func (c *Chain) Do(t testing.TB, a Account, kind registry.Kind, payload any) (registry.OpStatus, error) {
	t.Helper()
	return c.Submit(c.Sign(t, a, kind, c.Nonce(t, a)+1, payload))
}

// Must is Do for an operation that must commit.
func (c *Chain) Must(t testing.TB, a Account, kind registry.Kind, payload any) registry.OpStatus {
	t.Helper()
	st, err := c.Do(t, a, kind, payload)
	if err != nil || st.Status != registry.StatusCommitted {
		t.Fatalf("%s: got %+v, %v; want committed", kind, st, err)
	}
	return st
}

// Accredit accredits issuer for types, signed by the governance DID,
// and returns the accreditation's id.
func (c *Chain) Accredit(t testing.TB, issuer string, types ...string) string {
	t.Helper()
	return c.Must(t, c.Gov, registry.KindTrustAccredit, registry.TrustAccredit{Issuer: issuer, Types: types}).Hash
}

// Revoke revokes the accreditation id, signed by the governance DID.
func (c *Chain) Revoke(t testing.TB, id string) {
	t.Helper()
	c.Must(t, c.Gov, registry.KindTrustRevoke, registry.TrustChange{Accreditation: id, Reason: "test"})
}
