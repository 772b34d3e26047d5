package currency

import (
	"context"
	"errors"

	"github.com/urbis-id/urbis/internal/chainop"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// Operations signs and submits chain operations as agencies' DIDs, with
// their keys in custody (a chainop.Submitter does, checking each with
// the chain's state machine against current state so that a refusal
// keeps its kind: Forbidden, Conflict, NotFound).
type Operations interface {
	Key(ctx context.Context, agencyID, did string) (chainop.Key, error)
	Submit(ctx context.Context, op chainop.Op) (registry.OpStatus, error)
}

// Custody submits the program operations of agencies' DIDs (a
// treasury's mint, a grid operator's meters). A nil Custody submits
// nothing.
type Custody struct {
	Ops Operations
}

// Submit signs kind with payload as signerDID, one of agencyID's active
// DIDs, and returns its committed status. Errors: NotFound (field /did)
// if the DID is not the agency's, Conflict (field /did) if it is not
// active; the chain's refusal, with its kind.
func (k *Custody) Submit(ctx context.Context, agencyID, signerDID string, kind registry.Kind, payload any) (registry.OpStatus, error) {
	if k == nil || k.Ops == nil {
		return registry.OpStatus{}, errkind.New(errkind.Unsupported, "this server runs no registry chain")
	}
	if signerDID == "" {
		return registry.OpStatus{}, errkind.Field(errkind.Invalid, "/did", "is required: the agency's DID that signs the operation")
	}
	key, err := k.Ops.Key(ctx, agencyID, signerDID)
	if err != nil {
		return registry.OpStatus{}, underDID(err, signerDID)
	}
	return k.Ops.Submit(ctx, chainop.Op{Key: key, Kind: kind, Payload: payload})
}

// underDID names the field /did in the error of finding the DID's key.
func underDID(err error, signerDID string) error {
	var e *errkind.Error
	switch {
	case errors.Is(err, errkind.NotFound):
		return errkind.Field(errkind.NotFound, "/did", "%s is not a DID of this agency", signerDID)
	case errors.As(err, &e) && e.Kind == errkind.Conflict && e.Field == "":
		c := *e
		c.Field = "/did"
		return &c
	}
	return err
}
