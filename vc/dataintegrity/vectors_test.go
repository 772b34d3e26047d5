package dataintegrity

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcutil/base58"

	"github.com/urbis-id/urbis/internal/errkind"
)

// vectorRoots are the folders holding the vc-di-eddsa test vectors: the
// copy in testdata, and the shared set when it is present.
var vectorRoots = []struct{ name, dir string }{
	{"testdata", "testdata"},
	{"shared", filepath.Join("..", "..", "..", "shared", "vectors", "di-eddsa")},
}

func forEachRoot(t *testing.T, f func(t *testing.T, root string)) {
	for _, r := range vectorRoots {
		root := r.dir
		t.Run(r.name, func(t *testing.T) {
			if _, err := os.Stat(root); errors.Is(err, os.ErrNotExist) {
				t.Skipf("%s is absent", root)
			}
			f(t, root)
		})
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(readFile(t, path)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// vectorKey decodes keyPair.json: multibase base58btc multicodec keys
// (0xed01 Ed25519 public, 0x8026 Ed25519 private seed).
func vectorKey(t *testing.T, root string) ed25519.PrivateKey {
	t.Helper()
	var kp struct {
		PublicKeyMultibase  string `json:"publicKeyMultibase"`
		PrivateKeyMultibase string `json:"privateKeyMultibase"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(root, "keyPair.json")), &kp); err != nil {
		t.Fatal(err)
	}
	priv := base58.Decode(strings.TrimPrefix(kp.PrivateKeyMultibase, "z"))
	pub := base58.Decode(strings.TrimPrefix(kp.PublicKeyMultibase, "z"))
	if len(priv) != 34 || priv[0] != 0x80 || priv[1] != 0x26 || len(pub) != 34 || pub[0] != 0xed || pub[1] != 0x01 {
		t.Fatalf("keyPair.json: unexpected multicodec prefixes % x, % x", priv[:2], pub[:2])
	}
	key := ed25519.NewKeyFromSeed(priv[2:])
	if !bytes.Equal(key.Public().(ed25519.PublicKey), pub[2:]) {
		t.Fatal("keyPair.json: the private key does not match the public key")
	}
	return key
}

// staticKey resolves every verification method to pub.
func staticKey(pub ed25519.PublicKey) KeyResolver {
	return func(context.Context, string) (ed25519.PublicKey, error) { return pub, nil }
}

func trimmed(t *testing.T, path string) string {
	return strings.TrimSpace(string(readFile(t, path)))
}

// TestEdDSARDFC2022Vectors reproduces every intermediate value of the
// specification's eddsa-rdfc-2022 vectors byte for byte.
func TestEdDSARDFC2022Vectors(t *testing.T) {
	cases := []struct{ name, unsigned, dir string }{
		{"alumni", "unsigned.json", "eddsa-rdfc-2022"},
		{"employment", "employmentAuth.json", "eddsa-rdfc-2022/employ"},
	}
	forEachRoot(t, func(t *testing.T, root string) {
		key := vectorKey(t, root)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				dir := filepath.Join(root, tc.dir)
				doc := readJSON(t, filepath.Join(root, tc.unsigned))
				config := readJSON(t, filepath.Join(dir, "proofConfigDataInt.json"))
				options := copyMap(config)
				delete(options, "@context")

				canonDoc, canonProof, err := transform(ctx, doc, options, nil)
				if err != nil {
					t.Fatal(err)
				}
				if want := string(readFile(t, filepath.Join(dir, "canonDocDataInt.txt"))); canonDoc != want {
					t.Errorf("canonical document:\n got %s\nwant %s", canonDoc, want)
				}
				if want := string(readFile(t, filepath.Join(dir, "proofCanonDataInt.txt"))); canonProof != want {
					t.Errorf("canonical proof configuration:\n got %s\nwant %s", canonProof, want)
				}
				dh, ph := sha256.Sum256([]byte(canonDoc)), sha256.Sum256([]byte(canonProof))
				if got, want := hex.EncodeToString(dh[:]), trimmed(t, filepath.Join(dir, "docHashDataInt.txt")); got != want {
					t.Errorf("document hash = %s; want %s", got, want)
				}
				if got, want := hex.EncodeToString(ph[:]), trimmed(t, filepath.Join(dir, "proofHashDataInt.txt")); got != want {
					t.Errorf("proof hash = %s; want %s", got, want)
				}
				hash, err := hashData(ctx, doc, options, nil)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := hex.EncodeToString(hash), trimmed(t, filepath.Join(dir, "combinedHashDataInt.txt")); got != want {
					t.Errorf("combined hash = %s; want %s", got, want)
				}
				sig := ed25519.Sign(key, hash)
				if got, want := hex.EncodeToString(sig), trimmed(t, filepath.Join(dir, "sigHexDataInt.txt")); got != want {
					t.Errorf("signature = %s; want %s", got, want)
				}

				// Sign end to end gives the published signed document.
				created, err := time.Parse(time.RFC3339, config["created"].(string))
				if err != nil {
					t.Fatal(err)
				}
				signed, err := Sign(ctx, doc, ProofOptions{
					VerificationMethod: config["verificationMethod"].(string),
					Created:            created,
				}, key, nil)
				if err != nil {
					t.Fatal(err)
				}
				want := readJSON(t, filepath.Join(dir, "signedDataInt.json"))
				if got, wantPV := signed["proof"].(map[string]any)["proofValue"], trimmed(t, filepath.Join(dir, "sigBTC58DataInt.txt")); got != wantPV {
					t.Errorf("proofValue = %v; want %s", got, wantPV)
				}
				gotJSON, _ := json.Marshal(signed)
				wantJSON, _ := json.Marshal(want)
				if !bytes.Equal(gotJSON, wantJSON) {
					t.Errorf("signed document:\n got %s\nwant %s", gotJSON, wantJSON)
				}

				// And the published signed document verifies.
				res, err := Verify(ctx, want, staticKey(key.Public().(ed25519.PublicKey)), nil)
				if err != nil {
					t.Fatalf("Verify(signedDataInt.json): %v", err)
				}
				if len(res.Proofs) != 1 || res.Proofs[0].Cryptosuite != SuiteEdDSARDFC2022 || !res.Proofs[0].Created.Equal(created) {
					t.Errorf("Result = %+v", res)
				}
			})
		}
	})
}

// TestEd25519Signature2020Vector verifies the specification's
// Ed25519Signature2020 vector through aries-framework-go.
func TestEd25519Signature2020Vector(t *testing.T) {
	forEachRoot(t, func(t *testing.T, root string) {
		key := vectorKey(t, root)
		doc := readJSON(t, filepath.Join(root, "Ed25519Signature2020", "signedEdSig.json"))
		ctx := context.Background()
		res, err := Verify(ctx, doc, staticKey(key.Public().(ed25519.PublicKey)), nil)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if len(res.Proofs) != 1 || res.Proofs[0].Type != TypeEd25519Signature2020 || res.Proofs[0].ProofPurpose != "assertionMethod" {
			t.Errorf("Result = %+v", res)
		}

		// Our canonicalization agrees with the vector's intermediate steps.
		unsecured := withoutProof(doc)
		canonDoc, err := canonicalize(ctx, unsecured, nil, "document")
		if err != nil {
			t.Fatal(err)
		}
		if want := string(readFile(t, filepath.Join(root, "Ed25519Signature2020", "canonDocEdSig.txt"))); canonDoc != want {
			t.Errorf("canonical document:\n got %s\nwant %s", canonDoc, want)
		}

		tampered := copyMap(doc)
		tampered["credentialSubject"].(map[string]any)["alumniOf"] = "The School of Forgeries"
		_, err = Verify(ctx, tampered, staticKey(key.Public().(ed25519.PublicKey)), nil)
		var e *errkind.Error
		if !errors.As(err, &e) || e.Kind != errkind.Invalid || e.Code != codeVerification {
			t.Errorf("Verify(tampered) = %v; want Invalid %s", err, codeVerification)
		}
	})
}
