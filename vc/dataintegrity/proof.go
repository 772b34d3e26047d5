package dataintegrity

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/btcsuite/btcutil/base58"
	jsonld "github.com/piprate/json-gold/ld"

	"github.com/urbis-id/urbis/internal/edsig"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/ld"
)

// Proof types and cryptosuites.
const (
	TypeDataIntegrityProof   = "DataIntegrityProof"
	TypeEd25519Signature2020 = "Ed25519Signature2020"
	SuiteEdDSARDFC2022       = "eddsa-rdfc-2022"
)

// Error codes of the Data Integrity specification, set on errors with
// errkind's WithCode.
const (
	codeGeneration     = "PROOF_GENERATION_ERROR"
	codeVerification   = "PROOF_VERIFICATION_ERROR"
	codeTransformation = "PROOF_TRANSFORMATION_ERROR"
	codeMalformed      = "MALFORMED_PROOF_ERROR"
	codeConfiguration  = "INVALID_PROOF_CONFIGURATION"
)

// ProofOptions are the options of a new proof.
type ProofOptions struct {
	// VerificationMethod is the DID URL (or other URL) of the key that
	// signs, e.g. "did:key:z6Mk...#z6Mk...". Required.
	VerificationMethod string
	// ProofPurpose is the relationship the key must have to its
	// controller; "assertionMethod" when empty.
	ProofPurpose string
	// Created is the proof's creation time, written in whole seconds
	// (UTC); zero leaves "created" out. It comes from the caller's clock.
	Created time.Time
	// Expires, when not zero, is written as "expires".
	Expires time.Time
	// Challenge and Domain bind a presentation proof to one request.
	Challenge string
	Domain    string
}

// KeyResolver returns the Ed25519 public key of a verification method,
// having checked that its controller authorizes it for the proof's
// purpose (see DIDKeyResolver).
type KeyResolver func(ctx context.Context, verificationMethod string) (ed25519.PublicKey, error)

// Sign returns a copy of doc secured with an eddsa-rdfc-2022 Data
// Integrity proof made with signer, whose public key must be Ed25519.
// doc must be a JSON-LD document whose @context defines the proof's
// terms (the VC 2.0 context, or the Data Integrity v2 context) and every
// term of its own: a document with a term that JSON-LD processing drops
// is refused (see CheckTermsForSigning), since the proof would not cover
// it. A proof already present is kept, making a proof set; each proof
// signs the document without its proofs.
func Sign(ctx context.Context, doc map[string]any, opts ProofOptions, signer crypto.Signer, loader jsonld.DocumentLoader) (map[string]any, error) {
	if doc == nil {
		return nil, errkind.New(errkind.Invalid, "document is null")
	}
	if signer == nil {
		return nil, errkind.New(errkind.Invalid, "no signer")
	}
	pub, ok := signer.Public().(ed25519.PublicKey)
	if !ok {
		return nil, errkind.New(errkind.Unsupported, "eddsa-rdfc-2022 signs with an Ed25519 key, not %T", signer.Public())
	}
	if opts.VerificationMethod == "" {
		return nil, errkind.Field(errkind.Invalid, "verificationMethod", "is required")
	}
	doc, err := normalize(doc)
	if err != nil {
		return nil, err
	}
	if err := checkContext(doc); err != nil {
		return nil, err
	}
	proof := map[string]any{
		"type":               TypeDataIntegrityProof,
		"cryptosuite":        SuiteEdDSARDFC2022,
		"verificationMethod": opts.VerificationMethod,
		"proofPurpose":       opts.ProofPurpose,
	}
	if opts.ProofPurpose == "" {
		proof["proofPurpose"] = "assertionMethod"
	}
	if !opts.Created.IsZero() {
		proof["created"] = opts.Created.UTC().Format(time.RFC3339)
	}
	if !opts.Expires.IsZero() {
		proof["expires"] = opts.Expires.UTC().Format(time.RFC3339)
	}
	if opts.Challenge != "" {
		proof["challenge"] = opts.Challenge
	}
	if opts.Domain != "" {
		proof["domain"] = opts.Domain
	}
	unsecured := withoutProof(doc)
	hash, err := hashData(ctx, unsecured, proof, loader)
	var dropped *ld.DroppedError
	if errors.As(err, &dropped) {
		return nil, signingError(dropped)
	}
	if err != nil {
		return nil, err
	}
	sig, err := signer.Sign(rand.Reader, hash, crypto.Hash(0))
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "sign").WithCode(codeGeneration)
	}
	if !edsig.Verify(pub, hash, sig) {
		return nil, errkind.New(errkind.Internal, "the signer's signature does not verify with its public key").WithCode(codeGeneration)
	}
	proof["proofValue"] = "z" + base58.Encode(sig)

	out := copyMap(doc)
	switch old := doc["proof"].(type) {
	case nil:
		out["proof"] = proof
	case []any:
		out["proof"] = append(deepCopy(old).([]any), proof)
	default:
		out["proof"] = []any{deepCopy(old), proof}
	}
	return out, nil
}

// normalize returns doc as JSON decoding gives it (numbers as float64,
// objects as map[string]any), the only form the JSON-LD processor takes:
// a Go int or json.Number inside would make it fail.
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

// checkContext makes sure doc's @context defines the Data Integrity
// terms, without which the proof would canonicalize to nothing.
func checkContext(doc map[string]any) error {
	list, ok := doc["@context"].([]any)
	if !ok {
		list = []any{doc["@context"]}
	}
	for _, c := range list {
		switch c {
		case ld.CredentialsV2, ld.DataIntegrityV2, ld.DataIntegrityV1:
			return nil
		}
	}
	return errkind.Field(errkind.Invalid, "/@context", "must include %q or %q so that the proof's terms are defined", ld.CredentialsV2, ld.DataIntegrityV2).WithCode(codeConfiguration)
}

// hashData runs the eddsa-rdfc-2022 transformation, proof configuration
// and hashing algorithms: SHA-256 of the canonical proof configuration
// followed by SHA-256 of the canonical document. proof must not hold a
// proofValue.
func hashData(ctx context.Context, unsecured, proof map[string]any, loader jsonld.DocumentLoader) ([]byte, error) {
	canonDoc, canonProof, err := transform(ctx, unsecured, proof, loader)
	if err != nil {
		return nil, err
	}
	ph := sha256.Sum256([]byte(canonProof))
	dh := sha256.Sum256([]byte(canonDoc))
	return append(ph[:], dh[:]...), nil
}

// transform returns the canonical document and canonical proof
// configuration (vc-di-eddsa §3.3.2 to §3.3.5).
func transform(ctx context.Context, unsecured, proof map[string]any, loader jsonld.DocumentLoader) (canonDoc, canonProof string, err error) {
	config, err := proofConfig(proof, unsecured["@context"])
	if err != nil {
		return "", "", err
	}
	if canonProof, err = canonicalize(ctx, config, loader, "proof configuration"); err != nil {
		var dropped *ld.DroppedError
		if errors.As(err, &dropped) {
			err = rebase(dropped, "", "/proof")
		}
		return "", "", err
	}
	if canonDoc, err = canonicalize(ctx, unsecured, loader, "document"); err != nil {
		return "", "", err
	}
	return canonDoc, canonProof, nil
}

// proofConfig is the Proof Configuration algorithm (vc-di-eddsa §3.3.5):
// the proof options with the document's @context, checked.
func proofConfig(proof map[string]any, docContext any) (map[string]any, error) {
	if proof["type"] != TypeDataIntegrityProof || proof["cryptosuite"] != SuiteEdDSARDFC2022 {
		return nil, errkind.Field(errkind.Invalid, "/proof", "type %v with cryptosuite %v is not DataIntegrityProof with eddsa-rdfc-2022", proof["type"], proof["cryptosuite"]).WithCode(codeConfiguration)
	}
	for _, name := range []string{"created", "expires"} {
		if v, ok := proof[name]; ok {
			s, _ := v.(string)
			if !dateTimeStamp.MatchString(s) {
				return nil, errkind.Field(errkind.Invalid, "/proof/"+name, "%v is not an XML Schema dateTimeStamp such as \"2024-01-01T00:00:00Z\"", v).WithCode(codeMalformed)
			}
		}
	}
	config := copyMap(proof)
	delete(config, "proofValue")
	if docContext != nil {
		config["@context"] = deepCopy(docContext)
	}
	return config, nil
}

var dateTimeStamp = regexp.MustCompile(`^-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$`)

// withoutProof returns a shallow copy of doc without its proof member.
func withoutProof(doc map[string]any) map[string]any {
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		if k != "proof" {
			out[k] = v
		}
	}
	return out
}

// decodeProofValue decodes a multibase base58btc Ed25519 signature.
func decodeProofValue(p string, v any) ([]byte, error) {
	s, ok := v.(string)
	if !ok || s == "" {
		return nil, errkind.Field(errkind.Invalid, p, "is required: the multibase (base58btc) signature").WithCode(codeMalformed)
	}
	if s[0] != 'z' {
		return nil, errkind.Field(errkind.Invalid, p, "must be multibase base58btc, starting with \"z\", not %q", s[:1]).WithCode(codeMalformed)
	}
	sig := base58.Decode(s[1:])
	if len(sig) != ed25519.SignatureSize {
		return nil, errkind.Field(errkind.Invalid, p, "decodes to %d bytes; an Ed25519 signature has %d", len(sig), ed25519.SignatureSize).WithCode(codeMalformed)
	}
	return sig, nil
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopy(v)
	}
	return out
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return copyMap(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// pointer returns the JSON pointer of proof i ("/proof" for a single
// proof) and member name.
func proofPointer(i int, single bool, name string) string {
	p := "/proof"
	if !single {
		p = fmt.Sprintf("/proof/%d", i)
	}
	if name != "" {
		p += "/" + name
	}
	return p
}
