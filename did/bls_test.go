package did

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/btcsuite/btcutil/base58"
	"github.com/hyperledger/aries-framework-go/pkg/crypto/primitive/bbs12381g2pub"

	"github.com/urbis-id/urbis/internal/bls"
)

// blsVectorID is the first BLS12-381 G2 example of the did:key
// specification's test vectors (testdata/did-key/bls12381.json).
const blsVectorID = "zUC7K4ndUaGZgV7Cp2yJy6JtMoUHY6u7tkcSYUvPrEidqBmLCTLmi6d5WvwnUqejscAkERJ3bfjEiSYtdPkRSE8kSa11hFBr4sTgnbZ95SJj19PN2jdvJjyzpSZgxkyyxNnBNnY"

// Each published BLS12-381 G2 did:key resolves, in the Bls12381G2Key2020
// format, to the published document, and its private key (aries'
// bbs12381g2pub, as key custody uses) gives its public key.
func TestBLSKeyVectorDocuments(t *testing.T) {
	b, err := os.ReadFile("testdata/did-key/bls12381.json")
	if err != nil {
		t.Fatal(err)
	}
	var vectors map[string]struct {
		KeyPair struct {
			Public  string `json:"publicKeyBase58"`
			Private string `json:"privateKeyBase58"`
		} `json:"verificationKeyPair"`
		Doc json.RawMessage `json:"didDocument"`
	}
	if err := json.Unmarshal(b, &vectors); err != nil {
		t.Fatal(err)
	}
	if _, ok := vectors["did:key:"+blsVectorID]; !ok || len(vectors) == 0 {
		t.Fatalf("vectors lack did:key:%s", blsVectorID)
	}
	for id, v := range vectors {
		if !strings.HasPrefix(id, "did:key:zUC7") {
			continue // G1G2 keys (did:key:z5Tc) are not supported
		}
		t.Run(id[:24], func(t *testing.T) {
			priv, err := bbs12381g2pub.UnmarshalPrivateKey(base58.Decode(v.KeyPair.Private))
			if err != nil {
				t.Fatal(err)
			}
			pb, _ := priv.PublicKey().Marshal()
			if got := base58.Encode(pb); got != v.KeyPair.Public {
				t.Errorf("public key of the private key: got %s; want %s", got, v.KeyPair.Public)
			}
			pub, err := bls.ParsePublicKey(pb)
			if err != nil {
				t.Fatal(err)
			}
			if d, err := NewKey(pub); err != nil || d.String() != id {
				t.Errorf("NewKey = %s, %v; want %s", d, err, id)
			}
			d, _ := Parse(id)
			res, err := KeyMethod{}.Resolve(context.Background(), d, ResolveOptions{PublicKeyFormat: FormatBls12381G2Key2020})
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			got, _ := json.Marshal(res.Document)
			var g, w any
			json.Unmarshal(got, &g)
			json.Unmarshal(v.Doc, &w)
			if !reflect.DeepEqual(g, w) {
				t.Errorf("document:\ngot  %s\nwant %s", got, v.Doc)
			}
			res, err = KeyMethod{}.Resolve(context.Background(), d, ResolveOptions{})
			if err != nil {
				t.Fatalf("Resolve Multikey: %v", err)
			}
			vm := res.Document.VerificationMethod[0]
			if k, err := vm.PublicKey(); err != nil || !pub.Equal(k) || vm.Type != TypeMultikey || len(res.Document.KeyAgreement) != 0 {
				t.Errorf("Multikey method %+v: key %v, %v; want the vector's key, no keyAgreement", vm, k, err)
			}
		})
	}
}
