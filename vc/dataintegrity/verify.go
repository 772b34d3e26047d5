package dataintegrity

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"reflect"
	"time"

	jsonld "github.com/piprate/json-gold/ld"

	"github.com/urbis-id/urbis/internal/edsig"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/ld"
)

// Result describes the proofs of a verified document, one entry per
// proof in document order.
type Result struct {
	Proofs []ProofResult
}

// ProofResult describes one verified proof. Verify checks the signature;
// what the proof claims (purpose, challenge, domain, expiry) is for the
// caller's policy to judge, with Check.
type ProofResult struct {
	Type               string
	Cryptosuite        string // "" for Ed25519Signature2020
	VerificationMethod string
	ProofPurpose       string
	Challenge          string
	Domain             string
	Created            time.Time // zero when absent
	Expires            time.Time // zero when absent
}

// Expect is what a verifier requires of a document's proofs.
type Expect struct {
	ProofPurpose string    // required purpose; empty accepts any
	Challenge    string    // required challenge, if not empty
	Domain       string    // required domain, if not empty
	Now          time.Time // to check expires; zero skips the check
}

// Check reports whether every proof meets want. Errors are of kind
// Invalid and carry the Data Integrity error codes.
func (r Result) Check(want Expect) error {
	if len(r.Proofs) == 0 {
		return errkind.New(errkind.Invalid, "no proof").WithCode(codeVerification)
	}
	for i, p := range r.Proofs {
		ptr := fmt.Sprintf("/proof/%d", i)
		if len(r.Proofs) == 1 {
			ptr = "/proof"
		}
		switch {
		case want.ProofPurpose != "" && p.ProofPurpose != want.ProofPurpose:
			return errkind.Field(errkind.Invalid, ptr+"/proofPurpose", "is %q; want %q", p.ProofPurpose, want.ProofPurpose).WithCode("MISMATCHED_PROOF_PURPOSE_ERROR")
		case want.Challenge != "" && p.Challenge != want.Challenge:
			return errkind.Field(errkind.Invalid, ptr+"/challenge", "does not match the request's challenge").WithCode("INVALID_CHALLENGE_ERROR")
		case want.Domain != "" && p.Domain != want.Domain:
			return errkind.Field(errkind.Invalid, ptr+"/domain", "is %q; want %q", p.Domain, want.Domain).WithCode("INVALID_DOMAIN_ERROR")
		case !want.Now.IsZero() && !p.Expires.IsZero() && want.Now.After(p.Expires):
			return errkind.Field(errkind.Invalid, ptr+"/expires", "the proof expired at %s", p.Expires.Format(time.RFC3339)).WithCode("PROOF_EXPIRED_ERROR")
		}
	}
	return nil
}

// Verify checks every proof of doc: eddsa-rdfc-2022 Data Integrity
// proofs by the specification's Verify Proof algorithm, and
// Ed25519Signature2020 proofs through aries-framework-go. A document
// with a term that JSON-LD processing drops fails (Invalid, naming the
// term), since no proof covers it. resolveKey
// gives the public key of each proof's verification method. The error,
// if any, is of kind Invalid (a malformed document or a signature that
// does not verify, with a Data Integrity error code), Unsupported (a
// proof type or cryptosuite this package does not verify), or whatever
// resolveKey returned.
func Verify(ctx context.Context, doc map[string]any, resolveKey KeyResolver, loader jsonld.DocumentLoader) (Result, error) {
	if doc == nil {
		return Result{}, errkind.New(errkind.Invalid, "document is null")
	}
	if resolveKey == nil {
		return Result{}, errkind.New(errkind.Invalid, "no key resolver")
	}
	doc, err := normalize(doc)
	if err != nil {
		return Result{}, err
	}
	raw, ok := doc["proof"]
	if !ok || raw == nil {
		return Result{}, errkind.Field(errkind.Invalid, "/proof", "is required: the document has no proof").WithCode(codeMalformed)
	}
	proofs, isList := raw.([]any)
	single := !isList
	if single {
		proofs = []any{raw}
	}
	if len(proofs) == 0 {
		return Result{}, errkind.Field(errkind.Invalid, "/proof", "is an empty array").WithCode(codeMalformed)
	}
	var res Result
	for i, e := range proofs {
		proof, ok := e.(map[string]any)
		if !ok {
			return Result{}, errkind.Field(errkind.Invalid, proofPointer(i, single, ""), "must be an object").WithCode(codeMalformed)
		}
		pr, err := describeProof(proof, i, single)
		if err != nil {
			return Result{}, err
		}
		if _, ok := proof["previousProof"]; ok {
			return Result{}, errkind.Field(errkind.Unsupported, proofPointer(i, single, "previousProof"), "proof chains are not supported").WithCode(codeVerification)
		}
		switch {
		case pr.Type == TypeDataIntegrityProof && pr.Cryptosuite == SuiteEdDSARDFC2022:
			err = verifyEdDSARDFC(ctx, doc, proof, i, single, resolveKey, loader)
		case pr.Type == TypeDataIntegrityProof:
			err = errkind.Field(errkind.Unsupported, proofPointer(i, single, "cryptosuite"), "cryptosuite %q is not supported; Urbis verifies %s", pr.Cryptosuite, SuiteEdDSARDFC2022).WithCode(codeVerification)
		case pr.Type == TypeEd25519Signature2020:
			err = verifyEd25519Signature2020(ctx, doc, proof, i, single, resolveKey, loader)
		default:
			err = errkind.Field(errkind.Unsupported, proofPointer(i, single, "type"), "proof type %q is not supported; Urbis verifies %s (%s) and %s", pr.Type, TypeDataIntegrityProof, SuiteEdDSARDFC2022, TypeEd25519Signature2020).WithCode(codeVerification)
		}
		if err != nil {
			return Result{}, err
		}
		res.Proofs = append(res.Proofs, pr)
	}
	return res, nil
}

// describeProof reads and checks the members every proof must have.
func describeProof(proof map[string]any, i int, single bool) (ProofResult, error) {
	str := func(name string, required bool) (string, error) {
		v, ok := proof[name]
		if !ok {
			if required {
				return "", errkind.Field(errkind.Invalid, proofPointer(i, single, name), "is required").WithCode(codeMalformed)
			}
			return "", nil
		}
		s, ok := v.(string)
		if !ok || s == "" {
			return "", errkind.Field(errkind.Invalid, proofPointer(i, single, name), "must be a non-empty string").WithCode(codeMalformed)
		}
		return s, nil
	}
	var pr ProofResult
	var err error
	if pr.Type, err = str("type", true); err != nil {
		return pr, err
	}
	if pr.Type == TypeDataIntegrityProof {
		if pr.Cryptosuite, err = str("cryptosuite", true); err != nil {
			return pr, err
		}
	}
	if pr.VerificationMethod, err = str("verificationMethod", true); err != nil {
		return pr, err
	}
	if pr.ProofPurpose, err = str("proofPurpose", true); err != nil {
		return pr, err
	}
	if pr.Challenge, err = str("challenge", false); err != nil {
		return pr, err
	}
	if pr.Domain, err = str("domain", false); err != nil {
		return pr, err
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"created", &pr.Created}, {"expires", &pr.Expires}} {
		s, err := str(t.name, false)
		if err != nil || s == "" {
			if err != nil {
				return pr, err
			}
			continue
		}
		if !dateTimeStamp.MatchString(s) {
			return pr, errkind.Field(errkind.Invalid, proofPointer(i, single, t.name), "%q is not an XML Schema dateTimeStamp such as \"2024-01-01T00:00:00Z\"", s).WithCode(codeMalformed)
		}
		if *t.dst, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return pr, errkind.Field(errkind.Invalid, proofPointer(i, single, t.name), "%q is not a valid date-time", s).WithCode(codeMalformed)
		}
	}
	return pr, nil
}

// verifyEdDSARDFC is the eddsa-rdfc-2022 Verify Proof algorithm
// (vc-di-eddsa §3.3.2).
func verifyEdDSARDFC(ctx context.Context, doc, proof map[string]any, i int, single bool, resolveKey KeyResolver, loader jsonld.DocumentLoader) error {
	unsecured := withoutProof(doc)
	options := copyMap(proof)
	delete(options, "proofValue")
	sig, err := decodeProofValue(proofPointer(i, single, "proofValue"), proof["proofValue"])
	if err != nil {
		return err
	}
	if pc, ok := options["@context"]; ok {
		if !contextPrefix(doc["@context"], pc) {
			return errkind.Field(errkind.Invalid, proofPointer(i, single, "@context"), "the document's @context does not start with the proof's @context").WithCode(codeVerification)
		}
		unsecured["@context"] = pc
	}
	hash, err := hashData(ctx, unsecured, options, loader)
	var dropped *ld.DroppedError
	if errors.As(err, &dropped) {
		return verifyingError(rebase(dropped, "/proof", proofPointer(i, single, "")), whose(doc))
	}
	if err != nil {
		return err
	}
	pub, err := resolveKey(ctx, options["verificationMethod"].(string))
	if err != nil {
		return err
	}
	if len(pub) != ed25519.PublicKeySize {
		return errkind.New(errkind.Invalid, "verification method %s: an Ed25519 public key has %d bytes, not %d", options["verificationMethod"], ed25519.PublicKeySize, len(pub)).WithCode(codeVerification)
	}
	if !edsig.Verify(pub, hash, sig) {
		return errkind.Field(errkind.Invalid, proofPointer(i, single, "proofValue"),
			"the signature does not verify with the key of %s: the document or the proof was changed after signing, or another key signed it", options["verificationMethod"]).WithCode(codeVerification)
	}
	return nil
}

// contextPrefix reports whether the document context starts with every
// entry of the proof context, in order.
func contextPrefix(docCtx, proofCtx any) bool {
	list := func(v any) []any {
		if a, ok := v.([]any); ok {
			return a
		}
		return []any{v}
	}
	d, p := list(docCtx), list(proofCtx)
	if len(p) > len(d) {
		return false
	}
	for k := range p {
		if !reflect.DeepEqual(d[k], p[k]) {
			return false
		}
	}
	return true
}
