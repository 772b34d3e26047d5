package agency

import (
	"context"
	"crypto"

	"github.com/urbis-id/urbis/internal/chainop"
	"github.com/urbis-id/urbis/internal/errkind"
)

// ChainSigner returns what signs chain operations for agencyID's DID id:
// the verification method (an absolute DID URL) and the custody key
// behind it. NotFound if id is not one of the agency's DIDs; Conflict if
// it is not active. It makes the Service a chainop.Custody: a
// chainop.Submitter signs with it under the DID's signer lock (see
// UseSignerLocks).
func (s *Service) ChainSigner(ctx context.Context, agencyID, id string) (string, crypto.Signer, error) {
	k, err := s.chainKey(ctx, agencyID, id, "")
	return k.ID, k.Signer, err
}

var _ chainop.Custody = (*Service)(nil)

// chainKey returns the key in custody that signs for agencyID's active
// DID id; a DID not active is a Conflict naming field.
func (s *Service) chainKey(ctx context.Context, agencyID, id, field string) (chainop.Key, error) {
	rec, err := s.store.DID(ctx, agencyID, id)
	if err != nil {
		return chainop.Key{}, err
	}
	if rec.Status != StatusActive {
		return chainop.Key{}, errkind.Field(errkind.Conflict, field, "%s is %s%s; sign with an active DID", rec.DID, rec.Status, successor(rec))
	}
	kid, err := signingKey(ctx, rec)
	if err != nil {
		return chainop.Key{}, err
	}
	key, err := s.keys.Signer(ctx, agencyID, rec.KeyID)
	if err != nil {
		return chainop.Key{}, err
	}
	return chainop.Key{DID: rec.DID, ID: kid, Signer: key}, nil
}
