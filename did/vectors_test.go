package did

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/urbis-id/urbis/internal/bls"
	"github.com/urbis-id/urbis/internal/errkind"
)

// sharedKeyVectors is the did:key test-vector folder of the shared tree.
const sharedKeyVectors = "../../shared/vectors/did-key"

// keyVector is one did:key test vector: the DID and the document the
// did:key specification published for it.
type keyVector struct {
	file string
	did  string
	seed string // hex private key seed, when the vector has one
	doc  Document
}

// loadKeyVectors reads every vector of the *.json files in dir. The files
// come in two shapes: {did: {didDocument: doc, ...}} and
// {"didDocument": {did: doc}}.
func loadKeyVectors(t *testing.T, dir string) []keyVector {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []keyVector
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal(b, &top); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		add := func(id string, raw json.RawMessage) {
			var doc Document
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatalf("%s: %s: %v", f, id, err)
			}
			out = append(out, keyVector{file: filepath.Base(f), did: id, doc: doc})
		}
		for k, v := range top {
			if k == "didDocument" {
				var docs map[string]json.RawMessage
				if err := json.Unmarshal(v, &docs); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				for id, raw := range docs {
					add(id, raw)
				}
				continue
			}
			var entry struct {
				Seed        string          `json:"seed"`
				DIDDocument json.RawMessage `json:"didDocument"`
			}
			if err := json.Unmarshal(v, &entry); err != nil {
				t.Fatalf("%s: %s: %v", f, k, err)
			}
			add(k, entry.DIDDocument)
			out[len(out)-1].seed = entry.Seed
		}
	}
	if len(out) == 0 {
		t.Fatalf("no vectors in %s", dir)
	}
	return out
}

// keyBytesOf renders a public key as bytes for comparison: raw Ed25519
// and X25519 keys, uncompressed EC points.
func keyBytesOf(t *testing.T, pub crypto.PublicKey) []byte {
	t.Helper()
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return k
	case *ecdh.PublicKey:
		return k.Bytes()
	case *ecdsa.PublicKey:
		return uncompressed(k.Curve, k.X, k.Y)
	case *bls.PublicKey:
		return k.Bytes()
	}
	t.Fatalf("unexpected key type %T", pub)
	return nil
}

// unsupportedVector reports whether the vector's key type is one this
// package deliberately does not implement.
func unsupportedVector(v keyVector) bool {
	return strings.HasPrefix(v.file, "rsa") || strings.HasPrefix(v.did, "did:key:z5Tc") // BLS12-381 G1G2
}

func TestKeyVectorsShared(t *testing.T) {
	if _, err := os.Stat(sharedKeyVectors); err != nil {
		t.Skipf("shared vectors not available: %v", err)
	}
	checkKeyVectors(t, loadKeyVectors(t, sharedKeyVectors))
}

func TestKeyVectorsTestdata(t *testing.T) {
	checkKeyVectors(t, loadKeyVectors(t, "testdata/did-key"))
}

// checkKeyVectors resolves each vector in both formats and compares every
// public key with the vector's, and checks that NewKey gives the DID back.
func checkKeyVectors(t *testing.T, vectors []keyVector) {
	for _, v := range vectors {
		t.Run(v.file+"/"+v.did[:24], func(t *testing.T) {
			id, err := Parse(v.did)
			if err != nil {
				t.Fatalf("Parse(%q): got error %v; want nil", v.did, err)
			}
			if unsupportedVector(v) {
				_, err := KeyMethod{}.Resolve(context.Background(), id, ResolveOptions{})
				if !errors.Is(err, errkind.Unsupported) || codeOf(err) != CodeInvalidPublicKeyType {
					t.Errorf("Resolve: got error %v (code %q); want kind unsupported, code %s", err, codeOf(err), CodeInvalidPublicKeyType)
				}
				return
			}
			if v.seed != "" {
				checkSeed(t, v)
			}
			formats := []string{FormatMultikey, FormatJSONWebKey2020}
			if strings.HasPrefix(v.did, "did:key:zUC7") {
				formats = []string{FormatMultikey, FormatBls12381G2Key2020}
			}
			for _, format := range formats {
				res, err := KeyMethod{}.Resolve(context.Background(), id, ResolveOptions{PublicKeyFormat: format})
				if err != nil {
					t.Fatalf("Resolve(%s): got error %v; want nil", format, err)
				}
				got := res.Document
				if len(got.VerificationMethod) != len(v.doc.VerificationMethod) {
					t.Fatalf("%s: got %d verification methods; want %d", format, len(got.VerificationMethod), len(v.doc.VerificationMethod))
				}
				for _, want := range v.doc.VerificationMethod {
					wantKey, err := want.PublicKey()
					if err != nil {
						t.Fatalf("vector method %s: %v", want.ID, err)
					}
					vm, ok := got.VerificationMethodByID(want.ID)
					if !ok {
						t.Fatalf("%s: got no method %s; want one", format, want.ID)
					}
					gotKey, err := vm.PublicKey()
					if err != nil {
						t.Fatalf("%s: method %s: PublicKey: %v", format, vm.ID, err)
					}
					if g, w := keyBytesOf(t, gotKey), keyBytesOf(t, wantKey); string(g) != string(w) {
						t.Errorf("%s: method %s key: got %x; want %x", format, vm.ID, g, w)
					}
					// The method's fragment is the did:key of its own key.
					kid, err := NewKey(wantKey)
					if err != nil {
						t.Fatalf("NewKey(%T): %v", wantKey, err)
					}
					if frag := want.ID[strings.IndexByte(want.ID, '#')+1:]; kid.ID != frag {
						t.Errorf("NewKey: got %s; want did:key:%s", kid, frag)
					}
				}
				for _, rel := range []Relationship{Authentication, AssertionMethod, KeyAgreement, CapabilityInvocation, CapabilityDelegation} {
					if g, w := refIDs(got.Relationship(rel)), refIDs(v.doc.Relationship(rel)); g != w {
						t.Errorf("%s: %s: got %s; want %s", format, rel, g, w)
					}
				}
			}
		})
	}
}

// checkSeed derives the public key from the vector's seed and checks that
// NewKey gives the vector's DID.
func checkSeed(t *testing.T, v keyVector) {
	t.Helper()
	seed, err := hex.DecodeString(v.seed)
	if err != nil {
		t.Fatalf("seed %q: %v", v.seed, err)
	}
	var pub crypto.PublicKey
	switch {
	case strings.HasPrefix(v.did, "did:key:z6Mk"):
		pub = ed25519.NewKeyFromSeed(seed).Public()
	case strings.HasPrefix(v.did, "did:key:zQ3s"):
		pub = secp256k1.PrivKeyFromBytes(seed).PubKey().ToECDSA()
	default:
		t.Fatalf("seed for unexpected key type in %s", v.did)
	}
	got, err := NewKey(pub)
	if err != nil {
		t.Fatalf("NewKey(%T): %v", pub, err)
	}
	if got.String() != v.did {
		t.Errorf("NewKey(key from seed): got %s; want %s", got, v.did)
	}
}

func refIDs(refs []MethodRef) string {
	var ids []string
	for _, r := range refs {
		ids = append(ids, r.Ref)
	}
	return strings.Join(ids, ",")
}

func codeOf(err error) string {
	var e *errkind.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
