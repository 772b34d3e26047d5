package vote

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/agency"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/kms"
)

// AgencyDIDs finds an agency's DID record (agency.Service does).
type AgencyDIDs interface {
	DID(ctx context.Context, agencyID, id string) (agency.DIDRecord, error)
}

// AgencyCustody signs with the keys in custody of agencies' DIDs.
type AgencyCustody struct {
	DIDs AgencyDIDs
	Keys *kms.Custodian
}

var _ Custody = AgencyCustody{}

// ChainSigner returns the custody signer of agencyID's active DID d and
// the DID URL of its key on the chain: the key's fragment in a did:urbis
// document, the one key of a did:key or did:jwk.
func (c AgencyCustody) ChainSigner(ctx context.Context, agencyID, d string) (crypto.Signer, string, error) {
	rec, err := c.DIDs.DID(ctx, agencyID, d)
	if err != nil {
		return nil, "", errkind.Field(errkind.KindOf(err), "did", "%v", err)
	}
	if rec.Status != agency.StatusActive {
		return nil, "", errkind.Field(errkind.Conflict, "did", "%s is %s; sign with an active DID", rec.DID, rec.Status)
	}
	var kid string
	switch rec.Method {
	case agency.MethodUrbis:
		kid = rec.DID + "#" + rec.KeyID
	case agency.MethodJWK:
		kid = rec.DID + "#0"
	default:
		id, err := did.Parse(rec.DID)
		if err != nil {
			return nil, "", errkind.Wrap(errkind.Internal, err, "stored DID %s", rec.DID)
		}
		kid = rec.DID + "#" + id.ID
	}
	s, err := c.Keys.Signer(ctx, agencyID, rec.KeyID)
	if err != nil {
		return nil, "", err
	}
	return s, kid, nil
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
