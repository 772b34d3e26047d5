package dataintegrity

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
// the JSON-LD document doc as N-Quads, by vc/ld's Canonicalize, which
// refuses a document with terms that JSON-LD processing drops: that
// error is the *ld.DroppedError itself, for the caller to phrase (see
// signingError and verifyingError). what names doc in other errors.
func canonicalize(ctx context.Context, doc map[string]any, loader jsonld.DocumentLoader, what string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	rec := &recordingLoader{DocumentLoader: loaderOr(loader)}
	s, err := ld.Canonicalize(doc, rec)
	var dropped *ld.DroppedError
	switch {
	case rec.err != nil:
		return "", errkind.Wrap(errkind.KindOf(rec.err), rec.err, "canonicalize %s", what).WithCode(codeTransformation)
	case errors.As(err, &dropped):
		return "", dropped
	case err != nil && isInternal(err):
		return "", errkind.Wrap(errkind.Internal, err, "canonicalize %s", what)
	case err != nil:
		return "", errkind.Wrap(errkind.Invalid, err, "canonicalize %s", what).WithCode(codeTransformation)
	}
	if s == "" {
		return "", errkind.New(errkind.Invalid, "canonicalize %s: it expresses no statements; are its terms defined by its @context?", what).WithCode(codeTransformation)
	}
	return s, nil
}

// isInternal reports whether err is vc/ld's own Internal error rather
// than json-gold's refusal of the document.
func isInternal(err error) bool {
	var e *errkind.Error
	return errors.As(err, &e) && e.Kind == errkind.Internal
}

// CheckTermsForSigning refuses, with an error of kind Invalid whose
// Field is the JSON pointer of the first offending term (or
// "/@context"), a document with a term that JSON-LD processing drops: a
// property or type no @context defines, an id that is not an absolute
// IRI. A proof over the document's canonical form would not cover it,
// so anyone could change it without breaking the proof. The message says
// how to define the terms. The proof suites that canonicalize with
// aries-framework-go call it before signing; Sign checks as it
// canonicalizes.
func CheckTermsForSigning(doc map[string]any, loader jsonld.DocumentLoader) error {
	return checkTerms(doc, loader, signingError)
}

// CheckTermsForVerifying is CheckTermsForSigning for a document to
// verify: its error (Invalid, with a Data Integrity error code) says that
// the proof does not cover the term.
func CheckTermsForVerifying(doc map[string]any, loader jsonld.DocumentLoader) error {
	return checkTerms(doc, loader, func(d *ld.DroppedError) error { return verifyingError(d, whose(doc)) })
}

func checkTerms(doc map[string]any, loader jsonld.DocumentLoader, phrase func(*ld.DroppedError) error) error {
	doc, err := normalize(doc)
	if err != nil {
		return err
	}
	rec := &recordingLoader{DocumentLoader: loaderOr(loader)}
	err = ld.Check(doc, rec)
	var dropped *ld.DroppedError
	switch {
	case err == nil:
		return nil
	case rec.err != nil:
		e := errkind.Wrap(errkind.KindOf(rec.err), rec.err, "cannot process the @context").WithCode(codeTransformation)
		e.Field = "/@context"
		return e
	case errors.As(err, &dropped):
		return phrase(dropped)
	default:
		e := errkind.Wrap(errkind.Invalid, err, "the document is not valid JSON-LD").WithCode(codeTransformation)
		e.Field = "/@context"
		return e
	}
}

// signingError phrases a document's dropped terms for its signer.
func signingError(d *ld.DroppedError) error {
	field := d.Pointer()
	if field == "" {
		field = "/@context"
	}
	it := "it"
	if len(d.Terms) > 1 {
		it = "them"
	}
	var fix []string
	reasons := map[string]bool{}
	for _, t := range d.Terms {
		reasons[t.Reason] = true
	}
	if reasons[ld.ReasonProperty] || reasons[ld.ReasonType] || reasons[ld.ReasonValue] {
		fix = append(fix, fmt.Sprintf("add to @context a context that defines the terms, such as %s (it defines every term) or, for demos, %s", ld.UndefinedTermsV2, ld.CredentialsExamplesV2))
	}
	if reasons[ld.ReasonIRI] {
		fix = append(fix, "write ids and IRIs as absolute URLs (did:..., https://..., urn:...)")
	}
	if reasons[ld.ReasonKeyword] {
		fix = append(fix, "rename the members that start with @")
	}
	if reasons[ld.ReasonLanguage] {
		fix = append(fix, "write language tags as BCP 47 tags such as en or en-GB")
	}
	return errkind.Field(errkind.Invalid, field, "%s, so JSON-LD processing drops %s and no proof would cover %s: %s",
		d.Describe("document's"), it, it, strings.Join(fix, "; ")).WithCode(codeGeneration)
}

// verifyingError phrases a document's dropped terms for its verifier.
func verifyingError(d *ld.DroppedError, whose string) error {
	field := d.Pointer()
	if field == "" {
		field = "/@context"
	}
	it := "it"
	if len(d.Terms) > 1 {
		it = "them"
	}
	return errkind.Field(errkind.Invalid, field, "%s, so the proof does not cover %s (JSON-LD processing drops %s: anyone could change %s)",
		d.Describe(whose), it, it, it).WithCode(codeVerification)
}

// whose names the kind of document in messages.
func whose(doc map[string]any) string {
	if hasType(doc["type"], "VerifiablePresentation") {
		return "presentation's"
	}
	return "credential's"
}

// rebase returns d with the pointers under from moved under to.
func rebase(d *ld.DroppedError, from, to string) *ld.DroppedError {
	out := &ld.DroppedError{Terms: append([]ld.DroppedTerm(nil), d.Terms...)}
	for i, t := range out.Terms {
		if t.Pointer == from || strings.HasPrefix(t.Pointer, from+"/") {
			out.Terms[i].Pointer = to + t.Pointer[len(from):]
		}
	}
	return out
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
