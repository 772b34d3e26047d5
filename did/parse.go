package did

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// The error codes of W3C DID Resolution that this package returns in
// errkind.Error.Code.
const (
	CodeInvalidDID                 = "INVALID_DID"
	CodeInvalidDIDURL              = "INVALID_DID_URL"
	CodeNotFound                   = "NOT_FOUND"
	CodeMethodNotSupported         = "METHOD_NOT_SUPPORTED"
	CodeRepresentationNotSupported = "REPRESENTATION_NOT_SUPPORTED"
	CodeInvalidPublicKeyType       = "INVALID_PUBLIC_KEY_TYPE"
	CodeUnsupportedPublicKeyType   = "UNSUPPORTED_PUBLIC_KEY_TYPE"
	CodeInvalidOptions             = "INVALID_OPTIONS"
	CodeDeactivated                = "DEACTIVATED"
	CodeInternalError              = "INTERNAL_ERROR"
)

// Parse parses s as a DID (W3C DID Core §3.1). A DID URL with a path,
// query or fragment is rejected; use ParseURL for those. Errors are
// *errkind.Error of kind Invalid with code INVALID_DID.
func Parse(s string) (DID, error) {
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		if _, err := parseDID(s[:i]); err == nil {
			return DID{}, invalidDID("%q is a DID URL (it has %s at offset %d); a DID has no path, query or fragment (use ParseURL)", s, quoteByte(s[i]), i)
		}
	}
	return parseDID(s)
}

// parseDID parses s, which must be exactly a DID.
func parseDID(s string) (DID, error) {
	if !strings.HasPrefix(s, "did:") {
		if len(s) >= 4 && strings.EqualFold(s[:4], "did:") {
			return DID{}, invalidDID("%q: the scheme must be lowercase \"did:\"", s)
		}
		return DID{}, invalidDID("%q does not start with \"did:\"", s)
	}
	rest := s[4:]
	colon := strings.IndexByte(rest, ':')
	if colon < 0 {
		return DID{}, invalidDID("%q has no method-specific id (want did:<method>:<id>)", s)
	}
	method, id := rest[:colon], rest[colon+1:]
	if method == "" {
		return DID{}, invalidDID("%q has an empty method name", s)
	}
	for i := 0; i < len(method); i++ {
		if c := method[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return DID{}, invalidDID("method name %q contains %s at offset %d; method names are lowercase letters and digits", method, quoteByte(c), i)
		}
	}
	if err := checkMethodSpecificID(id); err != nil {
		return DID{}, err
	}
	return DID{Method: method, ID: id}, nil
}

// checkMethodSpecificID validates id against the ABNF
// method-specific-id = *( *idchar ":" ) 1*idchar.
func checkMethodSpecificID(id string) error {
	if id == "" {
		return invalidDID("method-specific id is empty")
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case isIDChar(c), c == ':':
		case c == '%':
			if i+2 >= len(id) || !isHex(id[i+1]) || !isHex(id[i+2]) {
				return invalidDID("method-specific id %q contains \"%%\" not followed by two hex digits at offset %d", id, i)
			}
			i += 2
		default:
			return invalidDID("method-specific id %q contains %s at offset %d; allowed are letters, digits, \".\", \"-\", \"_\", \":\" and %%-escapes", id, quoteByte(c), i)
		}
	}
	if id[len(id)-1] == ':' {
		return invalidDID("method-specific id %q ends with \":\"", id)
	}
	return nil
}

// URL is a parsed DID URL (W3C DID Core §3.2): a DID followed by an
// optional path, query and fragment. VersionID, VersionTime and Service
// are the percent-decoded values of the DID parameters of the same names
// found in Query.
type URL struct {
	DID         DID
	Path        string // "" or starting with "/", still percent-encoded
	Query       string // the raw query without "?"
	Fragment    string // the raw fragment without "#"
	VersionID   string
	VersionTime string
	Service     string
}

// ParseURL parses s as a DID URL. Errors are *errkind.Error of kind
// Invalid with code INVALID_DID (the DID part is bad) or INVALID_DID_URL.
func ParseURL(s string) (URL, error) {
	end := strings.IndexAny(s, "/?#")
	if end < 0 {
		end = len(s)
	}
	d, err := parseDID(s[:end])
	if err != nil {
		return URL{}, err
	}
	u := URL{DID: d}
	rest := s[end:]
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		u.Fragment = rest[i+1:]
		if err := checkURLPart("fragment", u.Fragment, true); err != nil {
			return URL{}, err
		}
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		u.Query = rest[i+1:]
		if err := checkURLPart("query", u.Query, true); err != nil {
			return URL{}, err
		}
		rest = rest[:i]
	}
	u.Path = rest
	if err := checkURLPart("path", u.Path, false); err != nil {
		return URL{}, err
	}
	if err := u.parseParams(); err != nil {
		return URL{}, err
	}
	return u, nil
}

// parseParams fills VersionID, VersionTime and Service from Query.
func (u *URL) parseParams() error {
	if u.Query == "" {
		return nil
	}
	seen := map[string]bool{}
	for _, kv := range strings.Split(u.Query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		var dst *string
		switch k {
		case "versionId":
			dst = &u.VersionID
		case "versionTime":
			dst = &u.VersionTime
		case "service":
			dst = &u.Service
		default:
			continue
		}
		if seen[k] {
			return invalidURL("DID parameter %q appears more than once in query %q", k, u.Query)
		}
		seen[k] = true
		val, err := url.PathUnescape(v)
		if err != nil { // unreachable: checkURLPart validated the escapes
			return invalidURL("DID parameter %q has a bad value %q: %v", k, v, err)
		}
		if val == "" {
			return invalidURL("DID parameter %q has an empty value", k)
		}
		*dst = val
	}
	if u.VersionTime != "" {
		if _, err := ParseVersionTime(u.VersionTime); err != nil {
			return err
		}
	}
	return nil
}

// ParseVersionTime parses a versionTime value: an XML Schema dateTime such
// as "2002-10-10T17:00:00Z" (RFC 3339, fractional seconds allowed); a value
// without a time zone is taken as UTC.
func ParseVersionTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02T15:04:05.999999999", s); err == nil {
		return t, nil
	}
	return time.Time{}, invalidURL("versionTime %q is not an XML datetime such as 2002-10-10T17:00:00Z", s)
}

// String returns the DID URL in its textual form. When Query is empty but
// VersionID, VersionTime or Service are set, the query is built from them.
func (u URL) String() string {
	var b strings.Builder
	b.WriteString(u.DID.String())
	b.WriteString(u.Path)
	q := u.Query
	if q == "" {
		var parts []string
		for _, p := range [...]struct{ k, v string }{{"service", u.Service}, {"versionId", u.VersionID}, {"versionTime", u.VersionTime}} {
			if p.v != "" {
				parts = append(parts, p.k+"="+escapeQueryValue(p.v))
			}
		}
		q = strings.Join(parts, "&")
	}
	if q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	if u.Fragment != "" {
		b.WriteByte('#')
		b.WriteString(u.Fragment)
	}
	return b.String()
}

// escapeQueryValue percent-encodes the bytes of v that may not appear
// literally in a query parameter value.
func escapeQueryValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if isPChar(c) && c != '&' && c != '=' && c != '+' || c == '/' || c == '?' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// checkURLPart validates a path (segments of pchar separated by "/") or,
// when queryLike is set, a query or fragment (pchar, "/" and "?").
func checkURLPart(name, s string, queryLike bool) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return invalidURL("%s %q contains \"%%\" not followed by two hex digits at offset %d", name, s, i)
			}
			i += 2
		case isPChar(c), c == '/':
		case c == '?' && queryLike:
		default:
			return invalidURL("%s %q contains %s at offset %d, which must be percent-encoded", name, s, quoteByte(c), i)
		}
	}
	return nil
}

func isIDChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
}

// isPChar reports whether c is an RFC 3986 pchar other than pct-encoded.
func isPChar(c byte) bool {
	return isIDChar(c) || strings.IndexByte("~!$&'()*+,;=:@", c) >= 0
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// quoteByte renders c for an error message: printable ASCII quoted, other
// bytes in hex.
func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", string(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func invalidDID(format string, args ...any) *errkind.Error {
	return errkind.New(errkind.Invalid, format, args...).WithCode(CodeInvalidDID)
}

func invalidURL(format string, args ...any) *errkind.Error {
	return errkind.New(errkind.Invalid, format, args...).WithCode(CodeInvalidDIDURL)
}
