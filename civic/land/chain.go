package land

import (
	"context"
	"crypto"
	"errors"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
	"github.com/urbis-id/urbis/vc/issuer"
)

// result is what commit does around the operation: the credential issued
// for it (revoked if the operation is rejected) and the one to revoke
// once it is committed.
type result struct {
	issued *issuer.Issued
	hash   string
	id     string
	revoke string
}

// attempts bounds how often an operation whose nonce another operation
// of the same DID took (signed outside this service's lock) is signed again.
const attempts = 3

// commit signs body as kind with signerDID's custody key, submits it and
// waits for its block, under the DID's signer lock; then revokes what
// the outcome makes void: r.revoke if committed, the credential issued
// for the operation if not.
func (s *Service) commit(ctx context.Context, agencyID, signerDID, kind string, body any, parcel string, r result) (Result, error) {
	st, err := s.submit(ctx, agencyID, signerDID, kind, body)
	if err == nil && st.Status != registry.StatusCommitted {
		err = errkind.New(errkind.Conflict, "the registry rejected the %s of parcel %s: %s", kind, parcel, st.Reason)
	}
	if err != nil {
		if r.issued != nil {
			// Detach from the caller: the void credential is revoked
			// even if the caller has gone.
			if rerr := s.cfg.Issuer.SetStatus(context.WithoutCancel(ctx), agencyID, r.id, "revoked"); rerr != nil {
				return Result{}, errors.Join(err, errkind.Wrap(errkind.Internal, rerr, "revoke the credential %s issued for the refused operation", r.id))
			}
		}
		return Result{}, err
	}
	out := Result{Issued: r.issued, Hash: r.hash, CredentialID: r.id, Operation: st}
	if r.revoke != "" {
		if rerr := s.cfg.Issuer.SetStatus(context.WithoutCancel(ctx), agencyID, r.revoke, "revoked"); rerr != nil {
			out.Warnings = append(out.Warnings, "the operation is committed, but revoking credential "+r.revoke+" failed: "+rerr.Error()+"; revoke it with POST /credentials/status")
		} else {
			out.Revoked = r.revoke
		}
	}
	if out.Parcel, err = s.Parcel(ctx, parcel); err != nil {
		return Result{}, err
	}
	return out, nil
}

// submit signs and submits body under the DID's signer lock and waits
// for its block.
func (s *Service) submit(ctx context.Context, agencyID, signerDID, kind string, body any) (registry.OpStatus, error) {
	kid, key, err := s.cfg.Signers.ChainSigner(ctx, agencyID, signerDID)
	if err != nil {
		return registry.OpStatus{}, fieldOf(err, signerField(kind))
	}
	defer s.cfg.Issuer.LockSigner(signerDID)()
	for attempt := 1; ; attempt++ {
		signed, err := s.sign(ctx, kid, signerDID, key, kind, body)
		if err != nil {
			return registry.OpStatus{}, err
		}
		st, err := s.cfg.Chain.Submit(ctx, signed.JWS)
		if err == nil {
			return s.cfg.Chain.Wait(ctx, st.Hash)
		}
		if !staleNonce(err) || attempt == attempts {
			return registry.OpStatus{}, err
		}
	}
}

// sign signs body as kind with the signer's next nonce.
func (s *Service) sign(ctx context.Context, kid, signerDID string, key crypto.Signer, kind string, body any) (registry.SignedOp, error) {
	nonce, err := s.cfg.Chain.Nonce(ctx, signerDID)
	if err != nil {
		return registry.SignedOp{}, err
	}
	op, err := registry.NewOperation(s.cfg.Chain.ChainID(), registry.Kind(kind), kid, nonce+1, body)
	if err != nil {
		return registry.SignedOp{}, err
	}
	return registry.Sign(op, key)
}

// dryRun applies body, signed by signerDID, to a view of current state
// that keeps no writes, and returns the chain's verdict: what the chain
// would refuse is refused before anything is issued.
func (s *Service) dryRun(ctx context.Context, agencyID, signerDID, kind string, body any) error {
	kid, key, err := s.cfg.Signers.ChainSigner(ctx, agencyID, signerDID)
	if err != nil {
		return fieldOf(err, signerField(kind))
	}
	signed, err := s.sign(ctx, kid, signerDID, key, kind, body)
	if err != nil {
		return err
	}
	h := registry.Header{Chain: s.cfg.Chain.ChainID(), Time: s.cfg.Clock().UTC()}
	_, err = s.machine.Apply(ctx, readOnly{s.cfg.State}, h, signed)
	return err
}

func signerField(kind string) string {
	if kind == KindEncumber || kind == KindRelease {
		return "lender"
	}
	return "registry"
}

// fieldOf names field in err when it names none.
func fieldOf(err error, field string) error {
	var e *errkind.Error
	if !errors.As(err, &e) || e.Field != "" || e.Kind == errkind.Internal {
		return err
	}
	c := *e
	c.Field = field
	return &c
}

// staleNonce reports whether err is the chain's refusal of a nonce that
// another operation of the signer has taken.
func staleNonce(err error) bool {
	var e *errkind.Error
	return errors.As(err, &e) && e.Kind == errkind.Conflict && e.Field == "nonce"
}

// readOnly is chain state whose writes go nowhere.
type readOnly struct{ registry.StateReader }

func (readOnly) PutDIDVersion(context.Context, registry.DIDVersion) error       { return nil }
func (readOnly) SetNonce(context.Context, string, uint64) error                 { return nil }
func (readOnly) PutAccreditation(context.Context, registry.Accreditation) error { return nil }
func (readOnly) AddAccreditationEvent(context.Context, registry.AccreditationEvent) error {
	return nil
}
func (readOnly) PutSchema(context.Context, registry.Schema) error             { return nil }
func (readOnly) PutAnchor(context.Context, registry.Anchor) error             { return nil }
func (readOnly) AddStatusUpdate(context.Context, registry.StatusUpdate) error { return nil }
func (readOnly) ProgramPut(context.Context, string, []byte) error             { return nil }
func (readOnly) ProgramDelete(context.Context, string) error                  { return nil }

var _ registry.StateTx = readOnly{}
