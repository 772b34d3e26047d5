package registry

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"

	"github.com/btcsuite/btcutil/base58"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

func TestNewDIDCreateDerivesStableID(t *testing.T) {
	spec := oneKeySpec(t, seedKey("alice"))
	id1, p1, err := NewDIDCreate(spec)
	if err != nil {
		t.Fatal(err)
	}
	id2, _, err := NewDIDCreate(oneKeySpec(t, seedKey("alice")))
	if err != nil {
		t.Fatal(err)
	}
	if id1 != id2 {
		t.Errorf("got %s and %s for the same spec; want the same DID", id1, id2)
	}
	other, _, _ := NewDIDCreate(oneKeySpec(t, seedKey("bob")))
	if other == id1 {
		t.Errorf("got %s for two different specs; want different DIDs", other)
	}
	if !strings.HasPrefix(id1, "did:urbis:") || len(base58.Decode(strings.TrimPrefix(id1, "did:urbis:"))) != 32 {
		t.Errorf("got %s; want did:urbis: and the base58btc of 32 bytes", id1)
	}
	// The id survives the JSON round trip an operation makes.
	b, _ := json.Marshal(p1)
	var back DIDCreate
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if id, _ := deriveDID(back); id != id1 {
		t.Errorf("got %s after a JSON round trip; want %s", id, id1)
	}
	if _, err := did.Parse(id1); err != nil {
		t.Errorf("did.Parse(%s): %v", id1, err)
	}
}

func TestValidateSpec(t *testing.T) {
	k := seedKey("alice")
	xk, _ := ecdh.X25519().GenerateKey(rand.Reader)
	xmk, _ := did.EncodeMultikey(xk.PublicKey())
	base := func() DocumentSpec { return oneKeySpec(t, k) }
	tests := []struct {
		name   string
		edit   func(*DocumentSpec)
		field  string
		substr string
	}{
		{"no methods", func(d *DocumentSpec) { d.VerificationMethod = nil }, "/document/verificationMethod", "at least one verification method"},
		{"id not a fragment", func(d *DocumentSpec) { d.VerificationMethod[0].ID = "key-1" }, "/document/verificationMethod/0/id", "must be a fragment"},
		{"empty fragment", func(d *DocumentSpec) { d.VerificationMethod[0].ID = "#" }, "/document/verificationMethod/0/id", "must be a fragment"},
		{"bad fragment character", func(d *DocumentSpec) { d.VerificationMethod[0].ID = "#a b" }, "/document/verificationMethod/0/id", "must be a fragment"},
		{"duplicate ids", func(d *DocumentSpec) {
			d.VerificationMethod = append(d.VerificationMethod, d.VerificationMethod[0])
		}, "/document/verificationMethod/1/id", "used twice"},
		{"wrong type", func(d *DocumentSpec) { d.VerificationMethod[0].Type = "JsonWebKey2020" }, "/document/verificationMethod/0/type", "not supported"},
		{"bad key", func(d *DocumentSpec) { d.VerificationMethod[0].PublicKeyMultibase = "zzz" }, "/document/verificationMethod/0/publicKeyMultibase", ""},
		{"dangling reference", func(d *DocumentSpec) { d.AssertionMethod = []string{"#key-2"} }, "/document/assertionMethod/0", "names no verification method"},
		{"duplicate reference", func(d *DocumentSpec) { d.Authentication = []string{"#key-1", "#key-1"} }, "/document/authentication/1", "listed twice"},
		{"no capabilityInvocation", func(d *DocumentSpec) { d.CapabilityInvocation = nil }, "/document/capabilityInvocation", "at least one capabilityInvocation"},
		{"X25519 key signing", func(d *DocumentSpec) {
			d.VerificationMethod = append(d.VerificationMethod, MethodSpec{ID: "#x", Type: "Multikey", PublicKeyMultibase: xmk})
			d.CapabilityInvocation = []string{"#x"}
		}, "/document/capabilityInvocation/0", "cannot sign"},
		{"Ed25519 key agreement", func(d *DocumentSpec) { d.KeyAgreement = []string{"#key-1"} }, "/document/keyAgreement/0", "cannot do key agreement"},
		{"service id clashes", func(d *DocumentSpec) {
			d.Service = []ServiceSpec{{ID: "#key-1", Type: "Files", ServiceEndpoint: "https://example.org"}}
		}, "/document/service/0/id", "used twice"},
		{"service endpoint relative", func(d *DocumentSpec) {
			d.Service = []ServiceSpec{{ID: "#files", Type: "Files", ServiceEndpoint: "/files"}}
		}, "/document/service/0/serviceEndpoint", "absolute URI"},
		{"service without type", func(d *DocumentSpec) {
			d.Service = []ServiceSpec{{ID: "#files", ServiceEndpoint: "https://example.org"}}
		}, "/document/service/0/type", "1 to 512"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := base()
			tt.edit(&d)
			_, _, err := NewDIDCreate(d)
			wantErr(t, err, errkind.Invalid, tt.substr)
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("got %q; want it to name %s", err, tt.field)
			}
		})
	}
	t.Run("good with key agreement and service", func(t *testing.T) {
		d := base()
		d.VerificationMethod = append(d.VerificationMethod, MethodSpec{ID: "#x", Type: "Multikey", PublicKeyMultibase: xmk})
		d.KeyAgreement = []string{"#x"}
		d.Service = []ServiceSpec{{ID: "#files", Type: "Files", ServiceEndpoint: "https://example.org/files"}}
		if _, _, err := NewDIDCreate(d); err != nil {
			t.Errorf("got %v; want no error", err)
		}
	})
}

func TestExpand(t *testing.T) {
	spec := oneKeySpec(t, seedKey("alice"))
	spec.Service = []ServiceSpec{{ID: "#files", Type: "Files", ServiceEndpoint: "https://example.org"}}
	doc := spec.Expand("did:urbis:abc")
	if got := doc.VerificationMethod[0].ID; got != "did:urbis:abc#key-1" {
		t.Errorf("got method id %s; want did:urbis:abc#key-1", got)
	}
	if !doc.Authorizes(did.CapabilityInvocation, "did:urbis:abc#key-1") {
		t.Errorf("got capabilityInvocation %v; want did:urbis:abc#key-1 in it", doc.CapabilityInvocation)
	}
	if got := doc.Service[0].ID; got != "did:urbis:abc#files" {
		t.Errorf("got service id %s; want did:urbis:abc#files", got)
	}
	if len(doc.Context) != 2 || doc.Context[1] != did.ContextMultikey {
		t.Errorf("got contexts %v; want did/v1 and multikey/v1", doc.Context)
	}
}
