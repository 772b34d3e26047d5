package registry

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

// genesisTime is the time of test chains.
var genesisTime = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

const testChain = "test-chain"

// seedKey returns a deterministic Ed25519 key for name.
func seedKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// keyKID returns the did:key DID of k and the DID URL of its key.
func keyKID(t testing.TB, k ed25519.PrivateKey) (string, string) {
	t.Helper()
	d, err := did.NewKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return d.String(), d.String() + "#" + d.ID
}

// multikey returns the publicKeyMultibase of k.
func multikey(t testing.TB, k crypto.Signer) string {
	t.Helper()
	mk, err := did.EncodeMultikey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return mk
}

// testGenesis returns a genesis with gov as governance DID and a
// validator key.
func testGenesis(t testing.TB) (*Genesis, ed25519.PrivateKey, ed25519.PrivateKey) {
	t.Helper()
	gov, val := seedKey("governance"), seedKey("validator")
	govDID, _ := keyKID(t, gov)
	g := &Genesis{
		ChainID: testChain, Time: genesisTime, Governance: []string{govDID},
		Validators: []Validator{{ID: "validator-1", PublicKey: multikey(t, val)}},
		Params:     Params{BlockIntervalMillis: 50, MaxBlockOps: 100},
	}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	return g, gov, val
}

// oneKeySpec is a document whose key #key-1 does everything signing does.
func oneKeySpec(t testing.TB, k crypto.Signer) DocumentSpec {
	return DocumentSpec{
		VerificationMethod:   []MethodSpec{{ID: "#key-1", Type: "Multikey", PublicKeyMultibase: multikey(t, k)}},
		Authentication:       []string{"#key-1"},
		AssertionMethod:      []string{"#key-1"},
		CapabilityInvocation: []string{"#key-1"},
	}
}

// signed signs an operation of the test chain.
func signed(t testing.TB, kind Kind, kid string, nonce uint64, payload any, k crypto.Signer) SignedOp {
	t.Helper()
	op, err := NewOperation(testChain, kind, kid, nonce, payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Sign(op, k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// createOp returns the did.create of a one-key document of k, and the DID.
func createOp(t testing.TB, k crypto.Signer) (SignedOp, string) {
	t.Helper()
	id, payload, err := NewDIDCreate(oneKeySpec(t, k))
	if err != nil {
		t.Fatal(err)
	}
	return signed(t, KindDIDCreate, id+"#key-1", 1, payload, k), id
}

// wantErr checks that err is of kind k and mentions want.
func wantErr(t testing.TB, err error, k errkind.Kind, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error; want %s error mentioning %q", k, want)
	}
	if !errors.Is(err, k) || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %s error %q; want %s error mentioning %q", errkind.KindOf(err), err, k, want)
	}
}

// chain is a test chain applied block by block through the machine on a
// memory store.
type chain struct {
	t      testing.TB
	g      *Genesis
	m      *Machine
	st     *memStore
	height uint64
	time   time.Time
}

func newChain(t testing.TB) (*chain, ed25519.PrivateKey) {
	g, gov, _ := testGenesis(t)
	return &chain{t: t, g: g, m: NewMachine(g), st: newMemStore(), time: genesisTime}, gov
}

// apply applies op in a block of its own, advancing time by a minute,
// and returns the machine's verdict.
func (c *chain) apply(op SignedOp) error {
	c.height++
	c.time = c.time.Add(time.Minute)
	h := Header{Chain: c.g.ChainID, Height: c.height, Time: c.time}
	return c.st.InBlockTx(context.Background(), func(tx BlockTx) error {
		_, err := c.m.Apply(context.Background(), tx, h, op)
		return err
	})
}

// must applies op and fails the test if it is rejected.
func (c *chain) must(op SignedOp) {
	c.t.Helper()
	if err := c.apply(op); err != nil {
		c.t.Fatalf("apply %s: %v", op.Op.Kind, err)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
