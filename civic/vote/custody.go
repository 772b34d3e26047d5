package vote

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"

	"github.com/urbis-id/urbis/internal/errkind"
)

// AgencySigners finds the key in custody that signs chain operations
// for an agency's DID, and its verification method (agency.Service
// does); NotFound if the DID is not the agency's, Conflict if it is not
// active.
type AgencySigners interface {
	ChainSigner(ctx context.Context, agencyID, did string) (kid string, key crypto.Signer, err error)
}

// AgencyCustody signs with the keys in custody of agencies' DIDs.
type AgencyCustody struct{ Signers AgencySigners }

var _ Custody = AgencyCustody{}

// ChainSigner returns the custody signer of agencyID's active DID d and
// the DID URL of its key on the chain; its errors name the field did.
func (c AgencyCustody) ChainSigner(ctx context.Context, agencyID, d string) (crypto.Signer, string, error) {
	kid, key, err := c.Signers.ChainSigner(ctx, agencyID, d)
	if err != nil {
		var e *errkind.Error
		if errors.As(err, &e) && e.Field == "" && e.Kind != errkind.Internal {
			return nil, "", errkind.Field(e.Kind, "did", "%v", err)
		}
		return nil, "", err
	}
	return key, kid, nil
}

// DirKeys keeps elections' sealed keys as files in a directory (mode
// 0600), one per election. The keys are sealed under their authority's
// key in custody, so the files are useless without the database and the
// master key.
type DirKeys struct{ Dir string }

var _ KeyStore = DirKeys{}

type keyFile struct {
	AgencyID string `json:"agencyId"`
	DID      string `json:"did"`
	Sealed   []byte `json:"sealed"`
}

func (k DirKeys) path(id string) string { return filepath.Join(k.Dir, id+".key.json") }

// PutElectionKey writes the record, replacing what an earlier attempt
// to create the same election left (the service checks first that the
// chain has no such election, one creation at a time).
func (k DirKeys) PutElectionKey(_ context.Context, r KeyRecord) error {
	if !validID(r.Election) {
		return errkind.Field(errkind.Invalid, "id", "not an election id: %q", r.Election)
	}
	if err := os.MkdirAll(k.Dir, 0o700); err != nil {
		return errkind.Wrap(errkind.Internal, err, "election keys directory")
	}
	b, err := json.Marshal(keyFile{AgencyID: r.AgencyID, DID: r.DID, Sealed: r.Sealed})
	if err != nil {
		return errkind.Wrap(errkind.Internal, err, "encode the key of %s", r.Election)
	}
	f, err := os.CreateTemp(k.Dir, r.Election+".tmp-*")
	if err != nil {
		return errkind.Wrap(errkind.Internal, err, "write the key of %s", r.Election)
	}
	defer os.Remove(f.Name()) // after the rename, nothing
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), k.path(r.Election))
	}
	if err != nil {
		return errkind.Wrap(errkind.Internal, err, "write the key of %s", r.Election)
	}
	return nil
}

// ElectionKey reads the record of an election; NotFound if none.
func (k DirKeys) ElectionKey(_ context.Context, id string) (KeyRecord, error) {
	if !validID(id) {
		return KeyRecord{}, errkind.New(errkind.NotFound, "no key for election %q", id)
	}
	b, err := os.ReadFile(k.path(id))
	if errors.Is(err, os.ErrNotExist) {
		return KeyRecord{}, errkind.New(errkind.NotFound, "no key for election %s on this server", id)
	}
	if err != nil {
		return KeyRecord{}, errkind.Wrap(errkind.Internal, err, "read the key of %s", id)
	}
	var f keyFile
	if err := json.Unmarshal(b, &f); err != nil {
		return KeyRecord{}, errkind.Wrap(errkind.Internal, err, "the key file of %s", id)
	}
	return KeyRecord{Election: id, AgencyID: f.AgencyID, DID: f.DID, Sealed: f.Sealed}, nil
}
