package did

import (
	"bytes"
	"crypto"
	"encoding/json"
	"strings"

	"github.com/btcsuite/btcutil/base58"

	"github.com/urbis-id/urbis/internal/errkind"
)

// Contexts used in the documents this package produces.
const (
	ContextDIDv1    = "https://www.w3.org/ns/did/v1"
	ContextMultikey = "https://w3id.org/security/multikey/v1"
	ContextJWS2020  = "https://w3id.org/security/suites/jws-2020/v1"
)

// Verification method types this package produces.
const (
	TypeMultikey       = "Multikey"
	TypeJSONWebKey2020 = "JsonWebKey2020"
)

// Relationship names a verification relationship of a DID document.
type Relationship string

// The verification relationships of DID Core §5.3.
const (
	Authentication       Relationship = "authentication"
	AssertionMethod      Relationship = "assertionMethod"
	KeyAgreement         Relationship = "keyAgreement"
	CapabilityInvocation Relationship = "capabilityInvocation"
	CapabilityDelegation Relationship = "capabilityDelegation"
)

// Document is a DID document (W3C DID Core §5) in its JSON representation.
// Members that are not modelled here are dropped when decoding.
type Document struct {
	Context              []any                `json:"@context,omitempty"`
	ID                   string               `json:"id"`
	Controller           StringSet            `json:"controller,omitempty"`
	AlsoKnownAs          []string             `json:"alsoKnownAs,omitempty"`
	VerificationMethod   []VerificationMethod `json:"verificationMethod,omitempty"`
	Authentication       []MethodRef          `json:"authentication,omitempty"`
	AssertionMethod      []MethodRef          `json:"assertionMethod,omitempty"`
	KeyAgreement         []MethodRef          `json:"keyAgreement,omitempty"`
	CapabilityInvocation []MethodRef          `json:"capabilityInvocation,omitempty"`
	CapabilityDelegation []MethodRef          `json:"capabilityDelegation,omitempty"`
	Service              []Service            `json:"service,omitempty"`
}

// VerificationMethod is a public key or other verification material
// (DID Core §5.2). Exactly one of PublicKeyMultibase, PublicKeyJWK and the
// legacy PublicKeyBase58 is normally set.
type VerificationMethod struct {
	ID                 string          `json:"id"`
	Type               string          `json:"type"`
	Controller         string          `json:"controller"`
	PublicKeyMultibase string          `json:"publicKeyMultibase,omitempty"`
	PublicKeyJWK       json.RawMessage `json:"publicKeyJwk,omitempty"`
	PublicKeyBase58    string          `json:"publicKeyBase58,omitempty"`
}

// MethodRef is one entry of a verification relationship: either a
// reference (a DID URL, possibly relative like "#key-1") to a method in
// verificationMethod, or an embedded verification method.
type MethodRef struct {
	Ref      string              // set when the entry is a reference
	Embedded *VerificationMethod // set when the entry embeds a method
}

// Service is a service endpoint (DID Core §5.4). Type is a string or a set
// of strings; Endpoint is a URI string, a map or a set of them.
type Service struct {
	ID       string    `json:"id"`
	Type     StringSet `json:"type"`
	Endpoint any       `json:"serviceEndpoint"`
}

// StringSet is a JSON value that is either one string or an array of
// strings. One element marshals as a bare string.
type StringSet []string

// MarshalJSON implements json.Marshaler.
func (s StringSet) MarshalJSON() ([]byte, error) {
	if len(s) == 1 {
		return json.Marshal(s[0])
	}
	return json.Marshal([]string(s))
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *StringSet) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte(`"`)) {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = StringSet{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errkind.New(errkind.Invalid, "want a string or an array of strings")
	}
	*s = many
	return nil
}

// MarshalJSON implements json.Marshaler.
func (r MethodRef) MarshalJSON() ([]byte, error) {
	if r.Embedded != nil {
		return json.Marshal(r.Embedded)
	}
	return json.Marshal(r.Ref)
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *MethodRef) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.HasPrefix(b, []byte(`"`)) {
		*r = MethodRef{}
		return json.Unmarshal(b, &r.Ref)
	}
	if !bytes.HasPrefix(b, []byte(`{`)) {
		return errkind.New(errkind.Invalid, "a verification relationship entry must be a DID URL string or a verification method object")
	}
	var vm VerificationMethod
	if err := json.Unmarshal(b, &vm); err != nil {
		return err
	}
	*r = MethodRef{Embedded: &vm}
	return nil
}

// UnmarshalJSON implements json.Unmarshaler; @context may be a single
// string or an array.
func (d *Document) UnmarshalJSON(b []byte) error {
	type plain Document
	var aux struct {
		plain
		Context json.RawMessage `json:"@context"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*d = Document(aux.plain)
	d.Context = nil
	switch c := bytes.TrimSpace(aux.Context); {
	case len(c) == 0 || bytes.Equal(c, []byte("null")):
	case c[0] == '[':
		if err := json.Unmarshal(c, &d.Context); err != nil {
			return err
		}
	default:
		var one any
		if err := json.Unmarshal(c, &one); err != nil {
			return err
		}
		d.Context = []any{one}
	}
	return nil
}

// ParseDocument decodes a DID document from JSON and checks that its id is
// a DID. Errors are of kind Invalid.
func ParseDocument(b []byte) (*Document, error) {
	var d Document
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "DID document is not valid JSON for a DID document")
	}
	if d.ID == "" {
		return nil, errkind.Field(errkind.Invalid, "id", "DID document has no id")
	}
	if _, err := Parse(d.ID); err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "DID document id")
	}
	return &d, nil
}

// Relationship returns the entries of the named verification relationship,
// or nil for an unknown name.
func (d *Document) Relationship(rel Relationship) []MethodRef {
	switch rel {
	case Authentication:
		return d.Authentication
	case AssertionMethod:
		return d.AssertionMethod
	case KeyAgreement:
		return d.KeyAgreement
	case CapabilityInvocation:
		return d.CapabilityInvocation
	case CapabilityDelegation:
		return d.CapabilityDelegation
	}
	return nil
}

// absolute resolves a possibly relative DID URL ("#key-1", "key-1") against
// the document id.
func (d *Document) absolute(ref string) string {
	switch {
	case strings.HasPrefix(ref, "did:"):
		return ref
	case strings.HasPrefix(ref, "#"), strings.HasPrefix(ref, "?"), strings.HasPrefix(ref, "/"):
		return d.ID + ref
	}
	return d.ID + "#" + ref
}

// VerificationMethodByID returns the verification method named by ref: an
// absolute DID URL, a fragment reference "#key-1" or a bare fragment
// "key-1". It looks in verificationMethod and in methods embedded in the
// verification relationships.
func (d *Document) VerificationMethodByID(ref string) (*VerificationMethod, bool) {
	want := d.absolute(ref)
	for i := range d.VerificationMethod {
		if d.absolute(d.VerificationMethod[i].ID) == want {
			return &d.VerificationMethod[i], true
		}
	}
	for _, rel := range []Relationship{Authentication, AssertionMethod, KeyAgreement, CapabilityInvocation, CapabilityDelegation} {
		for _, r := range d.Relationship(rel) {
			if r.Embedded != nil && d.absolute(r.Embedded.ID) == want {
				return r.Embedded, true
			}
		}
	}
	return nil, false
}

// MethodsFor returns the verification methods of the relationship rel,
// with references resolved. References to missing methods are skipped.
func (d *Document) MethodsFor(rel Relationship) []*VerificationMethod {
	var out []*VerificationMethod
	for _, r := range d.Relationship(rel) {
		if r.Embedded != nil {
			out = append(out, r.Embedded)
		} else if vm, ok := d.VerificationMethodByID(r.Ref); ok {
			out = append(out, vm)
		}
	}
	return out
}

// Authorizes reports whether the verification method named by ref may be
// used for rel.
func (d *Document) Authorizes(rel Relationship, ref string) bool {
	want := d.absolute(ref)
	for _, r := range d.Relationship(rel) {
		id := r.Ref
		if r.Embedded != nil {
			id = r.Embedded.ID
		}
		if d.absolute(id) == want {
			return true
		}
	}
	return false
}

// ServiceByID returns the service named by ref (absolute, "#frag" or "frag").
func (d *Document) ServiceByID(ref string) (*Service, bool) {
	want := d.absolute(ref)
	for i := range d.Service {
		if d.absolute(d.Service[i].ID) == want {
			return &d.Service[i], true
		}
	}
	return nil, false
}

// PublicKey returns the method's public key: ed25519.PublicKey,
// *ecdh.PublicKey (X25519), *ecdsa.PublicKey or *rsa.PublicKey. It reads
// publicKeyMultibase (a Multikey), publicKeyJwk, or the legacy
// publicKeyBase58 of the Ed25519, X25519 and secp256k1 2018/2019 types.
// Errors are of kind Invalid or Unsupported.
func (vm *VerificationMethod) PublicKey() (crypto.PublicKey, error) {
	switch {
	case vm.PublicKeyMultibase != "":
		pub, err := DecodeMultikey(vm.PublicKeyMultibase)
		if err != nil {
			return nil, errkind.Wrap(errkind.KindOf(err), err, "verification method %q", vm.ID)
		}
		return pub, nil
	case len(vm.PublicKeyJWK) > 0:
		pub, err := ParseJWK(vm.PublicKeyJWK)
		if err != nil {
			return nil, errkind.Wrap(errkind.KindOf(err), err, "verification method %q", vm.ID)
		}
		return pub, nil
	case vm.PublicKeyBase58 != "":
		return vm.base58Key()
	}
	return nil, errkind.New(errkind.Invalid, "verification method %q has no publicKeyMultibase, publicKeyJwk or publicKeyBase58", vm.ID)
}

// base58Key decodes the legacy publicKeyBase58 member by the method type.
func (vm *VerificationMethod) base58Key() (crypto.PublicKey, error) {
	s := vm.PublicKeyBase58
	if i := strings.IndexFunc(s, func(r rune) bool { return !strings.ContainsRune(base58Alphabet, r) }); i >= 0 {
		return nil, errkind.New(errkind.Invalid, "verification method %q: publicKeyBase58 contains %s at offset %d, which is not a base58 character", vm.ID, quoteByte(s[i]), i)
	}
	var code uint64
	switch vm.Type {
	case "Ed25519VerificationKey2018", "Ed25519VerificationKey2020":
		code = codecEd25519
	case "X25519KeyAgreementKey2019", "X25519KeyAgreementKey2020":
		code = codecX25519
	case "EcdsaSecp256k1VerificationKey2019":
		code = codecSecp256k1
	case "P256Key2021":
		code = codecP256
	case "P384Key2021":
		code = codecP384
	case TypeBls12381G2Key2020:
		code = codecBLS12381G2
	default:
		return nil, errkind.New(errkind.Unsupported, "verification method %q: publicKeyBase58 is not supported for type %q", vm.ID, vm.Type)
	}
	raw := base58.Decode(s)
	if kt := keyTypes[code]; len(raw) != kt.size {
		return nil, errkind.New(errkind.Invalid, "verification method %q: publicKeyBase58 holds %d bytes; want %d for %s", vm.ID, len(raw), kt.size, kt.name)
	}
	pub, err := rawToKey(code, raw)
	if err != nil {
		return nil, errkind.Wrap(err.Kind, err, "verification method %q", vm.ID)
	}
	return pub, nil
}
