package did

import (
	"context"
	"crypto"
	"strings"

	"github.com/urbis-id/urbis/internal/errkind"
)

// AuthorizedKey resolves the DID of the verification method vm (a DID URL
// with a fragment) with r, as it is now, and returns the method's public
// key after checking that the DID is active and that its document
// authorizes vm for rel.
func AuthorizedKey(ctx context.Context, r Resolver, vm string, rel Relationship) (crypto.PublicKey, error) {
	id, _, ok := strings.Cut(vm, "#")
	if !ok || !strings.HasPrefix(id, "did:") {
		return nil, errkind.Field(errkind.Invalid, "verificationMethod", "%q is not a DID URL with a fragment", vm)
	}
	res, err := r.Resolve(ctx, id, ResolveOptions{})
	if err != nil {
		return nil, err
	}
	if res.Document == nil {
		return nil, errkind.New(errkind.NotFound, "DID %s resolved to no document", id)
	}
	if res.DocumentMetadata.Deactivated {
		return nil, errkind.New(errkind.Gone, "DID %s is deactivated", id)
	}
	if !res.Document.Authorizes(rel, vm) {
		return nil, errkind.New(errkind.Forbidden, "%s is not authorized for %s by its DID document", vm, rel)
	}
	m, ok := res.Document.VerificationMethodByID(vm)
	if !ok {
		return nil, errkind.New(errkind.NotFound, "DID document of %s has no verification method %s", id, vm)
	}
	return m.PublicKey()
}
