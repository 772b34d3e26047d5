package dataintegrity

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcutil/base58"
	ariesjsonld "github.com/hyperledger/aries-framework-go/pkg/doc/signature/jsonld"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/proof"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/signer"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/suite"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/suite/ed25519signature2020"
	jsonld "github.com/piprate/json-gold/ld"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/ld"
)

// residentCredential is a VC 2.0 credential with the given contexts
// after the VC 2.0 one, whose type and claims VC 2.0 does not define.
func residentCredential(contexts ...any) map[string]any {
	return map[string]any{
		"@context":  append([]any{ld.CredentialsV2}, contexts...),
		"id":        "urn:uuid:9a8e3c0e-3f4e-4c4b-9d51-0c1f5a1c2d3e",
		"type":      []any{"VerifiableCredential", "ResidentCredential"},
		"issuer":    "did:example:issuer",
		"validFrom": "2026-03-01T12:30:45Z",
		"credentialSubject": map[string]any{
			"id": "did:example:ada", "name": "Ada Lovelace", "district": "Eixample",
			"address": map[string]any{"street": "Carrer de Mallorca 401"},
		},
	}
}

// signUnchecked makes an eddsa-rdfc-2022 proof the way Urbis did before
// its safe mode: over json-gold's canonical form, which drops the terms
// no context defines.
func signUnchecked(t *testing.T, doc map[string]any, priv ed25519.PrivateKey, vm string) map[string]any {
	t.Helper()
	doc, err := normalize(doc)
	if err != nil {
		t.Fatal(err)
	}
	canon := func(m map[string]any) []byte {
		opts := jsonld.NewJsonLdOptions("")
		opts.Algorithm = "URDNA2015"
		opts.Format = "application/n-quads"
		opts.DocumentLoader = ld.Default()
		out, err := jsonld.NewJsonLdProcessor().Normalize(m, opts)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256([]byte(out.(string)))
		return h[:]
	}
	p := map[string]any{
		"type": TypeDataIntegrityProof, "cryptosuite": SuiteEdDSARDFC2022, "verificationMethod": vm,
		"proofPurpose": "assertionMethod", "created": "2026-03-01T12:30:45Z",
	}
	config := copyMap(p)
	config["@context"] = doc["@context"]
	hash := append(canon(config), canon(doc)...)
	p["proofValue"] = "z" + base58.Encode(ed25519.Sign(priv, hash))
	out := copyMap(doc)
	out["proof"] = p
	return out
}

func TestSignRefusesUndefinedTerms(t *testing.T) {
	ctx := context.Background()
	priv, vm := newDIDKey(t)
	vp := map[string]any{
		"@context": []any{ld.CredentialsV2}, "type": []any{"VerifiablePresentation"},
		"verifiableCredential": []any{residentCredential(map[string]any{"ResidentCredential": "https://example.org/#Resident", "name": "https://schema.org/name", "address": "https://schema.org/address", "street": "https://schema.org/street"})},
	}
	tests := []struct {
		name, field string
		doc         map[string]any
		sign        func(context.Context, map[string]any, ProofOptions, crypto.Signer, jsonld.DocumentLoader) (map[string]any, error)
	}{
		{"eddsa-rdfc-2022 claim", "/credentialSubject/address", residentCredential(), Sign},
		{"eddsa-rdfc-2022 credential in a presentation", "/verifiableCredential/0/credentialSubject/district", vp, Sign},
		{"Ed25519Signature2020", "/credentialSubject/address", func() map[string]any {
			c := residentCredential()
			c["@context"] = []any{ld.CredentialsV1}
			delete(c, "validFrom")
			c["issuanceDate"] = "2026-03-01T12:30:45Z"
			return c
		}(), SignEd25519Signature2020},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.sign(ctx, tt.doc, ProofOptions{VerificationMethod: vm, Created: benchCreated}, priv, nil)
			var e *errkind.Error
			if !errors.As(err, &e) || e.Kind != errkind.Invalid || e.Field != tt.field {
				t.Fatalf("error = %v; want Invalid on %s", err, tt.field)
			}
			for _, want := range []string{"is not defined by the document's @context", "no proof would cover", ld.UndefinedTermsV2, ld.CredentialsExamplesV2} {
				if !strings.Contains(e.Msg, want) {
					t.Errorf("message %q; want it to say %q", e.Msg, want)
				}
			}
		})
	}
}

// TestVerifyUndefinedTerms verifies credentials whose proofs were made
// over canonical forms that drop their undefined terms: the proof check
// fails, naming the term, for the credential and for a copy with the
// term changed (which the signature alone would accept).
func TestVerifyUndefinedTerms(t *testing.T) {
	ctx := context.Background()
	priv, vm := newDIDKey(t)
	keys := DIDKeyResolver(did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}), did.AssertionMethod)
	c := residentCredential(map[string]any{"ResidentCredential": "https://example.org/#Resident", "name": "https://schema.org/name"})
	signed := signUnchecked(t, c, priv, vm)
	changed := copyMap(signed)
	changed["credentialSubject"].(map[string]any)["district"] = "Gracia"

	old := residentCredential()
	old["@context"] = []any{ld.CredentialsV1, ld.Ed25519Signature2020}
	delete(old, "validFrom")
	old["issuanceDate"] = "2026-03-01T12:30:45Z"
	old["type"] = []any{"VerifiableCredential"}
	b, _ := json.Marshal(old)
	created := benchCreated
	out, err := signer.New(ed25519signature2020.New(suite.WithSigner(AriesSigner{Key: priv, Algorithm: "EdDSA"}))).Sign(&signer.Context{
		SignatureType: TypeEd25519Signature2020, SignatureRepresentation: proof.SignatureProofValue, Created: &created,
		VerificationMethod: vm, Purpose: "assertionMethod",
	}, b, ariesjsonld.WithDocumentLoader(ld.Default()))
	if err != nil {
		t.Fatalf("aries signs: %v", err)
	}
	var ed2020 map[string]any
	if err := json.Unmarshal(out, &ed2020); err != nil {
		t.Fatal(err)
	}

	// Under the undefined-terms context a proof member of its own would
	// be defined (and signed); under explicit definitions it is not.
	withNote := signUnchecked(t, residentCredential(map[string]any{
		"ResidentCredential": "https://example.org/#Resident", "name": "https://schema.org/name", "district": "https://example.org/#district",
		"address": "https://schema.org/address", "street": "https://schema.org/street",
	}), priv, vm)
	withNote["proof"].(map[string]any)["note"] = "not signed"

	tests := []struct {
		name, field, term string
		doc               map[string]any
	}{
		{"eddsa-rdfc-2022", "/credentialSubject/address", `property "address"`, signed},
		{"eddsa-rdfc-2022 with the claim changed", "/credentialSubject/address", `property "district"`, changed},
		{"eddsa-rdfc-2022 proof member", "/proof/note", `property "note"`, withNote},
		{"Ed25519Signature2020", "/credentialSubject/address", `property "name"`, ed2020},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(ctx, tt.doc, keys, nil)
			var e *errkind.Error
			if !errors.As(err, &e) || e.Kind != errkind.Invalid || e.Field != tt.field {
				t.Fatalf("Verify error = %v; want Invalid on %s", err, tt.field)
			}
			for _, want := range []string{tt.term, "not defined by the credential's @context, so the proof does not cover"} {
				if !strings.Contains(e.Msg, want) {
					t.Errorf("message %q; want it to say %q", e.Msg, want)
				}
			}
		})
	}
}

// TestDefinedTermsVerify signs credentials whose terms are defined by
// the undefined-terms or the examples context, an inline context, or a
// VC 1.1 context: they verify, and changing a claim breaks the proof.
func TestDefinedTermsVerify(t *testing.T) {
	ctx := context.Background()
	priv, vm := newDIDKey(t)
	keys := DIDKeyResolver(did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}), did.AssertionMethod)
	v1 := residentCredential()
	v1["@context"] = []any{ld.CredentialsV1, ld.CredentialsExamplesV2}
	delete(v1, "validFrom")
	v1["issuanceDate"] = "2026-03-01T12:30:45Z"
	tests := []struct {
		name string
		doc  map[string]any
		sign func(context.Context, map[string]any, ProofOptions, crypto.Signer, jsonld.DocumentLoader) (map[string]any, error)
	}{
		{"undefined-terms/v2", residentCredential(ld.UndefinedTermsV2), Sign},
		{"examples/v2", residentCredential(ld.CredentialsExamplesV2), Sign},
		{"inline", residentCredential(map[string]any{"@vocab": "https://city.example/vocab#"}), Sign},
		{"Ed25519Signature2020 with examples/v2", v1, SignEd25519Signature2020},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signed, err := tt.sign(ctx, tt.doc, ProofOptions{VerificationMethod: vm, Created: time.Now()}, priv, nil)
			if err != nil {
				t.Fatalf("sign: %v", err)
			}
			if _, err := Verify(ctx, signed, keys, nil); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			for _, change := range []func(m map[string]any){
				func(m map[string]any) { m["credentialSubject"].(map[string]any)["district"] = "Gracia" },
				func(m map[string]any) {
					m["credentialSubject"].(map[string]any)["address"].(map[string]any)["street"] = "Carrer de Balmes 1"
				},
				func(m map[string]any) { m["type"] = []any{"VerifiableCredential", "AdminCredential"} },
			} {
				tampered := copyMap(signed)
				change(tampered)
				_, err := Verify(ctx, tampered, keys, nil)
				var e *errkind.Error
				if !errors.As(err, &e) || e.Kind != errkind.Invalid || !strings.Contains(e.Error(), "does not verify") {
					t.Errorf("Verify(tampered) error = %v; want Invalid: the signature does not verify", err)
				}
			}
		})
	}
}
