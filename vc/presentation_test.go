package vc

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
)

func TestParsePresentation(t *testing.T) {
	pr, err := ParsePresentation(readFixture(t, "v2-presentation.json"))
	if err != nil {
		t.Fatal(err)
	}
	if pr.Version() != V2 || pr.ID() != "urn:uuid:3978344f-8596-4c3a-a978-8fcaba3903c5" {
		t.Errorf("Version, ID = %v, %q", pr.Version(), pr.ID())
	}
	if h, ok := pr.Holder(); !ok || h.ID != "did:example:ebfeb1f712ebc6f1c276e12ec21" || h.Object != nil {
		t.Errorf("Holder() = %+v, %v", h, ok)
	}
	creds := pr.Credentials()
	if len(creds) != 1 || creds[0].ID() != "http://university.example/credentials/3732" {
		t.Fatalf("Credentials() = %v; want the degree credential", creds)
	}
	env := pr.Enveloped()
	if len(env) != 1 || env[0].MediaType != "application/vc+jwt" || !strings.HasPrefix(env[0].Data, "eyJhbGciOiJFUzI1NiIs") || env[0].Pointer != "/verifiableCredential/1" {
		t.Errorf("Enveloped() = %+v", env)
	}
	if pf := pr.Proofs(); len(pf) != 1 || pf[0].Object["challenge"] != "1f44d55f-f161-4938-a659-f8026467f126" {
		t.Errorf("Proofs() = %+v", pf)
	}
	b, err := json.Marshal(pr)
	if err != nil {
		t.Fatal(err)
	}
	var again Presentation
	if err := json.Unmarshal(b, &again); err != nil {
		t.Errorf("Unmarshal(Marshal(pr)): %v", err)
	}
}

func TestParsePresentationV1JWT(t *testing.T) {
	const in = `{
	  "@context": ["https://www.w3.org/2018/credentials/v1"],
	  "type": "VerifiablePresentation",
	  "holder": {"id": "did:example:holder", "name": "H"},
	  "verifiableCredential": "eyJhbGciOiJFZERTQSJ9.eyJ2YyI6e319.c2ln"
	}`
	pr, err := ParsePresentation([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if env := pr.Enveloped(); len(env) != 1 || env[0].MediaType != "" || env[0].Pointer != "/verifiableCredential" {
		t.Errorf("Enveloped() = %+v; want one bare JWT", env)
	}
	if h, _ := pr.Holder(); h.ID != "did:example:holder" || h.Object["name"] != "H" {
		t.Errorf("Holder() = %+v", h)
	}
}

func TestParsePresentationBad(t *testing.T) {
	type edit func(m map[string]any)
	set := func(k string, v any) edit { return func(m map[string]any) { m[k] = v } }
	vcEdit := func(i int, k string, v any) edit {
		return func(m map[string]any) { m["verifiableCredential"].([]any)[i].(map[string]any)[k] = v }
	}
	tests := []struct {
		name  string
		edit  edit
		field string
		msg   string
	}{
		{"wrong type", set("type", "VerifiableCredential"), "/type", `must include "VerifiablePresentation"`},
		{"wrong context", set("@context", []any{"https://example.com"}), "/@context/0", "first @context entry"},
		{"holder not url", set("holder", "me"), "/holder", "is not a URL"},
		{"empty credentials", set("verifiableCredential", []any{}), "/verifiableCredential", "must not be an empty array"},
		{"credential number", set("verifiableCredential", 1.0), "/verifiableCredential", "must be a credential object"},
		{"jwt string in v2", set("verifiableCredential", "a.b.c"), "/verifiableCredential", "EnvelopedVerifiableCredential"},
		{"embedded credential without issuer", vcEdit(0, "issuer", nil), "/verifiableCredential/0/issuer", "must be a URL or an object"},
		{"embedded credential bad context", vcEdit(0, "@context", "https://example.com"), "/verifiableCredential/0/@context", "first @context entry"},
		{"embedded credential bad subject", vcEdit(0, "credentialSubject", map[string]any{"id": "x"}), "/verifiableCredential/0/credentialSubject/id", "is not a URL"},
		{"enveloped not data url", vcEdit(1, "id", "https://example.com/vc"), "/verifiableCredential/1/id", "must be a data: URL"},
		{"enveloped no comma", vcEdit(1, "id", "data:application/vc+jwt"), "/verifiableCredential/1/id", `no ","`},
		{"proof without type", set("proof", map[string]any{}), "/proof/type", "is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := fixtureMap(t, "v2-presentation.json")
			tt.edit(m)
			_, err := NewPresentation(m)
			var e *errkind.Error
			if !errors.As(err, &e) || e.Kind != errkind.Invalid {
				t.Fatalf("NewPresentation error = %v; want kind Invalid", err)
			}
			if e.Field != tt.field || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("error = field %q, %q; want field %q, message with %q", e.Field, e.Msg, tt.field, tt.msg)
			}
		})
	}
}

func TestFarYearUnsupported(t *testing.T) {
	m := fixtureMap(t, "v2-example.json")
	m["validUntil"] = "10000-01-01T00:00:00Z"
	_, err := NewCredential(m)
	if !errors.Is(err, errkind.Unsupported) || !strings.HasPrefix(err.Error(), "/validUntil: ") {
		t.Errorf("NewCredential error = %v; want Unsupported about /validUntil", err)
	}
}
