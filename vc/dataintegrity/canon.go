package dataintegrity

import (
	"context"
	"sync"

	jsonld "github.com/piprate/json-gold/ld"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/ld"
)

var (
	defaultLoaderOnce sync.Once
	defaultLoader     *ld.Loader
)

// loaderOr returns l, or vc/ld's embedded loader when l is nil.
func loaderOr(l jsonld.DocumentLoader) jsonld.DocumentLoader {
	if l != nil {
		return l
	}
	defaultLoaderOnce.Do(func() { defaultLoader = ld.Default() })
	return defaultLoader
}

// recordingLoader remembers the first error of the loader it wraps, which
// json-gold would otherwise reduce to a string.
type recordingLoader struct {
	jsonld.DocumentLoader
	err error
}

func (r *recordingLoader) LoadDocument(u string) (*jsonld.RemoteDocument, error) {
	d, err := r.DocumentLoader.LoadDocument(u)
	if err != nil && r.err == nil {
		r.err = err
	}
	return d, err
}

// canonicalize returns the RDF Dataset Canonicalization (URDNA2015) of
// the JSON-LD document doc as N-Quads. what names doc in errors.
func canonicalize(ctx context.Context, doc map[string]any, loader jsonld.DocumentLoader, what string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	doc = presentationGraphs(doc)
	rec := &recordingLoader{DocumentLoader: loaderOr(loader)}
	opts := jsonld.NewJsonLdOptions("")
	opts.ProcessingMode = jsonld.JsonLd_1_1
	opts.Algorithm = "URDNA2015"
	opts.Format = "application/n-quads"
	opts.ProduceGeneralizedRdf = false
	opts.DocumentLoader = rec
	out, err := jsonld.NewJsonLdProcessor().Normalize(doc, opts)
	if rec.err != nil {
		return "", errkind.Wrap(errkind.KindOf(rec.err), rec.err, "canonicalize %s", what).WithCode(codeTransformation)
	}
	if err != nil {
		return "", errkind.Wrap(errkind.Invalid, err, "canonicalize %s", what).WithCode(codeTransformation)
	}
	s, ok := out.(string)
	if !ok {
		return "", errkind.New(errkind.Internal, "canonicalize %s: json-gold returned %T, not N-Quads", what, out)
	}
	if s == "" {
		return "", errkind.New(errkind.Invalid, "canonicalize %s: it expresses no statements; are its terms defined by its @context?", what).WithCode(codeTransformation)
	}
	return s, nil
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
	if !ok || !firstContext(doc["@context"], ld.CredentialsV2) || !hasType(doc["type"], "VerifiablePresentation") {
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
