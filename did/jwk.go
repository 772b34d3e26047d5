package did

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"

	"filippo.io/edwards25519"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/x25519"

	"github.com/urbis-id/urbis/internal/errkind"
)

// MethodJWK is the method name of did:jwk.
const MethodJWK = "jwk"

// privateJWKMembers are the JWK members that carry private key material
// (RFC 7518 §6); none may appear in a DID.
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// publicJWK returns the JSON of the public JWK of pub, members sorted by
// name (the form did:jwk encodes).
func publicJWK(pub crypto.PublicKey) ([]byte, error) {
	var raw any = pub
	switch k := pub.(type) {
	case *ecdh.PublicKey:
		if k == nil || k.Curve() != ecdh.X25519() {
			return nil, errkind.New(errkind.Unsupported, "ECDH public keys are supported on X25519 only")
		}
		raw = x25519.PublicKey(k.Bytes())
	case *ecdsa.PublicKey:
		code, b, err := ecdsaBytes(k)
		if err != nil {
			return nil, err
		}
		if code == codecSecp256k1 {
			// jwx knows secp256k1 only when built with a tag; the JWK is
			// simple enough to write here.
			pk, _ := secp256k1.ParsePubKey(b)
			u := pk.SerializeUncompressed()
			return json.Marshal(map[string]string{
				"kty": "EC", "crv": "secp256k1",
				"x": base64.RawURLEncoding.EncodeToString(u[1:33]),
				"y": base64.RawURLEncoding.EncodeToString(u[33:]),
			})
		}
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return nil, errkind.New(errkind.Invalid, "Ed25519 public key has %d bytes; want %d", len(k), ed25519.PublicKeySize)
		}
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return nil, errkind.New(errkind.Invalid, "RSA public key is empty")
		}
	default:
		return nil, errkind.New(errkind.Unsupported, "unsupported public key type %T", pub)
	}
	key, err := jwk.FromRaw(raw)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "build JWK from %T", pub)
	}
	b, err := json.Marshal(key)
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "encode JWK")
	}
	return b, nil
}

// ParseJWK decodes a public JWK into ed25519.PublicKey, *ecdh.PublicKey
// (X25519), *ecdsa.PublicKey (P-256, P-384, P-521, secp256k1) or
// *rsa.PublicKey. It refuses JWKs with private members and EC points that
// are not on their curve. Errors are of kind Invalid or Unsupported.
func ParseJWK(b []byte) (crypto.PublicKey, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, errkind.New(errkind.Invalid, "JWK is not a JSON object")
	}
	if dec.More() {
		return nil, errkind.New(errkind.Invalid, "JWK has data after the JSON object")
	}
	for _, name := range privateJWKMembers {
		if _, ok := m[name]; ok {
			return nil, errkind.New(errkind.Invalid, "JWK has the private member %q; only public keys are allowed", name)
		}
	}
	kty, _ := m["kty"].(string)
	crv, _ := m["crv"].(string)
	switch {
	case kty == "":
		return nil, errkind.New(errkind.Invalid, "JWK has no \"kty\" string")
	case kty == "EC" && crv == "secp256k1":
		return parseSecp256k1JWK(m)
	case kty == "EC" && (crv == "P-256" || crv == "P-384" || crv == "P-521"),
		kty == "OKP" && (crv == "Ed25519" || crv == "X25519"),
		kty == "RSA":
	case kty == "EC" || kty == "OKP":
		return nil, errkind.New(errkind.Unsupported, "JWK curve %q is not supported for kty %q", crv, kty)
	default:
		return nil, errkind.New(errkind.Unsupported, "JWK kty %q is not supported (want EC, OKP or RSA)", kty)
	}
	key, err := jwk.ParseKey(b)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "parse %s JWK", kty)
	}
	var raw any
	if err := key.Raw(&raw); err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "parse %s JWK", kty)
	}
	switch k := raw.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return nil, errkind.New(errkind.Invalid, "Ed25519 JWK \"x\" has %d bytes; want %d", len(k), ed25519.PublicKeySize)
		}
		if _, err := new(edwards25519.Point).SetBytes(k); err != nil {
			return nil, errkind.New(errkind.Invalid, "Ed25519 JWK \"x\" is not a valid curve point")
		}
		return k, nil
	case x25519.PublicKey:
		pub, err := ecdh.X25519().NewPublicKey(k)
		if err != nil {
			return nil, errkind.New(errkind.Invalid, "X25519 JWK \"x\" has %d bytes; want 32", len(k))
		}
		return pub, nil
	case *ecdsa.PublicKey:
		if _, err := k.ECDH(); err != nil {
			return nil, errkind.New(errkind.Invalid, "%s JWK is not a valid curve point", crv)
		}
		return k, nil
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return nil, errkind.New(errkind.Invalid, "RSA JWK modulus has %d bits; want at least 2048", k.N.BitLen())
		}
		return k, nil
	}
	return nil, errkind.New(errkind.Unsupported, "JWK decodes to an unsupported key type %T", raw)
}

// parseSecp256k1JWK decodes an EC JWK on secp256k1.
func parseSecp256k1JWK(m map[string]any) (crypto.PublicKey, error) {
	coord := func(name string) ([]byte, error) {
		s, ok := m[name].(string)
		if !ok {
			return nil, errkind.New(errkind.Invalid, "secp256k1 JWK has no %q string", name)
		}
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			return nil, errkind.New(errkind.Invalid, "secp256k1 JWK %q is not base64url without padding", name)
		}
		if len(b) != 32 {
			return nil, errkind.New(errkind.Invalid, "secp256k1 JWK %q has %d bytes; want 32", name, len(b))
		}
		return b, nil
	}
	x, err := coord("x")
	if err != nil {
		return nil, err
	}
	y, err := coord("y")
	if err != nil {
		return nil, err
	}
	pk, perr := secp256k1.ParsePubKey(uncompressed(secp256k1.S256(), new(big.Int).SetBytes(x), new(big.Int).SetBytes(y)))
	if perr != nil {
		return nil, errkind.New(errkind.Invalid, "secp256k1 JWK is not a valid curve point: %v", perr)
	}
	return pk.ToECDSA(), nil
}

// JWKMethod resolves did:jwk identifiers
// (https://github.com/quartzjer/did-jwk/blob/main/spec.md): the
// method-specific id is the base64url-encoded public JWK.
type JWKMethod struct{}

var _ Method = JWKMethod{}

// Method returns "jwk".
func (JWKMethod) Method() string { return MethodJWK }

// Resolve decodes the JWK in id and returns its document: one
// JsonWebKey2020 method "#0", in every relationship unless the JWK's "use"
// restricts it ("sig": no keyAgreement; "enc": keyAgreement only). X25519
// keys serve key agreement only. Only ResolveOptions.PublicKeyFormat ""
// and "JsonWebKey2020" are accepted; a versionId gets NOT_FOUND.
func (JWKMethod) Resolve(_ context.Context, id DID, opts ResolveOptions) (*Resolution, error) {
	if id.Method != MethodJWK {
		return nil, invalidDID("%q is not a did:jwk", id.String())
	}
	if f := opts.PublicKeyFormat; f != "" && f != FormatJSONWebKey2020 {
		return nil, errkind.New(errkind.Invalid, "publicKeyFormat %q is not supported for did:jwk; want %q", f, FormatJSONWebKey2020).WithCode(CodeUnsupportedPublicKeyType)
	}
	if opts.VersionID != "" {
		return nil, errkind.New(errkind.NotFound, "%s has no version %q: did:jwk documents are not versioned", id, opts.VersionID).WithCode(CodeNotFound)
	}
	jwkJSON, use, pub, err := decodeJWKID(id.ID)
	if err != nil {
		return nil, err
	}
	did := id.String()
	vm := VerificationMethod{ID: did + "#0", Type: TypeJSONWebKey2020, Controller: did, PublicKeyJWK: jwkJSON}
	ref := []MethodRef{{Ref: vm.ID}}
	doc := &Document{
		Context:            []any{ContextDIDv1, ContextJWS2020},
		ID:                 did,
		VerificationMethod: []VerificationMethod{vm},
	}
	_, isX25519 := pub.(*ecdh.PublicKey)
	if use != "enc" && !isX25519 {
		doc.AssertionMethod, doc.Authentication = ref, ref
		doc.CapabilityInvocation, doc.CapabilityDelegation = ref, ref
	}
	if use != "sig" {
		doc.KeyAgreement = ref
	}
	return &Resolution{Document: doc, ResolutionMetadata: ResolutionMetadata{ContentType: ContentTypeDIDLDJSON}}, nil
}

// decodeJWKID decodes and validates a did:jwk method-specific id. It
// returns the JWK JSON, its "use" member and its public key.
func decodeJWKID(s string) (json.RawMessage, string, crypto.PublicKey, error) {
	if i := strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}); i >= 0 {
		return nil, "", nil, invalidDID("did:jwk method-specific id contains %s at offset %d; it must be base64url without padding", quoteByte(s[i]), i)
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, "", nil, invalidDID("did:jwk method-specific id is not valid base64url: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, "", nil, invalidDID("did:jwk method-specific id does not decode to a JSON object")
	}
	use := ""
	if u, ok := m["use"]; ok {
		us, _ := u.(string)
		if us != "sig" && us != "enc" {
			return nil, "", nil, invalidDID("did:jwk JWK has \"use\" %v; want \"sig\" or \"enc\"", u)
		}
		use = us
	}
	pub, err := ParseJWK(b)
	if err != nil {
		var e *errkind.Error
		errors.As(err, &e)
		code := CodeInvalidDID
		if e.Kind == errkind.Unsupported {
			code = CodeInvalidPublicKeyType
		}
		return nil, "", nil, errkind.New(e.Kind, "did:jwk: %s", e.Error()).WithCode(code)
	}
	return json.RawMessage(b), use, pub, nil
}
