package dataintegrity

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/vc/ld"
)

// benchCredential is a credential as Urbis issues it in the guide: the
// VC 2.0 context and the undefined-terms context for its own claims.
func benchCredential() map[string]any {
	return map[string]any{
		"@context":  []any{ld.CredentialsV2, ld.UndefinedTermsV2},
		"id":        "urn:uuid:9a8e3c0e-3f4e-4c4b-9d51-0c1f5a1c2d3e",
		"type":      []any{"VerifiableCredential", "ResidentCredential"},
		"issuer":    "did:example:issuer",
		"validFrom": "2026-03-01T12:30:45Z",
		"credentialSubject": map[string]any{
			"id": "did:example:ada", "name": "Ada Lovelace", "district": "Eixample", "birthYear": 1815,
			"address": map[string]any{"street": "Carrer de Mallorca 401", "locality": "Barcelona"},
		},
	}
}

func benchKey(b *testing.B) (ed25519.PrivateKey, string, KeyResolver) {
	b.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	id, err := did.NewKey(pub)
	if err != nil {
		b.Fatal(err)
	}
	return priv, id.String() + "#" + id.ID, DIDKeyResolver(did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}), did.AssertionMethod)
}

var benchCreated = time.Date(2026, 3, 1, 12, 30, 45, 0, time.UTC)

func BenchmarkSignEdDSARDFC2022(b *testing.B) {
	ctx, loader := context.Background(), ld.Default()
	priv, vm, _ := benchKey(b)
	doc := benchCredential()
	for b.Loop() {
		if _, err := Sign(ctx, doc, ProofOptions{VerificationMethod: vm, Created: benchCreated}, priv, loader); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyEdDSARDFC2022(b *testing.B) {
	ctx, loader := context.Background(), ld.Default()
	priv, vm, keys := benchKey(b)
	signed, err := Sign(ctx, benchCredential(), ProofOptions{VerificationMethod: vm, Created: benchCreated}, priv, loader)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Verify(ctx, signed, keys, loader); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyPresentation verifies the holder's proof of a VC 2.0
// presentation of one credential.
func BenchmarkVerifyPresentation(b *testing.B) {
	ctx, loader := context.Background(), ld.Default()
	priv, vm, _ := benchKey(b)
	cred, err := Sign(ctx, benchCredential(), ProofOptions{VerificationMethod: vm, Created: benchCreated}, priv, loader)
	if err != nil {
		b.Fatal(err)
	}
	holder, hvm, _ := benchKey(b)
	vp := map[string]any{"@context": []any{ld.CredentialsV2}, "type": []any{"VerifiablePresentation"}, "verifiableCredential": []any{cred}}
	signed, err := Sign(ctx, vp, ProofOptions{VerificationMethod: hvm, ProofPurpose: "authentication", Challenge: "c-1"}, holder, loader)
	if err != nil {
		b.Fatal(err)
	}
	keys := DIDKeyResolver(did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}), did.Authentication)
	for b.Loop() {
		if _, err := Verify(ctx, signed, keys, loader); err != nil {
			b.Fatal(err)
		}
	}
}

func benchCredentialV1() map[string]any {
	c := benchCredential()
	c["@context"] = []any{ld.CredentialsV1, ld.CredentialsExamplesV2}
	delete(c, "validFrom")
	c["issuanceDate"] = "2026-03-01T12:30:45Z"
	return c
}

func BenchmarkSignEd25519Signature2020(b *testing.B) {
	ctx, loader := context.Background(), ld.Default()
	priv, vm, _ := benchKey(b)
	doc := benchCredentialV1()
	for b.Loop() {
		if _, err := SignEd25519Signature2020(ctx, doc, ProofOptions{VerificationMethod: vm, Created: benchCreated}, priv, loader); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyEd25519Signature2020(b *testing.B) {
	ctx, loader := context.Background(), ld.Default()
	priv, vm, keys := benchKey(b)
	signed, err := SignEd25519Signature2020(ctx, benchCredentialV1(), ProofOptions{VerificationMethod: vm, Created: benchCreated}, priv, loader)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Verify(ctx, signed, keys, loader); err != nil {
			b.Fatal(err)
		}
	}
}
