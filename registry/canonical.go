package registry

import (
	"bytes"
	"encoding"
	"encoding/json"
	"io"
	"reflect"
	"sync"

	"github.com/urbis-id/urbis/internal/errkind"
)

// Canonical returns the canonical encoding of v: Go's encoding/json of v,
// with every json.RawMessage inside it re-encoded canonically (object
// keys sorted, no insignificant whitespace, numbers as written, strings
// escaped as encoding/json escapes them). Struct fields keep their
// declaration order. Operations, payloads, headers and the genesis are
// hashed and signed in this form. v itself is not modified.
func Canonical(v any) ([]byte, error) {
	rv, _, err := canonValue(reflect.ValueOf(v))
	if err != nil {
		return nil, err
	}
	var in any
	if rv.IsValid() {
		in = rv.Interface()
	}
	b, err := json.Marshal(in)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "encode canonically")
	}
	return b, nil
}

// canonicalJSON re-encodes the JSON text b canonically: keys sorted,
// whitespace removed, numbers kept as written. Duplicate object keys
// keep the last value, so a text with duplicates is never canonical.
func canonicalJSON(b []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errkind.New(errkind.Invalid, "not valid JSON: data after the JSON value")
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "not valid JSON")
	}
	return out, nil
}

var (
	rawType       = reflect.TypeFor[json.RawMessage]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	textType      = reflect.TypeFor[encoding.TextMarshaler]()
	holdsRaw      sync.Map // reflect.Type -> bool
)

// mayHoldRaw reports whether a value of type t can contain a
// json.RawMessage that encoding/json would encode.
func mayHoldRaw(t reflect.Type) bool {
	if v, ok := holdsRaw.Load(t); ok {
		return v.(bool)
	}
	holdsRaw.Store(t, true) // provisional, for recursive types
	r := computeHoldsRaw(t)
	holdsRaw.Store(t, r)
	return r
}

func computeHoldsRaw(t reflect.Type) bool {
	if t == rawType {
		return true
	}
	if t.Implements(marshalerType) || t.Implements(textType) ||
		reflect.PointerTo(t).Implements(marshalerType) || reflect.PointerTo(t).Implements(textType) {
		return false
	}
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return t.Elem().Kind() != reflect.Uint8 && mayHoldRaw(t.Elem())
	case reflect.Map:
		return mayHoldRaw(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && mayHoldRaw(f.Type) {
				return true
			}
		}
	}
	return false
}

// canonValue returns v with every json.RawMessage inside it canonical.
// It copies what it changes and never writes through v.
func canonValue(v reflect.Value) (reflect.Value, bool, error) {
	if !v.IsValid() || !mayHoldRaw(v.Type()) {
		return v, false, nil
	}
	t := v.Type()
	switch {
	case t == rawType:
		if v.Len() == 0 || isCanonicalJSON(v.Bytes()) {
			return v, false, nil
		}
		c, err := canonicalJSON(v.Bytes())
		if err != nil {
			return v, false, err
		}
		if bytes.Equal(c, v.Bytes()) {
			return v, false, nil
		}
		return reflect.ValueOf(json.RawMessage(c)), true, nil
	case t.Kind() == reflect.Pointer:
		if v.IsNil() {
			return v, false, nil
		}
		e, changed, err := canonValue(v.Elem())
		if err != nil || !changed {
			return v, false, err
		}
		p := reflect.New(t.Elem())
		p.Elem().Set(e)
		return p, true, nil
	case t.Kind() == reflect.Interface:
		if v.IsNil() {
			return v, false, nil
		}
		e, changed, err := canonValue(v.Elem())
		if err != nil || !changed {
			return v, false, err
		}
		out := reflect.New(t).Elem()
		out.Set(e)
		return out, true, nil
	case t.Kind() == reflect.Struct:
		return canonStruct(v)
	case t.Kind() == reflect.Slice, t.Kind() == reflect.Array:
		return canonList(v)
	case t.Kind() == reflect.Map:
		return canonMap(v)
	}
	return v, false, nil
}

func canonStruct(v reflect.Value) (reflect.Value, bool, error) {
	var out reflect.Value
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		nv, changed, err := canonValue(v.Field(i))
		if err != nil {
			return v, false, err
		}
		if !changed {
			continue
		}
		if !out.IsValid() {
			out = reflect.New(v.Type()).Elem()
			out.Set(v)
		}
		out.Field(i).Set(nv)
	}
	if !out.IsValid() {
		return v, false, nil
	}
	return out, true, nil
}

func canonList(v reflect.Value) (reflect.Value, bool, error) {
	if v.Kind() == reflect.Slice && v.IsNil() {
		return v, false, nil
	}
	var out reflect.Value
	for i := range v.Len() {
		nv, changed, err := canonValue(v.Index(i))
		if err != nil {
			return v, false, err
		}
		if !changed {
			continue
		}
		if !out.IsValid() {
			if v.Kind() == reflect.Slice {
				out = reflect.MakeSlice(v.Type(), v.Len(), v.Len())
				reflect.Copy(out, v)
			} else {
				out = reflect.New(v.Type()).Elem()
				out.Set(v)
			}
		}
		out.Index(i).Set(nv)
	}
	if !out.IsValid() {
		return v, false, nil
	}
	return out, true, nil
}

func canonMap(v reflect.Value) (reflect.Value, bool, error) {
	if v.IsNil() {
		return v, false, nil
	}
	out := reflect.MakeMapWithSize(v.Type(), v.Len())
	changedAny := false
	it := v.MapRange()
	for it.Next() {
		nv, changed, err := canonValue(it.Value())
		if err != nil {
			return v, false, err
		}
		changedAny = changedAny || changed
		out.SetMapIndex(it.Key(), nv)
	}
	if !changedAny {
		return v, false, nil
	}
	return out, true, nil
}
