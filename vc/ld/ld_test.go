package ld

import (
	"errors"
	"strings"
	"testing"

	jsonld "github.com/piprate/json-gold/ld"

	"github.com/urbis-id/urbis/internal/errkind"
)

// TestEveryContextProcesses expands a small document under each served
// context, which fails if a file is not a valid JSON-LD context or refers
// to a context the loader does not serve.
func TestEveryContextProcesses(t *testing.T) {
	l := Default()
	if len(l.URLs()) < 25 {
		t.Fatalf("URLs() has %d entries; want the aries contexts and ours", len(l.URLs()))
	}
	proc := jsonld.NewJsonLdProcessor()
	for _, u := range l.URLs() {
		t.Run(u, func(t *testing.T) {
			opts := jsonld.NewJsonLdOptions("")
			opts.DocumentLoader = l
			doc := map[string]any{"@context": u, "@id": "urn:x:1"}
			if _, err := proc.Expand(doc, opts); err != nil {
				t.Errorf("Expand under %s: %v", u, err)
			}
		})
	}
}

func TestWanted(t *testing.T) {
	l := Default()
	for _, u := range []string{
		CredentialsV1, CredentialsV2, CredentialsExamplesV2, UndefinedTermsV2,
		DataIntegrityV1, DataIntegrityV2, MultikeyV1, BitstringStatusList,
		Ed25519Signature2020, DIDv1, "https://w3id.org/security/v2",
		"https://w3id.org/security/suites/jws-2020/v1", "https://w3id.org/vc/status-list/2021/v1",
	} {
		if !l.Has(u) {
			t.Errorf("Has(%q) = false; want true", u)
		}
	}
}

func TestUnknownRefused(t *testing.T) {
	l := Default()
	for _, u := range []string{
		"https://example.com/context.jsonld",
		"http://www.w3.org/ns/credentials/v2", // http, not https
		"https://www.w3.org/ns/credentials/v2/",
		"",
	} {
		_, err := l.LoadDocument(u)
		if !errors.Is(err, errkind.Invalid) {
			t.Fatalf("LoadDocument(%q) error = %v; want kind Invalid", u, err)
		}
		if want := "unknown JSON-LD context \"" + u + "\": Urbis loads no context from the network; known: "; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error = %q; want prefix %q", err, want)
		}
		if !strings.Contains(err.Error(), CredentialsV2) {
			t.Errorf("error = %q; want it to list %s", err, CredentialsV2)
		}
	}
}

func TestLoadReturnsFreshDocument(t *testing.T) {
	l := Default()
	d1, err := l.LoadDocument(CredentialsExamplesV2)
	if err != nil {
		t.Fatal(err)
	}
	d1.Document.(map[string]any)["@context"] = "changed"
	d2, err := l.LoadDocument(CredentialsExamplesV2)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d2.Document.(map[string]any)["@context"].(map[string]any); !ok {
		t.Errorf("second load saw the first caller's change: %v", d2.Document)
	}
	if d2.DocumentURL != CredentialsExamplesV2 {
		t.Errorf("DocumentURL = %q; want %q", d2.DocumentURL, CredentialsExamplesV2)
	}
}

func TestExtra(t *testing.T) {
	const u = "https://city.example/contexts/land/v1"
	l, err := NewLoader(Context{URL: u, Content: []byte(`{"@context":{"parcel":"https://city.example/vocab#parcel"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if !l.Has(u) || !l.Has(CredentialsV2) {
		t.Errorf("Has(extra), Has(v2) = %v, %v; want true, true", l.Has(u), l.Has(CredentialsV2))
	}
	tests := []struct {
		name string
		c    Context
		kind errkind.Kind
	}{
		{"replaces embedded", Context{URL: CredentialsV2, Content: []byte(`{"@context":{}}`)}, errkind.Conflict},
		{"no url", Context{Content: []byte(`{"@context":{}}`)}, errkind.Invalid},
		{"not json", Context{URL: u, Content: []byte(`{`)}, errkind.Invalid},
		{"no @context", Context{URL: u, Content: []byte(`{"a":1}`)}, errkind.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewLoader(tt.c)
			if got := errkind.KindOf(err); got != tt.kind {
				t.Errorf("NewLoader error = %v (kind %q); want kind %q", err, got, tt.kind)
			}
		})
	}
}
