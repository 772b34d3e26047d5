package kms

import (
	"crypto"
	"fmt"
	"io"
	"log/slog"
)

// Signer signs with a key in custody. It implements crypto.Signer, so it
// works with crypto/x509, jwx's jws.WithKey and the like. It holds the
// private key, which it never prints or marshals: fmt, JSON and slog
// show only the key id and algorithm.
type Signer struct {
	id       string
	agencyID string
	typ      KeyType
	pub      crypto.PublicKey
	// sign is the private key's Sign method: a closure, which fmt and
	// reflection print as an address, never as key bytes.
	sign func(io.Reader, []byte, crypto.SignerOpts) ([]byte, error)
}

var _ crypto.Signer = (*Signer)(nil)

// Public returns the public key: ed25519.PublicKey, *ecdsa.PublicKey or
// *bls.PublicKey.
func (s *Signer) Public() crypto.PublicKey { return s.pub }

// Sign signs digest as crypto.Signer does: for Ed25519, digest is the
// whole message and opts is crypto.Hash(0); for P-256, digest is a
// SHA-256 hash and the signature is ASN.1 DER; for Bls12381G2, digest is
// the BBS+ messages, one per line, and the signature is BBS+.
func (s *Signer) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.sign(rand, digest, opts)
}

// KeyID returns the id of the key in custody.
func (s *Signer) KeyID() string { return s.id }

// AgencyID returns the id of the agency the key belongs to.
func (s *Signer) AgencyID() string { return s.agencyID }

// Type returns the key type.
func (s *Signer) Type() KeyType { return s.typ }

// Algorithm returns the JOSE algorithm: "EdDSA" or "ES256".
func (s *Signer) Algorithm() string { return s.typ.Algorithm() }

func (s Signer) redacted() string {
	return "kms.Signer(" + s.id + " " + s.typ.Algorithm() + ", private key redacted)"
}

// String implements fmt.Stringer; it never shows the private key.
func (s Signer) String() string { return s.redacted() }

// GoString implements fmt.GoStringer; it never shows the private key.
func (s Signer) GoString() string { return s.redacted() }

// Format implements fmt.Formatter so that no verb shows the private key.
func (s Signer) Format(f fmt.State, _ rune) { io.WriteString(f, s.redacted()) }

// MarshalJSON implements json.Marshaler; it never shows the private key.
func (s Signer) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf("%q", s.redacted())), nil
}

// LogValue implements slog.LogValuer; it never shows the private key.
func (s Signer) LogValue() slog.Value { return slog.StringValue(s.redacted()) }
