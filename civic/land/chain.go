package land

import (
	"context"
	"errors"

	"github.com/urbis-id/urbis/internal/chainop"
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

// commit signs body as kind with signerDID's custody key, submits it and
// waits for its block, under the DID's signer lock; then revokes what
// the outcome makes void: r.revoke if committed, the credential issued
// for the operation if not.
func (s *Service) commit(ctx context.Context, agencyID, signerDID, kind string, body any, parcel string, r result) (Result, error) {
	st, err := s.submit(ctx, agencyID, signerDID, kind, body, parcel)
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

// submit signs body as kind with signerDID's key in custody, under the
// DID's signer lock, submits it and waits for its block; a rejection is
// a Conflict naming the parcel.
func (s *Service) submit(ctx context.Context, agencyID, signerDID, kind string, body any, parcel string) (registry.OpStatus, error) {
	op, err := s.op(ctx, agencyID, signerDID, kind, body)
	if err != nil {
		return registry.OpStatus{}, err
	}
	op.What = "the " + kind + " of parcel " + parcel
	return s.ops.Submit(ctx, op)
}

// dryRun checks body, signed by signerDID, against current state: what
// the chain would refuse is refused before anything is issued.
func (s *Service) dryRun(ctx context.Context, agencyID, signerDID, kind string, body any) error {
	op, err := s.op(ctx, agencyID, signerDID, kind, body)
	if err != nil {
		return err
	}
	return s.ops.DryRun(ctx, op)
}

// op is body as an operation of kind signed by signerDID's key in custody.
func (s *Service) op(ctx context.Context, agencyID, signerDID, kind string, body any) (chainop.Op, error) {
	key, err := s.ops.Key(ctx, agencyID, signerDID)
	if err != nil {
		return chainop.Op{}, fieldOf(err, signerField(kind))
	}
	return chainop.Op{Key: key, Kind: registry.Kind(kind), Payload: body}, nil
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
