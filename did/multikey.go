package did

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/binary"
	"math/big"
	"strings"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
	"github.com/btcsuite/btcutil/base58"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	ariesfp "github.com/hyperledger/aries-framework-go/pkg/vdr/fingerprint"

	"github.com/urbis-id/urbis/internal/bls"
	"github.com/urbis-id/urbis/internal/errkind"
)

// Multicodec codes of the public key types this package understands
// (https://github.com/multiformats/multicodec/blob/master/table.csv).
const (
	codecX25519    = 0xec
	codecEd25519   = 0xed
	codecSecp256k1 = 0xe7
	codecP256      = 0x1200
	codecP384      = 0x1201
	codecP521      = 0x1202
)

// keyType describes one multicodec key type.
type keyType struct {
	name string // for messages
	size int    // length of the raw (compressed) key
}

var keyTypes = map[uint64]keyType{
	codecX25519:     {"X25519", 32},
	codecEd25519:    {"Ed25519", ed25519.PublicKeySize},
	codecSecp256k1:  {"secp256k1", 33},
	codecP256:       {"P-256", 33},
	codecP384:       {"P-384", 49},
	codecP521:       {"P-521", 67},
	codecBLS12381G2: {"BLS12-381 G2", bls.PublicKeySize},
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// fingerprint returns the multibase (base58btc) encoding of the multicodec
// code followed by raw: the did:key method-specific id and the Multikey
// publicKeyMultibase value.
func fingerprint(code uint64, raw []byte) string {
	return ariesfp.KeyFingerprint(code, raw)
}

// EncodeMultikey returns the publicKeyMultibase value of pub (a Multikey):
// "z" + base58btc(multicodec code + compressed key). It accepts the key
// types of NewKey.
func EncodeMultikey(pub crypto.PublicKey) (string, error) {
	code, raw, err := keyBytes(pub)
	if err != nil {
		return "", err
	}
	return fingerprint(code, raw), nil
}

// DecodeMultikey decodes a publicKeyMultibase value (or a did:key
// method-specific id) into a public key: ed25519.PublicKey,
// *ecdh.PublicKey (X25519), *ecdsa.PublicKey (P-256, P-384, P-521,
// secp256k1) or *bls.PublicKey (BLS12-381 G2). Errors are of kind Invalid, or Unsupported for a key type
// this package does not know.
func DecodeMultikey(s string) (crypto.PublicKey, error) {
	_, pub, err := decodeFingerprint(s)
	if err != nil {
		return nil, err
	}
	return pub, nil
}

// decodeFingerprint strictly decodes a multibase base58btc multicodec key.
// The error codes are left to the caller.
func decodeFingerprint(s string) (uint64, crypto.PublicKey, *errkind.Error) {
	if s == "" {
		return 0, nil, errkind.New(errkind.Invalid, "multibase key is empty")
	}
	if s[0] != 'z' {
		return 0, nil, errkind.New(errkind.Invalid, "multibase key %q must start with \"z\" (base58btc), not %s", s, quoteByte(s[0]))
	}
	if len(s) == 1 {
		return 0, nil, errkind.New(errkind.Invalid, "multibase key %q has no data after \"z\"", s)
	}
	if i := strings.IndexFunc(s[1:], func(r rune) bool { return !strings.ContainsRune(base58Alphabet, r) }); i >= 0 {
		return 0, nil, errkind.New(errkind.Invalid, "multibase key %q contains %s at offset %d, which is not a base58btc character", s, quoteByte(s[1+i]), 1+i)
	}
	// Peek at the code before handing the string to aries, whose decoder
	// slices without bounds checks for some codes.
	buf := base58.Decode(s[1:])
	code, n := binary.Uvarint(buf)
	if n <= 0 {
		return 0, nil, errkind.New(errkind.Invalid, "multibase key %q does not start with a multicodec varint", s)
	}
	kt, ok := keyTypes[code]
	if !ok {
		return code, nil, errkind.New(errkind.Unsupported, "multibase key %q has multicodec 0x%x, which is not a supported public key type (Ed25519 0xed, X25519 0xec, secp256k1 0xe7, P-256 0x1200, P-384 0x1201, P-521 0x1202, BLS12-381 G2 0xeb)", s, code)
	}
	raw, code2, err := ariesfp.PubKeyFromFingerprint(s)
	if err != nil || code2 != code {
		return code, nil, errkind.New(errkind.Invalid, "multibase key %q cannot be decoded: %v", s, err)
	}
	if len(raw) != kt.size {
		return code, nil, errkind.New(errkind.Invalid, "multibase key %q has a %d-byte %s key; want %d bytes", s, len(raw), kt.name, kt.size)
	}
	if fingerprint(code, raw) != s {
		return code, nil, errkind.New(errkind.Invalid, "multibase key %q is not in canonical form (non-minimal multicodec varint or leading zeros)", s)
	}
	pub, kerr := rawToKey(code, raw)
	if kerr != nil {
		return code, nil, kerr
	}
	return code, pub, nil
}

// rawToKey turns the raw bytes of a multicodec key into a public key,
// checking that EC points lie on their curve.
func rawToKey(code uint64, raw []byte) (crypto.PublicKey, *errkind.Error) {
	kt := keyTypes[code]
	switch code {
	case codecEd25519:
		if _, err := new(edwards25519.Point).SetBytes(raw); err != nil {
			return nil, errkind.New(errkind.Invalid, "Ed25519 public key %x is not a valid curve point", raw)
		}
		return ed25519.PublicKey(append([]byte(nil), raw...)), nil
	case codecX25519:
		pub, err := ecdh.X25519().NewPublicKey(raw)
		if err != nil {
			return nil, errkind.New(errkind.Invalid, "X25519 public key %x: %v", raw, err)
		}
		return pub, nil
	case codecSecp256k1:
		if raw[0] != 2 && raw[0] != 3 {
			return nil, errkind.New(errkind.Invalid, "secp256k1 public key must be compressed (prefix 0x02 or 0x03), not prefix 0x%02x", raw[0])
		}
		pk, err := secp256k1.ParsePubKey(raw)
		if err != nil {
			return nil, errkind.New(errkind.Invalid, "secp256k1 public key %x is not a valid curve point: %v", raw, err)
		}
		return pk.ToECDSA(), nil
	case codecBLS12381G2:
		return blsKey(raw)
	case codecP256, codecP384, codecP521:
		curve := nistCurve(code)
		if raw[0] != 2 && raw[0] != 3 {
			return nil, errkind.New(errkind.Invalid, "%s public key must be compressed (prefix 0x02 or 0x03), not prefix 0x%02x", kt.name, raw[0])
		}
		x, y := elliptic.UnmarshalCompressed(curve, raw)
		if x == nil {
			return nil, errkind.New(errkind.Invalid, "%s public key %x is not a valid curve point", kt.name, raw)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, uncompressed(curve, x, y))
		if err != nil {
			return nil, errkind.New(errkind.Invalid, "%s public key %x: %v", kt.name, raw, err)
		}
		return pub, nil
	}
	return nil, errkind.New(errkind.Unsupported, "multicodec 0x%x is not a supported public key type", code)
}

func nistCurve(code uint64) elliptic.Curve {
	switch code {
	case codecP256:
		return elliptic.P256()
	case codecP384:
		return elliptic.P384()
	default:
		return elliptic.P521()
	}
}

// uncompressed returns the SEC 1 uncompressed encoding 0x04 || X || Y.
func uncompressed(curve elliptic.Curve, x, y *big.Int) []byte {
	n := (curve.Params().BitSize + 7) / 8
	b := make([]byte, 1+2*n)
	b[0] = 4
	x.FillBytes(b[1 : 1+n])
	y.FillBytes(b[1+n:])
	return b
}

// keyBytes returns the multicodec code and raw (compressed) bytes of pub.
func keyBytes(pub crypto.PublicKey) (uint64, []byte, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return 0, nil, errkind.New(errkind.Invalid, "Ed25519 public key has %d bytes; want %d", len(k), ed25519.PublicKeySize)
		}
		return codecEd25519, []byte(k), nil
	case *ecdh.PublicKey:
		if k == nil || k.Curve() != ecdh.X25519() {
			return 0, nil, errkind.New(errkind.Unsupported, "ECDH public keys are supported on X25519 only")
		}
		return codecX25519, k.Bytes(), nil
	case *ecdsa.PublicKey:
		return ecdsaBytes(k)
	case *bls.PublicKey:
		if k == nil {
			return 0, nil, errkind.New(errkind.Invalid, "BLS12-381 G2 public key is nil")
		}
		return codecBLS12381G2, k.Bytes(), nil
	}
	return 0, nil, errkind.New(errkind.Unsupported, "unsupported public key type %T (want ed25519.PublicKey, *ecdh.PublicKey on X25519 or *ecdsa.PublicKey on P-256, P-384, P-521 or secp256k1)", pub)
}

// ecdsaBytes compresses an ECDSA public key after checking it is on its curve.
func ecdsaBytes(k *ecdsa.PublicKey) (uint64, []byte, error) {
	if k == nil || k.Curve == nil || k.X == nil || k.Y == nil {
		return 0, nil, errkind.New(errkind.Invalid, "ECDSA public key is empty")
	}
	name := k.Curve.Params().Name
	var code uint64
	switch name {
	case "P-256":
		code = codecP256
	case "P-384":
		code = codecP384
	case "P-521":
		code = codecP521
	case "secp256k1":
		pk, err := secp256k1.ParsePubKey(uncompressed(k.Curve, k.X, k.Y))
		if err != nil {
			return 0, nil, errkind.New(errkind.Invalid, "secp256k1 public key is not a valid curve point: %v", err)
		}
		return codecSecp256k1, pk.SerializeCompressed(), nil
	default:
		return 0, nil, errkind.New(errkind.Unsupported, "ECDSA curve %q is not supported (want P-256, P-384, P-521 or secp256k1)", name)
	}
	b, err := k.Bytes()
	if err != nil {
		return 0, nil, errkind.New(errkind.Invalid, "%s public key is not a valid curve point: %v", name, err)
	}
	n := (len(b) - 1) / 2
	out := make([]byte, 1+n)
	out[0] = 2 | b[len(b)-1]&1
	copy(out[1:], b[1:1+n])
	return code, out, nil
}

// x25519FromEd25519 converts an Ed25519 public key to the X25519 key of
// the same secret, as did:key derives its keyAgreement key. The Montgomery
// u-coordinate depends on the Edwards y-coordinate alone, u = (1+y)/(1-y),
// so no point decompression is needed here (the caller has validated the
// point once already).
func x25519FromEd25519(pub ed25519.PublicKey) (*ecdh.PublicKey, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, errkind.New(errkind.Invalid, "Ed25519 public key has %d bytes; want %d", len(pub), ed25519.PublicKeySize)
	}
	// SetBytes ignores the top bit, which holds the sign of x.
	y, err := new(field.Element).SetBytes(pub)
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "derive X25519 key")
	}
	one := new(field.Element).One()
	num := new(field.Element).Add(one, y)
	den := new(field.Element).Subtract(one, y)
	u := new(field.Element).Multiply(num, den.Invert(den))
	x, err := ecdh.X25519().NewPublicKey(u.Bytes())
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "derive X25519 key")
	}
	return x, nil
}
