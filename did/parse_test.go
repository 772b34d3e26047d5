package did

import (
	"errors"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in       string
		want     DID
		code     string // "" when Parse must succeed
		contains string // a part of the error message
	}{
		{in: "did:example:123456789abcdefghi", want: DID{"example", "123456789abcdefghi"}},
		{in: "did:web:example.com", want: DID{"web", "example.com"}},
		{in: "did:web:example.com%3A8443:user:alice", want: DID{"web", "example.com%3A8443:user:alice"}},
		{in: "did:a1:x", want: DID{"a1", "x"}},
		{in: "did:example::x", want: DID{"example", ":x"}},
		{in: "did:example:a::b", want: DID{"example", "a::b"}},
		{in: "did:example:A.b-c_D", want: DID{"example", "A.b-c_D"}},
		{in: "did:example:%2F%2f", want: DID{"example", "%2F%2f"}},
		{in: "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", want: DID{"key", "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}},

		{in: "", code: CodeInvalidDID, contains: `does not start with "did:"`},
		{in: "did", code: CodeInvalidDID, contains: `does not start with "did:"`},
		{in: "DID:example:x", code: CodeInvalidDID, contains: `scheme must be lowercase`},
		{in: "urn:example:x", code: CodeInvalidDID, contains: `does not start with "did:"`},
		{in: "did:example", code: CodeInvalidDID, contains: "has no method-specific id"},
		{in: "did::x", code: CodeInvalidDID, contains: "empty method name"},
		{in: "did:Example:x", code: CodeInvalidDID, contains: `method name "Example" contains "E" at offset 0`},
		{in: "did:ex-ample:x", code: CodeInvalidDID, contains: `contains "-" at offset 2`},
		{in: "did:example:", code: CodeInvalidDID, contains: "method-specific id is empty"},
		{in: "did:example:abc:", code: CodeInvalidDID, contains: `method-specific id "abc:" ends with ":"`},
		{in: "did:example:abc%", code: CodeInvalidDID, contains: `contains "%" not followed by two hex digits at offset 3`},
		{in: "did:example:abc%zz", code: CodeInvalidDID, contains: `"abc%zz" contains "%" not followed by two hex digits at offset 3`},
		{in: "did:example:abc%4", code: CodeInvalidDID, contains: `not followed by two hex digits at offset 3`},
		{in: "did:example:a b", code: CodeInvalidDID, contains: `contains " " at offset 1`},
		{in: "did:example:a@b", code: CodeInvalidDID, contains: `contains "@" at offset 1`},
		{in: "did:example:\xff", code: CodeInvalidDID, contains: "byte 0xff at offset 0"},
		{in: "did:example:abc/path", code: CodeInvalidDID, contains: "is a DID URL"},
		{in: "did:example:abc#frag", code: CodeInvalidDID, contains: "is a DID URL"},
		{in: "did:example:abc?versionId=1", code: CodeInvalidDID, contains: "is a DID URL"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Parse(%q): got error %v; want nil", tt.in, err)
				}
				if got != tt.want {
					t.Errorf("Parse(%q): got %+v; want %+v", tt.in, got, tt.want)
				}
				if got.String() != tt.in {
					t.Errorf("String(): got %q; want %q", got.String(), tt.in)
				}
				return
			}
			checkErr(t, err, errkind.Invalid, tt.code, tt.contains)
		})
	}
}

// checkErr checks that err is an *errkind.Error of the kind and code,
// whose message contains the given text.
func checkErr(t *testing.T, err error, kind errkind.Kind, code, contains string) {
	t.Helper()
	var e *errkind.Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v (%T); want *errkind.Error of kind %s, code %s", err, err, kind, code)
	}
	if e.Kind != kind || e.Code != code {
		t.Errorf("got kind %s, code %q; want kind %s, code %q (error: %v)", e.Kind, e.Code, kind, code, err)
	}
	if !strings.Contains(err.Error(), contains) {
		t.Errorf("got message %q; want it to contain %q", err.Error(), contains)
	}
}

func TestParseURL(t *testing.T) {
	d := DID{"example", "123"}
	tests := []struct {
		in       string
		want     URL
		code     string
		contains string
	}{
		{in: "did:example:123", want: URL{DID: d}},
		{in: "did:example:123#key-1", want: URL{DID: d, Fragment: "key-1"}},
		{in: "did:example:123#", want: URL{DID: d}},
		{in: "did:example:123/path/to/x", want: URL{DID: d, Path: "/path/to/x"}},
		{in: "did:example:123/", want: URL{DID: d, Path: "/"}},
		{in: "did:example:123?versionId=4", want: URL{DID: d, Query: "versionId=4", VersionID: "4"}},
		{in: "did:example:123?versionTime=2021-05-10T17:00:00Z", want: URL{DID: d, Query: "versionTime=2021-05-10T17:00:00Z", VersionTime: "2021-05-10T17:00:00Z"}},
		{in: "did:example:123?versionTime=2021-05-10T17:00:00", want: URL{DID: d, Query: "versionTime=2021-05-10T17:00:00", VersionTime: "2021-05-10T17:00:00"}},
		{in: "did:example:123?versionTime=2021-05-10T19:00:00%2B02:00", want: URL{DID: d, Query: "versionTime=2021-05-10T19:00:00%2B02:00", VersionTime: "2021-05-10T19:00:00+02:00"}},
		{in: "did:example:123?service=files&relativeRef=%2Fa", want: URL{DID: d, Query: "service=files&relativeRef=%2Fa", Service: "files"}},
		{in: "did:example:123/p?versionId=1&foo=bar#frag?x/y", want: URL{DID: d, Path: "/p", Query: "versionId=1&foo=bar", VersionID: "1", Fragment: "frag?x/y"}},
		{in: "did:example:123?a=b?c", want: URL{DID: d, Query: "a=b?c"}},

		{in: "did:example:123?versionTime=yesterday", code: CodeInvalidDIDURL, contains: `versionTime "yesterday" is not an XML datetime`},
		{in: "did:example:123?versionTime=2021-13-10T17:00:00Z", code: CodeInvalidDIDURL, contains: "is not an XML datetime"},
		{in: "did:example:123?versionId=1&versionId=2", code: CodeInvalidDIDURL, contains: `"versionId" appears more than once`},
		{in: "did:example:123?versionId=", code: CodeInvalidDIDURL, contains: `"versionId" has an empty value`},
		{in: "did:example:123#a b", code: CodeInvalidDIDURL, contains: `fragment "a b" contains " " at offset 1`},
		{in: "did:example:123#a#b", code: CodeInvalidDIDURL, contains: `contains "#" at offset 1`},
		{in: "did:example:123/a%zz", code: CodeInvalidDIDURL, contains: `path "/a%zz" contains "%" not followed by two hex digits at offset 2`},
		{in: "did:example:123/a?b", want: URL{DID: d, Path: "/a", Query: "b"}},
		{in: "did:example:123?q=[x]", code: CodeInvalidDIDURL, contains: `query "q=[x]" contains "[" at offset 2`},
		{in: "did:Example:123#x", code: CodeInvalidDID, contains: "method name"},
		{in: "did:example:#x", code: CodeInvalidDID, contains: "method-specific id is empty"},
		{in: "did:example:12:/x", code: CodeInvalidDID, contains: `ends with ":"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseURL(tt.in)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("ParseURL(%q): got error %v; want nil", tt.in, err)
				}
				if got != tt.want {
					t.Errorf("ParseURL(%q): got %+v; want %+v", tt.in, got, tt.want)
				}
				if again, err := ParseURL(got.String()); err != nil || again != got {
					t.Errorf("ParseURL(String()) = %+v, %v; want %+v, nil", again, err, got)
				}
				return
			}
			checkErr(t, err, errkind.Invalid, tt.code, tt.contains)
		})
	}
}

func TestURLStringFromParams(t *testing.T) {
	u := URL{DID: DID{"example", "123"}, VersionID: "a b", VersionTime: "2021-05-10T19:00:00+02:00", Fragment: "k"}
	want := "did:example:123?versionId=a%20b&versionTime=2021-05-10T19:00:00%2B02:00#k"
	if got := u.String(); got != want {
		t.Fatalf("String(): got %q; want %q", got, want)
	}
	back, err := ParseURL(want)
	if err != nil {
		t.Fatalf("ParseURL(%q): %v", want, err)
	}
	if back.VersionID != u.VersionID || back.VersionTime != u.VersionTime || back.Fragment != "k" {
		t.Errorf("ParseURL(%q): got %+v; want the params of %+v", want, back, u)
	}
}

func TestParseVersionTime(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"2002-10-10T17:00:00Z", "2002-10-10T17:00:00Z", true},
		{"2002-10-10T17:00:00.5Z", "2002-10-10T17:00:00.5Z", true},
		{"2002-10-10T19:00:00+02:00", "2002-10-10T17:00:00Z", true},
		{"2002-10-10T17:00:00", "2002-10-10T17:00:00Z", true},
		{"2002-10-10", "", false},
		{"17:00", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseVersionTime(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseVersionTime(%q): got error %v; want ok=%v", tt.in, err, tt.ok)
			}
			if tt.ok && got.Format("2006-01-02T15:04:05.999999999Z07:00") != tt.want {
				t.Errorf("ParseVersionTime(%q): got %s; want %s", tt.in, got, tt.want)
			}
		})
	}
}
