package ld

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	jsonld "github.com/piprate/json-gold/ld"

	"github.com/urbis-id/urbis/internal/errkind"
)

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return m
}

// TestCheckFindsDroppedTerms lists what JSON-LD processing would drop
// from a document, and so what a proof over its canonical form would not
// cover.
func TestCheckFindsDroppedTerms(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // "reason term pointer"
	}{
		{"VC 2.0 claim", `{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
			"credentialSubject": {"id": "did:example:ada", "district": "Eixample"}}`,
			[]string{"property district /credentialSubject/district"}},
		{"VC 2.0 type", `{"@context": "https://www.w3.org/ns/credentials/v2", "type": ["VerifiableCredential", "ResidentCredential"]}`,
			[]string{"type ResidentCredential /type/1"}},
		{"nested objects and arrays", `{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiableCredential",
			"credentialSubject": [{"id": "did:example:ada", "name": "Ada", "address": {"type": "PostalAddress", "street": "Carrer 1"}},
				{"id": "did:example:bob", "degrees": [{"name": "BSc"}, {"level": 6}]}]}`,
			[]string{"property address /credentialSubject/0/address", "type PostalAddress /credentialSubject/0/address/type",
				"property street /credentialSubject/0/address/street", "property degrees /credentialSubject/1/degrees",
				"property level /credentialSubject/1/degrees/1/level"}},
		{"inside a scoped context's object", `{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiableCredential",
			"credentialSubject": {"id": "did:example:ada"}, "evidence": {"type": ["Evidence"], "verifier": "did:example:clerk"}}`,
			[]string{"type Evidence /evidence/type/0", "property verifier /evidence/verifier"}},
		{"relative ids", `{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiableCredential", "issuer": "agency-7",
			"credentialSubject": {"id": "ada"}}`,
			[]string{"IRI agency-7 /issuer", "IRI ada /credentialSubject/id"}},
		{"malformed URL", `{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiableCredential",
			"credentialSubject": {"id": "https://exa mple.com/ada"}}`,
			[]string{"IRI https://exa mple.com/ada /credentialSubject/id"}},
		{"vocabulary value", `{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiableCredential",
			"proof": {"type": "DataIntegrityProof", "proofPurpose": "approval"}}`,
			[]string{"value approval /proof/proofPurpose"}},
		{"undefined proof member", `{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiableCredential",
			"proof": {"type": "DataIntegrityProof", "proofPurpose": "assertionMethod", "note": "x"}}`,
			[]string{"property note /proof/note"}},
		{"keyword-like member", `{"@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/undefined-terms/v2"],
			"type": "VerifiableCredential", "credentialSubject": {"@district": "Eixample"}}`,
			[]string{"keyword @district /credentialSubject/@district"}},
		{"malformed language", `{"@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/undefined-terms/v2"],
			"type": "VerifiableCredential", "credentialSubject": {"motto": {"@value": "x", "@language": "en_GB"}}}`,
			[]string{"language en_gb /credentialSubject/motto/@language"}},
		{"term defined as null", `{"@context": ["https://www.w3.org/ns/credentials/v2", {"district": null, "city": {"@id": null}}],
			"type": "VerifiableCredential", "credentialSubject": {"district": "Eixample", "city": "Barcelona"}}`,
			[]string{"property city /credentialSubject/city", "property district /credentialSubject/district"}},
		{"vocabulary removed", `{"@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/undefined-terms/v2", {"@vocab": null}],
			"type": ["VerifiableCredential", "ResidentCredential"]}`,
			[]string{"type ResidentCredential /type/1"}},
		// The VC 2.0 verifiableCredential term resets the context
		// (scoped @context null): a credential inside a presentation is
		// checked under its own @context only.
		{"credential in a presentation", `{"@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/undefined-terms/v2"],
			"type": "VerifiablePresentation", "verifiableCredential": [{"@context": ["https://www.w3.org/ns/credentials/v2"],
			"type": "VerifiableCredential", "credentialSubject": {"id": "did:example:ada", "district": "Eixample"}}]}`,
			[]string{"property district /verifiableCredential/0/credentialSubject/district"}},
		{"credential without a context in a presentation", `{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiablePresentation",
			"verifiableCredential": [{"@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/undefined-terms/v2"],
			"type": "VerifiableCredential", "name": "x", "credentialSubject": {"id": "did:example:ada", "x": 1}}, {"type": "VerifiableCredential", "name": "y"}]}`,
			[]string{"property type /verifiableCredential/1/type", "property name /verifiableCredential/1/name"}},
		{"scoped null in an inline context", `{"@context": [{"@vocab": "https://example.org/#", "box": {"@id": "https://example.org/#box", "@context": null}}],
			"label": "outer", "box": {"label": "inner"}}`,
			[]string{"property label /box/label"}},
		{"no context", `{"type": "VerifiableCredential", "name": "x"}`,
			[]string{"property name /name", "property type /type"}},

		{"undefined-terms context", `{"@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/undefined-terms/v2"],
			"type": ["VerifiableCredential", "ResidentCredential"], "credentialSubject": {"id": "did:example:ada", "district": "Eixample",
			"address": [{"type": "PostalAddress", "street": "Carrer 1"}]}}`, nil},
		{"examples context", `{"@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
			"type": ["VerifiableCredential", "AlumniCredential"], "credentialSubject": {"id": "did:example:ada", "alumniOf": "School"}}`, nil},
		{"inline context", `{"@context": ["https://www.w3.org/ns/credentials/v2", {"district": "https://example.org/#district"}],
			"type": "VerifiableCredential", "credentialSubject": {"id": "did:example:ada", "district": "Eixample"}}`, nil},
		{"absolute IRIs as names", `{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential", "https://example.org/#Resident"],
			"credentialSubject": {"id": "urn:uuid:1", "https://example.org/#district": "Eixample"}}`, nil},
		{"VC 1.1 with a suite context", `{"@context": ["https://www.w3.org/2018/credentials/v1", "https://w3id.org/security/suites/ed25519-2020/v1"],
			"type": "VerifiableCredential", "issuer": "did:example:issuer", "issuanceDate": "2026-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:ada"},
			"proof": {"type": "Ed25519Signature2020", "proofPurpose": "assertionMethod", "verificationMethod": "did:example:issuer#k", "created": "2026-01-01T00:00:00Z", "proofValue": "z1"}}`, nil},
		{"status entry and blank subject", `{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiableCredential",
			"credentialSubject": {}, "credentialStatus": {"id": "https://city.example/status/1#5", "type": "BitstringStatusListEntry",
			"statusPurpose": "revocation", "statusListIndex": "5", "statusListCredential": "https://city.example/status/1"}}`, nil},
		{"JSON literal", `{"@context": ["https://www.w3.org/ns/credentials/v2", {"data": {"@id": "https://example.org/#data", "@type": "@json"}}],
			"type": "VerifiableCredential", "credentialSubject": {"data": {"anything": [1, {"goes": "here"}]}}}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := decode(t, tt.doc)
			err := Check(doc, Default())
			var got []string
			var d *DroppedError
			if errors.As(err, &d) {
				for _, term := range d.Terms {
					got = append(got, term.Reason+" "+term.Term+" "+term.Pointer)
				}
			} else if err != nil {
				t.Fatalf("Check: %v; want a *DroppedError or nil", err)
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Errorf("dropped %q; want %q", got, want)
			}
			if err != nil && !errors.Is(err, errkind.Invalid) {
				t.Errorf("error %v is not of kind Invalid", err)
			}
			_, cerr := Canonicalize(doc, Default())
			if (cerr == nil) != (err == nil) {
				t.Errorf("Canonicalize error %v; Check error %v: want both or neither", cerr, err)
			}
		})
	}
}

// TestCanonicalizeMatchesJSONGold checks that the safe mode's expansion,
// reused for the canonical form, gives json-gold's canonical form.
func TestCanonicalizeMatchesJSONGold(t *testing.T) {
	for _, s := range []string{
		`{"@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/undefined-terms/v2"],
			"id": "urn:uuid:1", "type": ["VerifiableCredential", "ResidentCredential"], "issuer": "did:example:issuer", "validFrom": "2026-01-01T00:00:00Z",
			"credentialSubject": {"id": "did:example:ada", "district": "Eixample", "birthYear": 1815, "address": {"street": "Carrer 1"}}}`,
		`{"@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
			"type": ["VerifiableCredential"], "credentialSubject": {"alumniOf": {"name": "School", "@context": null}}}`,
		`{"@context": ["https://www.w3.org/2018/credentials/v1", "https://www.w3.org/ns/credentials/examples/v2"],
			"type": ["VerifiableCredential", "X"], "issuanceDate": "2026-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:ada", "x": [1, 2]}}`,
	} {
		doc := decode(t, s)
		got, err := Canonicalize(doc, Default())
		if strings.Contains(s, `"@context": null`) {
			// An inline null: VC 2.0 protects its terms, so the
			// document is refused by json-gold itself.
			if err == nil {
				t.Errorf("Canonicalize(%s) passed; want json-gold's error", s)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Canonicalize: %v", err)
		}
		opts := options(Default())
		opts.Algorithm = "URDNA2015"
		opts.Format = "application/n-quads"
		want, err := jsonld.NewJsonLdProcessor().Normalize(doc, opts)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("Canonicalize =\n%s\nwant json-gold's\n%s", got, want)
		}
	}
}

func TestDroppedErrorMessage(t *testing.T) {
	doc := decode(t, `{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential", "ResidentCredential"],
		"credentialSubject": {"id": "did:example:ada", "a": 1, "b": 2, "c": 3, "d": 4, "e": 5}}`)
	var d *DroppedError
	if err := Check(doc, Default()); !errors.As(err, &d) {
		t.Fatalf("Check error = %v; want a *DroppedError", err)
	}
	if d.Pointer() != "/credentialSubject/a" || !d.Undefined() {
		t.Errorf("Pointer() = %q, Undefined() = %v; want /credentialSubject/a, true", d.Pointer(), d.Undefined())
	}
	msg := d.Describe("credential's")
	for _, want := range []string{`property "a" at /credentialSubject/a is not defined by the credential's @context`, "and 1 more"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Describe = %q; want it to contain %q", msg, want)
		}
	}
}
