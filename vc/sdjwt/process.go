package sdjwt

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/urbis-id/urbis/internal/errkind"
)

// disclosure is one decoded disclosure of an SD-JWT.
type disclosure struct {
	enc    string // as it appears in the SD-JWT
	pos    int    // 1-based position among the disclosures
	salt   string
	name   string
	object bool // [salt, name, value] rather than [salt, value]
	value  any
	used   bool
	path   []string // where it was inserted, set by process
}

// label names d in error messages.
func (d *disclosure) label() string {
	if d.object {
		return "disclosure " + strconv.Itoa(d.pos) + " (claim " + strconv.Quote(d.name) + ")"
	}
	return "disclosure " + strconv.Itoa(d.pos) + " (array element)"
}

// decodeDisclosure decodes the disclosure at 1-based position pos.
func decodeDisclosure(enc string, pos int) (*disclosure, error) {
	d := &disclosure{enc: enc, pos: pos}
	if enc == "" {
		return nil, errkind.New(errkind.Invalid, "disclosure %d is empty", pos)
	}
	raw, err := b64.DecodeString(enc)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "disclosure %d is not base64url", pos)
	}
	var arr []any
	if err := decodeObject(raw, &arr); err != nil || arr == nil {
		return nil, errkind.New(errkind.Invalid, "disclosure %d is not a JSON array", pos)
	}
	var ok bool
	switch len(arr) {
	case 3:
		d.object = true
		if d.name, ok = arr[1].(string); !ok {
			return nil, errkind.New(errkind.Invalid, "disclosure %d: claim name must be a string; got %s", pos, jsonType(arr[1]))
		}
		if d.name == "_sd" || d.name == "..." {
			return nil, errkind.New(errkind.Invalid, "disclosure %d: claim name %q is reserved by SD-JWT", pos, d.name)
		}
		d.value = arr[2]
	case 2:
		d.value = arr[1]
	default:
		return nil, errkind.New(errkind.Invalid, "disclosure %d has %d elements; want 3 (salt, name, value) or 2 (salt, value)", pos, len(arr))
	}
	if d.salt, ok = arr[0].(string); !ok {
		return nil, errkind.New(errkind.Invalid, "disclosure %d: salt must be a string; got %s", pos, jsonType(arr[0]))
	}
	return d, nil
}

// processor rebuilds the claims of an SD-JWT from its payload and
// disclosures, following RFC 9901 section 7.1, step 3.
type processor struct {
	byDigest map[string]*disclosure
	list     []*disclosure
	seen     map[string]bool // every digest met so far
}

// newProcessor decodes the disclosures and indexes them by digest.
func newProcessor(encs []string) (*processor, error) {
	p := &processor{byDigest: map[string]*disclosure{}, seen: map[string]bool{}}
	for i, e := range encs {
		d, err := decodeDisclosure(e, i+1)
		if err != nil {
			return nil, err
		}
		h := digest(e)
		if prev, ok := p.byDigest[h]; ok {
			return nil, errkind.New(errkind.Invalid, "disclosure %d repeats disclosure %d (same digest %s)", d.pos, prev.pos, h)
		}
		p.byDigest[h] = d
		p.list = append(p.list, d)
	}
	return p, nil
}

// run processes the whole payload and checks that every disclosure was
// referenced. The result has no _sd and no _sd_alg.
func (p *processor) run(payload map[string]any) (map[string]any, error) {
	alg := HashAlg
	if v, ok := payload["_sd_alg"]; ok {
		s, ok := v.(string)
		if !ok {
			return nil, errkind.Field(errkind.Invalid, "/_sd_alg", "must be a string; got %s", jsonType(v))
		}
		alg = s
	}
	if alg != HashAlg {
		return nil, errkind.Field(errkind.Unsupported, "/_sd_alg", "hash algorithm %q is not supported; want %s", alg, HashAlg)
	}
	top := make(map[string]any, len(payload))
	for k, v := range payload {
		if k != "_sd_alg" {
			top[k] = v
		}
	}
	out, err := p.object(top, nil)
	if err != nil {
		return nil, err
	}
	for _, d := range p.list {
		if !d.used {
			return nil, errkind.New(errkind.Invalid, "%s is not referenced by any digest in the SD-JWT or its disclosures", d.label())
		}
	}
	return out, nil
}

func (p *processor) value(v any, path []string) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		return p.object(t, path)
	case []any:
		return p.array(t, path)
	}
	return v, nil
}

// take marks digest h as met and returns its disclosure, if any.
func (p *processor) take(h string, path []string) (*disclosure, error) {
	if p.seen[h] {
		return nil, errkind.Field(errkind.Invalid, pointer(path), "digest %s appears more than once", h)
	}
	p.seen[h] = true
	d := p.byDigest[h]
	if d != nil {
		d.used = true
	}
	return d, nil
}

func (p *processor) object(m map[string]any, path []string) (map[string]any, error) {
	out := make(map[string]any, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k == "_sd" {
			continue
		}
		at := append(slices.Clone(path), k)
		switch k {
		case "...":
			return nil, errkind.Field(errkind.Invalid, pointer(at), `"..." may only appear as the single member of an array element placeholder`)
		case "_sd_alg":
			return nil, errkind.Field(errkind.Invalid, pointer(at), "_sd_alg may only appear at the top level of the payload")
		}
		v, err := p.value(m[k], at)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	raw, ok := m["_sd"]
	if !ok {
		return out, nil
	}
	at := append(slices.Clone(path), "_sd")
	list, ok := raw.([]any)
	if !ok {
		return nil, errkind.Field(errkind.Invalid, pointer(at), "must be an array of digests; got %s", jsonType(raw))
	}
	for i, e := range list {
		h, ok := e.(string)
		if !ok {
			return nil, errkind.Field(errkind.Invalid, pointer(at)+"/"+strconv.Itoa(i), "digest must be a string; got %s", jsonType(e))
		}
		d, err := p.take(h, at)
		if err != nil {
			return nil, err
		}
		if d == nil {
			continue // undisclosed or decoy
		}
		if !d.object {
			return nil, errkind.Field(errkind.Invalid, pointer(at), "%s is referenced from an _sd array but is an array element disclosure; want [salt, name, value]", d.label())
		}
		if _, dup := out[d.name]; dup {
			return nil, errkind.Field(errkind.Invalid, pointer(path), "%s collides with a claim of the same name already present", d.label())
		}
		d.path = append(slices.Clone(path), d.name)
		v, err := p.value(d.value, d.path)
		if err != nil {
			return nil, err
		}
		out[d.name] = v
	}
	return out, nil
}

func (p *processor) array(a []any, path []string) ([]any, error) {
	out := make([]any, 0, len(a))
	for i, e := range a {
		if m, ok := e.(map[string]any); ok {
			if raw, ok := m["..."]; ok {
				at := append(slices.Clone(path), strconv.Itoa(i))
				if len(m) != 1 {
					return nil, errkind.Field(errkind.Invalid, pointer(at), `an array element placeholder must have "..." as its only member; it has %d`, len(m))
				}
				h, ok := raw.(string)
				if !ok {
					return nil, errkind.Field(errkind.Invalid, pointer(at)+"/...", "digest must be a string; got %s", jsonType(raw))
				}
				d, err := p.take(h, at)
				if err != nil {
					return nil, err
				}
				if d == nil {
					continue // undisclosed or decoy: the element is removed
				}
				if d.object {
					return nil, errkind.Field(errkind.Invalid, pointer(at), "%s is referenced from an array element but is an object property disclosure; want [salt, value]", d.label())
				}
				d.path = append(slices.Clone(path), strconv.Itoa(len(out)))
				v, err := p.value(d.value, d.path)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
				continue
			}
		}
		v, err := p.value(e, append(slices.Clone(path), strconv.Itoa(len(out))))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// jsonType names the JSON type of a decoded value.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "an unknown type"
}
