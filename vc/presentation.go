package vc

import (
	"encoding/json"
	"strings"

	"github.com/urbis-id/urbis/internal/errkind"
)

// Presentation is a verifiable presentation: the JSON object it was
// parsed from, checked against the VC Data Model, with the credentials
// it carries parsed too.
type Presentation struct {
	raw         map[string]any
	version     Version
	credentials []*Credential
	enveloped   []Enveloped
}

// Enveloped is a credential carried in a presentation in a format of its
// own: an EnvelopedVerifiableCredential object (VC 2.0), whose id is a
// data: URL such as "data:application/vc+jwt,eyJ...", or a bare compact
// JWT string (the VC 1.1 practice).
type Enveloped struct {
	Pointer string // JSON pointer of the entry, e.g. "/verifiableCredential/1"
	// MediaType is the media type of a data: URL ("application/vc+jwt",
	// "application/dc+sd-jwt", ...), or "" for a bare JWT string.
	MediaType string
	// Data is what the data: URL carries, or the bare JWT string.
	Data string
	// Object is the EnvelopedVerifiableCredential object, or nil.
	Object map[string]any
}

// Holder is the holder of a presentation.
type Holder struct {
	ID     string
	Object map[string]any // nil when the holder was given as a URL
}

// ParsePresentation parses and validates a presentation in the JSON
// serialization of the VC Data Model 1.1 or 2.0, including the
// credentials it embeds. Errors are of kind Invalid and name the
// offending member with a JSON pointer ("/verifiableCredential/0/issuer").
func ParsePresentation(b []byte) (*Presentation, error) {
	m, err := decodeObject(b, "presentation")
	if err != nil {
		return nil, err
	}
	return newPresentation(m)
}

// NewPresentation validates a presentation already decoded from JSON.
// m is copied.
func NewPresentation(m map[string]any) (*Presentation, error) {
	if m == nil {
		return nil, errkind.New(errkind.Invalid, "presentation must be a JSON object, not null")
	}
	return newPresentation(copyMap(m))
}

func newPresentation(m map[string]any) (*Presentation, error) {
	ver, err := checkContext(m, "")
	if err != nil {
		return nil, err
	}
	pr := &Presentation{raw: m, version: ver}
	if err := checkURLMember(m, "/id", "id"); err != nil {
		return nil, err
	}
	if err := checkTypes(m, "/type", "VerifiablePresentation"); err != nil {
		return nil, err
	}
	if h, ok := m["holder"]; ok {
		if err := checkIDOrObject("/holder", h, "holder"); err != nil {
			return nil, err
		}
	}
	if err := pr.parseCredentials(); err != nil {
		return nil, err
	}
	for _, name := range []string{"termsOfUse", "proof"} {
		if err := checkObjects(m, "/"+name, name, false, typed(false)); err != nil {
			return nil, err
		}
	}
	return pr, nil
}

func (pr *Presentation) parseCredentials() error {
	const p = "/verifiableCredential"
	v, ok := pr.raw["verifiableCredential"]
	if !ok {
		return nil
	}
	list, single := asList(v)
	if len(list) == 0 {
		return invalid(p, "must not be an empty array; leave it out instead")
	}
	for i, e := range list {
		ep := at(p, i, single)
		switch e := e.(type) {
		case string:
			if pr.version == V2 {
				return invalid(ep, "a VC 2.0 presentation carries a credential in another format as an EnvelopedVerifiableCredential object, not a string")
			}
			if strings.Count(e, ".") < 2 {
				return invalid(ep, "a credential given as a string must be a compact JWT")
			}
			pr.enveloped = append(pr.enveloped, Enveloped{Pointer: ep, Data: e})
		case map[string]any:
			if hasType(e, "EnvelopedVerifiableCredential") {
				env, err := parseEnveloped(ep, e)
				if err != nil {
					return err
				}
				pr.enveloped = append(pr.enveloped, env)
				continue
			}
			c, err := newCredential(e, ep)
			if err != nil {
				return err
			}
			pr.credentials = append(pr.credentials, c)
		default:
			return invalid(ep, "must be a credential object, not %s", jsonType(e))
		}
	}
	return nil
}

// parseEnveloped validates an EnvelopedVerifiableCredential object.
func parseEnveloped(p string, m map[string]any) (Enveloped, error) {
	if _, err := checkContext(m, p); err != nil {
		return Enveloped{}, err
	}
	id, ok := m["id"].(string)
	if !ok {
		return Enveloped{}, invalid(pointer(p, "id"), "is required: an EnvelopedVerifiableCredential carries the credential in a data: URL")
	}
	rest, ok := strings.CutPrefix(id, "data:")
	if !ok {
		return Enveloped{}, invalid(pointer(p, "id"), "must be a data: URL, not %s", describe(id))
	}
	mediaType, data, ok := strings.Cut(rest, ",")
	if !ok {
		return Enveloped{}, invalid(pointer(p, "id"), "the data: URL has no \",\" before its data")
	}
	if strings.HasSuffix(mediaType, ";base64") {
		return Enveloped{}, invalid(pointer(p, "id"), "base64 data: URLs are not read; an enveloped credential is its compact serialization")
	}
	return Enveloped{Pointer: p, MediaType: mediaType, Data: data, Object: copyMap(m)}, nil
}

func hasType(m map[string]any, t string) bool {
	for _, s := range stringList(m["type"]) {
		if s == t {
			return true
		}
	}
	return false
}

// Version returns the data model version the presentation's first
// context names.
func (pr *Presentation) Version() Version { return pr.version }

// Map returns a copy of the presentation's JSON object.
func (pr *Presentation) Map() map[string]any { return copyMap(pr.raw) }

// MarshalJSON returns the presentation's JSON object.
func (pr *Presentation) MarshalJSON() ([]byte, error) { return json.Marshal(pr.raw) }

// UnmarshalJSON parses and validates a presentation as
// ParsePresentation does.
func (pr *Presentation) UnmarshalJSON(b []byte) error {
	parsed, err := ParsePresentation(b)
	if err != nil {
		return err
	}
	*pr = *parsed
	return nil
}

// Contexts returns the @context entries, in order.
func (pr *Presentation) Contexts() []any {
	list, _ := asList(deepCopy(pr.raw["@context"]))
	return list
}

// ID returns the presentation's id, or "".
func (pr *Presentation) ID() string { s, _ := pr.raw["id"].(string); return s }

// Types returns the presentation's types.
func (pr *Presentation) Types() []string { return stringList(pr.raw["type"]) }

// Holder returns the holder, and whether the presentation names one.
func (pr *Presentation) Holder() (Holder, bool) {
	v, ok := pr.raw["holder"]
	if !ok {
		return Holder{}, false
	}
	h := Holder{ID: idOf(v)}
	if m, ok := v.(map[string]any); ok {
		h.Object = copyMap(m)
	}
	return h, true
}

// Credentials returns the credentials embedded as JSON objects, in order.
func (pr *Presentation) Credentials() []*Credential {
	return append([]*Credential(nil), pr.credentials...)
}

// Enveloped returns the credentials carried in other formats, in order.
func (pr *Presentation) Enveloped() []Enveloped { return append([]Enveloped(nil), pr.enveloped...) }

// Proofs returns the presentation's embedded proofs.
func (pr *Presentation) Proofs() []Entry { return entries(pr.raw["proof"]) }
