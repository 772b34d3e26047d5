package dataintegrity

import (
	"context"
	"crypto/ed25519"
	"strings"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

// DIDKeyResolver returns a KeyResolver that resolves a verification
// method's DID with r and returns its Ed25519 key, after checking that
// the DID document authorizes the method for rel (did.AssertionMethod
// for credentials, did.Authentication for presentations).
func DIDKeyResolver(r did.Resolver, rel did.Relationship) KeyResolver {
	return func(ctx context.Context, vm string) (ed25519.PublicKey, error) {
		id, _, ok := strings.Cut(vm, "#")
		if !ok || !strings.HasPrefix(id, "did:") {
			return nil, errkind.Field(errkind.Invalid, "verificationMethod", "%q is not a DID URL with a fragment", vm)
		}
		res, err := r.Resolve(ctx, id, did.ResolveOptions{})
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
		pub, err := m.PublicKey()
		if err != nil {
			return nil, err
		}
		ed, ok := pub.(ed25519.PublicKey)
		if !ok {
			return nil, errkind.New(errkind.Unsupported, "%s is a %T key; these proofs need Ed25519", vm, pub)
		}
		return ed, nil
	}
}
