// Package bbs signs credentials with BBS+ signatures and derives from
// them proofs that disclose only chosen claims, through
// aries-framework-go's Linked Data suites: BbsBlsSignature2020 (the
// issuer's signature over every N-Quad of the canonical credential) and
// BbsBlsSignatureProof2020 (a zero-knowledge proof of that signature
// over the N-Quads a JSON-LD frame keeps, bound to a nonce), as in the
// W3C CCG's BBS+ Signatures 2020 (https://w3c-ccg.github.io/ldp-bbs2020/).
// Two proofs derived from one credential cannot be linked by their proof
// values.
//
// Keys are BLS12-381 G2 keys (Bls12381G2Key2020): the signer is a key in
// custody (kms.Bls12381G2), verification keys come from the issuer's DID
// document. JSON-LD contexts come only from the given loader (vc/ld's
// embedded contexts), never the network.
package bbs

import (
	"context"
	"crypto"
	"crypto/rand"

	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/jsonld"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/suite"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/suite/bbsblssignature2020"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/suite/bbsblssignatureproof2020"
	gold "github.com/piprate/json-gold/ld"

	"github.com/urbis-id/urbis/internal/bls"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/dataintegrity"
)

// Proof types.
const (
	TypeSignature = "BbsBlsSignature2020"
	TypeProof     = "BbsBlsSignatureProof2020"
)

// Context defines the BBS+ 2020 terms; Sign adds it to a credential that
// lacks it.
const Context = "https://w3id.org/security/bbs/v1"

// KeyResolver returns the BLS12-381 G2 public key of a verification
// method, having checked that its controller authorizes it for the
// proof's purpose (see DIDKeyResolver).
type KeyResolver func(ctx context.Context, verificationMethod string) (*bls.PublicKey, error)

// Sign returns a copy of doc with a BbsBlsSignature2020 proof made with
// key, a crypto.Signer of a BLS12-381 G2 key whose Sign takes the BBS+
// messages one per line (kms.Signer of a Bls12381G2 key). The BBS+ 2020
// context is appended to @context when missing, and a credential without
// an id gets a urn:uuid one: aries' derivation matches the disclosed
// N-Quads to the signed ones by node, and the credential itself would
// otherwise be a blank node whose label changes when claims are left
// out, so no derived proof would verify. The id is disclosed with every
// derived credential (JSON-LD framing keeps node ids), which makes
// derived credentials of one credential linkable by it. Every subject
// must have an id (see checkSubjectIDs). The proof is verified
// with the key's public key before it is returned.
func Sign(ctx context.Context, doc map[string]any, opts dataintegrity.ProofOptions, key crypto.Signer, loader gold.DocumentLoader) (map[string]any, error) {
	if doc == nil {
		return nil, errkind.New(errkind.Invalid, "document is null")
	}
	pub, ok := key.Public().(*bls.PublicKey)
	if !ok {
		return nil, errkind.New(errkind.Unsupported, "BbsBlsSignature2020 signs with a BLS12-381 G2 key, not %T", key.Public())
	}
	if opts.VerificationMethod == "" {
		return nil, errkind.Field(errkind.Invalid, "verificationMethod", "is required")
	}
	if _, ok := doc["proof"]; ok {
		return nil, errkind.Field(errkind.Invalid, "/proof", "must be absent: the document is signed once")
	}
	loader = loaderOr(loader)
	doc, err := normalize(dataintegrity.WithContext(doc, Context))
	if err != nil {
		return nil, err
	}
	switch id := doc["id"].(type) {
	case nil:
		doc["id"] = newURN()
	case string:
		if id == "" {
			return nil, errkind.Field(errkind.Invalid, "/id", "must be a URL, not empty")
		}
	default:
		return nil, errkind.Field(errkind.Invalid, "/id", "must be a URL")
	}
	if err := checkSubjectIDs(doc["credentialSubject"]); err != nil {
		return nil, err
	}
	s := bbsblssignature2020.New(suite.WithSigner(dataintegrity.AriesSigner{Key: key}))
	signed, err := dataintegrity.SignLinkedData(ctx, doc, dataintegrity.LinkedDataProof{Type: TypeSignature, Options: opts}, s, loader)
	if err != nil {
		return nil, err
	}
	keys := func(context.Context, string) (*bls.PublicKey, error) { return pub, nil }
	if _, err := Verify(ctx, signed, keys, loader); err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "the new BbsBlsSignature2020 proof does not verify")
	}
	return signed, nil
}

// Derive returns a credential that discloses only what frame selects
// from doc, a credential with a BbsBlsSignature2020 proof, with a
// BbsBlsSignatureProof2020 proof bound to nonce in place of the
// signature. frame is a JSON-LD frame (with "@explicit": true on the
// objects whose members it lists, and {} for each member to keep); the
// members the issuer must disclose (type, issuer, issuanceDate or
// validFrom, ...) must be in it for the result to be a credential. The
// frame's @context becomes the result's; the BBS+ 2020 context is
// appended to it when missing. A nil
// nonce means 32 random bytes. resolveKey gives the issuer's key, which
// the proof needs. Errors name their field: /verifiableCredential,
// /frame, /options/nonce.
func Derive(ctx context.Context, doc, frame map[string]any, nonce []byte, resolveKey KeyResolver, loader gold.DocumentLoader) (map[string]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, errkind.Field(errkind.Invalid, "/verifiableCredential", "is required: a credential with a %s proof", TypeSignature)
	}
	if frame == nil {
		return nil, errkind.Field(errkind.Invalid, "/frame", "is required: a JSON-LD frame naming the claims to disclose")
	}
	if _, ok := frame["@context"]; !ok {
		return nil, errkind.Field(errkind.Invalid, "/frame/@context", "is required: the frame's terms need the credential's contexts")
	}
	if nonce == nil {
		nonce = make([]byte, 32)
		rand.Read(nonce) // never fails
	}
	loader = loaderOr(loader)
	doc, err := normalize(doc)
	if err != nil {
		return nil, err
	}
	// The derived credential's @context is the frame's: it must define
	// the proof's terms.
	if frame, err = normalize(dataintegrity.WithContext(frame, Context)); err != nil {
		return nil, err
	}
	proofs, err := proofsOf(doc)
	if err != nil {
		return nil, movedField(err, "", "/verifiableCredential")
	}
	// A term the signature does not cover cannot be disclosed with it.
	if err := dataintegrity.CheckTermsForVerifying(doc, loader); err != nil {
		return nil, movedField(err, "", "/verifiableCredential")
	}
	found := false
	for _, p := range proofs {
		if p["type"] == TypeSignature {
			found = true
		}
	}
	if !found {
		return nil, errkind.Field(errkind.Invalid, "/verifiableCredential/proof", "has no %s proof to derive from", TypeSignature)
	}
	keys := &ariesKeys{ctx: ctx, resolve: resolveKey}
	rec := &recordingLoader{DocumentLoader: loader}
	out, err := bbsblssignatureproof2020.New().SelectiveDisclosure(doc, frame, nonce, keys, jsonld.WithDocumentLoader(rec))
	switch {
	case err == nil:
	case keys.err != nil:
		return nil, keys.err
	case rec.err != nil:
		return nil, errkind.Wrap(errkind.KindOf(rec.err), rec.err, "/frame/@context")
	default:
		return nil, errkind.Wrap(errkind.Unprocessable, err, "cannot derive a proof: the credential's signature does not match it, or the frame selects nothing from it")
	}
	out, err = normalize(out)
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "derived credential")
	}
	// One proof is written as an object.
	if l, ok := out["proof"].([]any); ok && len(l) == 1 {
		out["proof"] = l[0]
	}
	return out, nil
}
