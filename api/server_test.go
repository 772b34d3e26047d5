package api_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	urbis "github.com/urbis-id/urbis"
	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/civic"
	"github.com/urbis-id/urbis/civic/currency"
	"github.com/urbis-id/urbis/civic/energy"
	"github.com/urbis-id/urbis/civic/land"
	"github.com/urbis-id/urbis/civic/provenance"
	"github.com/urbis-id/urbis/civic/vote"
	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/agency"
	"github.com/urbis-id/urbis/internal/chainop"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/kms"
	"github.com/urbis-id/urbis/registry"
	"github.com/urbis-id/urbis/vc/issuer"
	"github.com/urbis-id/urbis/vc/oid4vci"
	"github.com/urbis-id/urbis/vc/statuslist"
	"github.com/urbis-id/urbis/verifiers"
	"github.com/urbis-id/urbis/verifiers/oid4vp"
)

// env is a real server over a real, migrated database.
type env struct {
	name     string
	srv      *httptest.Server
	api      *api.Server
	db       *store.DB
	agencies *agency.Service
	key      string // API key of agency "Test Agency"
	otherKey string // API key of another agency
	chain    *testChain
	anchorer *issuer.Anchorer // not running: tests call Once
	issuers  *issuer.Service
	oidClock *offsetClock // the OpenID4VCI service's clock
	vp       *oid4vp.Service
	vpClock  *offsetClock // the OpenID4VP verifier's clock
}

// anchorerWith returns another anchorer of the env's issuance service.
func (e *env) anchorerWith(t *testing.T, cfg issuer.AnchorerConfig) (*issuer.Anchorer, error) {
	t.Helper()
	return e.issuers.NewAnchorer(cfg)
}

// testChain is a running solo registry with its genesis and governance key.
type testChain struct {
	genesis *registry.Genesis
	gov     ed25519.PrivateKey
	govDID  string
	engine  *registry.Solo
	db      *store.DB
}

func (c *testChain) ChainID() string { return c.genesis.ChainID }

func (c *testChain) Submit(ctx context.Context, compact string) (registry.OpStatus, error) {
	return c.engine.Submit(ctx, compact)
}

func (c *testChain) Wait(ctx context.Context, hash string) (registry.OpStatus, error) {
	return c.engine.Wait(ctx, hash)
}

func (c *testChain) Nonce(ctx context.Context, signer string) (uint64, error) {
	return c.db.Nonce(ctx, signer)
}

func (c *testChain) LatestDIDVersion(ctx context.Context, id string) (registry.DIDVersion, error) {
	return c.db.LatestDIDVersion(ctx, id)
}

func (c *testChain) Anchor(ctx context.Context, root string) (registry.Anchor, error) {
	return c.db.Anchor(ctx, root)
}

func (c *testChain) Proof(ctx context.Context, hash string) (registry.Proof, error) {
	return c.engine.Proof(ctx, hash)
}

// startChain runs a solo registry on db with a fresh development genesis.
func startChain(t *testing.T, db *store.DB) *testChain {
	t.Helper()
	g, gov, val, err := registry.NewDevGenesis("urbis-test", time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	eng, err := registry.NewSolo(registry.SoloConfig{
		Store: db, Genesis: g, ValidatorID: g.Validators[0].ID, ValidatorKey: val,
		Interval: 5 * time.Millisecond, MaxOps: 1000, Clock: time.Now, Programs: civic.Programs(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return &testChain{genesis: g, gov: gov, govDID: g.Governance[0], engine: eng, db: db}
}

// commit signs an operation with key as signer and waits for its block.
func (c *testChain) commit(t *testing.T, key crypto.Signer, signer string, kind registry.Kind, payload any) registry.OpStatus {
	t.Helper()
	ctx := context.Background()
	signerDID, _, _ := strings.Cut(signer, "#")
	nonce, err := c.db.Nonce(ctx, signerDID)
	if err != nil {
		t.Fatal(err)
	}
	op, err := registry.NewOperation(c.genesis.ChainID, kind, signer, nonce+1, payload)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := registry.Sign(op, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.engine.Submit(ctx, signed.JWS); err != nil {
		t.Fatalf("submit %s: %v", kind, err)
	}
	st, err := c.engine.Wait(ctx, signed.Hash)
	if err != nil || st.Status != "committed" {
		t.Fatalf("%s: got %+v, %v; want committed", kind, st, err)
	}
	return st
}

// govSigner is the governance DID's verification method.
func (c *testChain) govSigner() string {
	_, frag, _ := strings.Cut(c.govDID, "did:key:")
	return c.govDID + "#" + frag
}

// testPublicURL is the --public-url of the test servers.
const testPublicURL = "https://urbis.test"

// newEnvs returns one env per test database: SQLite always, PostgreSQL
// when URBIS_TEST_POSTGRES_URL is set.
func newEnvs(t *testing.T, cfg api.Config) []*env {
	t.Helper()
	var out []*env
	for _, db := range storetest.Open(t) {
		out = append(out, newEnv(t, db.Dialect(), db, cfg))
	}
	return out
}

func newEnv(t *testing.T, name string, db *store.DB, cfg api.Config) *env {
	t.Helper()
	ctx := context.Background()
	log := newTestLogger(t)
	master, err := kms.ParseMasterKey("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	if err != nil {
		t.Fatal(err)
	}
	keys := kms.NewCustodian(db, master, time.Now)
	agencies := agency.NewService(db, keys, time.Now)
	chain := startChain(t, db)
	agencies.UseRegistry(chain)
	agencies.UseChainState(chain.genesis, db)
	resolver := did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}, did.JWKMethod{}, registry.NewDIDMethod(db))
	cfg.ChainID = chain.genesis.ChainID
	trust := verifiers.NewTrust(db, db)
	lists, err := statuslist.NewAllocator(db, statuslist.Config{})
	if err != nil {
		t.Fatal(err)
	}
	issuers := issuer.NewService(issuer.Config{
		Store: db, DIDs: agencies, Resolver: resolver, Trust: trust,
		Lists: lists, Versions: db, Statuses: db, PublicURL: testPublicURL, Chain: chain,
		Anchors: db, AnchorChain: chain,
		Keys: issuer.KeysFunc(func(ctx context.Context, agencyID, keyID string) (crypto.Signer, error) {
			s, err := keys.Signer(ctx, agencyID, keyID)
			if err != nil {
				return nil, err
			}
			return s, nil
		}),
	})
	agencies.UseSignerLocks(issuers)
	anchorer, err := issuers.NewAnchorer(issuer.AnchorerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	verifier := verifiers.NewVerifier(resolver, trust, nil)
	verifier.UseStatusLists(issuers)
	oidClock := &offsetClock{}
	oid := oid4vci.NewService(oid4vci.Config{
		Store: db, Issuer: issuers, Instances: issuers, Resolver: resolver, IssuerURL: testPublicURL,
		BatchSize: 5, MetadataTTL: -1, Clock: oidClock.now,
	})
	vpClock := &offsetClock{}
	vp := oid4vp.NewService(oid4vp.Config{
		Store: db, DIDs: agencies, Resolver: resolver, Verifier: verifier, PublicURL: testPublicURL, Clock: vpClock.now,
		Keys: oid4vp.KeysFunc(func(ctx context.Context, agencyID, keyID string) (crypto.Signer, error) {
			s, err := keys.Signer(ctx, agencyID, keyID)
			if err != nil {
				return nil, err
			}
			return s, nil
		}),
		Webhooks: oid4vp.NewWebhooks(5*time.Second, true), // the tests' webhooks listen on loopback
	})
	titles := land.NewService(land.Config{Issuer: issuers, Signers: agencies, Chain: chain, State: db, Genesis: chain.genesis})
	custody := &currency.Custody{Ops: chainop.New(chain, issuers,
		&chainop.Check{Machine: registry.NewMachine(chain.genesis, civic.Programs()...), State: db, Clock: time.Now}, agencies)}
	elections := vote.NewService(vote.Config{
		Chain: chain, State: db, Custody: vote.AgencyCustody{Signers: agencies},
		Keys: vote.DirKeys{Dir: t.TempDir()}, Presentations: verifier, Trust: trust, Locks: issuers,
	})
	s, err := api.NewServer(cfg, api.Deps{
		Agencies: agencies, Resolver: resolver, Ready: db, Cache: resolver, Elections: elections,
		Registry: chain.engine, Chain: db,
		Issuers: issuers, Verifier: verifier, OID4VCI: oid, VPRequests: vp,
		Land: titles, Provenance: provenance.NewService(verifier, trust),
		Currency: currency.NewService(db, custody, issuers, time.Now), Energy: energy.NewService(db, custody),
		Logger: log, Spec: urbis.OpenAPI,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	_, key, err := agencies.Create(ctx, "Test Agency")
	if err != nil {
		t.Fatal(err)
	}
	_, other, err := agencies.Create(ctx, "Other Agency")
	if err != nil {
		t.Fatal(err)
	}
	return &env{name: name, srv: srv, api: s, db: db, agencies: agencies, key: key, otherKey: other, chain: chain, anchorer: anchorer, issuers: issuers, oidClock: oidClock, vp: vp, vpClock: vpClock}
}

// do sends a request and returns the response with its body read.
func (e *env) do(t *testing.T, method, path, key string, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}
