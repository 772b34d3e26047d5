package dataintegrity

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/ld"
)

func TestSignEd25519Signature2020(t *testing.T) {
	ctx := context.Background()
	priv, vm := newDIDKey(t)
	keys := DIDKeyResolver(did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}), did.AssertionMethod)
	created := time.Date(2026, 3, 1, 12, 30, 45, 0, time.UTC)
	doc := map[string]any{
		"@context":          []any{ld.CredentialsV1},
		"type":              []any{"VerifiableCredential"},
		"issuer":            "did:example:issuer",
		"issuanceDate":      "2026-03-01T12:30:45Z",
		"credentialSubject": map[string]any{"id": "did:example:alice"},
	}
	signed, err := SignEd25519Signature2020(ctx, doc, ProofOptions{VerificationMethod: vm, Created: created}, priv, nil)
	if err != nil {
		t.Fatalf("SignEd25519Signature2020: %v", err)
	}
	if _, ok := doc["proof"]; ok {
		t.Fatal("SignEd25519Signature2020 changed its input")
	}
	if got := signed["@context"].([]any); len(got) != 2 || got[1] != ld.Ed25519Signature2020 {
		t.Errorf("@context = %v; want the VC 1.1 context and the suite's", got)
	}
	proof := signed["proof"].(map[string]any)
	if proof["type"] != TypeEd25519Signature2020 || proof["verificationMethod"] != vm || proof["proofPurpose"] != "assertionMethod" || proof["created"] != "2026-03-01T12:30:45Z" {
		t.Errorf("proof = %v; want an Ed25519Signature2020 assertionMethod proof by %s created 2026-03-01T12:30:45Z", proof, vm)
	}
	if pv, _ := proof["proofValue"].(string); len(pv) < 80 || pv[0] != 'z' {
		t.Errorf("proofValue = %q; want a multibase base58btc signature", pv)
	}
	res, err := Verify(ctx, signed, keys, nil)
	if err != nil || len(res.Proofs) != 1 || res.Proofs[0].Type != TypeEd25519Signature2020 {
		t.Fatalf("Verify = %+v, %v; want one Ed25519Signature2020 proof verified", res, err)
	}
	tampered := copyMap(signed)
	tampered["credentialSubject"].(map[string]any)["id"] = "did:example:mallory"
	if _, err := Verify(ctx, tampered, keys, nil); !errors.Is(err, errkind.Invalid) {
		t.Errorf("Verify(tampered) error = %v; want Invalid", err)
	}

	// Refusals.
	_, rsaLike := newDIDKey(t)
	for name, tt := range map[string]struct {
		doc  map[string]any
		opts ProofOptions
		want errkind.Kind
	}{
		"no verification method": {doc, ProofOptions{}, errkind.Invalid},
		"already signed":         {signed, ProofOptions{VerificationMethod: rsaLike}, errkind.Invalid},
		"unknown context":        {map[string]any{"@context": []any{"https://example.com/unknown"}, "type": "X"}, ProofOptions{VerificationMethod: vm}, errkind.Invalid},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := SignEd25519Signature2020(ctx, tt.doc, tt.opts, priv, nil); !errors.Is(err, tt.want) {
				t.Errorf("error = %v; want %s", err, tt.want)
			}
		})
	}
}
