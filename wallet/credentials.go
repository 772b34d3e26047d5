package wallet

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// Credential is a credential held by the wallet: the form it was issued
// in (a JSON object for ldp_vc, the compact string for jwt_vc_json and
// dc+sd-jwt) and a summary read from it without verifying it.
type Credential struct {
	ID       string          `json:"id"` // local id
	Format   string          `json:"format"`
	Raw      json.RawMessage `json:"raw"`
	Issuer   string          `json:"issuer,omitempty"`
	Types    []string        `json:"types,omitempty"`
	Received time.Time       `json:"received"`
	// Holder is the wallet DID the credential was issued to, when the
	// wallet received it itself (OpenID4VCI).
	Holder string `json:"holder,omitempty"`
}

// Formats a Credential can have.
const (
	FormatLDP   = "ldp_vc"
	FormatJWT   = "jwt_vc_json"
	FormatSDJWT = "dc+sd-jwt"
)

// AddCredential stores a credential given as JSON: an ldp_vc object, a
// JWT-VC or SD-JWT VC as a JSON string, an EnvelopedVerifiableCredential,
// or an issue answer {"verifiableCredential": ...} holding any of those.
func (w *Wallet) AddCredential(raw []byte) (Credential, error) {
	return w.addCredential(raw, "")
}

func (w *Wallet) addCredential(raw []byte, holder string) (Credential, error) {
	c, err := parseCredential(raw)
	if err != nil {
		return Credential{}, err
	}
	c.ID = randomID()
	c.Received = w.now()
	c.Holder = holder
	err = w.change(func(ct *contents) error {
		ct.Credentials = append(ct.Credentials, c)
		return nil
	})
	return c, err
}

// Credentials returns the held credentials, oldest first.
func (w *Wallet) Credentials() []Credential { return slices.Clone(w.c.Credentials) }

// Credential returns the held credential with local id; NotFound if none.
func (w *Wallet) Credential(id string) (Credential, error) {
	i := slices.IndexFunc(w.c.Credentials, func(c Credential) bool { return c.ID == id })
	if i < 0 {
		return Credential{}, errkind.New(errkind.NotFound, "the wallet holds no credential %s; `urbis wallet list` shows their ids", id)
	}
	return w.c.Credentials[i], nil
}

// ParseCredential reads a credential as AddCredential takes it, without
// storing it: its format, issuer and types (unverified).
func ParseCredential(raw []byte) (Credential, error) { return parseCredential(raw) }

// parseCredential recognises the format of raw and summarises it.
func parseCredential(raw []byte) (Credential, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return Credential{}, errkind.New(errkind.Invalid, "credential is not JSON: %v", err)
	}
	if m, ok := v.(map[string]any); ok {
		if inner, ok := m["verifiableCredential"]; ok {
			v = inner
		}
	}
	if m, ok := v.(map[string]any); ok && hasType(m["type"], "EnvelopedVerifiableCredential") {
		id, _ := m["id"].(string)
		_, tok, found := strings.Cut(id, ",")
		if !found || !strings.HasPrefix(id, "data:") {
			return Credential{}, errkind.Field(errkind.Invalid, "/id", "an EnvelopedVerifiableCredential needs a data: URL id holding the token")
		}
		v = tok
	}
	switch x := v.(type) {
	case string:
		return tokenCredential(x)
	case map[string]any:
		if !hasType(x["type"], "VerifiableCredential") {
			return Credential{}, errkind.Field(errkind.Invalid, "/type", "is not a VerifiableCredential")
		}
		if _, ok := x["proof"]; !ok {
			return Credential{}, errkind.Field(errkind.Invalid, "/proof", "is missing: the wallet keeps only secured credentials")
		}
		b, _ := json.Marshal(x)
		return Credential{Format: FormatLDP, Raw: b, Issuer: issuerOf(x["issuer"]), Types: strs(x["type"])}, nil
	}
	return Credential{}, errkind.New(errkind.Invalid, "credential must be a JSON object or a compact token string")
}

// tokenCredential summarises a JWT-VC or an SD-JWT VC.
func tokenCredential(tok string) (Credential, error) {
	format, jwt := FormatJWT, tok
	if i := strings.IndexByte(tok, '~'); i >= 0 {
		format, jwt = FormatSDJWT, tok[:i]
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return Credential{}, errkind.New(errkind.Invalid, "token is not a compact JWS (want three dot-separated parts, got %d)", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return Credential{}, errkind.New(errkind.Invalid, "token payload is not base64url: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return Credential{}, errkind.New(errkind.Invalid, "token payload is not a JSON object: %v", err)
	}
	raw, _ := json.Marshal(tok)
	c := Credential{Format: format, Raw: raw, Issuer: issuerOf(claims["iss"])}
	if format == FormatSDJWT {
		if vct, ok := claims["vct"].(string); ok {
			c.Types = []string{vct}
		}
		return c, nil
	}
	if inner, ok := claims["vc"].(map[string]any); ok {
		c.Types = strs(inner["type"])
		if c.Issuer == "" {
			c.Issuer = issuerOf(inner["issuer"])
		}
	}
	return c, nil
}

func issuerOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		s, _ := x["id"].(string)
		return s
	}
	return ""
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func hasType(v any, t string) bool { return slices.Contains(strs(v), t) }
