package dataintegrity

import (
	"context"
	"crypto/ed25519"

	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/jsonld"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/suite"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/suite/ed25519signature2020"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/verifier"
	gold "github.com/piprate/json-gold/ld"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/ld"
)

// ariesKeys adapts a KeyResolver to aries' key resolver, remembering the
// resolver's own error so that its kind survives aries' wrapping.
type ariesKeys struct {
	ctx     context.Context
	resolve KeyResolver
	err     error
}

func (a *ariesKeys) Resolve(id string) (*verifier.PublicKey, error) {
	pub, err := a.resolve(a.ctx, id)
	if err != nil {
		a.err = err
		return nil, err
	}
	if len(pub) != ed25519.PublicKeySize {
		a.err = errkind.New(errkind.Invalid, "verification method %s: an Ed25519 public key has %d bytes, not %d", id, ed25519.PublicKeySize, len(pub))
		return nil, a.err
	}
	return &verifier.PublicKey{Type: "Ed25519VerificationKey2020", Value: pub}, nil
}

// verifyEd25519Signature2020 verifies one Ed25519Signature2020 proof
// with aries-framework-go's suite, on a copy of doc that carries only
// that proof.
func verifyEd25519Signature2020(ctx context.Context, doc, proof map[string]any, i int, single bool, resolveKey KeyResolver, loader gold.DocumentLoader) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := decodeProofValue(proofPointer(i, single, "proofValue"), proof["proofValue"]); err != nil {
		return err
	}
	keys := &ariesKeys{ctx: ctx, resolve: resolveKey}
	v, err := verifier.New(keys, ed25519signature2020.New(suite.WithVerifier(ed25519signature2020.NewPublicKeyVerifier())))
	if err != nil {
		return errkind.Wrap(errkind.Internal, err, "aries verifier")
	}
	one := withoutProof(doc)
	one["proof"] = copyMap(proof)
	// aries canonicalizes without the safe mode's check: check first.
	if err := checkTerms(one, loader, func(d *ld.DroppedError) error {
		return verifyingError(rebase(d, "/proof", proofPointer(i, single, "")), whose(doc))
	}); err != nil {
		return err
	}
	rec := &recordingLoader{DocumentLoader: loaderOr(loader)}
	err = v.VerifyObject(one, jsonld.WithDocumentLoader(rec))
	switch {
	case err == nil:
		return nil
	case keys.err != nil:
		return keys.err
	case rec.err != nil:
		return errkind.Wrap(errkind.KindOf(rec.err), rec.err, "canonicalize document").WithCode(codeTransformation)
	default:
		return errkind.Wrap(errkind.Invalid, err, "%s: the Ed25519Signature2020 signature does not verify: the document or the proof was changed after signing, or another key signed it", proofPointer(i, single, "proofValue")).WithCode(codeVerification)
	}
}
