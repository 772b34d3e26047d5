package agency

import (
	"context"
	"crypto"

	"github.com/urbis-id/urbis/internal/errkind"
)

// ChainSigner returns what signs chain operations for agencyID's DID id:
// the verification method (an absolute DID URL) and the custody key
// behind it. NotFound if id is not one of the agency's DIDs; Conflict if
// it is not active. Callers take the DID's signer lock (see
// UseSignerLocks) from reading its nonce to the block.
func (s *Service) ChainSigner(ctx context.Context, agencyID, id string) (string, crypto.Signer, error) {
	rec, err := s.store.DID(ctx, agencyID, id)
	if err != nil {
		return "", nil, err
	}
	if rec.Status != StatusActive {
		return "", nil, errkind.New(errkind.Conflict, "%s is %s%s; sign with an active DID", rec.DID, rec.Status, successor(rec))
	}
	kid, err := signingKey(ctx, rec)
	if err != nil {
		return "", nil, err
	}
	key, err := s.keys.Signer(ctx, agencyID, rec.KeyID)
	if err != nil {
		return "", nil, err
	}
	return kid, key, nil
}
