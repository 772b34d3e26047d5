// Package edsig verifies Ed25519 signatures with exactly the rules of the
// standard library's crypto/ed25519 (RFC 8032, cofactorless, canonical S,
// non-canonical A accepted), computed by curve25519-voi, which does it in
// about 60% of the time. The registry's state machine and the credential
// verifier use it on their hot paths: a verdict must never depend on which
// node or binary computed it, hence the standard library's rules exactly.
package edsig

import (
	"crypto/ed25519"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// stdlib selects crypto/ed25519's verification rules.
var stdlib = &voi.Options{Verify: voi.VerifyOptionsStdLib}

// Verify reports whether sig is pub's signature of msg, as
// ed25519.Verify does: a key or signature of the wrong length does not
// verify.
func Verify(pub ed25519.PublicKey, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	return voi.VerifyWithOptions(voi.PublicKey(pub), msg, sig, stdlib)
}
