package dataintegrity

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"slices"

	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/jsonld"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/proof"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/signer"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/suite"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/suite/ed25519signature2020"
	gold "github.com/piprate/json-gold/ld"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/ld"
)

// AriesSigner adapts a crypto.Signer (a key in custody) to the signer
// that aries-framework-go's Linked Data suites call: Sign gets what the
// suite signs and passes it to the key with crypto.Hash(0) (the whole
// message for Ed25519; the BBS+ messages, one per line, for a BLS12-381
// G2 key in custody).
type AriesSigner struct {
	Key crypto.Signer
	// Algorithm is the JOSE alg aries asks for ("EdDSA"), or "".
	Algorithm string
}

// Sign signs data with the key.
func (s AriesSigner) Sign(data []byte) ([]byte, error) {
	return s.Key.Sign(rand.Reader, data, crypto.Hash(0))
}

// Alg returns the JOSE algorithm.
func (s AriesSigner) Alg() string { return s.Algorithm }

// WithContext returns doc with ctx appended to its @context, unless it is
// there already: Linked Data proof suites need their terms defined by the
// document's context.
func WithContext(doc map[string]any, ctx string) map[string]any {
	out := copyMap(doc)
	switch c := doc["@context"].(type) {
	case []any:
		if !slices.Contains(c, any(ctx)) {
			out["@context"] = append(deepCopy(c).([]any), ctx)
		}
	case nil:
		out["@context"] = []any{ctx}
	default:
		if c != ctx {
			out["@context"] = []any{deepCopy(c), ctx}
		}
	}
	return out
}

// SignEd25519Signature2020 returns a copy of doc (a VC Data Model 1.1
// credential, say) with an Ed25519Signature2020 Linked Data proof made
// through aries-framework-go's suite with signer, whose public key must
// be Ed25519. The suite's context
// (https://w3id.org/security/suites/ed25519-2020/v1) is appended to
// @context when missing, since it defines the proof's terms. JSON-LD
// contexts come only from loader (vc/ld's embedded ones when nil). The
// proof is verified before it is returned.
func SignEd25519Signature2020(ctx context.Context, doc map[string]any, opts ProofOptions, key crypto.Signer, loader gold.DocumentLoader) (map[string]any, error) {
	if doc == nil {
		return nil, errkind.New(errkind.Invalid, "document is null")
	}
	pub, ok := key.Public().(ed25519.PublicKey)
	if !ok {
		return nil, errkind.New(errkind.Unsupported, "Ed25519Signature2020 signs with an Ed25519 key, not %T", key.Public())
	}
	if opts.VerificationMethod == "" {
		return nil, errkind.Field(errkind.Invalid, "verificationMethod", "is required")
	}
	if _, ok := doc["proof"]; ok {
		return nil, errkind.Field(errkind.Invalid, "/proof", "must be absent: the document is signed once")
	}
	doc, err := normalize(WithContext(doc, ld.Ed25519Signature2020))
	if err != nil {
		return nil, err
	}
	signed, err := SignLinkedData(ctx, doc, LinkedDataProof{Type: TypeEd25519Signature2020, Options: opts},
		ed25519signature2020.New(suite.WithSigner(AriesSigner{Key: key, Algorithm: "EdDSA"})), loaderOr(loader))
	if err != nil {
		return nil, err
	}
	keys := func(context.Context, string) (ed25519.PublicKey, error) { return pub, nil }
	if _, err := Verify(ctx, signed, keys, loader); err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "the new Ed25519Signature2020 proof does not verify").WithCode(codeGeneration)
	}
	return signed, nil
}

// LinkedDataProof is the proof SignLinkedData makes.
type LinkedDataProof struct {
	Type    string // the proof type, e.g. Ed25519Signature2020
	Options ProofOptions
}

// SignLinkedData signs doc with one of aries-framework-go's Linked Data
// proof suites (the older, pre-Data-Integrity proofs) and returns it with
// the proof added. A document with a term that JSON-LD processing drops
// is refused first (CheckTermsForSigning). Errors of the JSON-LD
// processing (an unknown context, a term it does not define) are
// Invalid; the key's errors pass through.
func SignLinkedData(ctx context.Context, doc map[string]any, p LinkedDataProof, s signer.SignatureSuite, loader gold.DocumentLoader) (map[string]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// aries canonicalizes without the safe mode's check: check first.
	if err := CheckTermsForSigning(doc, loader); err != nil {
		return nil, err
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "document is not JSON")
	}
	created := p.Options.Created.UTC()
	sc := &signer.Context{
		SignatureType:           p.Type,
		SignatureRepresentation: proof.SignatureProofValue,
		Created:                 &created,
		VerificationMethod:      p.Options.VerificationMethod,
		Purpose:                 p.Options.ProofPurpose,
		Challenge:               p.Options.Challenge,
		Domain:                  p.Options.Domain,
	}
	if sc.Purpose == "" {
		sc.Purpose = "assertionMethod"
	}
	rec := &recordingLoader{DocumentLoader: loader}
	out, err := signer.New(s).Sign(sc, b, jsonld.WithDocumentLoader(rec))
	switch {
	case err != nil && rec.err != nil:
		return nil, errkind.Wrap(errkind.KindOf(rec.err), rec.err, "/@context").WithCode(codeTransformation)
	case err != nil && errors.As(err, new(*errkind.Error)):
		return nil, err // the key's
	case err != nil:
		e := errkind.Wrap(errkind.Invalid, err, "%s signs only what the document's @context defines, and the document uses a term or type it does not define (a VC 1.1 context has no @vocab: add a context that defines your claims and types, such as %s)", p.Type, ld.CredentialsExamplesV2).WithCode(codeGeneration)
		e.Field = "/@context"
		return nil, e
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "signed document")
	}
	// aries always writes a proof array; one proof is written as an
	// object, as the specifications' examples do.
	if l, ok := m["proof"].([]any); ok && len(l) == 1 && doc["proof"] == nil {
		m["proof"] = l[0]
	}
	return m, nil
}
