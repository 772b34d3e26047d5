package did

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ed25519"
	"encoding/json"
	"strings"

	"github.com/btcsuite/btcutil/base58"

	"github.com/urbis-id/urbis/internal/errkind"
)

// MethodKey is the method name of did:key.
const MethodKey = "key"

// Public key formats (ResolveOptions.PublicKeyFormat) of did:key.
const (
	FormatMultikey                   = "Multikey"
	FormatJSONWebKey2020             = "JsonWebKey2020"
	FormatEd25519VerificationKey2020 = "Ed25519VerificationKey2020"
)

// Contexts of the Ed25519VerificationKey2020 format.
const (
	contextEd25519v2020 = "https://w3id.org/security/suites/ed25519-2020/v1"
	contextX25519v2020  = "https://w3id.org/security/suites/x25519-2020/v1"
)

// knownUnsupportedCodecs are public key multicodecs that are valid in
// did:key but not implemented here.
var knownUnsupportedCodecs = map[uint64]string{
	0xea:   "BLS12-381 G1",
	0xee:   "BLS12-381 G1G2",
	0x1205: "RSA",
	0x1203: "SM2",
}

// KeyMethod resolves did:key identifiers
// (https://w3c-ccg.github.io/did-method-key/) for Ed25519, X25519, P-256,
// P-384, P-521, secp256k1 and BLS12-381 G2 keys. It needs no network and no state.
type KeyMethod struct{}

var _ Method = KeyMethod{}

// Method returns "key".
func (KeyMethod) Method() string { return MethodKey }

// Resolve expands id into its DID document. Ed25519 keys also get the
// derived X25519 key agreement method unless
// opts.NoEncryptionKeyDerivation is set. A versionId is refused with
// NOT_FOUND (did:key documents have no versions); a versionTime is
// accepted, since the document never changes.
func (KeyMethod) Resolve(_ context.Context, id DID, opts ResolveOptions) (*Resolution, error) {
	if id.Method != MethodKey {
		return nil, invalidDID("%q is not a did:key", id.String())
	}
	if opts.VersionID != "" {
		return nil, errkind.New(errkind.NotFound, "%s has no version %q: did:key documents are not versioned", id, opts.VersionID).WithCode(CodeNotFound)
	}
	if strings.Contains(id.ID, ":") {
		return nil, invalidDID("did:key method-specific id %q has a version prefix; only the plain multibase form did:key:z... is supported", id.ID)
	}
	code, pub, kerr := decodeFingerprint(id.ID)
	if kerr != nil {
		if name, ok := knownUnsupportedCodecs[code]; ok {
			return nil, errkind.New(errkind.Unsupported, "%s is a %s key (multicodec 0x%x), which this resolver does not support", id, name, code).WithCode(CodeInvalidPublicKeyType)
		}
		if kerr.Kind == errkind.Unsupported {
			return nil, errkind.New(errkind.Invalid, "%s: %s", id, kerr.Msg).WithCode(CodeInvalidPublicKeyType)
		}
		return nil, invalidDID("%s: %s", id, kerr.Msg)
	}
	doc, err := keyDocument(id, code, pub, opts)
	if err != nil {
		return nil, err
	}
	return &Resolution{Document: doc, ResolutionMetadata: ResolutionMetadata{ContentType: ContentTypeDIDLDJSON}}, nil
}

// keyDocument builds the did:key document of pub in the requested format.
func keyDocument(id DID, code uint64, pub crypto.PublicKey, opts ResolveOptions) (*Document, error) {
	format := opts.PublicKeyFormat
	if format == "" {
		format = FormatMultikey
	}
	switch format {
	case FormatMultikey, FormatJSONWebKey2020, FormatBls12381G2Key2020:
		if err := checkBLSFormat(id, code, format); err != nil {
			return nil, err
		}
	case FormatEd25519VerificationKey2020:
		if code != codecEd25519 && code != codecX25519 {
			return nil, errkind.New(errkind.Invalid, "publicKeyFormat %q applies to Ed25519 and X25519 keys only; %s holds a %s key", format, id, keyTypes[code].name).WithCode(CodeUnsupportedPublicKeyType)
		}
	default:
		return nil, errkind.New(errkind.Invalid, "publicKeyFormat %q is not supported for did:key; want %q, %q, %q or %q", format, FormatMultikey, FormatJSONWebKey2020, FormatEd25519VerificationKey2020, FormatBls12381G2Key2020).WithCode(CodeUnsupportedPublicKeyType)
	}
	did := id.String()
	doc := &Document{ID: did}
	switch format {
	case FormatMultikey:
		doc.Context = []any{ContextDIDv1, ContextMultikey}
	case FormatJSONWebKey2020:
		doc.Context = []any{ContextDIDv1, ContextJWS2020}
	case FormatBls12381G2Key2020:
		doc.Context = []any{ContextDIDv1, contextBls12381v2020}
	default:
		doc.Context = []any{ContextDIDv1, contextEd25519v2020}
	}
	vm, err := keyVerificationMethod(did, code, pub, format)
	if err != nil {
		return nil, err
	}
	doc.VerificationMethod = []VerificationMethod{vm}
	ref := []MethodRef{{Ref: vm.ID}}
	if code == codecX25519 {
		doc.KeyAgreement = ref
		if format == FormatEd25519VerificationKey2020 {
			doc.Context = []any{ContextDIDv1, contextX25519v2020}
		}
		return doc, nil
	}
	doc.Authentication, doc.AssertionMethod = ref, ref
	doc.CapabilityInvocation, doc.CapabilityDelegation = ref, ref
	if code == codecBLS12381G2 {
		return doc, nil // a signature key only
	}
	if code != codecEd25519 {
		// NIST and secp256k1 keys do ECDH themselves.
		doc.KeyAgreement = ref
		return doc, nil
	}
	if opts.NoEncryptionKeyDerivation {
		return doc, nil
	}
	xpub, err := x25519FromEd25519(pub.(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	xvm, err := keyVerificationMethod(did, codecX25519, xpub, format)
	if err != nil {
		return nil, err
	}
	doc.VerificationMethod = append(doc.VerificationMethod, xvm)
	doc.KeyAgreement = []MethodRef{{Ref: xvm.ID}}
	if format == FormatEd25519VerificationKey2020 {
		doc.Context = append(doc.Context, contextX25519v2020)
	}
	return doc, nil
}

// keyVerificationMethod builds the verification method of one key; its
// fragment is the key's multibase fingerprint.
func keyVerificationMethod(did string, code uint64, pub crypto.PublicKey, format string) (VerificationMethod, error) {
	_, raw, err := keyBytes(pub)
	if err != nil {
		return VerificationMethod{}, err
	}
	fp := fingerprint(code, raw)
	vm := VerificationMethod{ID: did + "#" + fp, Controller: did}
	switch format {
	case FormatJSONWebKey2020:
		j, err := publicJWK(pub)
		if err != nil {
			return VerificationMethod{}, err
		}
		vm.Type, vm.PublicKeyJWK = TypeJSONWebKey2020, json.RawMessage(j)
	case FormatBls12381G2Key2020:
		vm.Type, vm.PublicKeyBase58 = TypeBls12381G2Key2020, base58.Encode(raw)
	case FormatEd25519VerificationKey2020:
		vm.Type, vm.PublicKeyMultibase = "Ed25519VerificationKey2020", fp
		if _, ok := pub.(*ecdh.PublicKey); ok {
			vm.Type = "X25519KeyAgreementKey2020"
		}
	default:
		vm.Type, vm.PublicKeyMultibase = TypeMultikey, fp
	}
	return vm, nil
}
