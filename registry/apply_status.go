package registry

import (
	"context"
	"errors"
	"net/url"

	"github.com/urbis-id/urbis/internal/errkind"
)

// Bounds of a status.update payload.
const (
	maxListURLLen = 2048
	maxStatusIdx  = 1<<31 - 1
)

// statusUpdate applies status.update: an issuer's assertion or
// capabilityInvocation key sets one bit of a status list. The machine
// cannot know which lists a DID publishes, so the first update of a list
// binds it to its signer, and an update of the list by any other DID is
// refused.
func (c *call) statusUpdate(ctx context.Context) error {
	body := c.p.body.(*StatusUpdatePayload)
	if len(body.List) == 0 || len(body.List) > maxListURLLen {
		return errkind.Field(errkind.Invalid, "list", "list must be a URL of 1 to %d bytes", maxListURLLen)
	}
	if u, err := url.Parse(body.List); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errkind.Field(errkind.Invalid, "list", "list %q is not an http or https URL", body.List)
	}
	if body.Index < 0 || body.Index > maxStatusIdx {
		return errkind.Field(errkind.Invalid, "index", "index %d is outside 0 to %d", body.Index, maxStatusIdx)
	}
	if body.Purpose != PurposeRevocation && body.Purpose != PurposeSuspension {
		return errkind.Field(errkind.Invalid, "purpose", "purpose %q: want %q or %q", body.Purpose, PurposeRevocation, PurposeSuspension)
	}
	if err := c.authorise(ctx, schemaRels...); err != nil {
		return err
	}
	if err := c.checkNonce(ctx); err != nil {
		return err
	}
	owner, err := c.tx.StatusListIssuer(ctx, body.List)
	switch {
	case err == nil && owner != c.p.signerDID:
		return errkind.New(errkind.Forbidden, "status list %s is bound to %s; %s may not update it", body.List, owner, c.p.signerDID)
	case err != nil && !errors.Is(err, errkind.NotFound):
		return err
	}
	u := StatusUpdate{List: body.List, Index: body.Index, Purpose: body.Purpose, Value: body.Value,
		Issuer: c.p.signerDID, Height: c.h.Height, Time: c.t, OpHash: c.p.Hash}
	if err := c.tx.AddStatusUpdate(ctx, u); err != nil {
		return err
	}
	c.eff.Status = &u
	return nil
}
