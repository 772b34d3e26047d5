// Package kms keeps the private keys of Urbis agencies in custody.
//
// Every private key is sealed with envelope encryption: a fresh random
// 32-byte data key (DEK) seals the key with AES-256-GCM, bound by its
// additional data to the key id, the agency id and the key type, and the
// DEK is itself sealed ("wrapped") under the master key with AES-256-GCM.
// Only the sealed forms reach the Store. Private keys leave the package
// only inside a Signer, which signs but never prints or marshals them.
package kms

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base32"
	"strings"
	"time"

	"github.com/urbis-id/urbis/internal/bls"
	"github.com/urbis-id/urbis/internal/errkind"
)

// KeyType is the algorithm family of a key.
type KeyType string

// The key types Urbis keeps.
const (
	Ed25519 KeyType = "Ed25519"
	P256    KeyType = "P-256"
	// Bls12381G2 keys sign BBS+ signatures (BbsBlsSignature2020), not
	// JWS; see bls.go.
	Bls12381G2 KeyType = "Bls12381G2"
)

// KeyTypes lists the supported key types.
var KeyTypes = []KeyType{Ed25519, P256, Bls12381G2}

// ParseKeyType returns the KeyType named s ("Ed25519", "P-256" or
// "Bls12381G2", case insensitive), or an Invalid error about the field "keyType".
func ParseKeyType(s string) (KeyType, error) {
	for _, t := range KeyTypes {
		if strings.EqualFold(s, string(t)) {
			return t, nil
		}
	}
	return "", errkind.Field(errkind.Invalid, "keyType", "unknown key type %q; allowed values are %s", s, allowedKeyTypes)
}

// Valid reports whether t is a supported key type.
func (t KeyType) Valid() bool { return t == Ed25519 || t == P256 || t == Bls12381G2 }

// Algorithm returns the JOSE algorithm name for signatures with keys of
// type t ("EdDSA" or "ES256"), or "" for an unknown type and for
// Bls12381G2, which makes no JWS.
func (t KeyType) Algorithm() string {
	switch t {
	case Ed25519:
		return "EdDSA"
	case P256:
		return "ES256"
	}
	return ""
}

// AlgorithmOf returns the JWS algorithm of signatures by the public key
// pub: "EdDSA" for Ed25519, "ES256" for P-256; Unsupported otherwise.
func AlgorithmOf(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return Ed25519.Algorithm(), nil
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return P256.Algorithm(), nil
		}
		return "", errkind.New(errkind.Unsupported, "ECDSA curve %s is not supported (want P-256); use Ed25519 or P-256 keys", k.Curve.Params().Name)
	}
	return "", errkind.New(errkind.Unsupported, "signing key type %T is not supported; use Ed25519 or P-256 keys", pub)
}

// Key statuses.
const (
	StatusActive  = "active"  // the key signs
	StatusRotated = "rotated" // replaced by another key; verifies old signatures only
)

// Record is a key as the Store keeps it: the public key in the clear, the
// private key sealed.
type Record struct {
	ID         string
	AgencyID   string
	Type       KeyType
	Public     []byte // PKIX DER; the compressed G2 point for Bls12381G2
	WrappedDEK []byte // the data key, sealed under the master key
	Sealed     []byte // the PKCS #8 private key (Bls12381G2: the 32-byte scalar), sealed under the data key
	CreatedAt  time.Time
	Status     string
	ReplacedBy string // id of the key that replaced this one, if rotated
}

// Store keeps key records. Implementations scope every read and write to
// the agency: a key of another agency is NotFound.
type Store interface {
	// CreateKey stores a new record; Conflict if its id exists.
	CreateKey(ctx context.Context, r Record) error
	// Key returns the record id of agencyID; NotFound if it is absent
	// or belongs to another agency.
	Key(ctx context.Context, agencyID, id string) (Record, error)
	// ListKeys returns the records of agencyID, oldest first.
	ListKeys(ctx context.Context, agencyID string) ([]Record, error)
	// RotateKey stores next and marks the active key oldID of agencyID
	// rotated and replaced by next.ID, in one transaction: NotFound if
	// oldID is not agencyID's, Conflict if it is not active.
	RotateKey(ctx context.Context, agencyID, oldID string, next Record) error
}

// Key is the public view of a key in custody.
type Key struct {
	ID         string
	AgencyID   string
	Type       KeyType
	Public     crypto.PublicKey // ed25519.PublicKey, *ecdsa.PublicKey or *bls.PublicKey
	CreatedAt  time.Time
	Status     string
	ReplacedBy string
}

// Algorithm returns the JOSE algorithm of the key ("EdDSA" or "ES256").
func (k Key) Algorithm() string { return k.Type.Algorithm() }

// PublicKey returns the public view of r, parsing its PKIX public key.
func (r Record) PublicKey() (Key, error) {
	pub, err := parsePublic(r.Type, r.Public)
	if err != nil {
		return Key{}, errkind.Wrap(errkind.Internal, err, "kms: key %s", r.ID)
	}
	return Key{
		ID:         r.ID,
		AgencyID:   r.AgencyID,
		Type:       r.Type,
		Public:     pub,
		CreatedAt:  r.CreatedAt,
		Status:     r.Status,
		ReplacedBy: r.ReplacedBy,
	}, nil
}

// parsePublic parses PKIX DER and checks that it holds a key of type t.
func parsePublic(t KeyType, der []byte) (crypto.PublicKey, error) {
	if t == Bls12381G2 {
		return parseBLSPublic(der)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "parse public key")
	}
	if !matchesType(t, pub) {
		return nil, errkind.New(errkind.Internal, "public key %T is not of type %s", pub, t)
	}
	return pub, nil
}

func matchesType(t KeyType, pub crypto.PublicKey) bool {
	switch p := pub.(type) {
	case ed25519.PublicKey:
		return t == Ed25519 && len(p) == ed25519.PublicKeySize
	case *ecdsa.PublicKey:
		return t == P256 && p.Curve == elliptic.P256()
	case *bls.PublicKey:
		return t == Bls12381G2 && p != nil
	}
	return false
}

// newID returns prefix followed by 16 random bytes (128 bits) in lowercase
// base32 without padding.
func newID(prefix string) string {
	b := make([]byte, 16)
	rand.Read(b) // never fails; crashes the program if the OS has no randomness
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}
