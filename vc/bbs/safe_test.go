package bbs

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	ariesjsonld "github.com/hyperledger/aries-framework-go/pkg/doc/signature/jsonld"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/proof"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/signer"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/suite"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/suite/bbsblssignature2020"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/ld"
)

// TestUndefinedTerms refuses to sign a credential whose claims no
// @context defines, and refuses to verify or derive from one signed
// without the check (by aries directly, as Urbis did before): the BBS+
// signature does not cover such claims.
func TestUndefinedTerms(t *testing.T) {
	ctx := context.Background()
	key := newTestKey(t)
	id, _ := did.NewKey(key.pub)
	vm := id.String() + "#" + id.ID
	keys := DIDKeyResolver(did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}), did.AssertionMethod)
	c := credential("2.0")
	c["@context"] = []any{ld.CredentialsV2}
	_, err := Sign(ctx, c, dataintegrity.ProofOptions{VerificationMethod: vm, Created: time.Now()}, key, nil)
	var e *errkind.Error
	if !errors.As(err, &e) || e.Kind != errkind.Invalid || e.Field != "/credentialSubject/birthDate" || !strings.Contains(e.Msg, ld.UndefinedTermsV2) {
		t.Errorf("Sign error = %v; want Invalid on /credentialSubject/birthDate, suggesting %s", err, ld.UndefinedTermsV2)
	}

	// aries refuses the relative IRI an undefined type becomes, not a
	// dropped claim.
	c["@context"] = []any{ld.CredentialsV2, Context, map[string]any{"ResidentCredential": "https://city.example/vocab#ResidentCredential"}}
	c["id"] = "urn:uuid:0f6c8e2a-5b1d-4c3e-9a7f-2d4b6c8e0a1b"
	b, _ := json.Marshal(c)
	created := time.Now()
	out, err := signer.New(bbsblssignature2020.New(suite.WithSigner(dataintegrity.AriesSigner{Key: key}))).Sign(&signer.Context{
		SignatureType: TypeSignature, SignatureRepresentation: proof.SignatureProofValue, Created: &created,
		VerificationMethod: vm, Purpose: "assertionMethod",
	}, b, ariesjsonld.WithDocumentLoader(ld.Default()))
	if err != nil {
		t.Fatalf("aries signs: %v", err)
	}
	var signed map[string]any
	if err := json.Unmarshal(out, &signed); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(ctx, signed, keys, nil); !errors.As(err, &e) || e.Kind != errkind.Invalid || e.Field != "/credentialSubject/birthDate" ||
		!strings.Contains(e.Msg, "so the proof does not cover") {
		t.Errorf("Verify error = %v; want Invalid on /credentialSubject/birthDate: the proof does not cover it", err)
	}
	f := frame("2.0")
	f["@context"] = signed["@context"]
	if _, err := Derive(ctx, signed, f, nil, keys, nil); !errors.As(err, &e) || e.Kind != errkind.Invalid || e.Field != "/verifiableCredential/credentialSubject/birthDate" {
		t.Errorf("Derive error = %v; want Invalid on /verifiableCredential/credentialSubject/birthDate", err)
	}
}
