package kms

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/binary"

	"github.com/urbis-id/urbis/internal/errkind"
)

// envelopeV1 is the first byte of every sealed blob: AES-256-GCM with a
// random 96-bit nonce, nonce || ciphertext || tag after it.
const envelopeV1 byte = 1

// newAEAD returns AES-256-GCM under key that picks a random nonce for
// every Seal and prepends it to the ciphertext.
func newAEAD(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic("kms: " + err.Error()) // key is always 32 bytes
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		panic("kms: " + err.Error())
	}
	return aead
}

// additionalData binds a sealed blob to its purpose and to the key's id,
// agency and type, length-prefixed so fields cannot run into each other.
func additionalData(purpose, id, agencyID string, t KeyType) []byte {
	var b []byte
	for _, s := range []string{"urbis/kms/v1", purpose, id, agencyID, string(t)} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

// sealer seals and opens blobs with AES-256-GCM under a key that only
// its closures hold: fmt and reflection print closures as addresses, so
// a sealer, or a struct holding one, never prints key material (a
// cipher.AEAD would print its expanded key schedule).
type sealer struct {
	seal func(plaintext, ad []byte) []byte
	open func(sealed, ad []byte) ([]byte, error)
}

func newSealer(key []byte) sealer {
	aead := newAEAD(key)
	return sealer{
		seal: func(plaintext, ad []byte) []byte {
			return aead.Seal([]byte{envelopeV1}, nil, plaintext, ad)
		},
		open: func(sealed, ad []byte) ([]byte, error) {
			if len(sealed) < 1 || sealed[0] != envelopeV1 {
				return nil, errkind.New(errkind.Internal, "unknown envelope version")
			}
			return aead.Open(nil, nil, sealed[1:], ad)
		},
	}
}

// generate returns a new private key of type t.
func generate(t KeyType) (crypto.Signer, error) {
	switch t {
	case Ed25519:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	case P256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case Bls12381G2:
		return generateBLS()
	}
	return nil, errkind.Field(errkind.Invalid, "keyType", "unknown key type %q; allowed values are %s", t, allowedKeyTypes)
}

// sealKey builds the record of priv under the master key wrap.
func sealKey(wrap sealer, id, agencyID string, t KeyType, priv crypto.Signer) (Record, error) {
	pub, der, err := marshalKey(priv)
	if err != nil {
		return Record{}, err
	}
	defer clear(der)
	dek := make([]byte, 32)
	rand.Read(dek) // never fails
	defer clear(dek)
	return Record{
		ID:         id,
		AgencyID:   agencyID,
		Type:       t,
		Public:     pub,
		WrappedDEK: wrap.seal(dek, additionalData("dek", id, agencyID, t)),
		Sealed:     newSealer(dek).seal(der, additionalData("private-key", id, agencyID, t)),
		Status:     StatusActive,
	}, nil
}

// marshalKey encodes priv's public key (PKIX DER) and private key
// (PKCS #8); a BLS12-381 G2 key, which has neither, as the compressed
// point and the raw scalar.
func marshalKey(priv crypto.Signer) (pub, der []byte, err error) {
	if k, ok := priv.(*blsPrivateKey); ok {
		return k.pub.Bytes(), k.marshal(), nil
	}
	if pub, err = x509.MarshalPKIXPublicKey(priv.Public()); err != nil {
		return nil, nil, errkind.Wrap(errkind.Internal, err, "kms: encode public key")
	}
	if der, err = x509.MarshalPKCS8PrivateKey(priv); err != nil {
		return nil, nil, errkind.Wrap(errkind.Internal, err, "kms: encode private key")
	}
	return pub, der, nil
}

// parsePrivate decodes what marshalKey encoded for a key of type t.
func parsePrivate(t KeyType, der []byte) (any, error) {
	if t == Bls12381G2 {
		return parseBLSPrivate(der)
	}
	return x509.ParsePKCS8PrivateKey(der)
}

// unsealKey opens the private key of r under the master key wrap and
// checks that it matches r's type and public key.
func unsealKey(wrap sealer, r Record) (crypto.Signer, error) {
	dek, err := wrap.open(r.WrappedDEK, additionalData("dek", r.ID, r.AgencyID, r.Type))
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err,
			"kms: cannot unwrap the data key of key %s (wrong master key, or the record was altered)", r.ID)
	}
	defer clear(dek)
	der, err := newSealer(dek).open(r.Sealed, additionalData("private-key", r.ID, r.AgencyID, r.Type))
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "kms: cannot unseal the private key of key %s (the record was altered)", r.ID)
	}
	defer clear(der)
	k, err := parsePrivate(r.Type, der)
	if err != nil {
		return nil, errkind.New(errkind.Internal, "kms: key %s: sealed private key does not parse", r.ID)
	}
	priv, ok := k.(crypto.Signer)
	if !ok || !matchesType(r.Type, priv.Public()) {
		return nil, errkind.New(errkind.Internal, "kms: key %s: sealed private key is not of type %s", r.ID, r.Type)
	}
	pub, err := parsePublic(r.Type, r.Public)
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "kms: key %s", r.ID)
	}
	if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(priv.Public()) {
		return nil, errkind.New(errkind.Internal, "kms: key %s: private key does not match the stored public key", r.ID)
	}
	return priv, nil
}
