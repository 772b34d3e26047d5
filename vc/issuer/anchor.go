package issuer

import (
	"context"
	"sync"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// Chain is what the service needs of the registry chain to anchor status
// changes: submit a signed operation, wait for its block, and read a
// signer's nonce. A Service without one anchors nothing.
type Chain interface {
	ChainID() string
	Submit(ctx context.Context, compact string) (registry.OpStatus, error)
	Wait(ctx context.Context, hash string) (registry.OpStatus, error)
	Nonce(ctx context.Context, signerDID string) (uint64, error)
}

// signerLocks serialises the chain operations of each DID, so that two
// status changes by the same issuer do not take the same nonce.
type signerLocks struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

func (l *signerLocks) lock(did string) func() {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[string]*sync.Mutex{}
	}
	m, ok := l.locks[did]
	if !ok {
		m = &sync.Mutex{}
		l.locks[did] = m
	}
	l.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// anchorStatus anchors the change of the bit of rec to value on the
// chain as a status.update signed with the custody key of the DID of the
// instance that issued rec, and waits for its block. It returns nil only
// once the operation is committed; Conflict (with the chain's reason) if
// the chain rejected it.
func (s *Service) anchorStatus(ctx context.Context, rec StatusRecord, value bool) error {
	if s.chain == nil {
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
	defer s.chainLocks.lock(in.DID)()
	nonce, err := s.chain.Nonce(ctx, in.DID)
	if err != nil {
		return err
	}
	op, err := registry.NewOperation(s.chain.ChainID(), registry.KindStatusUpdate, kid, nonce+1, registry.StatusUpdatePayload{
		List: s.listURL(rec.ListID), Index: rec.Index, Purpose: rec.Purpose, Value: value,
	})
	if err != nil {
		return err
	}
	signed, err := registry.Sign(op, signer)
	if err != nil {
		return err
	}
	st, err := s.chain.Submit(ctx, signed.JWS)
	if err != nil {
		return err
	}
	if st, err = s.chain.Wait(ctx, st.Hash); err != nil {
		return err
	}
	if st.Status != registry.StatusCommitted {
		return errkind.New(errkind.Conflict, "the registry rejected the status.update of %s index %d: %s", s.listURL(rec.ListID), rec.Index, st.Reason)
	}
	return nil
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
