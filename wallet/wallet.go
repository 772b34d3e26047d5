package wallet

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

// Wallet is an open wallet: its decrypted contents in memory and the
// passphrase to seal them again. Every change is written to the file
// before the method that makes it returns. A Wallet is not safe for
// concurrent use.
type Wallet struct {
	path  string
	pass  []byte
	kdf   KDF
	clock func() time.Time
	c     contents
	http  Client // nil: http.DefaultClient
	// resolver is the Urbis service that resolves verifiers' DIDs; ""
	// means the host of each request.
	resolver string
}

// contents is what the wallet file holds, encrypted.
type contents struct {
	Keys        []keyEntry   `json:"keys"`
	DIDs        []DID        `json:"dids"`
	Credentials []Credential `json:"credentials"`
}

// seed is an Ed25519 private key seed. It prints redacted.
type seed []byte

func (seed) String() string               { return "[redacted]" }
func (seed) GoString() string             { return "[redacted]" }
func (s seed) Format(f fmt.State, _ rune) { fmt.Fprint(f, "[redacted]") }

// keyEntry is a key held by the wallet.
type keyEntry struct {
	ID      string    `json:"id"`
	Type    string    `json:"type"` // "Ed25519"
	Seed    seed      `json:"seed"`
	Created time.Time `json:"created"`
}

// DID is one of the holder's DIDs.
type DID struct {
	DID     string    `json:"did"`
	KeyID   string    `json:"keyId"`
	Method  string    `json:"method"`
	Label   string    `json:"label,omitempty"` // e.g. the verifier a pairwise DID is for
	Created time.Time `json:"created"`
	// For did:urbis: the fragment of the current key's verification
	// method, the DID's last nonce and document version on the chain, and
	// whether the operation that makes it so is still unconfirmed.
	Fragment string   `json:"fragment,omitempty"`
	Nonce    uint64   `json:"nonce,omitempty"`
	Version  uint64   `json:"version,omitempty"`
	Pending  *Pending `json:"pending,omitempty"`
}

// VerificationMethod returns the DID URL of d's current key.
func (d DID) VerificationMethod() string {
	if d.Fragment != "" {
		return d.DID + d.Fragment
	}
	return d.DID + "#" + strings.TrimPrefix(d.DID, "did:key:")
}

// Options configure Create and Open. A zero KDF means DefaultKDF; a nil
// Clock means time.Now.
type Options struct {
	KDF   KDF
	Clock func() time.Time
}

func (o Options) withDefaults() Options {
	if o.KDF == (KDF{}) {
		o.KDF = DefaultKDF
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	return o
}

// Path returns the wallet file in dir.
func Path(dir string) string { return filepath.Join(dir, FileName) }

// Create makes an empty wallet in dir (created 0700 if absent), sealed
// with passphrase. Conflict if dir already has a wallet.
func Create(dir string, passphrase []byte, opts Options) (*Wallet, error) {
	opts = opts.withDefaults()
	if len(passphrase) < 8 {
		return nil, errkind.Field(errkind.Invalid, "passphrase", "is %d characters; use at least 8", len(passphrase))
	}
	if !opts.KDF.valid() {
		return nil, errkind.New(errkind.Invalid, "argon2id parameters out of range: time 1..64, memory 8 MiB..4 GiB, threads >= 1")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := Path(dir)
	if _, err := os.Stat(path); err == nil {
		return nil, errkind.New(errkind.Conflict, "a wallet already exists at %s", path)
	}
	w := &Wallet{path: path, pass: slices.Clone(passphrase), kdf: opts.KDF, clock: opts.Clock}
	return w, w.save()
}

// Open decrypts the wallet in dir: NotFound when there is none,
// Unauthorized when the passphrase is wrong.
func Open(dir string, passphrase []byte, opts Options) (*Wallet, error) {
	opts = opts.withDefaults()
	path := Path(dir)
	plain, params, err := readSealed(path, passphrase)
	if err != nil {
		return nil, err
	}
	w := &Wallet{path: path, pass: slices.Clone(passphrase), kdf: params, clock: opts.Clock}
	if err := json.Unmarshal(plain, &w.c); err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "wallet %s: contents do not decode", path)
	}
	return w, nil
}

// save seals the contents and replaces the file.
func (w *Wallet) save() error {
	plain, err := json.Marshal(w.c)
	if err != nil {
		return err
	}
	return writeSealed(w.path, plain, w.pass, w.kdf)
}

// change applies f to a copy of the contents and saves; the wallet keeps
// its old contents if f or the write fails.
func (w *Wallet) change(f func(c *contents) error) error {
	old := w.c
	next := contents{Keys: slices.Clone(old.Keys), DIDs: slices.Clone(old.DIDs), Credentials: slices.Clone(old.Credentials)}
	if err := f(&next); err != nil {
		return err
	}
	w.c = next
	if err := w.save(); err != nil {
		w.c = old
		return err
	}
	return nil
}

func (w *Wallet) now() time.Time { return w.clock().UTC().Truncate(time.Second) }

// NewDIDKey creates an Ed25519 key and its did:key, with an optional
// label (a pairwise DID names the verifier it is for).
func (w *Wallet) NewDIDKey(label string) (DID, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return DID{}, err
	}
	mk, err := did.EncodeMultikey(pub)
	if err != nil {
		return DID{}, err
	}
	now := w.now()
	k := keyEntry{ID: randomID(), Type: "Ed25519", Seed: seed(priv.Seed()), Created: now}
	d := DID{DID: "did:key:" + mk, KeyID: k.ID, Method: "key", Label: label, Created: now}
	err = w.change(func(c *contents) error {
		c.Keys = append(c.Keys, k)
		c.DIDs = append(c.DIDs, d)
		return nil
	})
	return d, err
}

// DIDs returns the holder's DIDs, oldest first.
func (w *Wallet) DIDs() []DID { return slices.Clone(w.c.DIDs) }

// DefaultDID returns the first DID without a label: the holder's
// everyday DID. NotFound if there is none.
func (w *Wallet) DefaultDID() (DID, error) {
	for _, d := range w.c.DIDs {
		if d.Label == "" {
			return d, nil
		}
	}
	return DID{}, errkind.New(errkind.NotFound, "the wallet has no DID yet; create one with `urbis wallet did create`")
}

// Signer returns the private key of id (a DID of the wallet) and the
// DID URL of its verification method. NotFound if the wallet does not
// hold id.
func (w *Wallet) Signer(id string) (crypto.Signer, string, error) {
	i := slices.IndexFunc(w.c.DIDs, func(d DID) bool { return d.DID == id })
	if i < 0 {
		return nil, "", errkind.New(errkind.NotFound, "the wallet holds no DID %s", id)
	}
	d := w.c.DIDs[i]
	if d.Pending != nil && d.Pending.Kind == "did.create" {
		return nil, "", errkind.New(errkind.Conflict, "%s is not on the chain yet: its did.create was never confirmed; `urbis wallet did create --method urbis` makes a new one", id)
	}
	k, err := w.key(d.KeyID)
	if err != nil {
		return nil, "", err
	}
	return k, d.VerificationMethod(), nil
}

// key returns the private key with local id.
func (w *Wallet) key(id string) (ed25519.PrivateKey, error) {
	j := slices.IndexFunc(w.c.Keys, func(k keyEntry) bool { return k.ID == id })
	if j < 0 || len(w.c.Keys[j].Seed) != ed25519.SeedSize {
		return nil, errkind.New(errkind.Internal, "wallet: key %s is missing", id)
	}
	return ed25519.NewKeyFromSeed(w.c.Keys[j].Seed), nil
}

// Export writes everything in the wallet to path, sealed with
// passphrase (which may differ from the wallet's), for Import into
// another wallet. path must not exist.
func (w *Wallet) Export(path string, passphrase []byte) error {
	if len(passphrase) < 8 {
		return errkind.Field(errkind.Invalid, "passphrase", "is %d characters; use at least 8", len(passphrase))
	}
	if _, err := os.Stat(path); err == nil {
		return errkind.New(errkind.Conflict, "%s already exists; export does not overwrite", path)
	}
	plain, err := json.Marshal(w.c)
	if err != nil {
		return err
	}
	return writeSealed(path, plain, passphrase, w.kdf)
}

// Import adds to the wallet the keys, DIDs and credentials of a backup
// written by Export, skipping those it already holds, and returns how
// many credentials it added.
func (w *Wallet) Import(path string, passphrase []byte) (int, error) {
	plain, _, err := readSealed(path, passphrase)
	if err != nil {
		return 0, err
	}
	var in contents
	if err := json.Unmarshal(plain, &in); err != nil {
		return 0, errkind.Wrap(errkind.Invalid, err, "backup %s: contents do not decode", path)
	}
	added := 0
	err = w.change(func(c *contents) error {
		for _, k := range in.Keys {
			if !slices.ContainsFunc(c.Keys, func(x keyEntry) bool { return x.ID == k.ID }) {
				c.Keys = append(c.Keys, k)
			}
		}
		for _, d := range in.DIDs {
			if !slices.ContainsFunc(c.DIDs, func(x DID) bool { return x.DID == d.DID }) {
				c.DIDs = append(c.DIDs, d)
			}
		}
		for _, cr := range in.Credentials {
			if !slices.ContainsFunc(c.Credentials, func(x Credential) bool { return x.ID == cr.ID }) {
				c.Credentials = append(c.Credentials, cr)
				added++
			}
		}
		return nil
	})
	return added, err
}

func randomID() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(errors.Join(errors.New("wallet: no randomness"), err))
	}
	return hex.EncodeToString(b)
}
