package issuer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/urbis-id/urbis/internal/errkind"
)

// LeafOf returns the anchoring leaf of an issued credential: the hex
// SHA-256 of the credential exactly as issued. For jwt_vc_json and
// dc+sd-jwt that is the token string the issuer returned (for SD-JWT the
// issuer-signed JWT with all its disclosures, "<jwt>~<d1>~...~"); for
// ldp_vc (a JSON object with its proof) it is the credential in the JSON
// Canonicalization Scheme (RFC 8785), UTF-8 encoded.
func LeafOf(iss Issued) (string, error) {
	var b []byte
	if iss.Token != "" {
		b = []byte(iss.Token)
	} else {
		var err error
		if b, err = JCS(iss.Credential); err != nil {
			return "", err
		}
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// JCS returns v (anything encoding/json encodes as JSON) in the JSON
// Canonicalization Scheme of RFC 8785: object members sorted by the
// UTF-16 code units of their names, no whitespace, strings with only the
// escapes JSON requires, numbers as ECMAScript prints them.
func JCS(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "encode the credential as JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var t any
	if err := dec.Decode(&t); err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "decode the credential's JSON")
	}
	var buf bytes.Buffer
	if err := jcsValue(&buf, t); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func jcsValue(buf *bytes.Buffer, v any) error {
	switch t := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		buf.WriteString(strconv.FormatBool(t))
	case string:
		jcsString(buf, t)
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return errkind.New(errkind.Invalid, "number %s is not an IEEE 754 double; RFC 8785 cannot encode it", t)
		}
		// encoding/json formats float64 as ECMAScript's Number.prototype.toString.
		b, err := json.Marshal(f)
		if err != nil {
			return errkind.Wrap(errkind.Invalid, err, "number %s", t)
		}
		buf.Write(b)
	case []any:
		buf.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := jcsValue(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int { return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b))) })
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			jcsString(buf, k)
			buf.WriteByte(':')
			if err := jcsValue(buf, t[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	default:
		return errkind.New(errkind.Internal, "JCS: unexpected %T", v)
	}
	return nil
}

// jcsString writes s as RFC 8785 §3.2.2.2 says: \" \\ \b \f \n \r \t,
// other control characters as \u00xx (lowercase hex), everything else as
// itself.
func jcsString(buf *bytes.Buffer, s string) {
	const hexDigits = "0123456789abcdef"
	buf.WriteByte('"')
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch r {
		case '"':
			buf.WriteString(`\"`)
		case '\\':
			buf.WriteString(`\\`)
		case '\b':
			buf.WriteString(`\b`)
		case '\f':
			buf.WriteString(`\f`)
		case '\n':
			buf.WriteString(`\n`)
		case '\r':
			buf.WriteString(`\r`)
		case '\t':
			buf.WriteString(`\t`)
		default:
			if r < 0x20 {
				buf.WriteString(`\u00`)
				buf.WriteByte(hexDigits[r>>4])
				buf.WriteByte(hexDigits[r&0xf])
			} else {
				buf.WriteRune(r)
			}
		}
	}
	buf.WriteByte('"')
}
