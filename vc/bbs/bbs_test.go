package bbs

import (
	"context"
	"crypto"
	"crypto/sha256"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/aries-framework-go/pkg/crypto/primitive/bbs12381g2pub"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/bls"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/ld"
)

// testKey is a BLS12-381 G2 key that signs as a key in custody does
// (kms.Signer of a Bls12381G2 key): the messages one per line. The
// custody key itself is tested in kms and through the API.
type testKey struct {
	priv []byte
	pub  *bls.PublicKey
}

func newTestKey(t *testing.T) *testKey {
	t.Helper()
	pub, priv, err := bbs12381g2pub.GenerateKeyPair(sha256.New, nil)
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := pub.Marshal()
	k, err := bls.ParsePublicKey(pb)
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := priv.Marshal()
	return &testKey{priv: sb, pub: k}
}

func (k *testKey) Public() crypto.PublicKey { return k.pub }

func (k *testKey) Sign(_ io.Reader, msgs []byte, _ crypto.SignerOpts) ([]byte, error) {
	var m [][]byte
	for _, l := range strings.Split(string(msgs), "\n") {
		if l != "" {
			m = append(m, []byte(l))
		}
	}
	return bbs12381g2pub.New().Sign(m, k.priv)
}

func credential(version string) map[string]any {
	c := map[string]any{
		"type":              []any{"VerifiableCredential", "ResidentCredential"},
		"issuer":            "did:example:issuer",
		"credentialSubject": map[string]any{"id": "did:example:alice", "givenName": "Alice", "familyName": "Example", "birthDate": "1990-01-01"},
	}
	if version == "1.1" {
		c["@context"] = []any{ld.CredentialsV1, ld.CredentialsExamplesV2}
		c["issuanceDate"] = "2026-03-01T12:30:45Z"
	} else {
		c["@context"] = []any{ld.CredentialsV2, ld.CredentialsExamplesV2}
		c["validFrom"] = "2026-03-01T12:30:45Z"
	}
	return c
}

func frame(version string) map[string]any {
	f := map[string]any{
		"@context":  credential(version)["@context"],
		"type":      []any{"VerifiableCredential", "ResidentCredential"},
		"@explicit": true,
		"issuer":    map[string]any{},
		"credentialSubject": map[string]any{
			"@explicit": true,
			"givenName": map[string]any{},
		},
	}
	if version == "1.1" {
		f["issuanceDate"] = map[string]any{}
	} else {
		f["validFrom"] = map[string]any{}
	}
	return f
}

func TestSignDeriveVerify(t *testing.T) {
	for _, version := range []string{"1.1", "2.0"} {
		t.Run(version, func(t *testing.T) {
			ctx := context.Background()
			key := newTestKey(t)
			id, err := did.NewKey(key.pub)
			if err != nil {
				t.Fatal(err)
			}
			vm := id.String() + "#" + id.ID
			keys := DIDKeyResolver(did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}), did.AssertionMethod)
			signed, err := Sign(ctx, credential(version), dataintegrity.ProofOptions{VerificationMethod: vm, Created: time.Date(2026, 3, 1, 12, 30, 45, 0, time.UTC)}, key, nil)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if p := signed["proof"].(map[string]any); p["type"] != TypeSignature || p["verificationMethod"] != vm {
				t.Errorf("proof = %v; want a %s by %s", p, TypeSignature, vm)
			}
			if !slices.Contains(signed["@context"].([]any), any(Context)) {
				t.Errorf("@context = %v; want %s added", signed["@context"], Context)
			}
			if _, err := Verify(ctx, signed, keys, nil); err != nil {
				t.Fatalf("Verify(signed): %v", err)
			}
			derived, err := Derive(ctx, signed, frame(version), []byte("nonce-1"), keys, nil)
			if err != nil {
				t.Fatalf("Derive: %v", err)
			}
			sub := derived["credentialSubject"].(map[string]any)
			if sub["givenName"] != "Alice" || sub["familyName"] != nil || sub["birthDate"] != nil {
				t.Errorf("derived credentialSubject = %v; want givenName only", sub)
			}
			p := derived["proof"].(map[string]any)
			if p["type"] != TypeProof {
				t.Errorf("derived proof = %v; want %s", p, TypeProof)
			}
			res, err := Verify(ctx, derived, keys, nil)
			if err != nil {
				t.Fatalf("Verify(derived): %v\n%v", err, derived)
			}
			if len(res.Proofs) != 1 || res.Proofs[0].VerificationMethod != vm || res.Proofs[0].ProofPurpose != "assertionMethod" {
				t.Errorf("Verify(derived) = %+v; want one assertionMethod proof by %s", res, vm)
			}
			sub["givenName"] = "Mallory"
			if _, err := Verify(ctx, derived, keys, nil); !errors.Is(err, errkind.Invalid) {
				t.Errorf("Verify(tampered derived) error = %v; want Invalid", err)
			}
			signed["credentialSubject"].(map[string]any)["birthDate"] = "2000-01-01"
			if _, err := Verify(ctx, signed, keys, nil); !errors.Is(err, errkind.Invalid) {
				t.Errorf("Verify(tampered signed) error = %v; want Invalid", err)
			}
		})
	}
}

func TestDeriveRefuses(t *testing.T) {
	ctx := context.Background()
	key := newTestKey(t)
	id, _ := did.NewKey(key.pub)
	vm := id.String() + "#" + id.ID
	keys := DIDKeyResolver(did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}), did.AssertionMethod)
	signed, err := Sign(ctx, credential("1.1"), dataintegrity.ProofOptions{VerificationMethod: vm, Created: time.Now()}, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	derived, err := Derive(ctx, signed, frame("1.1"), nil, keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	other := newTestKey(t)
	otherKeys := func(context.Context, string) (*bls.PublicKey, error) { return other.pub, nil }
	unknownFrame := frame("1.1")
	unknownFrame["@context"] = []any{"https://example.com/unknown/v1"}
	noNonce := copyDoc(derived)
	noNonce["proof"].(map[string]any)["nonce"] = "bm9uY2UtMg=="
	tests := []struct {
		name  string
		run   func() error
		kind  errkind.Kind
		field string
	}{
		{"no credential", func() error { _, err := Derive(ctx, nil, frame("1.1"), nil, keys, nil); return err }, errkind.Invalid, "/verifiableCredential"},
		{"no frame", func() error { _, err := Derive(ctx, signed, nil, nil, keys, nil); return err }, errkind.Invalid, "/frame"},
		{"frame without context", func() error { _, err := Derive(ctx, signed, map[string]any{"type": "X"}, nil, keys, nil); return err }, errkind.Invalid, "/frame/@context"},
		{"unsigned", func() error { _, err := Derive(ctx, credential("1.1"), frame("1.1"), nil, keys, nil); return err }, errkind.Invalid, "/verifiableCredential/proof"},
		{"derived again", func() error { _, err := Derive(ctx, derived, frame("1.1"), nil, keys, nil); return err }, errkind.Invalid, "/verifiableCredential/proof"},
		{"unknown frame context", func() error { _, err := Derive(ctx, signed, unknownFrame, nil, keys, nil); return err }, errkind.Invalid, ""},
		{"another key", func() error { _, err := Derive(ctx, signed, frame("1.1"), nil, otherKeys, nil); return err }, errkind.Unprocessable, ""},
		{"derived, another key", func() error { _, err := Verify(ctx, derived, otherKeys, nil); return err }, errkind.Invalid, "/proof/proofValue"},
		{"derived, other nonce", func() error { _, err := Verify(ctx, noNonce, keys, nil); return err }, errkind.Invalid, "/proof/proofValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			var e *errkind.Error
			if !errors.As(err, &e) || e.Kind != tt.kind || (tt.field != "" && e.Field != tt.field) {
				t.Errorf("error = %v; want %s on %q", err, tt.kind, tt.field)
			}
		})
	}
}

func copyDoc(m map[string]any) map[string]any {
	out, _ := normalize(m)
	return out
}
