package agency

import (
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/kms"
)

// checkMethodKey refuses key types a DID method cannot carry: a
// Bls12381G2 key signs only BBS+ signatures, so it can be a did:key but
// neither a did:jwk (no JWK is defined for it here) nor a did:urbis
// (whose chain operations are JWS signed by the DID's key).
func checkMethodKey(method string, t kms.KeyType) error {
	if t == kms.Bls12381G2 && method != MethodKey {
		return errkind.Field(errkind.Invalid, "keyType", "a Bls12381G2 key (BBS+) can back a did:key only, not a did:%s; use method key", method)
	}
	return nil
}
