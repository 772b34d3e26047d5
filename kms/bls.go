package kms

import (
	"crypto"
	"crypto/sha256"
	"io"
	"strings"

	"github.com/hyperledger/aries-framework-go/pkg/crypto/primitive/bbs12381g2pub"

	"github.com/urbis-id/urbis/internal/bls"
	"github.com/urbis-id/urbis/internal/errkind"
)

// allowedKeyTypes names the key types in error messages.
const allowedKeyTypes = "Ed25519, P-256 and Bls12381G2"

// blsPrivateKey is a BLS12-381 key whose public key is in G2: it signs
// BBS+ signatures over several messages (aries-framework-go's
// bbs12381g2pub). It implements crypto.Signer so that custody treats it
// like the other keys: Sign takes the messages, one per line, as aries'
// BbsBlsSignature2020 suite hands them to its signer (the N-Quads of the
// canonical proof options and document); blank lines are skipped. It
// never leaves this package: a Signer holds only its Sign method.
type blsPrivateKey struct {
	scalar []byte // 32 bytes, big endian
	pub    *bls.PublicKey
}

var _ crypto.Signer = (*blsPrivateKey)(nil)

func (k *blsPrivateKey) Public() crypto.PublicKey { return k.pub }

// Sign returns the BBS+ signature of the messages in msgs. opts is
// ignored: BBS+ hashes each message itself.
func (k *blsPrivateKey) Sign(_ io.Reader, msgs []byte, _ crypto.SignerOpts) ([]byte, error) {
	var messages [][]byte
	for _, l := range strings.Split(string(msgs), "\n") {
		if strings.TrimSpace(l) != "" {
			messages = append(messages, []byte(l))
		}
	}
	if len(messages) == 0 {
		return nil, errkind.New(errkind.Invalid, "kms: nothing to sign: BBS+ signs one or more messages, one per line")
	}
	sig, err := bbs12381g2pub.New().Sign(messages, k.scalar)
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "kms: BBS+ sign")
	}
	return sig, nil
}

func (k *blsPrivateKey) marshal() []byte { return append([]byte(nil), k.scalar...) }

// generateBLS makes a key from 32 random bytes (aries' key generation,
// HKDF-SHA-256 from the seed, as the BBS+ draft's KeyGen).
func generateBLS() (*blsPrivateKey, error) {
	_, priv, err := bbs12381g2pub.GenerateKeyPair(sha256.New, nil)
	if err != nil {
		return nil, err
	}
	b, err := priv.Marshal()
	if err != nil {
		return nil, err
	}
	defer clear(b)
	return parseBLSPrivate(b)
}

// parseBLSPrivate reads a 32-byte scalar and derives its public key.
func parseBLSPrivate(b []byte) (*blsPrivateKey, error) {
	priv, err := bbs12381g2pub.UnmarshalPrivateKey(b)
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "kms: BLS12-381 private key")
	}
	pb, err := priv.PublicKey().Marshal()
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "kms: BLS12-381 public key")
	}
	pub, err := bls.ParsePublicKey(pb)
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "kms: BLS12-381 public key")
	}
	return &blsPrivateKey{scalar: append([]byte(nil), b...), pub: pub}, nil
}

// parseBLSPublic reads a stored compressed G2 point.
func parseBLSPublic(b []byte) (crypto.PublicKey, error) {
	pub, err := bls.ParsePublicKey(b)
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "parse public key")
	}
	return pub, nil
}
