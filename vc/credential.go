package vc

import (
	"encoding/json"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// Credential is a verifiable credential: the JSON object it was parsed
// from, checked against the VC Data Model, with accessors for the
// properties the model defines. A Credential does not change after
// parsing; accessors return copies.
type Credential struct {
	raw     map[string]any
	version Version
	// Parsed once by validation.
	validFrom, validUntil time.Time // VC 2.0
	issued, expires       time.Time // VC 1.1
}

// Issuer is the issuer of a credential.
type Issuer struct {
	ID string
	// Object is the issuer object with its other properties (name,
	// image, ...), or nil when the issuer was given as a URL.
	Object map[string]any
}

// Subject is one credentialSubject object.
type Subject struct {
	ID     string         // empty for a subject without an id
	Claims map[string]any // the whole object, id included
}

// Entry is one credentialStatus, credentialSchema, evidence, termsOfUse,
// refreshService or proof object.
type Entry struct {
	ID     string
	Types  []string
	Object map[string]any // the whole object
}

// HasType reports whether the entry has type t.
func (e Entry) HasType(t string) bool {
	for _, s := range e.Types {
		if s == t {
			return true
		}
	}
	return false
}

// ParseCredential parses and validates a credential in the JSON
// serialization of the VC Data Model 1.1 or 2.0. Errors are of kind
// Invalid and name the offending member with a JSON pointer.
func ParseCredential(b []byte) (*Credential, error) {
	m, err := decodeObject(b, "credential")
	if err != nil {
		return nil, err
	}
	return newCredential(m, "")
}

// NewCredential validates a credential already decoded from JSON (as by
// encoding/json into a map[string]any) and returns it. m is copied.
func NewCredential(m map[string]any) (*Credential, error) {
	if m == nil {
		return nil, errkind.New(errkind.Invalid, "credential must be a JSON object, not null")
	}
	return newCredential(copyMap(m), "")
}

// newCredential validates m, which it keeps; base is the JSON pointer of
// m inside an enclosing document ("" at the top).
func newCredential(m map[string]any, base string) (*Credential, error) {
	c := &Credential{raw: m}
	ver, err := checkContext(m, base)
	if err != nil {
		return nil, err
	}
	c.version = ver
	if err := c.check(base); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Credential) check(base string) error {
	m := c.raw
	p := func(name string) string { return pointer(base, name) }
	if err := checkURLMember(m, p("id"), "id"); err != nil {
		return err
	}
	if err := checkTypes(m, p("type"), "VerifiableCredential"); err != nil {
		return err
	}
	iss, ok := m["issuer"]
	if !ok {
		return invalid(p("issuer"), "is required: a URL or an object with an id URL")
	}
	if err := checkIDOrObject(p("issuer"), iss, "issuer"); err != nil {
		return err
	}
	if err := checkObjects(m, p("credentialSubject"), "credentialSubject", true, checkSubject); err != nil {
		return err
	}
	if err := c.checkDates(base); err != nil {
		return err
	}
	for _, e := range []struct {
		name   string
		needID bool
	}{
		{"credentialStatus", false},
		{"credentialSchema", true},
		{"evidence", false},
		{"termsOfUse", false},
		{"refreshService", c.version == V1},
		{"proof", false},
	} {
		if err := checkObjects(m, p(e.name), e.name, false, typed(e.needID)); err != nil {
			return err
		}
	}
	if c.version == V2 {
		for _, name := range []string{"name", "description"} {
			if err := checkLangString(m, p(name), name); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkSubject validates one credentialSubject object: it must make at
// least one claim, and its id, if any, must be a URL.
func checkSubject(p string, m map[string]any) error {
	if len(m) == 0 {
		return invalid(p, "must hold at least one claim; it is an empty object")
	}
	return checkURLMember(m, pointer(p, "id"), "id")
}

// checkDates validates the validity period members of the version and
// refuses those of the other version, which its context does not define.
func (c *Credential) checkDates(base string) error {
	m := c.raw
	p := func(name string) string { return pointer(base, name) }
	var err error
	switch c.version {
	case V2:
		for _, name := range []string{"issuanceDate", "expirationDate"} {
			if _, ok := m[name]; ok {
				return invalid(p(name), "is a VC 1.1 property; a VC 2.0 credential uses validFrom and validUntil")
			}
		}
		if v, ok := m["validFrom"]; ok {
			if c.validFrom, err = parseDateTime(p("validFrom"), v, true); err != nil {
				return err
			}
		}
		if v, ok := m["validUntil"]; ok {
			if c.validUntil, err = parseDateTime(p("validUntil"), v, true); err != nil {
				return err
			}
		}
		if !c.validFrom.IsZero() && !c.validUntil.IsZero() && c.validUntil.Before(c.validFrom) {
			return invalid(p("validUntil"), "%s is before validFrom %s", m["validUntil"], m["validFrom"])
		}
	case V1:
		for _, name := range []string{"validFrom", "validUntil"} {
			if _, ok := m[name]; ok {
				return invalid(p(name), "is a VC 2.0 property; a VC 1.1 credential uses issuanceDate and expirationDate")
			}
		}
		v, ok := m["issuanceDate"]
		if !ok {
			return invalid(p("issuanceDate"), "is required in a VC 1.1 credential")
		}
		if c.issued, err = parseDateTime(p("issuanceDate"), v, false); err != nil {
			return err
		}
		if v, ok := m["expirationDate"]; ok {
			if c.expires, err = parseDateTime(p("expirationDate"), v, false); err != nil {
				return err
			}
			if c.expires.Before(c.issued) {
				return invalid(p("expirationDate"), "%s is before issuanceDate %s", m["expirationDate"], m["issuanceDate"])
			}
		}
	}
	return nil
}

// Version returns the data model version the credential's first context
// names.
func (c *Credential) Version() Version { return c.version }

// Map returns a copy of the credential's JSON object.
func (c *Credential) Map() map[string]any { return copyMap(c.raw) }

// MarshalJSON returns the credential's JSON object.
func (c *Credential) MarshalJSON() ([]byte, error) { return json.Marshal(c.raw) }

// UnmarshalJSON parses and validates a credential as ParseCredential does.
func (c *Credential) UnmarshalJSON(b []byte) error {
	parsed, err := ParseCredential(b)
	if err != nil {
		return err
	}
	*c = *parsed
	return nil
}

// Get returns a copy of the member name, and whether it is present.
func (c *Credential) Get(name string) (any, bool) {
	v, ok := c.raw[name]
	return deepCopy(v), ok
}

// Contexts returns the @context entries: strings (URLs) and objects
// (inline contexts), in order.
func (c *Credential) Contexts() []any {
	list, _ := asList(deepCopy(c.raw["@context"]))
	return list
}

// ContextURLs returns the URL entries of @context, in order.
func (c *Credential) ContextURLs() []string { return stringList(c.raw["@context"]) }

// ID returns the credential's id, or "" if it has none.
func (c *Credential) ID() string { s, _ := c.raw["id"].(string); return s }

// Types returns the credential's types, VerifiableCredential included.
func (c *Credential) Types() []string { return stringList(c.raw["type"]) }

// HasType reports whether the credential has type t.
func (c *Credential) HasType(t string) bool {
	for _, s := range c.Types() {
		if s == t {
			return true
		}
	}
	return false
}

// Issuer returns the issuer.
func (c *Credential) Issuer() Issuer {
	v := c.raw["issuer"]
	is := Issuer{ID: idOf(v)}
	if m, ok := v.(map[string]any); ok {
		is.Object = copyMap(m)
	}
	return is
}

// Subjects returns the credentialSubject objects, in order.
func (c *Credential) Subjects() []Subject {
	objs := objects(c.raw["credentialSubject"])
	out := make([]Subject, len(objs))
	for i, m := range objs {
		out[i] = Subject{ID: idOf(m), Claims: m}
	}
	return out
}

// ValidFrom returns validFrom (VC 2.0) and whether it is present.
func (c *Credential) ValidFrom() (time.Time, bool) { return c.validFrom, !c.validFrom.IsZero() }

// ValidUntil returns validUntil (VC 2.0) and whether it is present.
func (c *Credential) ValidUntil() (time.Time, bool) { return c.validUntil, !c.validUntil.IsZero() }

// IssuanceDate returns issuanceDate (VC 1.1) and whether it is present.
func (c *Credential) IssuanceDate() (time.Time, bool) { return c.issued, !c.issued.IsZero() }

// ExpirationDate returns expirationDate (VC 1.1) and whether it is
// present.
func (c *Credential) ExpirationDate() (time.Time, bool) { return c.expires, !c.expires.IsZero() }

// ValidityPeriod returns the period in which the credential is valid in
// either version: validFrom and validUntil (2.0), or issuanceDate and
// expirationDate (1.1). A zero time means no bound on that side.
func (c *Credential) ValidityPeriod() (from, until time.Time) {
	if c.version == V1 {
		return c.issued, c.expires
	}
	return c.validFrom, c.validUntil
}

// Status returns the credentialStatus entries.
func (c *Credential) Status() []Entry { return entries(c.raw["credentialStatus"]) }

// Schemas returns the credentialSchema entries.
func (c *Credential) Schemas() []Entry { return entries(c.raw["credentialSchema"]) }

// Evidence returns the evidence entries.
func (c *Credential) Evidence() []Entry { return entries(c.raw["evidence"]) }

// TermsOfUse returns the termsOfUse entries.
func (c *Credential) TermsOfUse() []Entry { return entries(c.raw["termsOfUse"]) }

// RefreshService returns the refreshService entries.
func (c *Credential) RefreshService() []Entry { return entries(c.raw["refreshService"]) }

// Proofs returns the embedded proofs (a proof set when there are more
// than one).
func (c *Credential) Proofs() []Entry { return entries(c.raw["proof"]) }

func entries(v any) []Entry {
	objs := objects(v)
	if len(objs) == 0 {
		return nil
	}
	out := make([]Entry, len(objs))
	for i, m := range objs {
		out[i] = Entry{ID: idOf(m), Types: stringList(m["type"]), Object: m}
	}
	return out
}
