package issuer

import (
	"slices"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/kms"
	"github.com/urbis-id/urbis/vc/bbs"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/ld"
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
// credentialStatus: BBS+ credentials (a status entry would make derived
// credentials linkable).
func statusless(suite string) bool {
	return suite == SuiteBbsBlsSignature2020
}

// addStatusContext appends the Bitstring Status List context to a VC 1.1
// credential's @context, which does not define BitstringStatusListEntry,
// so that a Linked Data proof covers the entries.
func addStatusContext(cred map[string]any) {
	list, _ := cred["@context"].([]any)
	if list == nil {
		list = []any{cred["@context"]}
	}
	if !slices.Contains(list, any(ld.BitstringStatusList)) {
		cred["@context"] = append(slices.Clone(list), ld.BitstringStatusList)
	}
}

// checkSuitePurposes refuses status purposes for statusless suites.
func checkSuitePurposes(suite string, purposes []string) error {
	if len(purposes) > 0 && statusless(suite) {
		return errkind.Field(errkind.Invalid, "statusPurposes", "%s credentials carry no credentialStatus here (a status entry would make every credential derived from one linkable); use []", suite)
	}
	return nil
}
