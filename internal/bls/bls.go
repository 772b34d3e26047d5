// Package bls holds the BLS12-381 G2 public key type that key custody
// (kms), DIDs (did) and the BBS+ proofs (vc/bbs, verifiers) share: the
// key of BbsBlsSignature2020 and BbsBlsSignatureProof2020, a point of G2
// in its 96-byte compressed form (Bls12381G2Key2020, multicodec 0xeb).
// It is a leaf: it imports only aries-framework-go's BBS+ primitive,
// which checks that the bytes are a point of the curve.
package bls

import (
	"crypto"
	"crypto/subtle"
	"encoding/hex"

	"github.com/hyperledger/aries-framework-go/pkg/crypto/primitive/bbs12381g2pub"

	"github.com/urbis-id/urbis/internal/errkind"
)

// PublicKeySize is the length of a compressed G2 point.
const PublicKeySize = 96

// PublicKey is a BLS12-381 G2 public key. It compares with Equal, like
// the standard library's public keys.
type PublicKey struct {
	b [PublicKeySize]byte
}

// ParsePublicKey parses a compressed G2 point, checking that it is on
// the curve. Errors are of kind Invalid.
func ParsePublicKey(b []byte) (*PublicKey, error) {
	if len(b) != PublicKeySize {
		return nil, errkind.New(errkind.Invalid, "a BLS12-381 G2 public key has %d bytes, not %d", PublicKeySize, len(b))
	}
	if _, err := bbs12381g2pub.UnmarshalPublicKey(b); err != nil {
		return nil, errkind.New(errkind.Invalid, "%x is not a BLS12-381 G2 point: %v", b, err)
	}
	k := &PublicKey{}
	copy(k.b[:], b)
	return k, nil
}

// Bytes returns the compressed point.
func (k *PublicKey) Bytes() []byte { return append([]byte(nil), k.b[:]...) }

// Equal reports whether x is the same key.
func (k *PublicKey) Equal(x crypto.PublicKey) bool {
	o, ok := x.(*PublicKey)
	return ok && o != nil && k != nil && subtle.ConstantTimeCompare(k.b[:], o.b[:]) == 1
}

// String returns the key in hex.
func (k *PublicKey) String() string { return "BLS12-381 G2 " + hex.EncodeToString(k.b[:]) }
