package vc

import (
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/urbis-id/urbis/internal/errkind"
)

// Version is a version of the VC Data Model.
type Version int

// The versions this package reads.
const (
	V1 Version = 1 // VC Data Model 1.1, base context https://www.w3.org/2018/credentials/v1
	V2 Version = 2 // VC Data Model 2.0, base context https://www.w3.org/ns/credentials/v2
)

// Base contexts of the two versions.
const (
	ContextV1 = "https://www.w3.org/2018/credentials/v1"
	ContextV2 = "https://www.w3.org/ns/credentials/v2"
)

// String returns "1.1" or "2.0".
func (v Version) String() string {
	switch v {
	case V1:
		return "1.1"
	case V2:
		return "2.0"
	}
	return "unknown"
}

// invalid is shorthand for an Invalid error about field p.
func invalid(p, format string, args ...any) error {
	return errkind.Field(errkind.Invalid, p, format, args...)
}

// checkContext validates @context and returns the version its first
// entry names. The value is an ordered set whose first item is the base
// context; a bare string equal to the base context (the JSON-LD compact
// form of a one-item set) is accepted too.
func checkContext(doc map[string]any, base string) (Version, error) {
	p := pointer(base, "@context")
	v, ok := doc["@context"]
	if !ok {
		return 0, invalid(p, "is required; the first entry must be %q (VC 2.0) or %q (VC 1.1)", ContextV2, ContextV1)
	}
	list, single := asList(v)
	if len(list) == 0 {
		return 0, invalid(p, "must not be empty; the first entry must be %q (VC 2.0) or %q (VC 1.1)", ContextV2, ContextV1)
	}
	var ver Version
	switch list[0] {
	case ContextV2:
		ver = V2
	case ContextV1:
		ver = V1
	default:
		return 0, invalid(at(p, 0, single), "the first @context entry must be %q (VC 2.0) or %q (VC 1.1), not %s", ContextV2, ContextV1, describe(list[0]))
	}
	for i, e := range list[1:] {
		ep := at(p, i+1, single)
		switch e := e.(type) {
		case string:
			if e == ContextV1 || e == ContextV2 {
				return 0, invalid(ep, "%q may only be the first entry, and the VC 1.1 and 2.0 contexts cannot be combined", e)
			}
			if err := checkURL(ep, e); err != nil {
				return 0, err
			}
		case map[string]any:
		default:
			return 0, invalid(ep, "a context must be a URL or an object, not %s", jsonType(e))
		}
	}
	return ver, nil
}

// checkTypes validates a "type" member that must include want.
func checkTypes(doc map[string]any, p, want string) error {
	v, ok := doc["type"]
	if !ok {
		return invalid(p, "is required and must include %q", want)
	}
	if err := checkTypeValue(p, v); err != nil {
		return err
	}
	for _, t := range stringList(v) {
		if t == want {
			return nil
		}
	}
	return invalid(p, "must include %q", want)
}

// checkTypeValue validates a type value: a non-empty string or a
// non-empty array of them.
func checkTypeValue(p string, v any) error {
	list, single := asList(v)
	if len(list) == 0 {
		return invalid(p, "must not be empty")
	}
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			return invalid(at(p, i, single), "a type must be a string, not %s", jsonType(e))
		}
		if strings.TrimSpace(s) == "" {
			return invalid(at(p, i, single), "a type must not be empty")
		}
	}
	return nil
}

// checkURL validates a URL: an absolute URL (with a scheme, such as
// https:, did: or urn:) without spaces or control characters.
func checkURL(p, s string) error {
	if s == "" {
		return invalid(p, "must be a URL, not an empty string")
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }); i >= 0 {
		return invalid(p, "%q is not a URL: it contains a space or control character at offset %d", s, i)
	}
	u, err := url.Parse(s)
	if err != nil {
		return invalid(p, "%q is not a URL: %v", s, unwrapURLError(err))
	}
	if u.Scheme == "" {
		return invalid(p, "%q is not a URL: it has no scheme (such as https:, did: or urn:)", s)
	}
	if u.Opaque == "" && u.Host == "" && u.Path == "" {
		return invalid(p, "%q is not a URL: nothing follows the scheme", s)
	}
	return nil
}

func unwrapURLError(err error) error {
	if e, ok := err.(*url.Error); ok {
		return e.Err
	}
	return err
}

// checkURLMember validates an optional member that must be a URL.
func checkURLMember(doc map[string]any, p, name string) error {
	v, ok := doc[name]
	if !ok {
		return nil
	}
	s, ok := v.(string)
	if !ok {
		return invalid(p, "must be a URL string, not %s", jsonType(v))
	}
	return checkURL(p, s)
}

// checkIDOrObject validates issuer or holder: a URL, or an object with
// an "id" URL.
func checkIDOrObject(p string, v any, what string) error {
	switch v := v.(type) {
	case string:
		return checkURL(p, v)
	case map[string]any:
		id, ok := v["id"]
		if !ok {
			return invalid(pointer(p, "id"), "is required: an %s object must have an id URL", what)
		}
		s, ok := id.(string)
		if !ok {
			return invalid(pointer(p, "id"), "must be a URL string, not %s", jsonType(id))
		}
		return checkURL(pointer(p, "id"), s)
	default:
		return invalid(p, "must be a URL or an object with an id, not %s", jsonType(v))
	}
}

// checkObjects validates a member whose value is an object or an array
// of objects, each checked by each (which may be nil).
func checkObjects(doc map[string]any, p, name string, required bool, each func(p string, m map[string]any) error) error {
	v, ok := doc[name]
	if !ok {
		if required {
			return invalid(p, "is required")
		}
		return nil
	}
	list, single := asList(v)
	if len(list) == 0 {
		return invalid(p, "must not be an empty array")
	}
	for i, e := range list {
		ep := at(p, i, single)
		m, ok := e.(map[string]any)
		if !ok {
			return invalid(ep, "must be an object, not %s", jsonType(e))
		}
		if each != nil {
			if err := each(ep, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// typed checks the common shape of credentialStatus, credentialSchema,
// evidence, termsOfUse, refreshService and proof entries: a required
// type and an optional id URL (required if needID).
func typed(needID bool) func(p string, m map[string]any) error {
	return func(p string, m map[string]any) error {
		if needID {
			if _, ok := m["id"]; !ok {
				return invalid(pointer(p, "id"), "is required")
			}
		}
		if err := checkURLMember(m, pointer(p, "id"), "id"); err != nil {
			return err
		}
		t, ok := m["type"]
		if !ok {
			return invalid(pointer(p, "type"), "is required")
		}
		return checkTypeValue(pointer(p, "type"), t)
	}
}

// checkLangString validates name and description (VC 2.0): a string, a
// language value object ({"@value", "@language", "@direction"}) or an
// array of them.
func checkLangString(doc map[string]any, p, name string) error {
	v, ok := doc[name]
	if !ok {
		return nil
	}
	list, single := asList(v)
	for i, e := range list {
		ep := at(p, i, single)
		switch e := e.(type) {
		case string:
		case map[string]any:
			if _, ok := e["@value"].(string); !ok {
				return invalid(pointer(ep, "@value"), "a language value object must have a string @value")
			}
			if l, ok := e["@language"]; ok {
				if s, ok := l.(string); !ok || !langTag.MatchString(s) {
					return invalid(pointer(ep, "@language"), "must be a BCP 47 language tag, not %s", describe(l))
				}
			}
			if d, ok := e["@direction"]; ok && d != "ltr" && d != "rtl" {
				return invalid(pointer(ep, "@direction"), "must be \"ltr\" or \"rtl\", not %s", describe(d))
			}
		default:
			return invalid(ep, "must be a string or a language value object, not %s", jsonType(e))
		}
	}
	return nil
}

var langTag = regexp.MustCompile(`^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$`)

// dateTime matches an XML Schema 1.1 dateTime; the timezone is group 2.
var dateTime = regexp.MustCompile(`^-?([1-9][0-9]{3,}|0[0-9]{3})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?(Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))?$`)

// parseDateTime parses an XML Schema dateTime. With needZone (a
// dateTimeStamp, as VC 2.0 requires) the timezone is mandatory; without
// it a missing timezone is read as UTC.
func parseDateTime(p string, v any, needZone bool) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, invalid(p, "must be an XML Schema dateTime string such as \"2024-01-01T00:00:00Z\", not %s", jsonType(v))
	}
	m := dateTime.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, invalid(p, "%q is not an XML Schema dateTime such as \"2024-01-01T00:00:00Z\"", s)
	}
	if m[2] == "" {
		if needZone {
			return time.Time{}, invalid(p, "%q has no timezone; VC 2.0 needs a dateTimeStamp such as \"2024-01-01T00:00:00Z\"", s)
		}
		s += "Z"
	}
	if len(m[1]) > 4 || s[0] == '-' {
		return time.Time{}, errkind.Field(errkind.Unsupported, p, "%q: years before 0000 or after 9999 are not supported", v)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		// The pattern admits days past the end of the month.
		reason := "day out of range"
		if pe, ok := err.(*time.ParseError); ok && pe.Message != "" {
			reason = strings.TrimPrefix(pe.Message, ": ")
		}
		return time.Time{}, invalid(p, "%q is not a valid date-time: %s", v, reason)
	}
	return t, nil
}

// describe renders a JSON value for a message.
func describe(v any) string {
	if s, ok := v.(string); ok {
		if len(s) > 80 {
			s = s[:80] + "…"
		}
		return `"` + s + `"`
	}
	return jsonType(v)
}
