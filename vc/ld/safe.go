package ld

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	jsonld "github.com/piprate/json-gold/ld"

	"github.com/urbis-id/urbis/internal/errkind"
)

// Safe mode.
//
// JSON-LD expansion silently drops a property that no @context defines
// (the VC 2.0 context has no @vocab), turns a type it does not define
// into a relative IRI, and the conversion to RDF then drops every
// statement with a relative or malformed IRI. A proof over the RDF
// canonical form does not cover what was dropped: changing such a claim
// does not break the proof. jsonld.js refuses such documents in its
// "safe mode"; json-gold v0.4.2 has no such mode, so Urbis detects them
// itself, in the expansion that canonicalization does anyway.
//
// The document is expanded with a sentinel vocabulary
// ({"@vocab": "urn:urbis:undefined-term:"}) put before its own contexts:
// a context that defines a term, or sets a @vocab of its own, wins over
// it, and a term nothing defines expands to the sentinel IRI instead of
// vanishing. Contexts that would remove the sentinel are rewritten for
// the check, loaded ones by the loader wrapper and inline ones in place:
// a scoped "@context": null (the VC 2.0 verifiableCredential term of a
// presentation has one) becomes [null, sentinel], "@vocab": null the
// sentinel vocabulary, and a term defined as null (or with "@id": null),
// which expansion drops as well, the sentinel IRI of its name. When the
// expanded document holds no sentinel IRI, none of this changed it, so
// the same expansion is converted to RDF and canonicalized.

// sentinel is the vocabulary of terms no context defines.
const sentinel = "urn:urbis:undefined-term:"

var sentinelContext = map[string]any{"@vocab": sentinel}

// Reasons a term is dropped, in DroppedTerm.Reason.
const (
	ReasonProperty = "property" // a property no context defines
	ReasonType     = "type"     // a type (or datatype) no context defines
	ReasonValue    = "value"    // a vocabulary value (such as proofPurpose) no context defines
	ReasonIRI      = "IRI"      // a relative or malformed IRI (an id that is not a URL)
	ReasonKeyword  = "keyword"  // a member named like a keyword ("@foo") that is none
	ReasonLanguage = "language" // a language tag that is not one
)

// DroppedTerm is a term of a document that JSON-LD processing drops.
type DroppedTerm struct {
	Term    string // as written in the document
	Reason  string // one of the Reason constants
	Pointer string // JSON pointer to where the document uses it; "" when not found
}

// Describe says what is wrong with the term; whose names the document
// whose @context it is ("credential's").
func (d DroppedTerm) Describe(whose string) string {
	at := ""
	if d.Pointer != "" {
		at = " at " + d.Pointer
	}
	switch d.Reason {
	case ReasonIRI:
		return fmt.Sprintf("%q%s is not an absolute IRI (a URL)", d.Term, at)
	case ReasonKeyword:
		return fmt.Sprintf("member %q%s is not a JSON-LD keyword", d.Term, at)
	case ReasonLanguage:
		return fmt.Sprintf("language tag %q%s is malformed", d.Term, at)
	}
	return fmt.Sprintf("%s %q%s is not defined by the %s @context", d.Reason, d.Term, at, whose)
}

// DroppedError reports the terms of a document that JSON-LD processing
// would drop, so that a proof over its canonical form would not cover
// them. Its kind is Invalid.
type DroppedError struct {
	Terms []DroppedTerm // at least one, sorted by pointer
}

// maxDescribed is how many terms Describe names.
const maxDescribed = 5

// Describe says what is wrong with the first few terms; whose names
// the document whose @context it is ("credential's").
func (e *DroppedError) Describe(whose string) string {
	var parts []string
	for i, t := range e.Terms {
		if i == maxDescribed {
			parts = append(parts, fmt.Sprintf("and %d more", len(e.Terms)-i))
			break
		}
		parts = append(parts, t.Describe(whose))
	}
	return strings.Join(parts, "; ")
}

// Undefined reports whether every term is one no context defines (a
// property, type or vocabulary value), which a context can fix.
func (e *DroppedError) Undefined() bool {
	for _, t := range e.Terms {
		switch t.Reason {
		case ReasonProperty, ReasonType, ReasonValue:
		default:
			return false
		}
	}
	return true
}

func (e *DroppedError) Error() string { return e.Describe("document's") }

// Unwrap makes errors.Is(err, errkind.Invalid) hold.
func (e *DroppedError) Unwrap() error { return errkind.Invalid }

// Pointer returns the JSON pointer of the first dropped term, or "".
func (e *DroppedError) Pointer() string {
	for _, t := range e.Terms {
		if t.Pointer != "" {
			return t.Pointer
		}
	}
	return ""
}

// expandSafe expands doc with the sentinel vocabulary and reports the
// terms it drops. reusable is true when the expansion is that of doc
// itself, which it is when no term is dropped and no context inside the
// document had to be rewritten.
func expandSafe(doc map[string]any, loader jsonld.DocumentLoader) (expanded []any, reusable bool, err error) {
	graphs := presentationGraphs(doc)
	probe := make(map[string]any, len(graphs))
	reusable = true
	for k, v := range graphs {
		if k == "@context" {
			continue
		}
		nv, changed := rewriteInline(v)
		reusable = reusable && !changed
		probe[k] = nv
	}
	probe["@context"] = withSentinel(doc["@context"])
	expanded, err = jsonld.NewJsonLdProcessor().Expand(probe, options(safeLoader{loader}))
	if err != nil {
		return nil, false, err
	}
	var dropped []DroppedTerm
	keywordKeys(doc, nil, &dropped)
	var hits []hit
	findDropped(expanded, nil, &hits)
	if len(dropped) == 0 && len(hits) == 0 {
		return expanded, reusable, nil
	}
	for _, h := range hits {
		d := h.DroppedTerm
		if d.Pointer = follow(doc, h.path, d); d.Pointer == "" {
			d.Pointer = locate(doc, d)
		}
		dropped = append(dropped, d)
	}
	seen := make(map[DroppedTerm]bool)
	var out []DroppedTerm
	for _, d := range dropped {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	slices.SortStableFunc(out, func(a, b DroppedTerm) int { return strings.Compare(a.Pointer, b.Pointer) })
	return nil, false, &DroppedError{Terms: out}
}

// withSentinel returns a document's @context with the sentinel
// vocabulary before it (and after each null, which resets the context).
func withSentinel(c any) []any {
	out := []any{sentinelContext}
	list, ok := c.([]any)
	if !ok {
		if c == nil {
			return out
		}
		list = []any{c}
	}
	for _, e := range list {
		if e == nil {
			out = append(out, nil, sentinelContext)
			continue
		}
		ne, _ := rewriteContext(e)
		out = append(out, ne)
	}
	return out
}

// rewriteContext returns a context (a URL, an object or an array of
// them) with what would hide an undefined term from the sentinel
// rewritten, and whether anything was. It does not modify c.
func rewriteContext(c any) (any, bool) {
	switch c := c.(type) {
	case []any:
		var out []any
		changed := false
		for i, e := range c {
			ne, ch := rewriteContext(e)
			if e == nil {
				ch = true // a null resets the context: the sentinel follows it
			}
			if ch && !changed {
				out = append(make([]any, 0, len(c)+1), c[:i]...)
				changed = true
			}
			switch {
			case e == nil:
				out = append(out, nil, sentinelContext)
			case changed:
				out = append(out, ne)
			}
		}
		if !changed {
			return c, false
		}
		return out, true
	case map[string]any:
		var out map[string]any
		set := func(k string, v any) {
			if out == nil {
				out = make(map[string]any, len(c))
				for k, v := range c {
					out[k] = v
				}
			}
			out[k] = v
		}
		for k, v := range c {
			switch {
			case k == "@vocab":
				if v == nil {
					set(k, sentinel)
				}
			case strings.HasPrefix(k, "@"):
			case v == nil:
				set(k, sentinel+k)
			default:
				def, ok := v.(map[string]any)
				if !ok {
					continue
				}
				var nd map[string]any
				if id, has := def["@id"]; has && id == nil {
					nd = copyShallow(def)
					nd["@id"] = sentinel + k
				}
				if sc, has := def["@context"]; has {
					nsc, ch := rewriteContext(sc)
					if sc == nil {
						nsc, ch = []any{nil, sentinelContext}, true
					}
					if ch {
						if nd == nil {
							nd = copyShallow(def)
						}
						nd["@context"] = nsc
					}
				}
				if nd != nil {
					set(k, nd)
				}
			}
		}
		if out == nil {
			return c, false
		}
		return out, true
	}
	return c, false
}

// rewriteInline rewrites the contexts embedded in a document's values
// (a credential's, inside a presentation), returning v itself when none
// changes.
func rewriteInline(v any) (any, bool) {
	switch v := v.(type) {
	case map[string]any:
		var out map[string]any
		for k, e := range v {
			var ne any
			var ch bool
			if k == "@context" {
				ne, ch = rewriteContext(e)
				if e == nil {
					ne, ch = []any{nil, sentinelContext}, true
				}
			} else {
				ne, ch = rewriteInline(e)
			}
			if ch {
				if out == nil {
					out = copyShallow(v)
				}
				out[k] = ne
			}
		}
		if out == nil {
			return v, false
		}
		return out, true
	case []any:
		var out []any
		for i, e := range v {
			ne, ch := rewriteInline(e)
			if ch {
				if out == nil {
					out = slices.Clone(v)
				}
				out[i] = ne
			}
		}
		if out == nil {
			return v, false
		}
		return out, true
	}
	return v, false
}

func copyShallow(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// safeLoader serves its loader's contexts rewritten by rewriteContext.
type safeLoader struct{ jsonld.DocumentLoader }

func (s safeLoader) LoadDocument(u string) (*jsonld.RemoteDocument, error) {
	d, err := s.DocumentLoader.LoadDocument(u)
	if err != nil || d == nil {
		return d, err
	}
	m, ok := d.Document.(map[string]any)
	if !ok {
		return d, nil
	}
	c, ok := m["@context"]
	if !ok {
		return d, nil
	}
	nc, changed := rewriteContext(c)
	if !changed {
		return d, nil
	}
	nm := copyShallow(m)
	nm["@context"] = nc
	return &jsonld.RemoteDocument{DocumentURL: d.DocumentURL, Document: nm, ContextURL: d.ContextURL}, nil
}

// languageTag is the language tags json-gold v0.4.2 keeps in RDF.
var languageTag = regexp.MustCompile(`^[a-zA-Z]+(-[a-zA-Z0-9]+)*$`)

// hit is a dropped term and its path in the expanded document: member
// names (IRIs and keywords) and array indexes.
type hit struct {
	DroppedTerm
	path []any
}

// findDropped walks an expanded document for what the sentinel caught
// and for the IRIs and language tags the conversion to RDF drops.
func findDropped(v any, path []any, out *[]hit) {
	add := func(term, reason string, p ...any) {
		*out = append(*out, hit{DroppedTerm{Term: term, Reason: reason}, append(slices.Clone(path), p...)})
	}
	switch v := v.(type) {
	case []any:
		for i, e := range v {
			findDropped(e, append(path, i), out)
		}
	case map[string]any:
		_, isValue := v["@value"]
		for k, e := range v {
			switch k {
			case "@value", "@context", "@index", "@direction":
			case "@language":
				if s, ok := e.(string); ok && !languageTag.MatchString(s) {
					add(s, ReasonLanguage, k)
				}
			case "@type":
				for i, t := range strs(e) {
					switch {
					case isValue && t == "@json":
					case strings.HasPrefix(t, sentinel):
						add(t[len(sentinel):], ReasonType, k, i)
					case badIRI(t):
						add(t, ReasonIRI, k, i)
					}
				}
			case "@id":
				s, _ := e.(string)
				switch {
				case strings.HasPrefix(s, sentinel):
					add(s[len(sentinel):], ReasonValue, k)
				case badIRI(s):
					add(s, ReasonIRI, k)
				}
			default:
				switch {
				case strings.HasPrefix(k, sentinel):
					add(k[len(sentinel):], ReasonProperty, k)
				case jsonld.IsKeyword(k):
				case strings.HasPrefix(k, "_:") || badIRI(k):
					add(k, ReasonProperty, k)
				}
				findDropped(e, append(path, k), out)
			}
		}
	}
}

// follow maps a path in the expanded document back to a JSON pointer
// into doc, for the usual shape of a document: a member's IRI ends with
// its name (…#credentialSubject, …/name, or the sentinel's), type and id
// are written "type" and "id" or "@type" and "@id", and expansion keeps
// arrays in order and wraps single values. It returns "" when the path
// leads elsewhere or to another term than d's, for locate to search.
func follow(doc map[string]any, path []any, d DroppedTerm) string {
	var cur any = doc
	var ptr strings.Builder
	last := ""
	for _, seg := range path {
		switch seg := seg.(type) {
		case int:
			list, ok := cur.([]any)
			switch {
			case ok && seg < len(list):
				cur = list[seg]
				ptr.WriteString("/" + strconv.Itoa(seg))
			case !ok && seg == 0:
			default:
				return ""
			}
		case string:
			m, ok := cur.(map[string]any)
			if !ok && (seg == "@id" || seg == "@value") {
				continue // a value expanded into {"@id": …} or {"@value": …}
			}
			if !ok {
				return ""
			}
			var names []string
			switch {
			case seg == "@graph":
				if _, has := m["@graph"]; !has {
					continue // a graph container, or presentationGraphs' wrapper
				}
				names = []string{seg}
			case seg == "@type" || seg == "@id" || seg == "@language":
				names = []string{seg, seg[1:]}
			case strings.HasPrefix(seg, sentinel):
				names = []string{seg[len(sentinel):]}
			default:
				names = []string{seg, seg[strings.LastIndexAny(seg, "#/:")+1:]}
			}
			found := false
			for _, n := range names {
				if v, has := m[n]; has {
					cur, last, found = v, n, true
					ptr.WriteString("/" + escape(n))
					break
				}
			}
			if !found {
				return ""
			}
		}
	}
	switch d.Reason {
	case ReasonProperty:
		if last != d.Term {
			return ""
		}
	case ReasonLanguage:
		if s, _ := cur.(string); !strings.EqualFold(s, d.Term) {
			return ""
		}
	default:
		if cur != d.Term {
			return ""
		}
	}
	return ptr.String()
}

// badIRI reports whether json-gold's conversion to RDF drops a statement
// with the IRI s: a relative IRI, or an http(s) URL it finds malformed.
func badIRI(s string) bool {
	if strings.HasPrefix(s, "_:") {
		return false
	}
	if jsonld.IsRelativeIri(s) {
		return true
	}
	return (strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")) && !isURL(s)
}

// goodURLs remembers up to maxGoodURLs IRIs that json-gold's IsURL (a
// costly regular expression) accepted: the vocabulary IRIs of the
// contexts come back in every document. Past the limit nothing is added
// and IsURL runs, so a flood of distinct IRIs costs time, not memory.
var (
	goodURLs  sync.Map
	goodCount atomic.Int64
)

const maxGoodURLs = 4096

func isURL(s string) bool {
	if _, ok := goodURLs.Load(s); ok {
		return true
	}
	if !jsonld.IsURL(s) {
		return false
	}
	if len(s) <= 512 && goodCount.Load() < maxGoodURLs {
		if _, loaded := goodURLs.LoadOrStore(s, struct{}{}); !loaded {
			goodCount.Add(1)
		}
	}
	return true
}

func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// keywordKeys finds members named like keywords that are none ("@foo"),
// which expansion ignores. path holds the pointer's segments.
func keywordKeys(v any, path []string, out *[]DroppedTerm) {
	switch v := v.(type) {
	case []any:
		for i, e := range v {
			keywordKeys(e, append(path, strconv.Itoa(i)), out)
		}
	case map[string]any:
		for k, e := range v {
			if k == "@context" {
				continue
			}
			if strings.HasPrefix(k, "@") && len(k) > 1 && !jsonld.IsKeyword(k) {
				var p strings.Builder
				for _, s := range append(path, k) {
					p.WriteString("/" + escape(s))
				}
				*out = append(*out, DroppedTerm{Term: k, Reason: ReasonKeyword, Pointer: p.String()})
			}
			keywordKeys(e, append(path, k), out)
		}
	}
}

// locate returns the JSON pointer of the first place (in sorted member
// order) where doc uses d's term: as a member name for a property, as a
// string value otherwise (under "type" or "@type" first, for a type).
func locate(doc map[string]any, d DroppedTerm) string {
	if d.Reason == ReasonProperty {
		return find(doc, "", func(k string, _ any) bool { return k == d.Term })
	}
	isTerm := func(_ string, v any) bool { return v == d.Term }
	if d.Reason == ReasonLanguage { // json-gold lowercases tags
		isTerm = func(_ string, v any) bool { s, _ := v.(string); return strings.EqualFold(s, d.Term) }
	}
	if d.Reason == ReasonType {
		if p := find(doc, "", func(k string, v any) bool {
			return (k == "type" || k == "@type") && v == d.Term
		}); p != "" {
			return p
		}
	}
	return find(doc, "", isTerm)
}

// find returns the pointer of the first member or array element (k, v)
// under v that match accepts; k is the member's name or, for an array
// element, the name of the member that holds the array.
func find(v any, ptr string, match func(k string, v any) bool) string {
	var walk func(v any, ptr, key string) string
	walk = func(v any, ptr, key string) string {
		switch v := v.(type) {
		case []any:
			for i, e := range v {
				p := ptr + "/" + strconv.Itoa(i)
				if _, nested := e.(map[string]any); !nested && match(key, e) {
					return p
				}
				if r := walk(e, p, key); r != "" {
					return r
				}
			}
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				if k != "@context" {
					keys = append(keys, k)
				}
			}
			slices.Sort(keys)
			for _, k := range keys {
				p := ptr + "/" + escape(k)
				if match(k, v[k]) {
					return p
				}
				if r := walk(v[k], p, k); r != "" {
					return r
				}
			}
		}
		return ""
	}
	return walk(v, ptr, "")
}

// escape escapes a member name for a JSON pointer (RFC 6901).
func escape(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}
