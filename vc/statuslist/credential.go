package statuslist

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// Names from the VC 2.0 data model and the specification.
const (
	ContextV2          = "https://www.w3.org/ns/credentials/v2"
	TypeEntry          = "BitstringStatusListEntry"
	TypeList           = "BitstringStatusList"
	TypeListCredential = "BitstringStatusListCredential"
)

// Status purposes. Urbis issues revocation and suspension lists, whose
// entries are one bit; message lists need statusSize > 1 and come later.
const (
	PurposeRevocation = "revocation" // permanent: a revoked credential stays revoked
	PurposeSuspension = "suspension" // reversible
)

// CheckPurpose returns nil if Urbis issues lists of purpose p.
func CheckPurpose(p string) error {
	switch p {
	case PurposeRevocation, PurposeSuspension:
		return nil
	case "refresh", "message":
		return errkind.Field(errkind.Unsupported, "statusPurpose", "%q lists are not issued here; supported purposes are revocation and suspension", p)
	case "":
		return errkind.Field(errkind.Invalid, "statusPurpose", "missing")
	}
	return errkind.Field(errkind.Invalid, "statusPurpose", "unknown purpose %q; supported purposes are revocation and suspension", p)
}

// Entry returns the credentialStatus entry for index of the list
// credential published at listURL. Index and purpose come from an
// Allocation, so they are not checked again here.
func Entry(listURL string, index int, purpose string) map[string]any {
	return map[string]any{
		"id":                   listURL + "#" + strconv.Itoa(index),
		"type":                 TypeEntry,
		"statusPurpose":        purpose,
		"statusListIndex":      strconv.Itoa(index),
		"statusListCredential": listURL,
	}
}

// ListCredential returns the unsigned BitstringStatusListCredential
// published at listURL by issuer, holding bits for purpose, valid from
// validFrom. The caller adds validUntil if any, and signs it.
func ListCredential(listURL, issuer, purpose string, bits *Bitstring, validFrom time.Time) (map[string]any, error) {
	if err := checkURL("listURL", listURL); err != nil {
		return nil, err
	}
	if issuer == "" {
		return nil, errkind.Field(errkind.Invalid, "issuer", "missing")
	}
	if err := CheckPurpose(purpose); err != nil {
		return nil, err
	}
	if bits == nil {
		return nil, errkind.Field(errkind.Invalid, "bits", "missing bitstring")
	}
	if validFrom.IsZero() {
		return nil, errkind.Field(errkind.Invalid, "validFrom", "missing")
	}
	enc, err := bits.Encode()
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"@context":  []any{ContextV2},
		"id":        listURL,
		"type":      []any{"VerifiableCredential", TypeListCredential},
		"issuer":    issuer,
		"validFrom": validFrom.UTC().Format(time.RFC3339),
		"credentialSubject": map[string]any{
			"id":            listURL + "#list",
			"type":          TypeList,
			"statusPurpose": purpose,
			"encodedList":   enc,
		},
	}, nil
}

func checkURL(field, s string) error {
	if s == "" {
		return errkind.Field(errkind.Invalid, field, "missing")
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() {
		return errkind.Field(errkind.Invalid, field, "%q is not an absolute URL", s).WithCode(CodeMalformed)
	}
	if u.Fragment != "" {
		return errkind.Field(errkind.Invalid, field, "%q has a fragment; a list credential URL has none", s).WithCode(CodeMalformed)
	}
	return nil
}

// Check returns the status bit that entry (a credential's
// credentialStatus of type BitstringStatusListEntry) points at in
// listCredential, the status list credential fetched from the entry's
// statusListCredential URL. It follows the specification's validate
// algorithm: the list must be a BitstringStatusListCredential whose id is
// that URL and whose statusPurpose includes the entry's, and the index
// must lie inside the list. Verifying the list credential's proof and
// validity period is the caller's.
//
// Errors name the offending field: "credentialStatus.X" for the entry,
// "listCredential.X" for the list credential.
func Check(entry, listCredential map[string]any) (set bool, err error) {
	return check(entry, listCredential, Decode)
}

// check is Check, decoding the list with decode, which must return a
// Bitstring that check may read but not change.
func check(entry, listCredential map[string]any, decode func(string) (*Bitstring, error)) (set bool, err error) {
	e, err := parseEntry(entry)
	if err != nil {
		return false, err
	}
	bits, err := parseList(listCredential, e, decode)
	if err != nil {
		return false, err
	}
	if n := bits.Entries(e.size); e.index >= uint64(n) {
		return false, errkind.Field(errkind.Invalid, "credentialStatus.statusListIndex", "index %d is outside the list of %d entries", e.index, n).WithCode(CodeRange)
	}
	v, err := bits.Value(int(e.index), e.size)
	return v != 0, err
}

type entryFields struct {
	purpose string
	index   uint64
	size    int
	listURL string
}

func parseEntry(m map[string]any) (entryFields, error) {
	var e entryFields
	const p = "credentialStatus."
	if m == nil {
		return e, errkind.Field(errkind.Invalid, "credentialStatus", "missing").WithCode(CodeMalformed)
	}
	if !hasType(m["type"], TypeEntry) {
		return e, errkind.Field(errkind.Invalid, p+"type", "got %s; want %q", show(m["type"]), TypeEntry).WithCode(CodeMalformed)
	}
	var err error
	if e.purpose, err = stringField(m, p, "statusPurpose"); err != nil {
		return e, err
	}
	if e.listURL, err = stringField(m, p, "statusListCredential"); err != nil {
		return e, err
	}
	if err := checkURL(p+"statusListCredential", e.listURL); err != nil {
		return e, err
	}
	if id, ok := m["id"]; ok {
		if s, isStr := id.(string); !isStr || s == "" {
			return e, errkind.Field(errkind.Invalid, p+"id", "got %s; want a URL", show(id)).WithCode(CodeMalformed)
		} else if s == e.listURL {
			return e, errkind.Field(errkind.Invalid, p+"id", "must not be the status list credential URL").WithCode(CodeMalformed)
		}
	}
	idx, err := stringField(m, p, "statusListIndex")
	if err != nil {
		return e, err
	}
	if e.index, err = parseIndex(idx); err != nil {
		return e, err
	}
	e.size = 1
	if v, ok := m["statusSize"]; ok {
		n, ok := integer(v)
		if !ok || n < 1 {
			return e, errkind.Field(errkind.Invalid, p+"statusSize", "got %s; want an integer greater than zero", show(v)).WithCode(CodeMalformed)
		}
		if n != 1 {
			return e, errkind.Field(errkind.Unsupported, p+"statusSize", "status size %d; only 1 is supported", n)
		}
	}
	return e, nil
}

// parseIndex parses statusListIndex, a non-negative base-10 integer in a
// string. Values too large for any decodable list are a RANGE_ERROR.
func parseIndex(s string) (uint64, error) {
	const f = "credentialStatus.statusListIndex"
	if s == "" {
		return 0, errkind.Field(errkind.Invalid, f, "empty; want a base-10 integer").WithCode(CodeMalformed)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errkind.Field(errkind.Invalid, f, "%q is not a non-negative base-10 integer", s).WithCode(CodeMalformed)
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n >= MaxSize {
		return 0, errkind.Field(errkind.Invalid, f, "index %s is beyond any list of at most %d entries", s, MaxSize).WithCode(CodeRange)
	}
	return n, nil
}

func parseList(m map[string]any, e entryFields, decode func(string) (*Bitstring, error)) (*Bitstring, error) {
	const p = "listCredential."
	if m == nil {
		return nil, errkind.Field(errkind.Invalid, "listCredential", "missing").WithCode(CodeRetrieval)
	}
	if !hasType(m["type"], TypeListCredential) {
		return nil, errkind.Field(errkind.Invalid, p+"type", "got %s; want one that includes %q", show(m["type"]), TypeListCredential).WithCode(CodeMalformed)
	}
	id, err := stringField(m, p, "id")
	if err != nil {
		return nil, err
	}
	if id != e.listURL {
		return nil, errkind.Field(errkind.Invalid, p+"id", "got %q; want %q, the entry's statusListCredential", id, e.listURL).WithCode(CodeVerification)
	}
	subj, err := subject(m["credentialSubject"])
	if err != nil {
		return nil, err
	}
	if !hasType(subj["type"], TypeList) {
		return nil, errkind.Field(errkind.Invalid, p+"credentialSubject.type", "got %s; want %q", show(subj["type"]), TypeList).WithCode(CodeMalformed)
	}
	purposes, ok := stringList(subj["statusPurpose"])
	if !ok || len(purposes) == 0 {
		return nil, errkind.Field(errkind.Invalid, p+"credentialSubject.statusPurpose", "got %s; want one or more strings", show(subj["statusPurpose"])).WithCode(CodeMalformed)
	}
	found := false
	for _, x := range purposes {
		found = found || x == e.purpose
	}
	if !found {
		return nil, errkind.Field(errkind.Invalid, p+"credentialSubject.statusPurpose", "got %s; want %q, the entry's statusPurpose", show(subj["statusPurpose"]), e.purpose).WithCode(CodeVerification)
	}
	enc, err := stringField(subj, p+"credentialSubject.", "encodedList")
	if err != nil {
		return nil, err
	}
	bits, err := decode(enc)
	if err != nil {
		if ke, ok := err.(*errkind.Error); ok {
			ke.Field = p + "credentialSubject.encodedList"
		}
		return nil, err
	}
	return bits, nil
}

// subject returns the one credentialSubject of a list credential.
func subject(v any) (map[string]any, error) {
	const f = "listCredential.credentialSubject"
	if a, ok := v.([]any); ok {
		if len(a) != 1 {
			return nil, errkind.Field(errkind.Invalid, f, "%d subjects; want one", len(a)).WithCode(CodeMalformed)
		}
		v = a[0]
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errkind.Field(errkind.Invalid, f, "got %s; want an object", show(v)).WithCode(CodeMalformed)
	}
	return m, nil
}

func stringField(m map[string]any, prefix, name string) (string, error) {
	v, ok := m[name]
	if !ok {
		return "", errkind.Field(errkind.Invalid, prefix+name, "missing").WithCode(CodeMalformed)
	}
	s, ok := v.(string)
	if !ok || s == "" {
		return "", errkind.Field(errkind.Invalid, prefix+name, "got %s; want a non-empty string", show(v)).WithCode(CodeMalformed)
	}
	return s, nil
}

// hasType reports whether a JSON-LD type value (a string or an array of
// strings) includes want.
func hasType(v any, want string) bool {
	ts, _ := stringList(v)
	for _, t := range ts {
		if t == want {
			return true
		}
	}
	return false
}

// stringList returns a string or an array of strings as a slice.
func stringList(v any) ([]string, bool) {
	switch v := v.(type) {
	case string:
		return []string{v}, true
	case []string:
		return v, true
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// integer returns a JSON number that is an integer.
func integer(v any) (int64, bool) {
	switch v := v.(type) {
	case int:
		return int64(v), true
	case int64:
		return v, true
	case float64:
		if v != float64(int64(v)) {
			return 0, false
		}
		return int64(v), true
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	}
	return 0, false
}

// show renders a JSON value for an error message, briefly.
func show(v any) string {
	if v == nil {
		return "nothing"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%T", v)
	}
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}
