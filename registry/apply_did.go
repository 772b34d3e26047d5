package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

// didCreate applies did.create: the signer must be a capabilityInvocation
// key of the new document itself, and the DID must not exist.
func (c *call) didCreate(ctx context.Context) error {
	body := c.p.body.(*DIDCreate)
	if err := validateSpec(body.Document, "/document"); err != nil {
		return err
	}
	id, err := deriveDID(*body)
	if err != nil {
		return err
	}
	if c.p.signerDID != id {
		return errkind.Field(errkind.Forbidden, "signer", "did.create of %s must be signed by a capabilityInvocation key of the new document, as %s#<fragment>; the signer is %s", id, id, c.p.Op.Signer)
	}
	_, err = c.tx.LatestDIDVersion(ctx, id)
	switch {
	case err == nil:
		return errkind.New(errkind.Conflict, "DID %s already exists", id)
	case !errors.Is(err, errkind.NotFound):
		return err
	}
	frag := c.p.Op.Signer[len(id):]
	pub, ok := specKey(body.Document, frag, did.CapabilityInvocation)
	if !ok {
		return notInRelationship(c.p.Op.Signer, []did.Relationship{did.CapabilityInvocation}, 0)
	}
	if err := c.m.checkSig(c.p, pub); err != nil {
		return err
	}
	if err := c.checkNonce(ctx); err != nil {
		return err
	}
	return c.putVersion(ctx, DIDVersion{DID: id, Version: 1, Document: body.Document})
}

// didUpdate applies did.update: a capabilityInvocation key of the
// current version replaces the whole document, from the current version.
func (c *call) didUpdate(ctx context.Context) error {
	body := c.p.body.(*DIDUpdate)
	if err := validateSpec(body.Document, "/document"); err != nil {
		return err
	}
	cur, err := c.current(ctx, body.DID, body.PreviousVersion)
	if err != nil {
		return err
	}
	next := DIDVersion{DID: cur.DID, Version: cur.Version + 1, Document: body.Document}
	if next.Compromised, err = c.compromise(cur, body); err != nil {
		return err
	}
	return c.putVersion(ctx, next)
}

// compromise returns the compromised keys of the version a did.update
// makes: those of cur and those the update declares, each of which must
// be a verification method of cur. No compromised key, by fragment or
// by key, may be in the new document.
func (c *call) compromise(cur DIDVersion, body *DIDUpdate) ([]CompromisedKey, error) {
	out := slices.Clone(cur.Compromised)
	for i, frag := range body.Compromised {
		f := fmt.Sprintf("/compromised/%d", i)
		idx := slices.IndexFunc(cur.Document.VerificationMethod, func(m MethodSpec) bool { return m.ID == frag })
		if idx < 0 {
			return nil, errkind.Field(errkind.Invalid, f, "%q names no verification method of version %d of %s; name the fragment of one, such as %q",
				frag, cur.Version, cur.DID, cur.Document.VerificationMethod[0].ID)
		}
		if slices.Contains(body.Compromised[:i], frag) {
			return nil, errkind.Field(errkind.Invalid, f, "%q is listed twice", frag)
		}
		m := cur.Document.VerificationMethod[idx]
		out = append(out, CompromisedKey{ID: m.ID, PublicKeyMultibase: m.PublicKeyMultibase, Version: cur.Version + 1, Time: c.t})
	}
	for j, m := range body.Document.VerificationMethod {
		for _, k := range out {
			if m.ID == k.ID || m.PublicKeyMultibase == k.PublicKeyMultibase {
				return nil, errkind.Field(errkind.Invalid, fmt.Sprintf("/document/verificationMethod/%d", j),
					"%s (%s) was declared compromised by version %d of %s; a compromised key never returns to the document", m.ID, k.ID, k.Version, cur.DID)
			}
		}
	}
	return out, nil
}

// didDeactivate applies did.deactivate: like did.update, with a final
// version marked deactivated that keeps the document.
func (c *call) didDeactivate(ctx context.Context) error {
	body := c.p.body.(*DIDDeactivate)
	cur, err := c.current(ctx, body.DID, body.PreviousVersion)
	if err != nil {
		return err
	}
	return c.putVersion(ctx, DIDVersion{DID: cur.DID, Version: cur.Version + 1, Document: cur.Document, Deactivated: true, Compromised: cur.Compromised})
}

// current returns the current version of the did:urbis DID id for a
// change from version prev signed by one of its capabilityInvocation
// keys, after checking the signature and the nonce.
func (c *call) current(ctx context.Context, id string, prev uint64) (DIDVersion, error) {
	if !strings.HasPrefix(id, "did:"+MethodURBIS+":") {
		return DIDVersion{}, errkind.Field(errkind.Invalid, "did", "%q is not a did:urbis DID; only did:urbis DIDs change on this chain", id)
	}
	if c.p.signerDID != id {
		return DIDVersion{}, errkind.Field(errkind.Forbidden, "signer", "%s of %s must be signed by a capabilityInvocation key of %s; the signer is %s", c.p.Op.Kind, id, id, c.p.Op.Signer)
	}
	cur, err := c.tx.LatestDIDVersion(ctx, id)
	if errors.Is(err, errkind.NotFound) {
		return DIDVersion{}, errkind.Field(errkind.NotFound, "did", "DID %s does not exist on this chain", id)
	}
	if err != nil {
		return DIDVersion{}, err
	}
	if cur.Deactivated {
		return DIDVersion{}, errkind.Field(errkind.Conflict, "did", "DID %s is deactivated (version %d); a deactivated DID never changes again", id, cur.Version)
	}
	if prev != cur.Version {
		return DIDVersion{}, errkind.Field(errkind.Conflict, "previousVersion", "stale version: the DID is at version %d (the operation names %d); resolve it again and retry", cur.Version, prev)
	}
	frag := c.p.Op.Signer[len(id):]
	pub, ok := specKey(cur.Document, frag, did.CapabilityInvocation)
	if !ok {
		return DIDVersion{}, notInRelationship(c.p.Op.Signer, []did.Relationship{did.CapabilityInvocation}, cur.Version)
	}
	if err := c.m.checkSig(c.p, pub); err != nil {
		return DIDVersion{}, err
	}
	if err := c.checkNonce(ctx); err != nil {
		return DIDVersion{}, err
	}
	return cur, nil
}

func (c *call) putVersion(ctx context.Context, v DIDVersion) error {
	v.Height, v.Time, v.OpHash = c.h.Height, c.t, c.p.Hash
	if err := c.tx.PutDIDVersion(ctx, v); err != nil {
		return err
	}
	c.eff.DIDVersion = &v
	return nil
}
