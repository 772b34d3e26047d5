package did

import (
	"github.com/urbis-id/urbis/internal/bls"
	"github.com/urbis-id/urbis/internal/errkind"
)

// codecBLS12381G2 is the multicodec of a BLS12-381 G2 public key
// (bls12_381-g2-pub): the did:key of such a key starts with did:key:zUC7.
const codecBLS12381G2 = 0xeb

// TypeBls12381G2Key2020 is the verification method type of a BLS12-381
// G2 key in the BBS+ 2020 suite (https://w3id.org/security/bbs/v1), the
// key of BbsBlsSignature2020 proofs, with its key in publicKeyBase58.
const TypeBls12381G2Key2020 = "Bls12381G2Key2020"

// FormatBls12381G2Key2020 is the did:key publicKeyFormat that writes a
// BLS12-381 G2 key as a Bls12381G2Key2020 verification method, as the
// did:key specification's examples do; the default Multikey format
// writes it as a Multikey.
const FormatBls12381G2Key2020 = "Bls12381G2Key2020"

// contextBls12381v2020 defines Bls12381G2Key2020.
const contextBls12381v2020 = "https://w3id.org/security/suites/bls12381-2020/v1"

// blsKey parses the raw bytes of a did:key or Multikey BLS12-381 G2 key.
func blsKey(raw []byte) (*bls.PublicKey, *errkind.Error) {
	k, err := bls.ParsePublicKey(raw)
	if err != nil {
		return nil, errkind.New(errkind.Invalid, "BLS12-381 G2 public key %x is not a valid curve point", raw)
	}
	return k, nil
}

// checkBLSFormat refuses publicKeyFormat values that do not fit the key:
// a BLS12-381 G2 key has no JWK here, and Bls12381G2Key2020 is for BLS
// keys only.
func checkBLSFormat(id DID, code uint64, format string) error {
	switch {
	case code == codecBLS12381G2 && format == FormatJSONWebKey2020:
		return errkind.New(errkind.Invalid, "publicKeyFormat %q is not supported for the BLS12-381 G2 key of %s; want %q or %q", format, id, FormatMultikey, FormatBls12381G2Key2020).WithCode(CodeUnsupportedPublicKeyType)
	case code != codecBLS12381G2 && format == FormatBls12381G2Key2020:
		return errkind.New(errkind.Invalid, "publicKeyFormat %q applies to BLS12-381 G2 keys only; %s holds a %s key", format, id, keyTypes[code].name).WithCode(CodeUnsupportedPublicKeyType)
	}
	return nil
}
