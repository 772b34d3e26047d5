package issuer

import (
	"context"
	"fmt"

	"github.com/urbis-id/urbis/internal/chainop"
	"github.com/urbis-id/urbis/registry"
)

// Chain is what the service needs of the registry chain to anchor status
// changes: submit a signed operation, wait for its block, and read a
// signer's nonce. A Service without one anchors nothing.
type Chain = chainop.Chain

// anchorStatus anchors the change of the bit of rec to value on the
// chain as a status.update signed with the custody key of the DID of the
// instance that issued rec, and waits for its block. It returns nil only
// once the operation is committed; Conflict (with the chain's reason) if
// the chain rejected it.
func (s *Service) anchorStatus(ctx context.Context, rec StatusRecord, value bool) error {
	if s.ops == nil {
		return nil
	}
	in, err := s.store.Issuer(ctx, rec.AgencyID, rec.IssuerID)
	if err != nil {
		return err
	}
	signer, kid, err := s.signer(ctx, in)
	if err != nil {
		return err
	}
	_, err = s.ops.Submit(ctx, chainop.Op{
		Key: chainop.Key{DID: in.DID, ID: kid, Signer: signer}, Kind: registry.KindStatusUpdate,
		Payload: registry.StatusUpdatePayload{List: s.listURL(rec.ListID), Index: rec.Index, Purpose: rec.Purpose, Value: value},
		What:    fmt.Sprintf("the status.update of %s index %d", s.listURL(rec.ListID), rec.Index),
	})
	return err
}

// setBit changes the bit of rec to value, anchoring the change on the
// chain first: the bit is set only once the chain has committed the
// status.update, so a rejected (or timed out) anchor leaves the list as
// it was. Should setting the bit then fail, the chain is ahead of the
// list until the same change is asked again, which anchors it anew. A
// bit that already has value changes nothing and anchors nothing.
func (s *Service) setBit(ctx context.Context, rec StatusRecord, value bool) error {
	cur, err := s.bit(ctx, rec)
	if err != nil {
		return err
	}
	if cur == value {
		return nil
	}
	if err := s.anchorStatus(ctx, rec, value); err != nil {
		return err
	}
	return s.lists.SetStatus(ctx, rec.ListID, rec.Index, value)
}
