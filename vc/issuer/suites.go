package issuer

import (
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/kms"
	"github.com/urbis-id/urbis/vc/bbs"
	"github.com/urbis-id/urbis/vc/dataintegrity"
)

// FormatBBS is JSON-LD with a BbsBlsSignature2020 proof, from which the
// holder derives BbsBlsSignatureProof2020 credentials that disclose only
// chosen claims (POST /credentials/derive).
const FormatBBS Format = "ldp_vc-bbs"

// The cryptosuites (proof types) of the JSON-LD formats.
const (
	SuiteEdDSARDFC2022        = dataintegrity.SuiteEdDSARDFC2022       // ldp_vc, VC 2.0
	SuiteEd25519Signature2020 = dataintegrity.TypeEd25519Signature2020 // ldp_vc, VC 1.1
	SuiteBbsBlsSignature2020  = bbs.TypeSignature                      // ldp_vc-bbs
)

// chooseSuite returns what an instance of format f signs with a key of
// type t, given the cryptosuite the agency asked for ("" for the
// format's default).
func chooseSuite(f Format, requested string, t kms.KeyType) (string, error) {
	switch f {
	case FormatLDP:
		switch requested {
		case "", SuiteEdDSARDFC2022, SuiteEd25519Signature2020:
		default:
			return "", errkind.Field(errkind.Invalid, "cryptosuite", "%q is not a cryptosuite of ldp_vc; allowed values are %s (VC 2.0, the default) and %s (VC 1.1)", requested, SuiteEdDSARDFC2022, SuiteEd25519Signature2020)
		}
		suite := requested
		if suite == "" {
			suite = SuiteEdDSARDFC2022
		}
		if t != kms.Ed25519 {
			return "", errkind.Field(errkind.Invalid, "did", "ldp_vc signs with %s, which needs an Ed25519 key; this DID has a %s key", suite, t)
		}
		return suite, nil
	case FormatBBS:
		if requested != "" && requested != SuiteBbsBlsSignature2020 {
			return "", errkind.Field(errkind.Invalid, "cryptosuite", "%q is not a cryptosuite of ldp_vc-bbs; the only one is %s", requested, SuiteBbsBlsSignature2020)
		}
		if t != kms.Bls12381G2 {
			return "", errkind.Field(errkind.Invalid, "did", "ldp_vc-bbs signs with %s, which needs a Bls12381G2 key (POST /dids with method key and keyType Bls12381G2); this DID has a %s key", SuiteBbsBlsSignature2020, t)
		}
		return SuiteBbsBlsSignature2020, nil
	}
	alg := t.Algorithm()
	if alg == "" {
		return "", errkind.Field(errkind.Invalid, "did", "%s is signed with JWS, which a %s key cannot make; use an Ed25519 or P-256 DID", f, t)
	}
	if requested != "" && requested != alg {
		return "", errkind.Field(errkind.Invalid, "cryptosuite", "%s with this DID's %s key signs with %s, not %q; leave cryptosuite out", f, t, alg, requested)
	}
	return alg, nil
}

// statusless reports whether instances of this suite carry no
// credentialStatus: the BBS+ and Ed25519Signature2020 credentials (their
// status entries would need the status list context in a VC 1.1
// credential, and would make derived BBS+ credentials linkable).
func statusless(suite string) bool {
	return suite == SuiteBbsBlsSignature2020 || suite == SuiteEd25519Signature2020
}

// checkSuitePurposes refuses status purposes for statusless suites.
func checkSuitePurposes(suite string, purposes []string) error {
	if len(purposes) > 0 && statusless(suite) {
		return errkind.Field(errkind.Invalid, "statusPurposes", "%s credentials carry no credentialStatus here (status lists are built for eddsa-rdfc-2022 and JWT credentials); use []", suite)
	}
	return nil
}
