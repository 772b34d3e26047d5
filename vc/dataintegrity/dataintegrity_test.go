package dataintegrity

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

// newDIDKey returns a fresh Ed25519 key and its did:key verification
// method.
func newDIDKey(t *testing.T) (ed25519.PrivateKey, string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := did.NewKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return priv, id.String() + "#" + id.ID
}

func unsigned(t *testing.T) map[string]any {
	return readJSON(t, filepath.Join("testdata", "unsigned.json"))
}

func TestSignVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	priv, vm := newDIDKey(t)
	keys := DIDKeyResolver(did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}), did.AssertionMethod)
	created := time.Date(2026, 3, 1, 12, 30, 45, 999, time.UTC)
	doc := unsigned(t)
	signed, err := Sign(ctx, doc, ProofOptions{VerificationMethod: vm, Created: created}, priv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := doc["proof"]; ok {
		t.Fatal("Sign changed its input")
	}
	proof := signed["proof"].(map[string]any)
	if proof["created"] != "2026-03-01T12:30:45Z" || proof["proofPurpose"] != "assertionMethod" {
		t.Errorf("proof = %v; want created in whole seconds and purpose assertionMethod", proof)
	}
	res, err := Verify(ctx, signed, keys, nil)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := res.Check(Expect{ProofPurpose: "assertionMethod", Now: created}); err != nil {
		t.Errorf("Check: %v", err)
	}

	// A second proof makes a proof set; both verify.
	priv2, vm2 := newDIDKey(t)
	set, err := Sign(ctx, signed, ProofOptions{VerificationMethod: vm2, ProofPurpose: "authentication", Challenge: "c-1", Domain: "https://verifier.example"}, priv2, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err = Verify(ctx, set, func(ctx context.Context, m string) (ed25519.PublicKey, error) {
		return priv2.Public().(ed25519.PublicKey), nil
	}, nil)
	if err == nil {
		t.Fatalf("Verify with only the second key passed; want the first proof to fail")
	}
	keysAny := func(ctx context.Context, m string) (ed25519.PublicKey, error) {
		if m == vm {
			return priv.Public().(ed25519.PublicKey), nil
		}
		return priv2.Public().(ed25519.PublicKey), nil
	}
	if res, err = Verify(ctx, set, keysAny, nil); err != nil {
		t.Fatalf("Verify(proof set): %v", err)
	}
	if len(res.Proofs) != 2 || res.Proofs[1].Challenge != "c-1" || res.Proofs[1].Domain != "https://verifier.example" {
		t.Errorf("Result = %+v", res)
	}

	// Verify checks signatures; the purpose a verifier needs is checked
	// with Result.Check.
	err = res.Check(Expect{ProofPurpose: "assertionMethod"})
	if e := new(errkind.Error); !errors.As(err, &e) || e.Code != "MISMATCHED_PROOF_PURPOSE_ERROR" || e.Field != "/proof/1/proofPurpose" {
		t.Errorf("Check(purpose) = %v; want MISMATCHED_PROOF_PURPOSE_ERROR on /proof/1/proofPurpose", err)
	}
}

func TestCheck(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	res := Result{Proofs: []ProofResult{{ProofPurpose: "authentication", Challenge: "abc", Domain: "d.example", Expires: now}}}
	tests := []struct {
		name string
		want Expect
		code string
	}{
		{"all good", Expect{ProofPurpose: "authentication", Challenge: "abc", Domain: "d.example", Now: now}, ""},
		{"challenge", Expect{Challenge: "xyz"}, "INVALID_CHALLENGE_ERROR"},
		{"domain", Expect{Domain: "other.example"}, "INVALID_DOMAIN_ERROR"},
		{"expired", Expect{Now: now.Add(time.Second)}, "PROOF_EXPIRED_ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := res.Check(tt.want)
			var e *errkind.Error
			switch {
			case tt.code == "" && err != nil:
				t.Errorf("Check = %v; want nil", err)
			case tt.code != "" && (!errors.As(err, &e) || e.Code != tt.code):
				t.Errorf("Check = %v; want code %s", err, tt.code)
			}
		})
	}
}

// TestVerifyFails changes a signed document or its proof and checks
// that verification fails with a clear reason.
func TestVerifyFails(t *testing.T) {
	ctx := context.Background()
	key := vectorKey(t, "testdata")
	pub := key.Public().(ed25519.PublicKey)
	signedPath := filepath.Join("testdata", "eddsa-rdfc-2022", "signedDataInt.json")
	proofOf := func(m map[string]any) map[string]any { return m["proof"].(map[string]any) }
	tests := []struct {
		name  string
		edit  func(m map[string]any)
		keys  KeyResolver
		kind  errkind.Kind
		field string
		msg   string
	}{
		{"subject changed", func(m map[string]any) { m["credentialSubject"].(map[string]any)["alumniOf"] = "Forgery U" }, nil, errkind.Invalid, "/proof/proofValue", "does not verify"},
		{"claim added", func(m map[string]any) { m["credentialSubject"].(map[string]any)["degree"] = "PhD" }, nil, errkind.Invalid, "/proof/proofValue", "does not verify"},
		{"validFrom changed", func(m map[string]any) { m["validFrom"] = "2022-01-01T00:00:00Z" }, nil, errkind.Invalid, "/proof/proofValue", "does not verify"},
		{"proof created changed", func(m map[string]any) { proofOf(m)["created"] = "2023-02-24T23:36:39Z" }, nil, errkind.Invalid, "/proof/proofValue", "does not verify"},
		{"proof purpose changed", func(m map[string]any) { proofOf(m)["proofPurpose"] = "authentication" }, nil, errkind.Invalid, "/proof/proofValue", "does not verify"},
		{"proofValue flipped", func(m map[string]any) {
			pv := proofOf(m)["proofValue"].(string)
			proofOf(m)["proofValue"] = pv[:10] + map[bool]string{true: "3", false: "2"}[pv[10] == '2'] + pv[11:]
		}, nil, errkind.Invalid, "/proof/proofValue", "does not verify"},
		{"other key", nil, func(context.Context, string) (ed25519.PublicKey, error) {
			p, _, _ := ed25519.GenerateKey(rand.Reader)
			return p, nil
		}, errkind.Invalid, "/proof/proofValue", "does not verify"},
		{"key not found", nil, func(context.Context, string) (ed25519.PublicKey, error) {
			return nil, errkind.New(errkind.NotFound, "no such key")
		}, errkind.NotFound, "", "no such key"},
		{"no proof", func(m map[string]any) { delete(m, "proof") }, nil, errkind.Invalid, "/proof", "no proof"},
		{"proofValue not multibase", func(m map[string]any) { proofOf(m)["proofValue"] = "abc" }, nil, errkind.Invalid, "/proof/proofValue", "base58btc"},
		{"proofValue short", func(m map[string]any) { proofOf(m)["proofValue"] = "z3FXQ" }, nil, errkind.Invalid, "/proof/proofValue", "bytes"},
		{"no verificationMethod", func(m map[string]any) { delete(proofOf(m), "verificationMethod") }, nil, errkind.Invalid, "/proof/verificationMethod", "is required"},
		{"bad created", func(m map[string]any) { proofOf(m)["created"] = "yesterday" }, nil, errkind.Invalid, "/proof/created", "dateTimeStamp"},
		{"other cryptosuite", func(m map[string]any) { proofOf(m)["cryptosuite"] = "ecdsa-rdfc-2019" }, nil, errkind.Unsupported, "/proof/cryptosuite", "not supported"},
		{"other type", func(m map[string]any) { proofOf(m)["type"] = "BbsBlsSignature2020" }, nil, errkind.Unsupported, "/proof/type", "not supported"},
		{"proof chain", func(m map[string]any) { proofOf(m)["previousProof"] = "urn:x" }, nil, errkind.Unsupported, "/proof/previousProof", "chains"},
		{"unknown context", func(m map[string]any) {
			m["@context"] = []any{"https://www.w3.org/ns/credentials/v2", "https://evil.example/context.jsonld"}
		}, nil, errkind.Invalid, "", `unknown JSON-LD context "https://evil.example/context.jsonld"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := readJSON(t, signedPath)
			if tt.edit != nil {
				tt.edit(doc)
			}
			keys := tt.keys
			if keys == nil {
				keys = staticKey(pub)
			}
			_, err := Verify(ctx, doc, keys, nil)
			if err == nil {
				t.Fatal("Verify passed; want an error")
			}
			var e *errkind.Error
			if !errors.As(err, &e) {
				t.Fatalf("Verify error %v has no kind", err)
			}
			if errkind.KindOf(err) != tt.kind || e.Field != tt.field || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Verify error = %v (kind %s, field %q); want kind %s, field %q, message with %q", err, errkind.KindOf(err), e.Field, tt.kind, tt.field, tt.msg)
			}
		})
	}
}

func TestSignRefuses(t *testing.T) {
	ctx := context.Background()
	priv, vm := newDIDKey(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		doc  func(m map[string]any)
		opts ProofOptions
		key  crypto.Signer
		kind errkind.Kind
		msg  string
	}{
		{"no verification method", nil, ProofOptions{}, priv, errkind.Invalid, "verificationMethod: is required"},
		{"rsa key", nil, ProofOptions{VerificationMethod: vm}, rsaKey, errkind.Unsupported, "Ed25519"},
		{"v1 context without data integrity", func(m map[string]any) {
			m["@context"] = []any{"https://www.w3.org/2018/credentials/v1"}
		}, ProofOptions{VerificationMethod: vm}, priv, errkind.Invalid, "must include"},
		{"unknown context", func(m map[string]any) {
			m["@context"] = []any{"https://www.w3.org/ns/credentials/v2", "https://schema.org/"}
		}, ProofOptions{VerificationMethod: vm}, priv, errkind.Invalid, "Urbis loads no context from the network"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := unsigned(t)
			if tt.doc != nil {
				tt.doc(doc)
			}
			_, err := Sign(ctx, doc, tt.opts, tt.key, nil)
			if errkind.KindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Sign error = %v; want kind %s with %q", err, tt.kind, tt.msg)
			}
		})
	}
}

func TestDIDKeyResolver(t *testing.T) {
	ctx := context.Background()
	priv, vm := newDIDKey(t)
	r := did.NewResolver(did.ResolverConfig{}, did.KeyMethod{})
	pub, err := DIDKeyResolver(r, did.AssertionMethod)(ctx, vm)
	if err != nil || !pub.Equal(priv.Public()) {
		t.Errorf("resolve %s = %x, %v; want the key", vm, pub, err)
	}
	for _, bad := range []string{"https://example.com#k", "did:key:z6Mk"} {
		if _, err := DIDKeyResolver(r, did.AssertionMethod)(ctx, bad); err == nil {
			t.Errorf("resolve %q passed; want an error", bad)
		}
	}
	other := strings.Split(vm, "#")[0] + "#other"
	if _, err := DIDKeyResolver(r, did.AssertionMethod)(ctx, other); !errors.Is(err, errkind.Forbidden) && !errors.Is(err, errkind.NotFound) {
		t.Errorf("resolve %s = %v; want Forbidden or NotFound", other, err)
	}
}

// TestGoNumberTypes signs a document built in Go with int and json.Number
// values: they are the same JSON numbers as the float64 that JSON decoding
// gives, so the proof verifies in either form.
func TestGoNumberTypes(t *testing.T) {
	ctx := context.Background()
	priv, vm := newDIDKey(t)
	keys := DIDKeyResolver(did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}), did.AssertionMethod)
	withGo := unsigned(t)
	subject := withGo["credentialSubject"].(map[string]any)
	subject["age"] = 42
	subject["score"] = json.Number("7")
	signed, err := Sign(ctx, withGo, ProofOptions{VerificationMethod: vm}, priv, nil)
	if err != nil {
		t.Fatalf("Sign with Go int and json.Number values: got %v; want a proof", err)
	}
	b, _ := json.Marshal(signed)
	var decoded map[string]any
	if err := json.Unmarshal(b, &decoded); err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]map[string]any{"as signed": signed, "decoded": decoded} {
		if _, err := Verify(ctx, doc, keys, nil); err != nil {
			t.Errorf("Verify %s: got %v; want nil", name, err)
		}
	}
}
