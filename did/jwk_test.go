package did

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
)

func TestJWKRoundTrip(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keys := testKeys(t)
	for name, pub := range keys {
		t.Run(name, func(t *testing.T) {
			id, err := NewJWK(pub)
			if err != nil {
				t.Fatalf("NewJWK: got error %v; want nil", err)
			}
			if _, err := Parse(id.String()); err != nil {
				t.Fatalf("Parse(%s): got error %v; want nil", id, err)
			}
			res, err := JWKMethod{}.Resolve(context.Background(), id, ResolveOptions{})
			if err != nil {
				t.Fatalf("Resolve: got error %v; want nil", err)
			}
			vm, ok := res.Document.VerificationMethodByID("#0")
			if !ok {
				t.Fatalf("VerificationMethodByID(#0): got none; want one")
			}
			got, err := vm.PublicKey()
			if err != nil {
				t.Fatalf("PublicKey: got error %v; want nil", err)
			}
			if !equalKeys(got, pub) {
				t.Errorf("PublicKey: got %v; want %v", got, pub)
			}
		})
	}
	t.Run("RSA", func(t *testing.T) {
		id, err := NewJWK(&rsaKey.PublicKey)
		if err != nil {
			t.Fatalf("NewJWK: got error %v; want nil", err)
		}
		res, err := JWKMethod{}.Resolve(context.Background(), id, ResolveOptions{})
		if err != nil {
			t.Fatalf("Resolve: got error %v; want nil", err)
		}
		got, err := res.Document.VerificationMethod[0].PublicKey()
		if err != nil || !rsaKey.PublicKey.Equal(got) {
			t.Errorf("PublicKey: got %v, %v; want the RSA key", got, err)
		}
	})
}

// The examples of the did:jwk specification.
const (
	jwkSpecP256   = "did:jwk:eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIiwieCI6ImFjYklRaXVNczNpOF91c3pFakoydHBUdFJNNEVVM3l6OTFQSDZDZEgyVjAiLCJ5IjoiX0tjeUxqOXZXTXB0bm1LdG00NkdxRHo4d2Y3NEk1TEtncmwyR3pIM25TRSJ9"
	jwkSpecX25519 = "did:jwk:eyJrdHkiOiJPS1AiLCJjcnYiOiJYMjU1MTkiLCJ1c2UiOiJlbmMiLCJ4IjoiM3A3YmZYdDl3YlRUVzJIQzdPUTFOei1EUThoYmVHZE5yZngtRkctSUswOCJ9"
)

func TestJWKSpecExamples(t *testing.T) {
	tests := []struct {
		did       string
		wantSig   bool // in authentication, assertionMethod, capability*
		wantKA    bool
		reproduce bool // NewJWK gives the same DID
	}{
		{jwkSpecP256, true, true, true},
		{jwkSpecX25519, false, true, false}, // the example orders members by hand
	}
	for _, tt := range tests {
		t.Run(tt.did[:24], func(t *testing.T) {
			id, err := Parse(tt.did)
			if err != nil {
				t.Fatalf("Parse: got error %v; want nil", err)
			}
			res, err := JWKMethod{}.Resolve(context.Background(), id, ResolveOptions{})
			if err != nil {
				t.Fatalf("Resolve: got error %v; want nil", err)
			}
			doc := res.Document
			want := tt.did + "#0"
			if len(doc.VerificationMethod) != 1 || doc.VerificationMethod[0].ID != want || doc.VerificationMethod[0].Type != TypeJSONWebKey2020 || doc.VerificationMethod[0].Controller != tt.did {
				t.Fatalf("verificationMethod: got %+v; want one JsonWebKey2020 %s", doc.VerificationMethod, want)
			}
			for _, rel := range []Relationship{Authentication, AssertionMethod, CapabilityInvocation, CapabilityDelegation} {
				if got := doc.Authorizes(rel, want); got != tt.wantSig {
					t.Errorf("%s includes #0: got %v; want %v", rel, got, tt.wantSig)
				}
			}
			if got := doc.Authorizes(KeyAgreement, want); got != tt.wantKA {
				t.Errorf("keyAgreement includes #0: got %v; want %v", got, tt.wantKA)
			}
			if len(doc.Context) != 2 || doc.Context[1] != ContextJWS2020 {
				t.Errorf("@context: got %v; want [%s %s]", doc.Context, ContextDIDv1, ContextJWS2020)
			}
			pub, err := doc.VerificationMethod[0].PublicKey()
			if err != nil {
				t.Fatalf("PublicKey: got error %v; want nil", err)
			}
			if tt.reproduce {
				again, err := NewJWK(pub)
				if err != nil || again.String() != tt.did {
					t.Errorf("NewJWK: got %s, %v; want %s", again, err, tt.did)
				}
			}
		})
	}
}

func TestJWKUse(t *testing.T) {
	pub := testKeys(t)["P-256"].(*ecdsa.PublicKey)
	base, err := publicJWK(pub)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		use            string
		wantSig, wantK bool
	}{{"sig", true, false}, {"enc", false, true}} {
		t.Run(tt.use, func(t *testing.T) {
			var m map[string]any
			_ = json.Unmarshal(base, &m)
			m["use"] = tt.use
			id := DID{MethodJWK, b64JSON(t, m)}
			res, err := JWKMethod{}.Resolve(context.Background(), id, ResolveOptions{})
			if err != nil {
				t.Fatalf("Resolve: got error %v; want nil", err)
			}
			if got := len(res.Document.Authentication) == 1; got != tt.wantSig {
				t.Errorf("authentication: got %v; want %v", got, tt.wantSig)
			}
			if got := len(res.Document.KeyAgreement) == 1; got != tt.wantK {
				t.Errorf("keyAgreement: got %v; want %v", got, tt.wantK)
			}
		})
	}
}

func b64JSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestJWKErrors(t *testing.T) {
	p256 := map[string]any{"kty": "EC", "crv": "P-256", "x": "acbIQiuMs3i8_uszEjJ2tpTtRM4EU3yz91PH6CdH2V0", "y": "_KcyLj9vWMptnmKtm46GqDz8wf74I5LKgrl2GzH3nSE"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range p256 {
			m[a] = b
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name     string
		id       string
		opts     ResolveOptions
		kind     errkind.Kind
		code     string
		contains string
	}{
		{"private d", b64JSON(t, with("d", "gPh-VvVS8MbvKQ9LSVVmfnxnKjHn4Tqj0bmbpehRlpc")), ResolveOptions{}, errkind.Invalid, CodeInvalidDID, `private member "d"`},
		{"symmetric k", b64JSON(t, map[string]any{"kty": "oct", "k": "AAAA"}), ResolveOptions{}, errkind.Invalid, CodeInvalidDID, `private member "k"`},
		{"bad character", "eyJ.abc", ResolveOptions{}, errkind.Invalid, CodeInvalidDID, `contains "." at offset 3`},
		{"bad base64", "a", ResolveOptions{}, errkind.Invalid, CodeInvalidDID, "not valid base64url"},
		{"not JSON", base64.RawURLEncoding.EncodeToString([]byte("hello")), ResolveOptions{}, errkind.Invalid, CodeInvalidDID, "does not decode to a JSON object"},
		{"no kty", b64JSON(t, with("kty", nil)), ResolveOptions{}, errkind.Invalid, CodeInvalidDID, `no "kty"`},
		{"bad kty", b64JSON(t, with("kty", "XYZ")), ResolveOptions{}, errkind.Unsupported, CodeInvalidPublicKeyType, `kty "XYZ" is not supported`},
		{"bad crv", b64JSON(t, with("crv", "P-192")), ResolveOptions{}, errkind.Unsupported, CodeInvalidPublicKeyType, `curve "P-192" is not supported`},
		{"off curve", b64JSON(t, with("y", "AKcyLj9vWMptnmKtm46GqDz8wf74I5LKgrl2GzH3nSE")), ResolveOptions{}, errkind.Invalid, CodeInvalidDID, "not a valid curve point"},
		{"bad use", b64JSON(t, with("use", "both")), ResolveOptions{}, errkind.Invalid, CodeInvalidDID, `"use" both`},
		{"secp256k1 short x", b64JSON(t, map[string]any{"kty": "EC", "crv": "secp256k1", "x": "AAAA", "y": "AAAA"}), ResolveOptions{}, errkind.Invalid, CodeInvalidDID, `"x" has 3 bytes; want 32`},
		{"format", jwkSpecP256[8:], ResolveOptions{PublicKeyFormat: FormatMultikey}, errkind.Invalid, CodeUnsupportedPublicKeyType, `publicKeyFormat "Multikey" is not supported for did:jwk`},
		{"versionId", jwkSpecP256[8:], ResolveOptions{VersionID: "1"}, errkind.NotFound, CodeNotFound, "not versioned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := JWKMethod{}.Resolve(context.Background(), DID{MethodJWK, tt.id}, tt.opts)
			checkErr(t, err, tt.kind, tt.code, tt.contains)
		})
	}
}
