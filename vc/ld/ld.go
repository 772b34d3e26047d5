// Package ld is the JSON-LD document loader of Urbis. It serves JSON-LD
// contexts from documents embedded in the binary and refuses every other
// URL: processing a credential never reaches the network, so a verifier
// cannot be made to fetch, and an issuer cannot swap, a context.
//
// The contexts are those embedded in aries-framework-go v0.3.2 (VC 1.1,
// DID v1, security v1/v2, the 2018 and 2020 Ed25519 suites, JWS 2020,
// BBS+ 2020, status lists 2020/2021, ...) plus the standard contexts it
// lacks, kept as data files under contexts/ (see contexts/README.md):
// VC 2.0, Data Integrity v1 and v2, Multikey v1, Bitstring Status List,
// the VC 2.0 examples and undefined-terms contexts, and citizenship v4rc1.
//
// Canonicalize gives the RDF canonical form (URDNA2015) that Data
// Integrity proofs sign, in a safe mode (see safe.go): a document with a
// term that JSON-LD processing would drop is refused with a
// *DroppedError, since a proof would not cover that term; Check runs the
// same check alone.
package ld

import (
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	ariesembed "github.com/hyperledger/aries-framework-go/pkg/doc/ldcontext/embed"
	jsonld "github.com/piprate/json-gold/ld"

	"github.com/urbis-id/urbis/internal/errkind"
)

// URLs of the contexts that Urbis code refers to by name.
const (
	CredentialsV1         = "https://www.w3.org/2018/credentials/v1"
	CredentialsV2         = "https://www.w3.org/ns/credentials/v2"
	CredentialsExamplesV2 = "https://www.w3.org/ns/credentials/examples/v2"
	UndefinedTermsV2      = "https://www.w3.org/ns/credentials/undefined-terms/v2"
	DataIntegrityV1       = "https://w3id.org/security/data-integrity/v1"
	DataIntegrityV2       = "https://w3id.org/security/data-integrity/v2"
	MultikeyV1            = "https://w3id.org/security/multikey/v1"
	BitstringStatusList   = "https://www.w3.org/ns/credentials/status/v1"
	Ed25519Signature2020  = "https://w3id.org/security/suites/ed25519-2020/v1"
	DIDv1                 = "https://www.w3.org/ns/did/v1"
)

//go:embed contexts/*.jsonld
var files embed.FS

// embedded maps each context URL that is not in aries to its file.
var embedded = map[string]string{
	CredentialsV2:                        "credentials-v2.jsonld",
	CredentialsExamplesV2:                "credentials-examples-v2.jsonld",
	UndefinedTermsV2:                     "undefined-terms-v2.jsonld",
	DataIntegrityV1:                      "data-integrity-v1.jsonld",
	DataIntegrityV2:                      "data-integrity-v2.jsonld",
	MultikeyV1:                           "multikey-v1.jsonld",
	BitstringStatusList:                  "bitstring-status-list-v1.jsonld",
	"https://w3id.org/citizenship/v4rc1": "citizenship-v4rc1.jsonld",
}

// Context is a JSON-LD context document to serve at URL.
type Context struct {
	URL string
	// DocumentURL is the URL the document was published at, if it
	// differs from URL (a redirect target); empty means URL.
	DocumentURL string
	Content     []byte
}

// Loader is a json-gold DocumentLoader that serves only the contexts it
// was built with. It is safe for concurrent use and never changes after
// NewLoader.
type Loader struct {
	docs  map[string]Context
	known []string // sorted URLs, for error messages
}

var _ jsonld.DocumentLoader = (*Loader)(nil)

// NewLoader returns a loader of the embedded contexts and of extra, which
// may add contexts (for example those of credential types registered on
// the chain) but may not replace an embedded one. Each extra document
// must be a JSON object with an "@context" member.
func NewLoader(extra ...Context) (*Loader, error) {
	l := &Loader{docs: make(map[string]Context)}
	for _, c := range ariesembed.Contexts {
		l.docs[c.URL] = Context{URL: c.URL, DocumentURL: c.DocumentURL, Content: c.Content}
	}
	for u, name := range embedded {
		b, err := files.ReadFile("contexts/" + name)
		if err != nil {
			return nil, errkind.Wrap(errkind.Internal, err, "read embedded context %s", name)
		}
		l.docs[u] = Context{URL: u, Content: b}
	}
	for i, c := range extra {
		if c.URL == "" {
			return nil, errkind.Field(errkind.Invalid, fmt.Sprintf("/%d/url", i), "context URL is empty")
		}
		if _, ok := l.docs[c.URL]; ok {
			return nil, errkind.Field(errkind.Conflict, fmt.Sprintf("/%d/url", i), "context %q is embedded and cannot be replaced", c.URL)
		}
		if _, err := parseContext(c.Content); err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "context %q", c.URL)
		}
		l.docs[c.URL] = c
	}
	for u := range l.docs {
		l.known = append(l.known, u)
	}
	slices.Sort(l.known)
	return l, nil
}

// Default returns a loader of the embedded contexts. It panics only if an
// embedded file is missing, which a test catches.
func Default() *Loader {
	l, err := NewLoader()
	if err != nil {
		panic(err)
	}
	return l
}

// URLs returns the context URLs the loader serves, sorted.
func (l *Loader) URLs() []string { return slices.Clone(l.known) }

// Has reports whether the loader serves u.
func (l *Loader) Has(u string) bool {
	_, ok := l.docs[u]
	return ok
}

// LoadDocument implements jsonld.DocumentLoader. It returns a freshly
// parsed document on each call, so a caller that modifies it cannot
// change what the next caller sees. Unknown URLs are refused with an
// error of kind Invalid.
func (l *Loader) LoadDocument(u string) (*jsonld.RemoteDocument, error) {
	c, ok := l.docs[u]
	if !ok {
		return nil, errkind.New(errkind.Invalid,
			"unknown JSON-LD context %q: Urbis loads no context from the network; known: %s",
			u, strings.Join(l.known, ", "))
	}
	doc, err := parseContext(c.Content)
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "embedded context %q", u)
	}
	docURL := c.DocumentURL
	if docURL == "" {
		docURL = c.URL
	}
	return &jsonld.RemoteDocument{DocumentURL: docURL, Document: doc}, nil
}

// parseContext decodes a context document the way json-gold's own
// loader does (numbers as float64).
func parseContext(b []byte) (map[string]any, error) {
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if _, ok := doc["@context"]; !ok {
		return nil, fmt.Errorf("no \"@context\" member")
	}
	return doc, nil
}
