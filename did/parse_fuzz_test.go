package did

import (
	"errors"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
)

// FuzzParse checks that Parse and ParseURL never panic, fail only with
// *errkind.Error values of kind Invalid carrying a code, and that what
// they accept survives a String round trip.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"did:example:123456789abcdefghi",
		"did:web:example.com%3A8443:user:alice",
		"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
		"did:example:123/path?versionId=1&versionTime=2021-05-10T17:00:00Z#key-1",
		"did:example:123?service=files&relativeRef=%2Fa#x",
		"did:example:a::b",
		"did:example:",
		"did:example:abc:",
		"did:Example:x",
		"did:example:abc%zz",
		"did:example:abc%",
		"did:example:123?versionTime=yesterday",
		"did:example:123#a#b",
		"DID:example:x",
		"",
		"did:",
		"did::",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkInvalid := func(name string, err error) {
			var e *errkind.Error
			if !errors.As(err, &e) || e.Kind != errkind.Invalid || (e.Code != CodeInvalidDID && e.Code != CodeInvalidDIDURL) {
				t.Fatalf("%s(%q): got error %v (%T); want an Invalid *errkind.Error with a DID code", name, s, err, err)
			}
		}
		if d, err := Parse(s); err != nil {
			checkInvalid("Parse", err)
		} else {
			if d.String() != s {
				t.Fatalf("Parse(%q).String() = %q; want the input", s, d.String())
			}
			again, err := Parse(d.String())
			if err != nil || again != d {
				t.Fatalf("Parse(%q) = %+v, %v; want %+v, nil", d.String(), again, err, d)
			}
			u, err := ParseURL(s)
			if err != nil || u != (URL{DID: d}) {
				t.Fatalf("ParseURL(%q) = %+v, %v; want the bare DID", s, u, err)
			}
		}
		u, err := ParseURL(s)
		if err != nil {
			checkInvalid("ParseURL", err)
			return
		}
		again, err := ParseURL(u.String())
		if err != nil {
			t.Fatalf("ParseURL(%q) (String of ParseURL(%q)): got error %v; want nil", u.String(), s, err)
		}
		if again != u {
			t.Fatalf("ParseURL(%q) = %+v; want %+v", u.String(), again, u)
		}
	})
}
