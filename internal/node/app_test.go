package node

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/urbis-id/urbis/civic"
	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/registry"
)

var genesisTime = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func seedKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// testGenesis returns a registry genesis with validators v1..vn.
func testGenesis(t testing.TB, n int) (*registry.Genesis, []ed25519.PrivateKey) {
	t.Helper()
	gov, err := did.NewKey(seedKey("gov").Public())
	if err != nil {
		t.Fatal(err)
	}
	g := &registry.Genesis{ChainID: "node-test", Time: genesisTime, Governance: []string{gov.String()},
		Params: registry.Params{BlockIntervalMillis: 250, MaxBlockOps: 100}}
	var keys []ed25519.PrivateKey
	for i := range n {
		k := seedKey(fmt.Sprintf("validator-%d", i))
		mk, err := did.EncodeMultikey(k.Public())
		if err != nil {
			t.Fatal(err)
		}
		g.Validators = append(g.Validators, registry.Validator{ID: fmt.Sprintf("v%d", i+1), PublicKey: mk})
		keys = append(keys, k)
	}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	return g, keys
}

// dbKinds are the databases the tests run on: SQLite always, PostgreSQL
// when URBIS_TEST_POSTGRES_URL is set.
func dbKinds() []string {
	kinds := []string{store.SQLite}
	if os.Getenv(storetest.EnvPostgresURL) != "" {
		kinds = append(kinds, store.Postgres)
	}
	return kinds
}

func openDB(t testing.TB, kind string) *store.DB {
	t.Helper()
	url := storetest.SQLitePath(t)
	if kind == store.Postgres {
		url = storetest.PostgresURL(t)
	}
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

func newApp(t testing.TB, db *store.DB, g *registry.Genesis, keys []ed25519.PrivateKey, i int) *App {
	t.Helper()
	a, err := NewApp(context.Background(), AppConfig{Store: db, Genesis: g, Programs: civic.Programs()})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// citizen is a did:urbis whose operations a test signs.
type citizen struct {
	id    string
	key   ed25519.PrivateKey
	nonce uint64
}

func document(t testing.TB, pub ed25519.PublicKey, serial int) registry.DocumentSpec {
	t.Helper()
	mk, err := did.EncodeMultikey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return registry.DocumentSpec{
		VerificationMethod:   []registry.MethodSpec{{ID: "#key-1", Type: did.TypeMultikey, PublicKeyMultibase: mk}},
		Authentication:       []string{"#key-1"},
		CapabilityInvocation: []string{"#key-1"},
		Service:              []registry.ServiceSpec{{ID: "#home", Type: "LinkedDomains", ServiceEndpoint: fmt.Sprintf("https://example.org/%d", serial)}},
	}
}

// create returns a citizen and its signed did.create.
func create(t testing.TB, chain, name string) (*citizen, string) {
	t.Helper()
	k := seedKey(name)
	id, payload, err := registry.NewDIDCreate(document(t, k.Public().(ed25519.PublicKey), 0))
	if err != nil {
		t.Fatal(err)
	}
	c := &citizen{id: id, key: k}
	return c, c.sign(t, chain, registry.KindDIDCreate, payload)
}

func (c *citizen) sign(t testing.TB, chain string, kind registry.Kind, payload any) string {
	t.Helper()
	c.nonce++
	op, err := registry.NewOperation(chain, kind, c.id+"#key-1", c.nonce, payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := registry.Sign(op, c.key)
	if err != nil {
		t.Fatal(err)
	}
	return s.JWS
}

// update returns the citizen's next did.update (its version is nonce).
func (c *citizen) update(t testing.TB, chain string) string {
	t.Helper()
	v := c.nonce
	return c.sign(t, chain, registry.KindDIDUpdate, registry.DIDUpdate{DID: c.id, PreviousVersion: v, Document: document(t, c.key.Public().(ed25519.PublicKey), int(v))})
}

func opHash(op string) string {
	sum := sha256.Sum256([]byte(op))
	return hex.EncodeToString(sum[:])
}

// block finalizes and commits one block on a and returns its app hash
// and tx codes.
func block(t testing.TB, a *App, height int64, at time.Time, proposer []byte, ops ...string) (string, []uint32) {
	t.Helper()
	ctx := context.Background()
	txs := make([][]byte, len(ops))
	for i, op := range ops {
		txs[i] = []byte(op)
	}
	resp, err := a.FinalizeBlock(ctx, &abci.FinalizeBlockRequest{Txs: txs, Height: height, Time: at, ProposerAddress: proposer})
	if err != nil {
		t.Fatalf("FinalizeBlock %d: %v", height, err)
	}
	if _, err := a.Commit(ctx, &abci.CommitRequest{}); err != nil {
		t.Fatalf("Commit %d: %v", height, err)
	}
	codes := make([]uint32, len(resp.TxResults))
	for i, r := range resp.TxResults {
		codes[i] = r.Code
	}
	return hex.EncodeToString(resp.AppHash), codes
}
