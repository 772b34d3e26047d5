package dataintegrity

import (
	"context"
	"crypto/ed25519"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

// DIDKeyResolver returns a KeyResolver that resolves a verification
// method's DID with r and returns its Ed25519 key, after checking that
// the DID document authorizes the method for rel (did.AssertionMethod
// for credentials, did.Authentication for presentations).
func DIDKeyResolver(r did.Resolver, rel did.Relationship) KeyResolver {
	return func(ctx context.Context, vm string) (ed25519.PublicKey, error) {
		pub, err := did.AuthorizedKey(ctx, r, vm, rel)
		if err != nil {
			return nil, err
		}
		k, ok := pub.(ed25519.PublicKey)
		if !ok {
			return nil, errkind.New(errkind.Unsupported, "%s is a %T key; these proofs need Ed25519", vm, pub)
		}
		return k, nil
	}
}
