package registry

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"net/url"
	"strings"

	"github.com/btcsuite/btcutil/base58"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

// MethodURBIS is the method name of did:urbis.
const MethodURBIS = "urbis"

// Limits on a did:urbis document.
const (
	maxMethods     = 32
	maxServices    = 32
	maxFragmentLen = 64
	maxServiceLen  = 512
)

// NewDIDCreate checks doc and returns the DID it will have and the
// did.create payload: did:urbis:<base58btc(sha256(Canonical(payload)))>.
// The same document always gives the same DID. The operation must be
// signed by one of doc's capabilityInvocation keys, as <did>#<fragment>.
func NewDIDCreate(doc DocumentSpec) (didID string, payload DIDCreate, err error) {
	if err := validateSpec(doc, "/document"); err != nil {
		return "", DIDCreate{}, err
	}
	payload = DIDCreate{Document: doc}
	id, err := deriveDID(payload)
	if err != nil {
		return "", DIDCreate{}, err
	}
	return id, payload, nil
}

// deriveDID returns the DID a did.create payload creates.
func deriveDID(p DIDCreate) (string, error) {
	b, err := Canonical(p)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "did:" + MethodURBIS + ":" + base58.Encode(sum[:]), nil
}

// validateSpec checks a document: fragment ids, unique ids, decodable
// Multikey keys, relationships that name existing methods of a fitting
// key type, at least one capabilityInvocation key, services with
// absolute URIs. at is the JSON pointer of doc, for messages.
func validateSpec(doc DocumentSpec, at string) error {
	if len(doc.VerificationMethod) == 0 {
		return errkind.Field(errkind.Invalid, at+"/verificationMethod", "a did:urbis document needs at least one verification method")
	}
	if len(doc.VerificationMethod) > maxMethods || len(doc.Service) > maxServices {
		return errkind.Field(errkind.Invalid, at, "a did:urbis document has at most %d verification methods and %d services", maxMethods, maxServices)
	}
	ids := make(map[string]bool)
	keys := make(map[string]crypto.PublicKey)
	for i, m := range doc.VerificationMethod {
		f := fmt.Sprintf("%s/verificationMethod/%d", at, i)
		if err := checkFragment(m.ID, f+"/id", ids); err != nil {
			return err
		}
		if m.Type != did.TypeMultikey {
			return errkind.Field(errkind.Invalid, f+"/type", "verification method type %q is not supported; want %q", m.Type, did.TypeMultikey)
		}
		pub, err := decodeKey(m.PublicKeyMultibase)
		if err != nil {
			return errkind.Wrap(errkind.Invalid, err, "%s/publicKeyMultibase", f)
		}
		keys[m.ID] = pub
	}
	rels := []struct {
		name string
		refs []string
		sign bool
	}{
		{"authentication", doc.Authentication, true},
		{"assertionMethod", doc.AssertionMethod, true},
		{"keyAgreement", doc.KeyAgreement, false},
		{"capabilityInvocation", doc.CapabilityInvocation, true},
		{"capabilityDelegation", doc.CapabilityDelegation, true},
	}
	for _, rel := range rels {
		seen := make(map[string]bool)
		for i, ref := range rel.refs {
			f := fmt.Sprintf("%s/%s/%d", at, rel.name, i)
			pub, ok := keys[ref]
			if !ok {
				return errkind.Field(errkind.Invalid, f, "%q names no verification method of the document; use the id of one, such as %q", ref, doc.VerificationMethod[0].ID)
			}
			if seen[ref] {
				return errkind.Field(errkind.Invalid, f, "%q is listed twice in %s", ref, rel.name)
			}
			seen[ref] = true
			if err := checkUse(pub, ref, rel.name, rel.sign, f); err != nil {
				return err
			}
		}
	}
	if len(doc.CapabilityInvocation) == 0 {
		return errkind.Field(errkind.Invalid, at+"/capabilityInvocation", "a did:urbis document needs at least one capabilityInvocation key: it is the key that may update the DID")
	}
	for i, s := range doc.Service {
		f := fmt.Sprintf("%s/service/%d", at, i)
		if err := checkFragment(s.ID, f+"/id", ids); err != nil {
			return err
		}
		if s.Type == "" || len(s.Type) > maxServiceLen {
			return errkind.Field(errkind.Invalid, f+"/type", "service type must be 1 to %d characters", maxServiceLen)
		}
		u, err := url.Parse(s.ServiceEndpoint)
		if err != nil || u.Scheme == "" || len(s.ServiceEndpoint) > maxServiceLen {
			return errkind.Field(errkind.Invalid, f+"/serviceEndpoint", "service endpoint %q must be an absolute URI of at most %d characters", s.ServiceEndpoint, maxServiceLen)
		}
	}
	return nil
}

// checkUse checks that a key of a relationship fits it: signing
// relationships need a signing key (capabilityInvocation one the chain
// verifies: Ed25519 or P-256), keyAgreement needs a key-agreement key.
func checkUse(pub crypto.PublicKey, ref, rel string, sign bool, field string) error {
	_, isX25519 := pub.(*ecdh.PublicKey)
	_, isEd25519 := pub.(ed25519.PublicKey)
	switch {
	case sign && isX25519:
		return errkind.Field(errkind.Invalid, field, "%s is an X25519 key, which cannot sign; it fits keyAgreement only, not %s", ref, rel)
	case !sign && isEd25519:
		return errkind.Field(errkind.Invalid, field, "%s is an Ed25519 key, which cannot do key agreement; use an X25519 key for keyAgreement", ref)
	case rel == "capabilityInvocation":
		if _, err := algFor(pub); err != nil {
			return errkind.Field(errkind.Invalid, field, "%s is a %s key; capabilityInvocation keys must be Ed25519 or P-256, the keys operations are signed with", ref, keyName(pub))
		}
	}
	return nil
}

// checkFragment checks that id is "#" and 1 to maxFragmentLen letters,
// digits, ".", "-", "_" or "~", not used before.
func checkFragment(id, field string, seen map[string]bool) error {
	frag, ok := strings.CutPrefix(id, "#")
	bad := !ok || frag == "" || len(frag) > maxFragmentLen ||
		strings.IndexFunc(frag, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' || r == '~')
		}) >= 0
	if bad {
		return errkind.Field(errkind.Invalid, field, "id %q must be a fragment: \"#\" and 1 to %d letters, digits, \".\", \"-\", \"_\" or \"~\" (for example \"#key-1\")", id, maxFragmentLen)
	}
	if seen[id] {
		return errkind.Field(errkind.Invalid, field, "id %q is used twice; verification method and service ids must be unique", id)
	}
	seen[id] = true
	return nil
}

// specKey returns the public key of the method with fragment frag ("#k")
// if the document lists it under rel.
func specKey(doc DocumentSpec, frag string, rels ...did.Relationship) (crypto.PublicKey, bool) {
	listed := false
	for _, rel := range rels {
		for _, r := range specRel(doc, rel) {
			listed = listed || r == frag
		}
	}
	if !listed {
		return nil, false
	}
	for _, m := range doc.VerificationMethod {
		if m.ID == frag {
			pub, err := decodeKey(m.PublicKeyMultibase)
			return pub, err == nil
		}
	}
	return nil, false
}

func specRel(doc DocumentSpec, rel did.Relationship) []string {
	switch rel {
	case did.Authentication:
		return doc.Authentication
	case did.AssertionMethod:
		return doc.AssertionMethod
	case did.KeyAgreement:
		return doc.KeyAgreement
	case did.CapabilityInvocation:
		return doc.CapabilityInvocation
	case did.CapabilityDelegation:
		return doc.CapabilityDelegation
	}
	return nil
}

// Expand returns the did.Document of the DID id with content s: absolute
// ids, id as controller of every method, the did/v1 and multikey/v1
// contexts.
func (s DocumentSpec) Expand(id string) *did.Document {
	doc := &did.Document{Context: []any{did.ContextDIDv1, did.ContextMultikey}, ID: id}
	for _, m := range s.VerificationMethod {
		doc.VerificationMethod = append(doc.VerificationMethod, did.VerificationMethod{
			ID: id + m.ID, Type: m.Type, Controller: id, PublicKeyMultibase: m.PublicKeyMultibase,
		})
	}
	refs := func(frags []string) []did.MethodRef {
		var out []did.MethodRef
		for _, f := range frags {
			out = append(out, did.MethodRef{Ref: id + f})
		}
		return out
	}
	doc.Authentication = refs(s.Authentication)
	doc.AssertionMethod = refs(s.AssertionMethod)
	doc.KeyAgreement = refs(s.KeyAgreement)
	doc.CapabilityInvocation = refs(s.CapabilityInvocation)
	doc.CapabilityDelegation = refs(s.CapabilityDelegation)
	for _, sv := range s.Service {
		doc.Service = append(doc.Service, did.Service{ID: id + sv.ID, Type: did.StringSet{sv.Type}, Endpoint: sv.ServiceEndpoint})
	}
	return doc
}
