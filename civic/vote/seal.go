package vote

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"

	"github.com/urbis-id/urbis/internal/errkind"
)

// An election's RSA private key is kept off chain, sealed (AES-256-GCM)
// under a key derived from the authority's custody key: the Ed25519
// signature (deterministic) of a fixed message naming the election,
// through HKDF-SHA256. Whoever reads the sealed key without the
// authority's key in custody learns nothing.

const sealVersion = 1

func sealingKey(custody crypto.Signer, election string) (cipher.AEAD, error) {
	if _, ok := custody.Public().(ed25519.PublicKey); !ok {
		return nil, errkind.Field(errkind.Unsupported, "did", "the election authority's DID must have an Ed25519 key in custody (its key seals the election's RSA key); create one with keyType Ed25519")
	}
	sig, err := custody.Sign(nil, []byte("urbis/vote/election-key/v1\n"+election), crypto.Hash(0))
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "derive the sealing key of %s", election)
	}
	k, err := hkdf.Key(sha256.New, sig, nil, "urbis vote election key seal", 32)
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "derive the sealing key of %s", election)
	}
	block, _ := aes.NewCipher(k)
	clear(k)
	return cipher.NewGCM(block)
}

// sealKey seals priv for election under the custody key.
func sealKey(custody crypto.Signer, election string, priv *rsa.PrivateKey) ([]byte, error) {
	aead, err := sealingKey(custody, election)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "encode the key of %s", election)
	}
	defer clear(der)
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	out := append([]byte{sealVersion}, nonce...)
	return aead.Seal(out, nonce, der, []byte(election)), nil
}

// openKey opens what sealKey sealed.
func openKey(custody crypto.Signer, election string, sealed []byte) (*rsa.PrivateKey, error) {
	aead, err := sealingKey(custody, election)
	if err != nil {
		return nil, err
	}
	n := aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != sealVersion {
		return nil, errkind.New(errkind.Internal, "the sealed key of %s has an unknown format", election)
	}
	der, err := aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(election))
	if err != nil {
		return nil, errkind.New(errkind.Internal, "the sealed key of %s does not open with its authority's key (altered, or another authority's)", election)
	}
	defer clear(der)
	k, err := x509.ParsePKCS8PrivateKey(der)
	priv, ok := k.(*rsa.PrivateKey)
	if err != nil || !ok {
		return nil, errkind.New(errkind.Internal, "the sealed key of %s is no RSA key", election)
	}
	return priv, nil
}
