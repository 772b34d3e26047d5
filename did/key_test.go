package did

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"filippo.io/edwards25519"
	"github.com/btcsuite/btcutil/base58"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/urbis-id/urbis/internal/errkind"
)

// testKeys returns one freshly generated public key of every supported type.
func testKeys(t *testing.T) map[string]crypto.PublicKey {
	t.Helper()
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]crypto.PublicKey{"Ed25519": edPub, "X25519": x.PublicKey()}
	for name, c := range map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()} {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		keys[name] = &k.PublicKey
	}
	k, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	keys["secp256k1"] = k.PubKey().ToECDSA()
	return keys
}

// equalKeys reports whether two public keys are the same key.
func equalKeys(a, b crypto.PublicKey) bool {
	ea, ok := a.(*ecdsa.PublicKey)
	if eb, ok2 := b.(*ecdsa.PublicKey); ok && ok2 {
		// Equal compares curves by identity and coordinates.
		return ea.Curve.Params().Name == eb.Curve.Params().Name && ea.X.Cmp(eb.X) == 0 && ea.Y.Cmp(eb.Y) == 0
	}
	ka, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ka.Equal(b)
}

func TestKeyRoundTrip(t *testing.T) {
	prefixes := map[string]string{"Ed25519": "z6Mk", "X25519": "z6LS", "P-256": "zDn", "P-384": "z82", "P-521": "z2J9", "secp256k1": "zQ3s"}
	for name, pub := range testKeys(t) {
		for _, format := range []string{FormatMultikey, FormatJSONWebKey2020} {
			t.Run(name+"/"+format, func(t *testing.T) {
				id, err := NewKey(pub)
				if err != nil {
					t.Fatalf("NewKey: got error %v; want nil", err)
				}
				if !strings.HasPrefix(id.ID, prefixes[name]) {
					t.Errorf("NewKey: got %s; want prefix did:key:%s", id, prefixes[name])
				}
				res, err := KeyMethod{}.Resolve(context.Background(), id, ResolveOptions{PublicKeyFormat: format})
				if err != nil {
					t.Fatalf("Resolve: got error %v; want nil", err)
				}
				doc := res.Document
				vm, ok := doc.VerificationMethodByID("#" + id.ID)
				if !ok {
					t.Fatalf("VerificationMethodByID(#%s): got none; want the key", id.ID)
				}
				if vm.Type != format {
					t.Errorf("type: got %q; want %q", vm.Type, format)
				}
				got, err := vm.PublicKey()
				if err != nil {
					t.Fatalf("PublicKey: got error %v; want nil", err)
				}
				if !equalKeys(got, pub) {
					t.Errorf("PublicKey: got %v; want %v", got, pub)
				}
				wantCtx := map[string]string{FormatMultikey: ContextMultikey, FormatJSONWebKey2020: ContextJWS2020}[format]
				if len(doc.Context) != 2 || doc.Context[0] != ContextDIDv1 || doc.Context[1] != wantCtx {
					t.Errorf("@context: got %v; want [%s %s]", doc.Context, ContextDIDv1, wantCtx)
				}
				wantAuth := 1
				if name == "X25519" {
					wantAuth = 0
				}
				if n := len(doc.MethodsFor(Authentication)); n != wantAuth {
					t.Errorf("authentication: got %d methods; want %d", n, wantAuth)
				}
				if n := len(doc.MethodsFor(KeyAgreement)); n != 1 {
					t.Errorf("keyAgreement: got %d methods; want 1", n)
				}
				if _, err := json.Marshal(res); err != nil {
					t.Errorf("json.Marshal(resolution): %v", err)
				}
			})
		}
	}
}

func TestKeyEd25519Formats(t *testing.T) {
	id := DID{MethodKey, "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}
	const x = "z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p"
	tests := []struct {
		name     string
		opts     ResolveOptions
		methods  int
		kaType   string
		contexts int
	}{
		{"default derives X25519", ResolveOptions{}, 2, TypeMultikey, 2},
		{"no derivation", ResolveOptions{NoEncryptionKeyDerivation: true}, 1, "", 2},
		{"2020 suite", ResolveOptions{PublicKeyFormat: FormatEd25519VerificationKey2020}, 2, "X25519KeyAgreementKey2020", 3},
		{"JWK", ResolveOptions{PublicKeyFormat: FormatJSONWebKey2020}, 2, TypeJSONWebKey2020, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := KeyMethod{}.Resolve(context.Background(), id, tt.opts)
			if err != nil {
				t.Fatalf("Resolve: got error %v; want nil", err)
			}
			doc := res.Document
			if len(doc.VerificationMethod) != tt.methods {
				t.Fatalf("verificationMethod: got %d; want %d", len(doc.VerificationMethod), tt.methods)
			}
			if len(doc.Context) != tt.contexts {
				t.Errorf("@context: got %v; want %d entries", doc.Context, tt.contexts)
			}
			ka := doc.MethodsFor(KeyAgreement)
			if tt.kaType == "" {
				if len(ka) != 0 {
					t.Errorf("keyAgreement: got %d methods; want none", len(ka))
				}
				return
			}
			if len(ka) != 1 || ka[0].ID != id.String()+"#"+x || ka[0].Type != tt.kaType {
				t.Fatalf("keyAgreement: got %+v; want one %s method #%s", ka, tt.kaType, x)
			}
			if !doc.Authorizes(AssertionMethod, "#"+id.ID) || doc.Authorizes(AssertionMethod, "#"+x) {
				t.Errorf("assertionMethod: got %v; want only the Ed25519 key", doc.AssertionMethod)
			}
		})
	}
}

// encodeRaw returns "z" + base58(prefix + key), bypassing all checks.
func encodeRaw(prefix []byte, key []byte) string {
	return "z" + base58.Encode(append(append([]byte(nil), prefix...), key...))
}

// offCurve returns a compressed point encoding whose x has no point on curve.
func offCurve(t *testing.T, size int, valid func([]byte) bool) []byte {
	t.Helper()
	for i := int64(1); i < 1000; i++ {
		b := make([]byte, size)
		b[0] = 2
		big.NewInt(i).FillBytes(b[1:])
		if !valid(b) {
			return b
		}
	}
	t.Fatal("no off-curve x found")
	return nil
}

// offEdwards returns a 32-byte Ed25519 encoding of a y with no point.
func offEdwards(t *testing.T) []byte {
	t.Helper()
	for y := byte(2); y < 255; y++ {
		b := make([]byte, 32)
		b[0] = y
		if _, err := new(edwards25519.Point).SetBytes(b); err != nil {
			return b
		}
	}
	t.Fatal("no off-curve y found")
	return nil
}

func TestKeyResolveErrors(t *testing.T) {
	edKey := make([]byte, 32)
	edKey[0] = 1 // a valid encoding (y = 1)
	notEd := offEdwards(t)
	p256Off := offCurve(t, 33, func(b []byte) bool { x, _ := elliptic.UnmarshalCompressed(elliptic.P256(), b); return x != nil })
	k1Off := offCurve(t, 33, func(b []byte) bool { _, err := secp256k1.ParsePubKey(b); return err == nil })
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p256Uncompressed, _ := p256.PublicKey.Bytes()

	tests := []struct {
		name     string
		id       string
		opts     ResolveOptions
		kind     errkind.Kind
		code     string
		contains string
	}{
		{"no multibase prefix", "abc", ResolveOptions{}, errkind.Invalid, CodeInvalidDID, `must start with "z" (base58btc), not "a"`},
		{"only prefix", "z", ResolveOptions{}, errkind.Invalid, CodeInvalidDID, `no data after "z"`},
		{"bad base58", "z6Mk0aXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", ResolveOptions{}, errkind.Invalid, CodeInvalidDID, `contains "0" at offset 4, which is not a base58btc character`},
		{"bad base58 l", "z6MkhaXgBZDvotDkl5257faiztiGiC2QtKLGpbnnEGta2doK", ResolveOptions{}, errkind.Invalid, CodeInvalidDID, `contains "l" at offset 16`},
		{"version prefix", "1:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", ResolveOptions{}, errkind.Invalid, CodeInvalidDID, "version prefix"},
		{"short Ed25519", encodeRaw([]byte{0xed, 0x01}, edKey[:31]), ResolveOptions{}, errkind.Invalid, CodeInvalidDID, "has a 31-byte Ed25519 key; want 32 bytes"},
		{"long Ed25519", encodeRaw([]byte{0xed, 0x01}, append(edKey, 0)), ResolveOptions{}, errkind.Invalid, CodeInvalidDID, "has a 33-byte Ed25519 key; want 32 bytes"},
		{"Ed25519 off curve", encodeRaw([]byte{0xed, 0x01}, notEd), ResolveOptions{}, errkind.Invalid, CodeInvalidDID, "is not a valid curve point"},
		{"non-minimal varint", encodeRaw([]byte{0xed, 0x81, 0x00}, edKey), ResolveOptions{}, errkind.Invalid, CodeInvalidDID, "not in canonical form"},
		{"P-256 off curve", encodeRaw([]byte{0x80, 0x24}, p256Off), ResolveOptions{}, errkind.Invalid, CodeInvalidDID, "P-256 public key"},
		{"P-256 uncompressed", encodeRaw([]byte{0x80, 0x24}, p256Uncompressed), ResolveOptions{}, errkind.Invalid, CodeInvalidDID, "has a 65-byte P-256 key; want 33 bytes"},
		{"P-256 bad prefix", encodeRaw([]byte{0x80, 0x24}, append([]byte{4}, p256Uncompressed[1:33]...)), ResolveOptions{}, errkind.Invalid, CodeInvalidDID, "must be compressed"},
		{"secp256k1 off curve", encodeRaw([]byte{0xe7, 0x01}, k1Off), ResolveOptions{}, errkind.Invalid, CodeInvalidDID, "secp256k1 public key"},
		{"unknown codec", encodeRaw([]byte{0x50}, edKey), ResolveOptions{}, errkind.Invalid, CodeInvalidPublicKeyType, "multicodec 0x50, which is not a supported public key type"},
		{"BLS G2 off curve", encodeRaw([]byte{0xeb, 0x01}, make([]byte, 96)), ResolveOptions{}, errkind.Invalid, CodeInvalidDID, "BLS12-381 G2 public key"},
		{"BLS G2 short", encodeRaw([]byte{0xeb, 0x01}, make([]byte, 48)), ResolveOptions{}, errkind.Invalid, CodeInvalidDID, "has a 48-byte BLS12-381 G2 key; want 96 bytes"},
		{"BLS G2 as JWK", blsVectorID, ResolveOptions{PublicKeyFormat: FormatJSONWebKey2020}, errkind.Invalid, CodeUnsupportedPublicKeyType, "not supported for the BLS12-381 G2 key"},
		{"BLS format for Ed25519", "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", ResolveOptions{PublicKeyFormat: FormatBls12381G2Key2020}, errkind.Invalid, CodeUnsupportedPublicKeyType, "applies to BLS12-381 G2 keys only"},
		{"BLS G1G2 short", encodeRaw([]byte{0xee, 0x01}, make([]byte, 3)), ResolveOptions{}, errkind.Unsupported, CodeInvalidPublicKeyType, "BLS12-381 G1G2"},
		{"unknown format", "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", ResolveOptions{PublicKeyFormat: "Bogus2099"}, errkind.Invalid, CodeUnsupportedPublicKeyType, `publicKeyFormat "Bogus2099" is not supported`},
		{"2020 format for P-256", "zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv", ResolveOptions{PublicKeyFormat: FormatEd25519VerificationKey2020}, errkind.Invalid, CodeUnsupportedPublicKeyType, "holds a P-256 key"},
		{"versionId", "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", ResolveOptions{VersionID: "2"}, errkind.NotFound, CodeNotFound, "not versioned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := KeyMethod{}.Resolve(context.Background(), DID{MethodKey, tt.id}, tt.opts)
			if res != nil {
				t.Errorf("Resolve: got a resolution; want nil")
			}
			checkErr(t, err, tt.kind, tt.code, tt.contains)
		})
	}
}

func TestKeyVersionTimeAccepted(t *testing.T) {
	id := DID{MethodKey, "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}
	if _, err := (KeyMethod{}).Resolve(context.Background(), id, ResolveOptions{VersionTime: "2001-01-01T00:00:00Z"}); err != nil {
		t.Errorf("Resolve with versionTime: got error %v; want nil", err)
	}
}

func TestNewKeyErrors(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	p256ecdh, _ := ecdh.P256().GenerateKey(rand.Reader)
	tests := []struct {
		name     string
		pub      crypto.PublicKey
		kind     errkind.Kind
		contains string
	}{
		{"RSA", &rsaKey.PublicKey, errkind.Unsupported, "unsupported public key type *rsa.PublicKey"},
		{"P-224", &p224.PublicKey, errkind.Unsupported, `curve "P-224" is not supported`},
		{"short Ed25519", ed25519.PublicKey(make([]byte, 5)), errkind.Invalid, "has 5 bytes; want 32"},
		{"ECDH P-256", p256ecdh.PublicKey(), errkind.Unsupported, "X25519 only"},
		{"nil ECDSA", (*ecdsa.PublicKey)(nil), errkind.Invalid, "empty"},
		{"nil", nil, errkind.Unsupported, "unsupported public key type <nil>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewKey(tt.pub)
			checkErr(t, err, tt.kind, "", tt.contains)
		})
	}
}

func TestX25519Derivation(t *testing.T) {
	// The derived key must be the public key of the X25519 secret that
	// corresponds to the Ed25519 seed (RFC 8032 clamped scalar).
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	got, err := x25519FromEd25519(priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	h := sha512Sum(priv.Seed())
	xpriv, err := ecdh.X25519().NewPrivateKey(h[:32])
	if err != nil {
		t.Fatal(err)
	}
	if want := xpriv.PublicKey(); !got.Equal(want) {
		t.Errorf("x25519FromEd25519: got %x; want %x", got.Bytes(), want.Bytes())
	}
}

func sha512Sum(b []byte) [64]byte { return sha512.Sum512(b) }
