package wallet

import (
	"crypto/ed25519"
	"crypto/rand"
	"slices"
	"strconv"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// Pending is a registry operation the wallet signed and has not seen
// committed yet. The wallet writes it (with any new key) before the
// operation leaves, so that a crash after submitting loses no key the
// chain may come to expect.
type Pending struct {
	Kind     string `json:"kind"` // "did.create" or "did.update"
	Op       string `json:"op"`   // the signed operation (compact JWS)
	Hash     string `json:"hash"`
	KeyID    string `json:"keyId"`    // the key the operation installs
	Fragment string `json:"fragment"` // its verification method's fragment
}

// CreateDIDURBIS makes a key and a did:urbis whose document holds it (for
// authentication, assertion and capability invocation), and returns the
// signed did.create to submit to the chain chainID. The DID is kept as
// pending until Confirm.
func (w *Wallet) CreateDIDURBIS(chainID, label string) (DID, Pending, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return DID{}, Pending{}, err
	}
	spec, err := urbisDocument(pub, "#key-1")
	if err != nil {
		return DID{}, Pending{}, err
	}
	id, payload, err := registry.NewDIDCreate(spec)
	if err != nil {
		return DID{}, Pending{}, err
	}
	p, err := signOp(chainID, registry.KindDIDCreate, id+"#key-1", 1, payload, priv)
	if err != nil {
		return DID{}, Pending{}, err
	}
	now := w.now()
	k := keyEntry{ID: randomID(), Type: "Ed25519", Seed: seed(priv.Seed()), Created: now}
	p.KeyID, p.Fragment = k.ID, "#key-1"
	d := DID{DID: id, KeyID: k.ID, Method: "urbis", Label: label, Created: now, Fragment: "#key-1", Pending: &p}
	err = w.change(func(c *contents) error {
		c.Keys = append(c.Keys, k)
		c.DIDs = append(c.DIDs, d)
		return nil
	})
	return d, p, err
}

// RotateKey makes a new key for the did:urbis id and returns the signed
// did.update (by the current key) that replaces the current key with it.
// With compromised, the update also declares the current key compromised,
// so that verifiers refuse everything it ever signed. The wallet keeps
// signing with the current key until Confirm.
func (w *Wallet) RotateKey(chainID, id string, compromised bool) (Pending, error) {
	i := slices.IndexFunc(w.c.DIDs, func(d DID) bool { return d.DID == id })
	if i < 0 {
		return Pending{}, errkind.New(errkind.NotFound, "the wallet holds no DID %s", id)
	}
	d := w.c.DIDs[i]
	switch {
	case d.Method != "urbis":
		return Pending{}, errkind.New(errkind.Invalid, "%s cannot rotate its key: a did:%s is its key; create a new DID instead", id, d.Method)
	case d.Pending != nil:
		return Pending{}, errkind.New(errkind.Conflict, "%s has an unconfirmed %s (%s); confirm or abandon it first", id, d.Pending.Kind, d.Pending.Hash)
	}
	old, err := w.key(d.KeyID)
	if err != nil {
		return Pending{}, err
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Pending{}, err
	}
	frag := "#key-" + strconv.FormatUint(d.Version+1, 10)
	spec, err := urbisDocument(pub, frag)
	if err != nil {
		return Pending{}, err
	}
	upd := registry.DIDUpdate{DID: id, PreviousVersion: d.Version, Document: spec}
	if compromised {
		upd.Compromised = []string{d.Fragment}
	}
	p, err := signOp(chainID, registry.KindDIDUpdate, d.VerificationMethod(), d.Nonce+1, upd, old)
	if err != nil {
		return Pending{}, err
	}
	k := keyEntry{ID: randomID(), Type: "Ed25519", Seed: seed(priv.Seed()), Created: w.now()}
	p.KeyID, p.Fragment = k.ID, frag
	err = w.change(func(c *contents) error {
		c.Keys = append(c.Keys, k)
		c.DIDs[i].Pending = &p
		return nil
	})
	return p, err
}

// Confirm records that id's pending operation was committed: a created
// DID becomes usable, a rotation makes the new key current.
func (w *Wallet) Confirm(id string) error {
	return w.settle(id, true)
}

// Abandon forgets id's pending operation, which the chain refused: a
// DID never created is removed, a rotation is dropped (the current key
// stays).
func (w *Wallet) Abandon(id string) error {
	return w.settle(id, false)
}

func (w *Wallet) settle(id string, committed bool) error {
	return w.change(func(c *contents) error {
		i := slices.IndexFunc(c.DIDs, func(d DID) bool { return d.DID == id })
		if i < 0 || c.DIDs[i].Pending == nil {
			return errkind.New(errkind.NotFound, "%s has no pending operation", id)
		}
		d := c.DIDs[i]
		p := *d.Pending
		d.Pending = nil
		switch {
		case p.Kind == string(registry.KindDIDCreate) && committed:
			d.Nonce, d.Version = 1, 1
		case p.Kind == string(registry.KindDIDCreate):
			c.DIDs = slices.Delete(c.DIDs, i, i+1)
			return nil
		case committed:
			d.KeyID, d.Fragment = p.KeyID, p.Fragment
			d.Nonce++
			d.Version++
		}
		c.DIDs[i] = d
		return nil
	})
}

// urbisDocument is a did:urbis document with one Ed25519 key.
func urbisDocument(pub ed25519.PublicKey, frag string) (registry.DocumentSpec, error) {
	mk, err := did.EncodeMultikey(pub)
	if err != nil {
		return registry.DocumentSpec{}, err
	}
	return registry.DocumentSpec{
		VerificationMethod:   []registry.MethodSpec{{ID: frag, Type: did.TypeMultikey, PublicKeyMultibase: mk}},
		Authentication:       []string{frag},
		AssertionMethod:      []string{frag},
		CapabilityInvocation: []string{frag},
	}, nil
}

// signOp builds and signs a registry operation.
func signOp(chainID string, kind registry.Kind, signer string, nonce uint64, payload any, key ed25519.PrivateKey) (Pending, error) {
	op, err := registry.NewOperation(chainID, kind, signer, nonce, payload)
	if err != nil {
		return Pending{}, err
	}
	signed, err := registry.Sign(op, key)
	if err != nil {
		return Pending{}, err
	}
	return Pending{Kind: string(kind), Op: signed.JWS, Hash: signed.Hash}, nil
}
