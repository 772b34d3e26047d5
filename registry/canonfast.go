package registry

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// The fast paths of parse. Each one either returns exactly what the
// reflective path (encoding/json and Canonical) would, or reports that it
// cannot tell, and the caller takes the reflective path: they never
// change what is accepted, only how quickly the usual case is decided.

// maxFastDepth bounds the nesting isCanonicalJSON follows; deeper texts
// take the reflective path.
const maxFastDepth = 64

// isCanonicalJSON reports whether canonicalJSON(b) would return b
// itself: one JSON value, no whitespace, object keys strictly increasing
// (so sorted and without duplicates), strings as encoding/json writes
// them. False means no, or not sure: strings holding characters that
// encoding/json escapes, or nesting deeper than maxFastDepth.
func isCanonicalJSON(b []byte) bool {
	end, ok := canonValueEnd(b, 0, 0)
	return ok && end == len(b)
}

// canonValueEnd returns the end of the canonical JSON value at b[i:].
func canonValueEnd(b []byte, i, depth int) (int, bool) {
	if i >= len(b) || depth > maxFastDepth {
		return 0, false
	}
	switch c := b[i]; {
	case c == '{':
		i++
		if i < len(b) && b[i] == '}' {
			return i + 1, true
		}
		var prev []byte
		for n := 0; ; n++ {
			end, ok := canonStringEnd(b, i)
			if !ok {
				return 0, false
			}
			key := b[i+1 : end-1]
			if n > 0 && bytes.Compare(prev, key) >= 0 {
				return 0, false
			}
			prev = key
			if end >= len(b) || b[end] != ':' {
				return 0, false
			}
			if i, ok = canonValueEnd(b, end+1, depth+1); !ok || i >= len(b) {
				return 0, false
			}
			switch b[i] {
			case ',':
				i++
			case '}':
				return i + 1, true
			default:
				return 0, false
			}
		}
	case c == '[':
		i++
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = canonValueEnd(b, i, depth+1); !ok || i >= len(b) {
				return 0, false
			}
			switch b[i] {
			case ',':
				i++
			case ']':
				return i + 1, true
			default:
				return 0, false
			}
		}
	case c == '"':
		return canonStringEnd(b, i)
	case c == 't':
		return literalEnd(b, i, "true")
	case c == 'f':
		return literalEnd(b, i, "false")
	case c == 'n':
		return literalEnd(b, i, "null")
	case c == '-' || '0' <= c && c <= '9':
		return numberEnd(b, i)
	}
	return 0, false
}

func literalEnd(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, false
	}
	return i + len(lit), true
}

// numberEnd returns the end of the JSON number at b[i:]; encoding/json
// writes a json.Number as it was written, so any valid number is
// canonical.
func numberEnd(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digitsEnd(b, i)
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		j := digitsEnd(b, i+1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digitsEnd(b, i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}

func digitsEnd(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// canonStringEnd returns the end of the JSON string at b[i:] if it is
// one that encoding/json decodes to its own bytes and writes back
// unchanged: no escapes, no control characters, none of <, > and & (which
// it escapes), valid UTF-8 without U+2028 and U+2029 (which it escapes).
func canonStringEnd(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	for i++; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, true
		case c == '\\' || c == '<' || c == '>' || c == '&' || c < 0x20 || c == 0x7f:
			return 0, false
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError || r == '\u2028' || r == '\u2029' {
				return 0, false
			}
			i += size
		}
	}
	return 0, false
}

// fastString reads the canonical string at b[i:] and returns its value
// and end.
func fastString(b []byte, i int) (string, int, bool) {
	end, ok := canonStringEnd(b, i)
	if !ok {
		return "", 0, false
	}
	return string(b[i+1 : end-1]), end, true
}

// expect reports whether b[i:] starts with s, and where s ends.
func expect(b []byte, i int, s string) (int, bool) {
	if len(b)-i < len(s) || string(b[i:i+len(s)]) != s {
		return 0, false
	}
	return i + len(s), true
}

// fastOperation decodes b if it is the canonical encoding of an
// Operation whose payload is canonical and a JSON object, and whose
// strings need no escaping; then decodeStrict(b, &op) would succeed with
// the same op, and Canonical(op) would equal b.
func fastOperation(b []byte) (Operation, bool) {
	var (
		op  Operation
		i   int
		ok  bool
		str [3]string
	)
	for k, prefix := range [3]string{`{"chain":`, `,"kind":`, `,"signer":`} {
		if i, ok = expect(b, i, prefix); !ok {
			return Operation{}, false
		}
		if str[k], i, ok = fastString(b, i); !ok {
			return Operation{}, false
		}
	}
	if i, ok = expect(b, i, `,"nonce":`); !ok {
		return Operation{}, false
	}
	j := digitsEnd(b, i)
	if j == i || b[i] == '0' && j > i+1 {
		return Operation{}, false
	}
	n, err := strconv.ParseUint(string(b[i:j]), 10, 64)
	if err != nil {
		return Operation{}, false
	}
	if i, ok = expect(b, j, `,"payload":`); !ok {
		return Operation{}, false
	}
	if len(b) < i+2 || b[len(b)-1] != '}' || b[i] != '{' {
		return Operation{}, false
	}
	payload := b[i : len(b)-1 : len(b)-1]
	if !isCanonicalJSON(payload) {
		return Operation{}, false
	}
	op.Chain, op.Kind, op.Signer, op.Nonce, op.Payload = str[0], Kind(str[1]), str[2], n, payload
	return op, true
}

// fastHeader decodes b if it is {"alg":...,"kid":...,"typ":...} with
// strings that need no escaping; then decodeStrict(b, &h) would succeed
// with the same h.
func fastHeader(b []byte) (protectedHeader, bool) {
	var (
		h   protectedHeader
		i   int
		ok  bool
		str [3]string
	)
	for k, prefix := range [3]string{`{"alg":`, `,"kid":`, `,"typ":`} {
		if i, ok = expect(b, i, prefix); !ok {
			return protectedHeader{}, false
		}
		if str[k], i, ok = fastString(b, i); !ok {
			return protectedHeader{}, false
		}
	}
	if i, ok = expect(b, i, `}`); !ok || i != len(b) {
		return protectedHeader{}, false
	}
	h.Alg, h.Kid, h.Typ = str[0], str[1], str[2]
	return h, true
}
