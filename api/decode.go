package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/urbis-id/urbis/internal/errkind"
)

// decodeJSON reads the request body into v strictly: the content type must
// be JSON, unknown fields are refused, and exactly one value is allowed.
// Each failure says what is wrong and where.
func decodeJSON(c *gin.Context, v any) error {
	body, err := readJSON(c)
	if err != nil {
		return err
	}
	return decodeStrict(body, v)
}

// readJSON reads a request body that must be JSON: its content type
// must say so and it must not be empty.
func readJSON(c *gin.Context) ([]byte, error) {
	ct := c.GetHeader("Content-Type")
	if ct == "" {
		return nil, errkind.New(errkind.BadMediaType, "missing Content-Type; send the body as application/json")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return nil, unsupportedMedia(ct)
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errkind.New(errkind.TooLarge, "request body exceeds the limit of %d bytes", tooBig.Limit)
		}
		return nil, errkind.Wrap(errkind.Invalid, err, "reading request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errkind.New(errkind.Invalid, "request body is empty; send a JSON object")
	}
	return body, nil
}

// decodeStrict decodes exactly one JSON value from body into v, refusing
// unknown fields.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return errkind.New(errkind.Invalid, "request body holds more than one JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errkind.New(errkind.Invalid, "request body has trailing data after the JSON value")
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return errkind.New(errkind.Invalid, "malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		field := "/" + strings.ReplaceAll(typ.Field, ".", "/")
		return errkind.Field(errkind.Invalid, field, "must be %s, not %s", jsonTypeName(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errkind.New(errkind.Invalid, "malformed JSON: unexpected end of body")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return errkind.Field(errkind.Invalid, "/"+name, "unknown field %q", name)
	}
	return errkind.Wrap(errkind.Invalid, err, "malformed JSON")
}

func jsonTypeName(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "a boolean"
	default:
		return "a number"
	}
}

func unsupportedMedia(ct string) error {
	return errkind.New(errkind.BadMediaType, "Content-Type %q is not supported; send the body as application/json", ct)
}
