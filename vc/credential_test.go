package vc

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fixtureMap(t *testing.T, name string) map[string]any {
	t.Helper()
	m, err := decodeObject(readFixture(t, name), name)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestParseCredentialGood(t *testing.T) {
	for _, name := range []string{"v2-example.json", "v2-full.json", "v1-example.json"} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseCredential(readFixture(t, name)); err != nil {
				t.Errorf("ParseCredential: %v", err)
			}
		})
	}
	// The vc-di-eddsa vectors, where ../shared is present.
	for _, name := range []string{"unsigned.json", "employmentAuth.json", "eddsa-rdfc-2022/signedDataInt.json", "Ed25519Signature2020/signedEdSig.json"} {
		t.Run("shared/"+name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", "shared", "vectors", "di-eddsa", name))
			if errors.Is(err, os.ErrNotExist) {
				t.Skip("../shared/vectors is absent")
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ParseCredential(b); err != nil {
				t.Errorf("ParseCredential: %v", err)
			}
		})
	}
}

func TestCredentialAccessors(t *testing.T) {
	c, err := ParseCredential(readFixture(t, "v2-full.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Version(); got != V2 {
		t.Errorf("Version() = %v; want 2.0", got)
	}
	if got, want := c.ContextURLs(), []string{ContextV2, "https://www.w3.org/ns/credentials/examples/v2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ContextURLs() = %v; want %v", got, want)
	}
	if got, want := c.ID(), "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33"; got != want {
		t.Errorf("ID() = %q; want %q", got, want)
	}
	if !c.HasType("ExampleAlumniCredential") || c.HasType("Other") {
		t.Errorf("HasType wrong for types %v", c.Types())
	}
	is := c.Issuer()
	if is.ID != "did:example:2g55q912ec3476eba2l9812ecbfe" || is.Object["name"] != "Example University" {
		t.Errorf("Issuer() = %+v; want the example university object", is)
	}
	subs := c.Subjects()
	if len(subs) != 2 || subs[0].ID != "did:example:abcdefgh" || subs[1].ID != "" {
		t.Errorf("Subjects() = %+v; want two, the second without id", subs)
	}
	if n, _ := subs[1].Claims["graduation"].(json.Number); n.String() != "2001" {
		t.Errorf("graduation = %#v; want json.Number 2001", subs[1].Claims["graduation"])
	}
	from, ok := c.ValidFrom()
	if want := time.Date(2022, 12, 31, 22, 0, 0, 0, time.UTC); !ok || !from.Equal(want) {
		t.Errorf("ValidFrom() = %v, %v; want %v, true", from, ok, want)
	}
	until, ok := c.ValidUntil()
	if want := time.Date(2033, 1, 1, 0, 0, 0, 123e6, time.UTC); !ok || !until.Equal(want) {
		t.Errorf("ValidUntil() = %v, %v; want %v, true", until, ok, want)
	}
	if _, ok := c.IssuanceDate(); ok {
		t.Errorf("IssuanceDate() present in a VC 2.0 credential")
	}
	if f, u := c.ValidityPeriod(); !f.Equal(from) || !u.Equal(until) {
		t.Errorf("ValidityPeriod() = %v, %v; want %v, %v", f, u, from, until)
	}
	st := c.Status()
	if len(st) != 1 || !st[0].HasType("BitstringStatusListEntry") || st[0].Object["statusListIndex"] != "94567" {
		t.Errorf("Status() = %+v; want one BitstringStatusListEntry", st)
	}
	if sc := c.Schemas(); len(sc) != 1 || sc[0].ID != "https://example.org/examples/degree.json" || !sc[0].HasType("JsonSchema") {
		t.Errorf("Schemas() = %+v", sc)
	}
	if pf := c.Proofs(); len(pf) != 1 || pf[0].Object["cryptosuite"] != "eddsa-rdfc-2022" {
		t.Errorf("Proofs() = %+v", pf)
	}
	if len(c.Evidence()) != 1 || len(c.TermsOfUse()) != 1 || len(c.RefreshService()) != 0 {
		t.Errorf("Evidence, TermsOfUse, RefreshService = %d, %d, %d; want 1, 1, 0", len(c.Evidence()), len(c.TermsOfUse()), len(c.RefreshService()))
	}

	// Accessors hand out copies.
	subs[0].Claims["alumniOf"] = "changed"
	c.Map()["issuer"] = "changed"
	if c.Subjects()[0].Claims["alumniOf"] != "The School of Examples" || c.Issuer().Object == nil {
		t.Errorf("changing an accessor's result changed the credential")
	}

	// JSON round trip keeps every member, numbers included.
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var again Credential
	if err := json.Unmarshal(b, &again); err != nil {
		t.Fatalf("Unmarshal(Marshal(c)): %v", err)
	}
	if !reflect.DeepEqual(again.Map(), c.Map()) {
		t.Errorf("round trip changed the credential:\n got %v\nwant %v", again.Map(), c.Map())
	}
}

func TestCredentialV1Accessors(t *testing.T) {
	c, err := ParseCredential(readFixture(t, "v1-example.json"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Version() != V1 {
		t.Errorf("Version() = %v; want 1.1", c.Version())
	}
	iss, ok := c.IssuanceDate()
	if want := time.Date(2010, 1, 1, 19, 23, 24, 0, time.UTC); !ok || !iss.Equal(want) {
		t.Errorf("IssuanceDate() = %v, %v; want %v", iss, ok, want)
	}
	exp, ok := c.ExpirationDate()
	if want := time.Date(2020, 1, 1, 19, 23, 24, 0, time.UTC); !ok || !exp.Equal(want) {
		t.Errorf("ExpirationDate() = %v, %v; want %v", exp, ok, want)
	}
	if f, u := c.ValidityPeriod(); !f.Equal(iss) || !u.Equal(exp) {
		t.Errorf("ValidityPeriod() = %v, %v; want issuance and expiration", f, u)
	}
	if is := c.Issuer(); is.ID != "https://example.edu/issuers/565049" || is.Object != nil {
		t.Errorf("Issuer() = %+v; want a URL issuer", is)
	}
	if rs := c.RefreshService(); len(rs) != 1 || rs[0].ID != "https://example.edu/refresh/3732" {
		t.Errorf("RefreshService() = %+v", rs)
	}
}

// TestParseCredentialBad changes one member of a good credential at a
// time and checks the error names it.
func TestParseCredentialBad(t *testing.T) {
	type edit func(m map[string]any)
	set := func(k string, v any) edit { return func(m map[string]any) { m[k] = v } }
	del := func(k string) edit { return func(m map[string]any) { delete(m, k) } }
	tests := []struct {
		name    string
		fixture string
		edit    edit
		field   string
		msg     string
	}{
		{"no context", "v2-example.json", del("@context"), "/@context", "is required"},
		{"empty context", "v2-example.json", set("@context", []any{}), "/@context", "must not be empty"},
		{"wrong first context", "v2-example.json", set("@context", []any{"https://www.w3.org/ns/credentials/examples/v2", ContextV2}), "/@context/0", "first @context entry must be"},
		{"context as other string", "v2-example.json", set("@context", "https://schema.org/"), "/@context", `not "https://schema.org/"`},
		{"context number", "v2-example.json", set("@context", []any{ContextV2, 7.0}), "/@context/1", "a context must be a URL or an object, not a number"},
		{"context not url", "v2-example.json", set("@context", []any{ContextV2, "examples"}), "/@context/1", "has no scheme"},
		{"mixed versions", "v2-example.json", set("@context", []any{ContextV2, ContextV1}), "/@context/1", "cannot be combined"},
		{"id not url", "v2-example.json", set("id", "3732"), "/id", `"3732" is not a URL`},
		{"id with space", "v2-example.json", set("id", "urn:uuid:a b"), "/id", "space"},
		{"id number", "v2-example.json", set("id", 3732.0), "/id", "must be a URL string, not a number"},
		{"no type", "v2-example.json", del("type"), "/type", "is required"},
		{"type lacks VerifiableCredential", "v2-example.json", set("type", []any{"ExampleDegreeCredential"}), "/type", `must include "VerifiableCredential"`},
		{"type not string", "v2-example.json", set("type", []any{"VerifiableCredential", 1.0}), "/type/1", "a type must be a string"},
		{"type empty array", "v2-example.json", set("type", []any{}), "/type", "must not be empty"},
		{"no issuer", "v2-example.json", del("issuer"), "/issuer", "is required"},
		{"issuer not url", "v2-example.json", set("issuer", "University"), "/issuer", "is not a URL"},
		{"issuer object without id", "v2-example.json", set("issuer", map[string]any{"name": "U"}), "/issuer/id", "is required"},
		{"issuer object bad id", "v2-example.json", set("issuer", map[string]any{"id": "u"}), "/issuer/id", "is not a URL"},
		{"issuer array", "v2-example.json", set("issuer", []any{"https://a.example"}), "/issuer", "not an array"},
		{"no subject", "v2-example.json", del("credentialSubject"), "/credentialSubject", "is required"},
		{"subject string", "v2-example.json", set("credentialSubject", "did:example:1"), "/credentialSubject", "must be an object, not a string"},
		{"subject empty", "v2-example.json", set("credentialSubject", map[string]any{}), "/credentialSubject", "at least one claim"},
		{"subject empty array", "v2-example.json", set("credentialSubject", []any{}), "/credentialSubject", "empty array"},
		{"second subject bad id", "v2-example.json", set("credentialSubject", []any{map[string]any{"a": "b"}, map[string]any{"id": "x"}}), "/credentialSubject/1/id", "is not a URL"},
		{"validFrom no timezone", "v2-example.json", set("validFrom", "2010-01-01T00:00:00"), "/validFrom", "no timezone"},
		{"validFrom date only", "v2-example.json", set("validFrom", "2010-01-01"), "/validFrom", "not an XML Schema dateTime"},
		{"validFrom number", "v2-example.json", set("validFrom", 1262304000.0), "/validFrom", "not a number"},
		{"validFrom bad day", "v2-example.json", set("validFrom", "2010-02-30T00:00:00Z"), "/validFrom", "not a valid date-time: day out of range"},
		{"validUntil bad hour", "v2-example.json", set("validUntil", "2010-01-01T25:00:00Z"), "/validUntil", "not an XML Schema dateTime"},
		{"validUntil before validFrom", "v2-example.json", set("validUntil", "2009-12-31T23:59:59Z"), "/validUntil", "is before validFrom"},
		{"issuanceDate in v2", "v2-example.json", set("issuanceDate", "2010-01-01T00:00:00Z"), "/issuanceDate", "VC 1.1 property"},
		{"status without type", "v2-example.json", set("credentialStatus", map[string]any{"id": "https://s.example/1#2"}), "/credentialStatus/type", "is required"},
		{"status bad id", "v2-example.json", set("credentialStatus", []any{map[string]any{"id": "1#2", "type": "BitstringStatusListEntry"}}), "/credentialStatus/0/id", "is not a URL"},
		{"status string", "v2-example.json", set("credentialStatus", "https://s.example/1"), "/credentialStatus", "must be an object"},
		{"schema without id", "v2-example.json", set("credentialSchema", map[string]any{"type": "JsonSchema"}), "/credentialSchema/id", "is required"},
		{"proof without type", "v2-example.json", set("proof", map[string]any{"proofValue": "z1"}), "/proof/type", "is required"},
		{"name number", "v2-example.json", set("name", 1.0), "/name", "must be a string or a language value object"},
		{"description bad language", "v2-example.json", set("description", map[string]any{"@value": "x", "@language": "en us"}), "/description/@language", "BCP 47"},
		{"name bad direction", "v2-example.json", set("name", []any{"a", map[string]any{"@value": "x", "@direction": "up"}}), "/name/1/@direction", `"ltr" or "rtl"`},
		{"v1 no issuanceDate", "v1-example.json", del("issuanceDate"), "/issuanceDate", "is required in a VC 1.1 credential"},
		{"v1 bad issuanceDate", "v1-example.json", set("issuanceDate", "2010-01-01 19:23:24Z"), "/issuanceDate", "not an XML Schema dateTime"},
		{"v1 expiration before issuance", "v1-example.json", set("expirationDate", "2009-01-01T00:00:00Z"), "/expirationDate", "is before issuanceDate"},
		{"v1 validFrom", "v1-example.json", set("validFrom", "2010-01-01T00:00:00Z"), "/validFrom", "VC 2.0 property"},
		{"v1 refreshService without id", "v1-example.json", set("refreshService", map[string]any{"type": "ManualRefreshService2018"}), "/refreshService/id", "is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := fixtureMap(t, tt.fixture)
			tt.edit(m)
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseCredential(b)
			var e *errkind.Error
			if !errors.As(err, &e) || e.Kind != errkind.Invalid {
				t.Fatalf("ParseCredential error = %v; want kind Invalid", err)
			}
			if e.Field != tt.field || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("error = field %q, %q; want field %q, message with %q", e.Field, e.Msg, tt.field, tt.msg)
			}
		})
	}
}

func TestParseCredentialGoodVariants(t *testing.T) {
	type edit func(m map[string]any)
	set := func(k string, v any) edit { return func(m map[string]any) { m[k] = v } }
	tests := []struct {
		name    string
		fixture string
		edit    edit
	}{
		{"context as one string", "v2-example.json", set("@context", ContextV2)},
		{"inline context", "v2-example.json", set("@context", []any{ContextV2, map[string]any{"@vocab": "https://x.example#"}})},
		{"type as string", "v2-example.json", set("type", "VerifiableCredential")},
		{"validUntil equals validFrom", "v2-example.json", set("validUntil", "2010-01-01T00:00:00Z")},
		{"offset and fraction", "v2-example.json", set("validFrom", "2010-01-01T12:00:00.5-05:30")},
		{"v1 dateTime without timezone", "v1-example.json", set("issuanceDate", "2010-01-01T19:23:24")},
		{"subject with only id", "v2-example.json", set("credentialSubject", map[string]any{"id": "did:example:1"})},
		{"issuer did", "v2-example.json", set("issuer", "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := fixtureMap(t, tt.fixture)
			tt.edit(m)
			if _, err := NewCredential(m); err != nil {
				t.Errorf("NewCredential: %v", err)
			}
		})
	}
}

func TestParseCredentialNotJSON(t *testing.T) {
	tests := []struct {
		in, msg string
	}{
		{`{`, "not valid JSON"},
		{`[]`, "must be a JSON object, not an array"},
		{`null`, "must be a JSON object, not null"},
		{`{"a":1} {}`, "data after the JSON object"},
	}
	for _, tt := range tests {
		_, err := ParseCredential([]byte(tt.in))
		if !errors.Is(err, errkind.Invalid) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseCredential(%s) = %v; want Invalid with %q", tt.in, err, tt.msg)
		}
	}
}
