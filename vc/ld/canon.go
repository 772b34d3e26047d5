package ld

import (
	jsonld "github.com/piprate/json-gold/ld"

	"github.com/urbis-id/urbis/internal/errkind"
)

// Canonicalize returns the RDF Dataset Canonicalization (URDNA2015) of
// the JSON-LD document doc as N-Quads, with contexts from loader (which
// must not be nil). doc must be as encoding/json decodes JSON into an
// any (numbers as float64) and is not modified. A document with a term
// that JSON-LD processing would drop is refused with a *DroppedError
// (see safe.go); other errors are json-gold's.
func Canonicalize(doc map[string]any, loader jsonld.DocumentLoader) (string, error) {
	expanded, reusable, err := expandSafe(doc, loader)
	if err != nil {
		return "", err
	}
	if !reusable {
		// The check rewrote a context inside the document (a rare
		// inline null): expand the document as it is.
		if expanded, err = jsonld.NewJsonLdProcessor().Expand(presentationGraphs(doc), options(loader)); err != nil {
			return "", err
		}
	}
	api := jsonld.NewJsonLdApi()
	dataset, err := api.ToRDF(expanded, options(loader))
	if err != nil {
		return "", err
	}
	opts := options(loader)
	opts.Algorithm = "URDNA2015"
	opts.Format = "application/n-quads"
	out, err := api.Normalize(dataset, opts)
	if err != nil {
		return "", err
	}
	s, ok := out.(string)
	if !ok {
		return "", errkind.New(errkind.Internal, "json-gold returned %T, not N-Quads", out)
	}
	return s, nil
}

// Check reports, as a *DroppedError, the terms of doc that JSON-LD
// processing would drop, for the proof suites that canonicalize with
// aries-framework-go rather than with Canonicalize. loader must not be
// nil.
func Check(doc map[string]any, loader jsonld.DocumentLoader) error {
	_, _, err := expandSafe(doc, loader)
	return err
}

func options(loader jsonld.DocumentLoader) *jsonld.JsonLdOptions {
	opts := jsonld.NewJsonLdOptions("")
	opts.ProcessingMode = jsonld.JsonLd_1_1
	opts.DocumentLoader = loader
	return opts
}

// presentationGraphs works around json-gold v0.4.2, which reads a term's
// container mapping from the term's own scoped context rather than from
// the active context (JSON-LD 1.1 Expansion, step 13). The one term of the
// embedded contexts with both is VC 2.0's verifiableCredential in a
// VerifiablePresentation (scoped @context null, @container @graph): its
// credentials lost their graph and landed in the presentation's default
// graph, so Urbis' canonical form of a VC 2.0 presentation differed from
// jsonld.js's and no presentation proof verified across (found by
// internal/interop). Writing each value as the graph object the container
// makes of it gives the standard dataset; a processor that honours the
// container leaves a graph object as it is, so the result is the same.
// doc is not modified.
func presentationGraphs(doc map[string]any) map[string]any {
	vcs, ok := doc["verifiableCredential"]
	if !ok || !firstContext(doc["@context"], CredentialsV2) || !hasType(doc["type"], "VerifiablePresentation") {
		return doc
	}
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		out[k] = v
	}
	list, ok := vcs.([]any)
	if !ok {
		list = []any{vcs}
	}
	graphs := make([]any, len(list))
	for i, v := range list {
		graphs[i] = v
		// Under the scoped @context null only a credential with its own
		// @context (as VC 2.0 requires) expresses anything; json-gold
		// fails on a graph object that expands to nothing.
		if m, ok := v.(map[string]any); ok && m["@context"] != nil {
			graphs[i] = map[string]any{"@graph": v}
		}
	}
	out["verifiableCredential"] = graphs
	return out
}

// firstContext reports whether a @context value starts with url. The VC
// 2.0 context must come first, and it protects its terms.
func firstContext(c any, url string) bool {
	if l, ok := c.([]any); ok && len(l) > 0 {
		c = l[0]
	}
	return c == url
}

func hasType(t any, want string) bool {
	switch v := t.(type) {
	case string:
		return v == want
	case []any:
		for _, e := range v {
			if e == want {
				return true
			}
		}
	}
	return false
}
