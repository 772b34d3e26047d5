package vote_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/urbis-id/urbis/civic/vote"
	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/registry"
)

// testKey is one 2048-bit RSA key for every test: generating one takes a
// while.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// clock is a settable clock; the engine's block times follow it.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time       { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time)      { c.ns.Store(t.UnixNano()) }
func (c *clock) add(d time.Duration)  { c.ns.Add(int64(d)) }
func newClock(t time.Time) *clock     { c := &clock{}; c.set(t); return c }
func (c *clock) at() func() time.Time { return c.now }

// actor is a did:key with its key.
type actor struct {
	did, kid string
	key      ed25519.PrivateKey
}

func newActor(t testing.TB) actor {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	d, err := did.NewKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return actor{did: d.String(), kid: d.String() + "#" + d.ID, key: priv}
}

// chain is a solo engine with the vote program on a real database.
type chain struct {
	db     *store.DB
	g      *registry.Genesis
	gov    actor
	engine *registry.Solo
	clock  *clock
	locks  sync.Mutex
}

// eachDB runs fn on SQLite, and on PostgreSQL when URBIS_TEST_POSTGRES_URL
// is set, each with a fresh chain whose clock starts at start.
func eachDB(t *testing.T, start time.Time, fn func(t *testing.T, c *chain)) {
	for _, db := range storetest.Open(t) {
		t.Run(db.Dialect(), func(t *testing.T) {
			c := &chain{db: db, clock: newClock(start)}
			g, gov, val, err := registry.NewDevGenesis("urbis-test", start)
			if err != nil {
				t.Fatal(err)
			}
			c.g = g
			gd, _ := did.NewKey(gov.Public())
			c.gov = actor{did: gd.String(), kid: gd.String() + "#" + gd.ID, key: gov}
			c.engine, err = registry.NewSolo(registry.SoloConfig{
				Store: db, Genesis: g, ValidatorID: g.Validators[0].ID, ValidatorKey: val,
				Interval: 5 * time.Millisecond, MaxOps: 1000, Clock: c.clock.at(),
				Programs: []registry.Program{vote.NewProgram()},
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- c.engine.Run(ctx) }()
			t.Cleanup(func() { cancel(); <-done })
			fn(t, c)
		})
	}
}

// op signs and submits an operation of a and waits for its block.
func (c *chain) op(t testing.TB, a actor, kind registry.Kind, payload any) registry.OpStatus {
	t.Helper()
	c.locks.Lock()
	defer c.locks.Unlock()
	ctx := context.Background()
	n, err := c.db.Nonce(ctx, a.did)
	if err != nil {
		t.Fatal(err)
	}
	return c.submit(t, a.kid, n+1, a.key, kind, payload)
}

func (c *chain) submit(t testing.TB, kid string, nonce uint64, key crypto.Signer, kind registry.Kind, payload any) registry.OpStatus {
	t.Helper()
	op, err := registry.NewOperation(c.g.ChainID, kind, kid, nonce, payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := registry.Sign(op, key)
	if err != nil {
		t.Fatal(err)
	}
	return c.send(t, s.JWS)
}

func (c *chain) send(t testing.TB, jws string) registry.OpStatus {
	t.Helper()
	ctx := context.Background()
	st, err := c.engine.Submit(ctx, jws)
	if err != nil {
		return registry.OpStatus{Status: registry.StatusRejected, Reason: "submit: " + err.Error()}
	}
	st, err = c.engine.Wait(ctx, st.Hash)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (c *chain) must(t testing.TB, st registry.OpStatus) registry.OpStatus {
	t.Helper()
	if st.Status != registry.StatusCommitted {
		t.Fatalf("operation %s: got %s (%s); want committed", st.Hash, st.Status, st.Reason)
	}
	return st
}

// authority is a did:key accredited for ElectionAuthority.
func (c *chain) authority(t testing.TB) actor {
	a := newActor(t)
	c.must(t, c.op(t, c.gov, registry.KindTrustAccredit, registry.TrustAccredit{Issuer: a.did, Types: []string{vote.AuthorityType}}))
	return a
}

// election is the payload of an election opening in an hour for an hour,
// by the clock of c.
func (c *chain) election(t testing.TB, id string) vote.CreatePayload {
	pk, err := vote.EncodePublicKey(&testKey().PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	now := c.clock.now()
	return vote.CreatePayload{
		ID: id, Title: "Should the old tram line reopen?", Options: []string{"yes", "no", "blank"},
		Eligibility: vote.Rule{CredentialType: "ResidentCredential", Districts: []string{"Eixample", "Gràcia"}, MinAge: 16},
		Opens:       now.Add(time.Hour).Format(time.RFC3339), Closes: now.Add(2 * time.Hour).Format(time.RFC3339),
		PublicKey: pk,
	}
}

// token makes a ballot token signed by the test key, through the blind
// protocol.
func token(t testing.TB) (tok, sig []byte) {
	t.Helper()
	b, err := vote.Blind(&testKey().PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := vote.BlindSign(testKey(), b.Blinded)
	if err != nil {
		t.Fatal(err)
	}
	sig, err = b.Finalize(bs)
	if err != nil {
		t.Fatal(err)
	}
	return b.Token, sig
}

// cast casts a ballot with a fresh signer and waits for its block.
func (c *chain) cast(t testing.TB, p vote.CastPayload) registry.OpStatus {
	t.Helper()
	s, err := vote.CastOp(c.g.ChainID, p)
	if err != nil {
		t.Fatal(err)
	}
	return c.send(t, s.JWS)
}

func isKind(err error, k errkind.Kind) bool { return errkind.KindOf(err) == k }
