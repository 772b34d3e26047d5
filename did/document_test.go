package did

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
)

func loadDocument(t *testing.T) *Document {
	t.Helper()
	b, err := os.ReadFile("testdata/document.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := ParseDocument(b)
	if err != nil {
		t.Fatalf("ParseDocument: got error %v; want nil", err)
	}
	return doc
}

func TestDocumentJSONRoundTrip(t *testing.T) {
	doc := loadDocument(t)
	if len(doc.Context) != 1 || doc.Context[0] != ContextDIDv1 {
		t.Errorf("@context: got %v; want [%s]", doc.Context, ContextDIDv1)
	}
	if len(doc.Authentication) != 2 || doc.Authentication[0].Ref != "#key-1" || doc.Authentication[1].Embedded == nil {
		t.Fatalf("authentication: got %+v; want a reference and an embedded method", doc.Authentication)
	}
	if len(doc.Service) != 2 || len(doc.Service[1].Type) != 2 {
		t.Fatalf("service: got %+v; want two, the second with two types", doc.Service)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	again, err := ParseDocument(b)
	if err != nil {
		t.Fatalf("ParseDocument(Marshal(doc)): %v", err)
	}
	if !reflect.DeepEqual(normalJSON(t, doc), normalJSON(t, again)) {
		t.Errorf("round trip: got %s; want %s", mustJSON(t, again), mustJSON(t, doc))
	}
	if c := doc.Clone(); !reflect.DeepEqual(c, doc) {
		t.Errorf("Clone: got %+v; want %+v", c, doc)
	} else {
		c.Service[1].Endpoint.(map[string]any)["uri"] = "changed"
		c.Authentication[1].Embedded.ID = "changed"
		if doc.Service[1].Endpoint.(map[string]any)["uri"] == "changed" || doc.Authentication[1].Embedded.ID == "changed" {
			t.Errorf("Clone shares memory with the original")
		}
	}
}

func normalJSON(t *testing.T, v any) any {
	var out any
	if err := json.Unmarshal(mustJSON(t, v), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDocumentLookups(t *testing.T) {
	doc := loadDocument(t)
	tests := []struct {
		ref    string
		wantID string // "" when absent
	}{
		{"#key-1", "#key-1"},
		{"key-1", "#key-1"},
		{"did:example:123456789abcdefghi#key-1", "#key-1"},
		{"#key-2", "did:example:123456789abcdefghi#key-2"},
		{"#key-3", "did:example:123456789abcdefghi#key-3"},
		{"#missing", ""},
		{"did:example:other#key-1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			vm, ok := doc.VerificationMethodByID(tt.ref)
			if got := ""; ok {
				got = vm.ID
				if got != tt.wantID {
					t.Errorf("VerificationMethodByID(%q): got %q; want %q", tt.ref, got, tt.wantID)
				}
			} else if tt.wantID != "" {
				t.Errorf("VerificationMethodByID(%q): got none; want %q", tt.ref, tt.wantID)
			}
		})
	}
	if got := len(doc.MethodsFor(Authentication)); got != 2 {
		t.Errorf("MethodsFor(authentication): got %d; want 2", got)
	}
	if got := len(doc.MethodsFor(KeyAgreement)); got != 0 {
		t.Errorf("MethodsFor(keyAgreement): got %d; want 0 (dangling reference)", got)
	}
	if !doc.Authorizes(AssertionMethod, "#key-2") || doc.Authorizes(AssertionMethod, "#key-1") {
		t.Errorf("Authorizes(assertionMethod): got key-2 %v, key-1 %v; want true, false", doc.Authorizes(AssertionMethod, "#key-2"), doc.Authorizes(AssertionMethod, "#key-1"))
	}
	if s, ok := doc.ServiceByID("hub"); !ok || s.Type[0] != "DIDCommMessaging" {
		t.Errorf("ServiceByID(hub): got %+v, %v; want the hub service", s, ok)
	}
	if _, ok := doc.ServiceByID("#nope"); ok {
		t.Errorf("ServiceByID(#nope): got a service; want none")
	}
}

func TestVerificationMethodPublicKey(t *testing.T) {
	doc := loadDocument(t)
	for ref, want := range map[string]string{"#key-1": "ed25519", "#key-2": "ecdsa", "#key-3": "ed25519"} {
		vm, _ := doc.VerificationMethodByID(ref)
		pub, err := vm.PublicKey()
		if err != nil {
			t.Fatalf("%s: PublicKey: got error %v; want nil", ref, err)
		}
		got := ""
		switch pub.(type) {
		case ed25519.PublicKey:
			got = "ed25519"
		case *ecdsa.PublicKey:
			got = "ecdsa"
		}
		if got != want {
			t.Errorf("%s: got %T; want %s", ref, pub, want)
		}
	}
	bad := []struct {
		name     string
		vm       VerificationMethod
		kind     errkind.Kind
		contains string
	}{
		{"none", VerificationMethod{ID: "#k"}, errkind.Invalid, "has no publicKeyMultibase"},
		{"base58 type", VerificationMethod{ID: "#k", Type: "RsaVerificationKey2018", PublicKeyBase58: "abc"}, errkind.Unsupported, `not supported for type "RsaVerificationKey2018"`},
		{"base58 length", VerificationMethod{ID: "#k", Type: "Ed25519VerificationKey2018", PublicKeyBase58: "abc"}, errkind.Invalid, "holds 3 bytes; want 32 for Ed25519"},
		{"base58 char", VerificationMethod{ID: "#k", Type: "Ed25519VerificationKey2018", PublicKeyBase58: "ab0c"}, errkind.Invalid, `contains "0" at offset 2`},
		{"multibase", VerificationMethod{ID: "#k", PublicKeyMultibase: "uAAAA"}, errkind.Invalid, `must start with "z"`},
		{"jwk", VerificationMethod{ID: "#k", PublicKeyJWK: json.RawMessage(`{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"}`)}, errkind.Invalid, `private member "d"`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.vm.PublicKey()
			checkErr(t, err, tt.kind, "", tt.contains)
		})
	}
}

func TestParseDocumentErrors(t *testing.T) {
	tests := []struct {
		name, in, contains string
	}{
		{"not JSON", `{`, "not valid JSON"},
		{"no id", `{"@context":"https://www.w3.org/ns/did/v1"}`, "no id"},
		{"bad id", `{"id":"did:Bad:x"}`, "method name"},
		{"bad relationship", `{"id":"did:ex:x","authentication":[1]}`, "must be a DID URL string"},
		{"bad service type", `{"id":"did:ex:x","service":[{"id":"#s","type":1,"serviceEndpoint":"x"}]}`, "a string or an array of strings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseDocument([]byte(tt.in))
			checkErr(t, err, errkind.Invalid, "", tt.contains)
		})
	}
}
