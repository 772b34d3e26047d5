// Package did implements decentralized identifiers (W3C DID Core): their
// syntax, DID documents, the did:key, did:jwk and did:web methods, and a
// caching resolver that dispatches to registered methods. It knows nothing
// about HTTP servers or databases; other methods (did:urbis) plug in through
// the Method interface.
package did

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"

	"github.com/urbis-id/urbis/internal/errkind"
)

// DID is a parsed decentralized identifier: "did:" Method ":" ID.
type DID struct {
	Method string // the method name, e.g. "key"
	ID     string // the method-specific identifier, still percent-encoded
}

// String returns the DID in its textual form.
func (d DID) String() string { return "did:" + d.Method + ":" + d.ID }

// IsZero reports whether d is the zero DID.
func (d DID) IsZero() bool { return d.Method == "" && d.ID == "" }

// NewKey returns the did:key identifier of pub. It accepts ed25519.PublicKey,
// *ecdh.PublicKey on X25519, and *ecdsa.PublicKey on P-256, P-384 or
// secp256k1 (the EC points are encoded compressed, as the did:key
// specification requires).
func NewKey(pub crypto.PublicKey) (DID, error) {
	code, raw, err := keyBytes(pub)
	if err != nil {
		return DID{}, err
	}
	return DID{Method: MethodKey, ID: fingerprint(code, raw)}, nil
}

// NewJWK returns the did:jwk identifier of pub: the base64url encoding
// (without padding) of its public JWK serialised as JSON with members
// sorted by name. It accepts the key types of NewKey and *rsa.PublicKey.
func NewJWK(pub crypto.PublicKey) (DID, error) {
	switch pub.(type) {
	case ed25519.PublicKey, *ecdh.PublicKey, *ecdsa.PublicKey, *rsa.PublicKey:
	default:
		return DID{}, errkind.New(errkind.Unsupported, "did:jwk: unsupported public key type %T", pub)
	}
	b, err := publicJWK(pub)
	if err != nil {
		return DID{}, err
	}
	return DID{Method: MethodJWK, ID: base64.RawURLEncoding.EncodeToString(b)}, nil
}
