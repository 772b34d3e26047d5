package provenance

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// unwrap returns the compact token of an EnvelopedVerifiableCredential
// (as POST /credentials/issue answers a JWT-VC), c itself otherwise.
func unwrap(c any) any {
	m, ok := c.(map[string]any)
	if !ok || m["type"] != "EnvelopedVerifiableCredential" {
		return c
	}
	id, _ := m["id"].(string)
	if rest, ok := strings.CutPrefix(id, "data:"); ok {
		if _, tok, ok := strings.Cut(rest, ","); ok && !strings.Contains(rest[:len(rest)-len(tok)], ";base64") {
			return tok
		}
	}
	return c
}

// claims are what the chain checks read of a credential (after its
// proof is verified).
type claims struct {
	issuer  string
	types   []string
	subject map[string]any
	issued  time.Time
}

// readClaims reads a credential object or a JWT-VC's vc claim.
func readClaims(c any) (claims, error) {
	switch t := c.(type) {
	case map[string]any:
		return objectClaims(t), nil
	case string:
		parts := strings.Split(strings.TrimSpace(t), ".")
		if len(parts) != 3 {
			return claims{}, errkind.New(errkind.Invalid, "not a compact JWT")
		}
		b, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			return claims{}, errkind.New(errkind.Invalid, "the JWT payload is not base64url")
		}
		var p map[string]any
		if err := json.Unmarshal(b, &p); err != nil {
			return claims{}, errkind.New(errkind.Invalid, "the JWT payload is not a JSON object")
		}
		v, _ := p["vc"].(map[string]any)
		if v == nil {
			return claims{}, errkind.New(errkind.Invalid, "the JWT has no vc claim")
		}
		cl := objectClaims(v)
		if iss, _ := p["iss"].(string); iss != "" {
			cl.issuer = iss
		}
		if cl.issued.IsZero() {
			for _, k := range []string{"nbf", "iat"} {
				if f, ok := p[k].(float64); ok {
					cl.issued = time.Unix(int64(f), 0).UTC()
					break
				}
			}
		}
		return cl, nil
	}
	return claims{}, errkind.New(errkind.Invalid, "a credential is a JSON object or a compact JWT-VC string")
}

func objectClaims(m map[string]any) claims {
	var cl claims
	switch v := m["issuer"].(type) {
	case string:
		cl.issuer = v
	case map[string]any:
		cl.issuer, _ = v["id"].(string)
	}
	switch v := m["type"].(type) {
	case string:
		cl.types = []string{v}
	case []any:
		for _, t := range v {
			if s, ok := t.(string); ok {
				cl.types = append(cl.types, s)
			}
		}
	}
	switch v := m["credentialSubject"].(type) {
	case map[string]any:
		cl.subject = v
	case []any:
		if len(v) > 0 {
			cl.subject, _ = v[0].(map[string]any)
		}
	}
	if cl.subject == nil {
		cl.subject = map[string]any{}
	}
	for _, k := range []string{"validFrom", "issuanceDate"} {
		if s, ok := m[k].(string); ok {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				cl.issued = t.UTC()
				break
			}
		}
	}
	return cl
}
