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
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/jsonld"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/suite"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/suite/bbsblssignature2020"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/suite/bbsblssignatureproof2020"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/verifier"
	gold "github.com/piprate/json-gold/ld"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/bls"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/ld"
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
		var e *errkind.Error
		errors.As(err, &e)
		c := *e
		c.Field = "/verifiableCredential" + e.Field
		return nil, &c
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

// Verify checks every proof of doc, each of which must be a
// BbsBlsSignature2020 or BbsBlsSignatureProof2020 (whose nonce it reads
// from the proof). It returns what the proofs claim for the caller's
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

// checkSubjectIDs refuses subjects without an id: aries names such a
// blank node urn:bnid:... in the derived credential, and the derived
// proof then does not verify (seen with aries-framework-go v0.3.2).
func checkSubjectIDs(v any) error {
	subjects, ok := v.([]any)
	if !ok {
		subjects = []any{v}
	}
	for i, s := range subjects {
		m, _ := s.(map[string]any)
		if id, _ := m["id"].(string); id == "" {
			p := "/credentialSubject/id"
			if ok {
				p = fmt.Sprintf("/credentialSubject/%d/id", i)
			}
			return errkind.Field(errkind.Invalid, p, "is required for a BBS+ credential: the derived proofs of a subject without an id do not verify (aries-framework-go v0.3.2); use the holder's DID")
		}
	}
	return nil
}

// newURN returns a random urn:uuid (version 4).
func newURN() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func decodeBase64(v any) ([]byte, error) {
	s, _ := v.(string)
	if s == "" {
		return nil, errors.New("absent or empty")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// normalize returns doc as JSON decoding gives it, the only form the
// JSON-LD processor takes.
func normalize(doc map[string]any) (map[string]any, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "document is not JSON")
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "document is not JSON")
	}
	return out, nil
}

func loaderOr(l gold.DocumentLoader) gold.DocumentLoader {
	if l != nil {
		return l
	}
	return ld.Default()
}

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
	return &verifier.PublicKey{Type: did.TypeBls12381G2Key2020, Value: pub.Bytes()}, nil
}

// recordingLoader remembers the first error of the loader it wraps.
type recordingLoader struct {
	gold.DocumentLoader
	err error
}

func (r *recordingLoader) LoadDocument(u string) (*gold.RemoteDocument, error) {
	d, err := r.DocumentLoader.LoadDocument(u)
	if err != nil && r.err == nil {
		r.err = err
	}
	return d, err
}

// DIDKeyResolver returns a KeyResolver that resolves a verification
// method's DID with r and returns its BLS12-381 G2 key, after checking
// that the DID document authorizes the method for rel.
func DIDKeyResolver(r did.Resolver, rel did.Relationship) KeyResolver {
	return func(ctx context.Context, vm string) (*bls.PublicKey, error) {
		id, _, ok := strings.Cut(vm, "#")
		if !ok || !strings.HasPrefix(id, "did:") {
			return nil, errkind.Field(errkind.Invalid, "verificationMethod", "%q is not a DID URL with a fragment", vm)
		}
		res, err := r.Resolve(ctx, id, did.ResolveOptions{})
		if err != nil {
			return nil, err
		}
		if res.Document == nil {
			return nil, errkind.New(errkind.NotFound, "DID %s resolved to no document", id)
		}
		if res.DocumentMetadata.Deactivated {
			return nil, errkind.New(errkind.Gone, "DID %s is deactivated", id)
		}
		if !res.Document.Authorizes(rel, vm) {
			return nil, errkind.New(errkind.Forbidden, "%s is not authorized for %s by its DID document", vm, rel)
		}
		m, ok := res.Document.VerificationMethodByID(vm)
		if !ok {
			return nil, errkind.New(errkind.NotFound, "DID document of %s has no verification method %s", id, vm)
		}
		pub, err := m.PublicKey()
		if err != nil {
			return nil, err
		}
		k, ok := pub.(*bls.PublicKey)
		if !ok {
			return nil, errkind.New(errkind.Unsupported, "%s is a %T key; BBS+ proofs need a BLS12-381 G2 key", vm, pub)
		}
		return k, nil
	}
}
