package kms

import (
	"context"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// Custodian generates, seals and rotates the keys of agencies and hands
// out Signers. Every operation is scoped to an agency: an agency can
// neither read nor sign with another agency's key.
type Custodian struct {
	store Store
	wrap  sealer // AES-256-GCM under the master key
	clock func() time.Time
}

// NewCustodian returns a Custodian that keeps keys in store, sealed under
// master. A nil clock means time.Now.
func NewCustodian(store Store, master *MasterKey, clock func() time.Time) *Custodian {
	if master == nil || master.k == nil {
		panic("kms: NewCustodian needs a master key")
	}
	if clock == nil {
		clock = time.Now
	}
	return &Custodian{store: store, wrap: newSealer(master.k()[:]), clock: clock}
}

// NewRecord generates a key of type t for agencyID and returns its sealed
// record and public view without storing them, for callers that store
// the record in one transaction with rows of their own (a DID, say).
// Generate is NewRecord followed by Store.CreateKey.
func (c *Custodian) NewRecord(agencyID string, t KeyType) (Record, Key, error) {
	if agencyID == "" {
		return Record{}, Key{}, errkind.Field(errkind.Invalid, "agencyID", "missing agency id")
	}
	if !t.Valid() {
		return Record{}, Key{}, errkind.Field(errkind.Invalid, "keyType", "unknown key type %q; allowed values are %s", t, allowedKeyTypes)
	}
	priv, err := generate(t)
	if err != nil {
		return Record{}, Key{}, errkind.Wrap(errkind.Internal, err, "kms: generate %s key", t)
	}
	r, err := sealKey(c.wrap, newID("key_"), agencyID, t, priv)
	if err != nil {
		return Record{}, Key{}, err
	}
	r.CreatedAt = c.now()
	k, err := r.PublicKey()
	return r, k, err
}

// Generate creates and stores a new active key of type t for agencyID.
func (c *Custodian) Generate(ctx context.Context, agencyID string, t KeyType) (Key, error) {
	r, k, err := c.NewRecord(agencyID, t)
	if err != nil {
		return Key{}, err
	}
	if err := c.store.CreateKey(ctx, r); err != nil {
		return Key{}, err
	}
	return k, nil
}

// Public returns the public view of agencyID's key keyID, active or
// rotated; NotFound if there is no such key or it is another agency's.
func (c *Custodian) Public(ctx context.Context, agencyID, keyID string) (Key, error) {
	r, err := c.store.Key(ctx, agencyID, keyID)
	if err != nil {
		return Key{}, err
	}
	return r.PublicKey()
}

// List returns the public views of agencyID's keys, oldest first.
func (c *Custodian) List(ctx context.Context, agencyID string) ([]Key, error) {
	rs, err := c.store.ListKeys(ctx, agencyID)
	if err != nil {
		return nil, err
	}
	keys := make([]Key, 0, len(rs))
	for _, r := range rs {
		k, err := r.PublicKey()
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// Signer unseals agencyID's active key keyID and returns a Signer for it.
// The key is looked up by agency, so an agency cannot sign with another
// agency's key (NotFound). A rotated key no longer signs (Gone).
func (c *Custodian) Signer(ctx context.Context, agencyID, keyID string) (*Signer, error) {
	r, err := c.store.Key(ctx, agencyID, keyID)
	if err != nil {
		return nil, err
	}
	if r.Status != StatusActive {
		return nil, errkind.New(errkind.Gone, "key %s was rotated (replaced by %s) and no longer signs", r.ID, r.ReplacedBy)
	}
	priv, err := unsealKey(c.wrap, r)
	if err != nil {
		return nil, err
	}
	return &Signer{id: r.ID, agencyID: r.AgencyID, typ: r.Type, pub: priv.Public(), sign: priv.Sign}, nil
}

// Rotate replaces agencyID's active key keyID with a new key of the same
// type and marks the old one rotated, replaced by the new one; the old
// public key stays readable through Public. Conflict if keyID is already
// rotated.
func (c *Custodian) Rotate(ctx context.Context, agencyID, keyID string) (Key, error) {
	old, err := c.store.Key(ctx, agencyID, keyID)
	if err != nil {
		return Key{}, err
	}
	if old.Status != StatusActive {
		return Key{}, errkind.New(errkind.Conflict, "key %s is already rotated (replaced by %s)", old.ID, old.ReplacedBy)
	}
	next, k, err := c.NewRecord(agencyID, old.Type)
	if err != nil {
		return Key{}, err
	}
	if err := c.store.RotateKey(ctx, agencyID, keyID, next); err != nil {
		return Key{}, err
	}
	return k, nil
}

// now returns the clock's time in UTC with microsecond precision, the
// precision every supported database keeps, so that what Generate
// returns equals what is read back.
func (c *Custodian) now() time.Time { return c.clock().UTC().Truncate(time.Microsecond) }
