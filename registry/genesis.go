package registry

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

// Default parameters of a new chain.
const (
	DefaultBlockIntervalMillis = 250
	DefaultMaxBlockOps         = 5000
)

// Bounds on the genesis.
const (
	maxGenesisSize = 1 << 20
	maxChainIDLen  = 64
	maxBlockOps    = 100_000
)

// Genesis is the start of a chain: its id, the governance DIDs that hold
// the root of trust, the validators that sign blocks, and parameters.
type Genesis struct {
	ChainID string    `json:"chainId"`
	Time    time.Time `json:"time"`
	// Governance lists the governance DIDs (did:key or did:urbis).
	Governance []string    `json:"governance"`
	Validators []Validator `json:"validators"`
	Params     Params      `json:"params"`
}

// Validator is a genesis validator: an id and an Ed25519 public key as a
// Multikey (publicKeyMultibase).
type Validator struct {
	ID        string `json:"id"`
	PublicKey string `json:"publicKey"`
}

// Params are the chain parameters.
type Params struct {
	BlockIntervalMillis int `json:"blockIntervalMillis"`
	MaxBlockOps         int `json:"maxBlockOps"`
	// SignatureRule is the rule the chain's Ed25519 operation signatures
	// are verified by: SignatureRuleStdlib (absent) or SignatureRuleZIP215.
	SignatureRule string `json:"signatureRule,omitempty"`
}

// The rules a chain may verify its operations' Ed25519 signatures by.
// Every node of a chain must use the chain's own, so it is in the
// genesis. A signature made by a conforming signer verifies under both;
// they differ only on signatures crafted with points of small order.
const (
	// SignatureRuleStdlib (a genesis that names no rule) is exactly
	// crypto/ed25519's rule (RFC 8032, cofactorless).
	SignatureRuleStdlib = ""
	// SignatureRuleZIP215 is the rule of ZIP 215 (cofactored), which
	// CometBFT also uses: under it the engine verifies the signatures of
	// concurrent submissions, and of a block, in batches, in about 60%
	// of the time. New chains use it.
	SignatureRuleZIP215 = "zip215"
)

// LoadGenesis reads and validates the genesis file at path.
func LoadGenesis(path string) (*Genesis, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errkind.New(errkind.NotFound, "genesis file %s does not exist; create one with `urbis registry init`", path)
	}
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "read genesis file")
	}
	if len(b) > maxGenesisSize {
		return nil, errkind.New(errkind.TooLarge, "genesis file %s is %d bytes; the limit is %d", path, len(b), maxGenesisSize)
	}
	var g Genesis
	if err := decodeStrict(b, &g); err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "genesis file %s", path)
	}
	if err := g.Validate(); err != nil {
		return nil, errkind.Wrap(errkind.KindOf(err), err, "genesis file %s", path)
	}
	return &g, nil
}

// Write validates g and writes it as indented JSON to path, mode 0644.
// It refuses to overwrite an existing file: a chain's genesis never
// changes.
func (g *Genesis) Write(path string) error {
	if err := g.Validate(); err != nil {
		return err
	}
	b, err := jsonIndent(g)
	if err != nil {
		return err
	}
	return writeNew(path, b, 0o644, "genesis file")
}

// writeNew creates path with mode perm and writes b, refusing to
// overwrite.
func writeNew(path string, b []byte, perm fs.FileMode, what string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrExist) {
		return errkind.New(errkind.Conflict, "%s %s exists; refusing to overwrite it (move it away first)", what, path)
	}
	if err != nil {
		return errkind.Wrap(errkind.Internal, err, "create %s", what)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return errkind.Wrap(errkind.Internal, err, "write %s", what)
	}
	if err := f.Close(); err != nil {
		return errkind.Wrap(errkind.Internal, err, "write %s", what)
	}
	return nil
}

// Validate checks g: a chain id of 1 to 64 letters, digits, "-", "_" or
// ".", a time, at least one governance DID (did:key or did:urbis), at
// least one validator with a unique id and an Ed25519 Multikey, positive
// parameters and a known signature rule.
func (g *Genesis) Validate() error {
	if err := checkChainID(g.ChainID); err != nil {
		return err
	}
	if g.Time.IsZero() {
		return errkind.Field(errkind.Invalid, "time", "genesis has no time")
	}
	if len(g.Governance) == 0 {
		return errkind.Field(errkind.Invalid, "governance", "genesis needs at least one governance DID")
	}
	for i, s := range g.Governance {
		f := fmt.Sprintf("governance/%d", i)
		d, err := did.Parse(s)
		if err != nil {
			return errkind.Wrap(errkind.Invalid, err, "%s", f)
		}
		switch d.Method {
		case did.MethodKey:
			if _, err := (did.KeyMethod{}).Resolve(context.Background(), d, did.ResolveOptions{}); err != nil {
				return errkind.Wrap(errkind.Invalid, err, "%s", f)
			}
		case MethodURBIS:
		default:
			return errkind.Field(errkind.Invalid, f, "governance DID %s must be a did:key or a did:urbis", s)
		}
		if slices.Index(g.Governance, s) != i {
			return errkind.Field(errkind.Invalid, f, "governance DID %s is listed twice", s)
		}
	}
	if len(g.Validators) == 0 {
		return errkind.Field(errkind.Invalid, "validators", "genesis needs at least one validator")
	}
	for i, v := range g.Validators {
		f := fmt.Sprintf("validators/%d", i)
		if err := checkChainID(v.ID); err != nil {
			return errkind.Field(errkind.Invalid, f+"/id", "validator id %q must be 1 to %d letters, digits, \"-\", \"_\" or \".\"", v.ID, maxChainIDLen)
		}
		if slices.IndexFunc(g.Validators, func(w Validator) bool { return w.ID == v.ID }) != i {
			return errkind.Field(errkind.Invalid, f+"/id", "validator id %q is used twice", v.ID)
		}
		if _, err := validatorKey(v); err != nil {
			return errkind.Wrap(errkind.Invalid, err, "%s/publicKey", f)
		}
	}
	if p := g.Params; p.BlockIntervalMillis < 1 || p.MaxBlockOps < 1 || p.MaxBlockOps > maxBlockOps {
		return errkind.Field(errkind.Invalid, "params", "blockIntervalMillis must be at least 1 and maxBlockOps 1 to %d; got %d and %d", maxBlockOps, p.BlockIntervalMillis, p.MaxBlockOps)
	}
	if r := g.Params.SignatureRule; r != SignatureRuleStdlib && r != SignatureRuleZIP215 {
		return errkind.Field(errkind.Invalid, "params/signatureRule", "signature rule %q is not known; leave it out (crypto/ed25519's rule) or write %q", r, SignatureRuleZIP215)
	}
	return nil
}

func checkChainID(id string) error {
	ok := id != "" && len(id) <= maxChainIDLen
	for _, r := range id {
		ok = ok && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}
	if !ok {
		return errkind.Field(errkind.Invalid, "chainId", "chain id %q must be 1 to %d letters, digits, \"-\", \"_\" or \".\"", id, maxChainIDLen)
	}
	return nil
}

// validatorKey decodes a validator's Ed25519 key.
func validatorKey(v Validator) (ed25519.PublicKey, error) {
	pub, err := did.DecodeMultikey(v.PublicKey)
	if err != nil {
		return nil, err
	}
	k, ok := pub.(ed25519.PublicKey)
	if !ok {
		return nil, errkind.New(errkind.Invalid, "validator %s has a %s key; validators sign with Ed25519", v.ID, keyName(pub))
	}
	return k, nil
}

// validator returns the genesis validator with the given id.
func (g *Genesis) validator(id string) (Validator, bool) {
	i := slices.IndexFunc(g.Validators, func(v Validator) bool { return v.ID == id })
	if i < 0 {
		return Validator{}, false
	}
	return g.Validators[i], true
}

// Hash returns the hex SHA-256 of the canonical encoding of g (its time
// in UTC). It is the state root before the first block.
func (g *Genesis) Hash() string {
	c := *g
	c.Time = c.Time.UTC()
	b, err := Canonical(c)
	if err != nil {
		// A Genesis holds no json.RawMessage; encoding cannot fail.
		panic("registry: encode genesis: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// NewDevGenesis returns a development genesis for chainID at time t with
// one governance did:key and one validator ("validator-1"), and their
// fresh private keys, with the default parameters and the ZIP 215
// signature rule.
func NewDevGenesis(chainID string, t time.Time) (g *Genesis, governance ed25519.PrivateKey, validator ed25519.PrivateKey, err error) {
	govPub, governance, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, nil, errkind.Wrap(errkind.Internal, err, "generate governance key")
	}
	valPub, validator, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, nil, errkind.Wrap(errkind.Internal, err, "generate validator key")
	}
	govDID, err := did.NewKey(govPub)
	if err != nil {
		return nil, nil, nil, err
	}
	mk, err := did.EncodeMultikey(valPub)
	if err != nil {
		return nil, nil, nil, err
	}
	g = &Genesis{
		ChainID:    chainID,
		Time:       t.UTC(),
		Governance: []string{govDID.String()},
		Validators: []Validator{{ID: "validator-1", PublicKey: mk}},
		Params:     Params{BlockIntervalMillis: DefaultBlockIntervalMillis, MaxBlockOps: DefaultMaxBlockOps, SignatureRule: SignatureRuleZIP215},
	}
	if err := g.Validate(); err != nil {
		return nil, nil, nil, err
	}
	return g, governance, validator, nil
}

func jsonIndent(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "encode")
	}
	return append(b, '\n'), nil
}
