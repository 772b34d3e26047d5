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
