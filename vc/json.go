package vc

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"

	"github.com/urbis-id/urbis/internal/errkind"
)

// decodeObject decodes b as a single JSON object, keeping numbers as
// json.Number so that nothing is rounded on the way to a signature.
func decodeObject(b []byte, what string) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "%s is not valid JSON", what)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errkind.New(errkind.Invalid, "%s has data after the JSON object", what)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errkind.New(errkind.Invalid, "%s must be a JSON object, not %s", what, jsonType(v))
	}
	return m, nil
}

// deepCopy returns a copy of a decoded JSON value that shares nothing
// with v.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return copyMap(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	default:
		return v
	}
}

func copyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, e := range m {
		out[k] = deepCopy(e)
	}
	return out
}

// jsonType names the JSON type of a decoded value, for messages.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64, int, int64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return "an unexpected value"
	}
}

// pointerEscaper escapes a JSON pointer reference token; built once (a
// Replacer is safe for concurrent use, and building one per token cost a
// tenth of issuance).
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// pointer appends reference tokens to a JSON pointer, escaping "~" and
// "/" as RFC 6901 says.
func pointer(base string, tokens ...any) string {
	var b strings.Builder
	b.WriteString(base)
	for _, t := range tokens {
		b.WriteByte('/')
		switch t := t.(type) {
		case int:
			b.WriteString(strconv.Itoa(t))
		case string:
			if strings.ContainsAny(t, "~/") {
				b.WriteString(pointerEscaper.Replace(t))
			} else {
				b.WriteString(t)
			}
		}
	}
	return b.String()
}

// asList returns v as a list: the elements of an array, or v alone.
// The bool is false when v is an array, so callers can say "/type/2"
// rather than "/type" in messages.
func asList(v any) ([]any, bool) {
	if a, ok := v.([]any); ok {
		return a, false
	}
	return []any{v}, true
}

// at returns the pointer of element i of the member at p, which was a
// single value (not an array) if single is true.
func at(p string, i int, single bool) string {
	if single {
		return p
	}
	return pointer(p, i)
}

// idOf returns the "id" member of an object, or the string itself.
func idOf(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		s, _ := v["id"].(string)
		return s
	}
	return ""
}

// strings returns the string elements of a string or an array.
func stringList(v any) []string {
	list, _ := asList(v)
	out := make([]string, 0, len(list))
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// objects returns the object elements of an object or an array, copied.
func objects(v any) []map[string]any {
	if v == nil {
		return nil
	}
	list, _ := asList(v)
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, copyMap(m))
		}
	}
	return out
}
