package bbs

import (
	"context"
	"fmt"
	"time"

	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/jsonld"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/suite"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/suite/bbsblssignature2020"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/suite/bbsblssignatureproof2020"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/verifier"
	gold "github.com/piprate/json-gold/ld"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/dataintegrity"
)

// Verify checks every proof of doc, each of which must be a
// BbsBlsSignature2020 or BbsBlsSignatureProof2020 (whose nonce it reads
// from the proof). A document with a term that JSON-LD processing drops
// fails, naming the term: no proof covers it. It returns what the proofs claim for the caller's
// policy (dataintegrity.Result.Check). Errors are Invalid for a malformed
// document or a proof that does not verify, Unsupported for another
// proof type, or resolveKey's.
func Verify(ctx context.Context, doc map[string]any, resolveKey KeyResolver, loader gold.DocumentLoader) (dataintegrity.Result, error) {
	if doc == nil {
		return dataintegrity.Result{}, errkind.New(errkind.Invalid, "document is null")
	}
	if resolveKey == nil {
		return dataintegrity.Result{}, errkind.New(errkind.Invalid, "no key resolver")
	}
	loader = loaderOr(loader)
	doc, err := normalize(doc)
	if err != nil {
		return dataintegrity.Result{}, err
	}
	proofs, err := proofsOf(doc)
	if err != nil {
		return dataintegrity.Result{}, err
	}
	var res dataintegrity.Result
	for i, p := range proofs {
		ptr := "/proof"
		if len(proofs) > 1 {
			ptr = fmt.Sprintf("/proof/%d", i)
		}
		pr, err := describe(p, ptr)
		if err != nil {
			return dataintegrity.Result{}, err
		}
		if err := verifyOne(ctx, doc, p, ptr, resolveKey, loader); err != nil {
			return dataintegrity.Result{}, err
		}
		res.Proofs = append(res.Proofs, pr)
	}
	return res, nil
}

// IsBBS reports whether doc carries a BBS+ proof, for callers that pick
// a verifier by proof type.
func IsBBS(doc map[string]any) bool {
	proofs, err := proofsOf(doc)
	if err != nil {
		return false
	}
	for _, p := range proofs {
		if p["type"] == TypeSignature || p["type"] == TypeProof {
			return true
		}
	}
	return false
}

func verifyOne(ctx context.Context, doc, proof map[string]any, ptr string, resolveKey KeyResolver, loader gold.DocumentLoader) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var s verifier.SignatureSuite
	switch proof["type"] {
	case TypeSignature:
		s = bbsblssignature2020.New(suite.WithVerifier(bbsblssignature2020.NewG2PublicKeyVerifier()))
	case TypeProof:
		nonce, err := decodeBase64(proof["nonce"])
		if err != nil {
			return errkind.Field(errkind.Invalid, ptr+"/nonce", "must be the base64 nonce the proof was derived with: %v", err)
		}
		s = bbsblssignatureproof2020.New(suite.WithCompactProof(), suite.WithVerifier(bbsblssignatureproof2020.NewG2PublicKeyVerifier(nonce)))
	default:
		return errkind.Field(errkind.Unsupported, ptr+"/type", "proof type %v is not %s or %s", proof["type"], TypeSignature, TypeProof)
	}
	if _, err := decodeBase64(proof["proofValue"]); err != nil {
		return errkind.Field(errkind.Invalid, ptr+"/proofValue", "must be base64: %v", err)
	}
	keys := &ariesKeys{ctx: ctx, resolve: resolveKey}
	v, err := verifier.New(keys, s)
	if err != nil {
		return errkind.Wrap(errkind.Internal, err, "aries verifier")
	}
	one := make(map[string]any, len(doc))
	for k, val := range doc {
		if k != "proof" {
			one[k] = val
		}
	}
	one["proof"] = proof
	// aries canonicalizes without the safe mode's check: check first.
	if err := dataintegrity.CheckTermsForVerifying(one, loader); err != nil {
		return movedField(err, "/proof", ptr)
	}
	rec := &recordingLoader{DocumentLoader: loader}
	err = v.VerifyObject(one, jsonld.WithDocumentLoader(rec))
	switch {
	case err == nil:
		return nil
	case keys.err != nil:
		return keys.err
	case rec.err != nil:
		return errkind.Wrap(errkind.KindOf(rec.err), rec.err, "canonicalize document")
	}
	return errkind.Field(errkind.Invalid, ptr+"/proofValue", "the %s does not verify with the key of %v: the credential or the proof was changed after signing, or another key signed it", proof["type"], proof["verificationMethod"])
}

// describe reads what a proof claims.
func describe(p map[string]any, ptr string) (dataintegrity.ProofResult, error) {
	str := func(name string) string { s, _ := p[name].(string); return s }
	pr := dataintegrity.ProofResult{Type: str("type"), VerificationMethod: str("verificationMethod"), ProofPurpose: str("proofPurpose"), Challenge: str("challenge"), Domain: str("domain")}
	for _, name := range []string{"verificationMethod", "proofPurpose"} {
		if str(name) == "" {
			return pr, errkind.Field(errkind.Invalid, ptr+"/"+name, "is required")
		}
	}
	if c := str("created"); c != "" {
		t, err := time.Parse(time.RFC3339Nano, c)
		if err != nil {
			return pr, errkind.Field(errkind.Invalid, ptr+"/created", "%q is not a date-time", c)
		}
		pr.Created = t
	}
	return pr, nil
}

// proofsOf returns the proof objects of doc.
func proofsOf(doc map[string]any) ([]map[string]any, error) {
	var list []any
	switch p := doc["proof"].(type) {
	case nil:
		return nil, errkind.Field(errkind.Invalid, "/proof", "is required")
	case map[string]any:
		list = []any{p}
	case []any:
		list = p
	default:
		return nil, errkind.Field(errkind.Invalid, "/proof", "must be an object or an array of objects")
	}
	if len(list) == 0 {
		return nil, errkind.Field(errkind.Invalid, "/proof", "is an empty array")
	}
	out := make([]map[string]any, 0, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, errkind.Field(errkind.Invalid, fmt.Sprintf("/proof/%d", i), "must be an object")
		}
		out = append(out, m)
	}
	return out, nil
}
