package jwtvc

import (
	"crypto"
	"slices"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// Format is the OpenID4VC format identifier of a JWT-VC.
const Format = "jwt_vc_json"

// Verified is a JWT-VC whose signature, issuer and validity period checked out.
type Verified struct {
	// Credential is the vc claim with issuer, credentialSubject.id,
	// issuanceDate, expirationDate and id set from iss, sub, nbf, exp and
	// jti (VC Data Model 1.1, section 6.3.1).
	Credential map[string]any
	// Kid is the DID URL of the key that signed it.
	Kid string
	// Claims are the JWT claims as signed.
	Claims map[string]any
}

// Sign encodes a VC Data Model 1.1 credential as a JWT-VC signed by signer
// (Ed25519 gives EdDSA, P-256 gives ES256) with header kid, the DID URL of
// the key, whose DID must be the credential's issuer. The vc claim holds the
// credential without proof; iss is the issuer id, sub the
// credentialSubject.id, nbf and iat the issuanceDate, exp the
// expirationDate and jti the id, where present.
func Sign(cred map[string]any, signer crypto.Signer, kid string) (string, error) {
	if cred == nil {
		return "", errkind.New(errkind.Invalid, "no credential")
	}
	did, err := checkKid(kid)
	if err != nil {
		return "", err
	}
	vc, err := clone(cred)
	if err != nil {
		return "", err
	}
	delete(vc, "proof")
	if err := hasType(vc, "VerifiableCredential", "type"); err != nil {
		return "", err
	}
	iss, err := issuerID(vc["issuer"])
	if err != nil {
		return "", err
	}
	if iss != did {
		return "", errkind.Field(errkind.Invalid, "kid", "key %s does not belong to issuer %s", kid, iss)
	}
	raw, ok := vc["issuanceDate"]
	if !ok {
		return "", errkind.Field(errkind.Invalid, "issuanceDate", "missing; a VC 1.1 credential needs one")
	}
	issued, err := parseDateTime("issuanceDate", raw)
	if err != nil {
		return "", err
	}
	claims := map[string]any{"vc": vc, "iss": iss, "nbf": issued.Unix(), "iat": issued.Unix()}
	if raw, ok := vc["expirationDate"]; ok {
		exp, err := parseDateTime("expirationDate", raw)
		if err != nil {
			return "", err
		}
		if !exp.After(issued) {
			return "", errkind.Field(errkind.Invalid, "expirationDate", "is not after issuanceDate")
		}
		claims["exp"] = exp.Unix()
	}
	if id, ok := vc["id"]; ok {
		s, ok := id.(string)
		if !ok || s == "" {
			return "", errkind.Field(errkind.Invalid, "id", "must be a non-empty string")
		}
		claims["jti"] = s
	}
	if sub, ok := subjectID(vc); ok {
		claims["sub"] = sub
	}
	return sign(claims, signer, kid)
}

// Verify checks a JWT-VC: alg (never none), kid (a DID URL of the issuer,
// resolved with keyFor), the signature, that iss, sub, jti, nbf and exp
// agree with the vc claim, and that now lies in the validity period.
//
// A bad signature or alg is errkind.Unauthorized; a key of another DID than
// the issuer is errkind.Forbidden; malformed, inconsistent, expired or not
// yet valid credentials are errkind.Invalid.
func Verify(token string, keyFor func(kid string) (crypto.PublicKey, error), now time.Time) (*Verified, error) {
	t, err := Parse(token)
	if err != nil {
		return nil, err
	}
	return t.Verify(keyFor, now)
}

// Verify checks the JWT-VC t as the function Verify does.
func (t *Token) Verify(keyFor func(kid string) (crypto.PublicKey, error), now time.Time) (*Verified, error) {
	v, err := t.verify(keyFor)
	if err != nil {
		return nil, err
	}
	raw, ok := v.claims["vc"]
	if !ok {
		return nil, errkind.Field(errkind.Invalid, "vc", "JWT-VC has no vc claim")
	}
	vc, ok := raw.(map[string]any)
	if !ok {
		return nil, errkind.Field(errkind.Invalid, "vc", "must be a JSON object")
	}
	if err := hasType(vc, "VerifiableCredential", "vc.type"); err != nil {
		return nil, err
	}
	iss, ok := v.claims["iss"].(string)
	if !ok || iss == "" {
		return nil, errkind.Field(errkind.Invalid, "iss", "JWT-VC has no iss claim")
	}
	if v.did != iss {
		return nil, errkind.Field(errkind.Forbidden, "kid", "signing key %s does not belong to issuer %s", v.kid, iss)
	}
	vc = copyJSON(vc).(map[string]any) // the claims were decoded from JSON just now
	if err := mapBack(vc, v.claims, iss); err != nil {
		return nil, err
	}
	if err := checkPeriod(v.claims, now, "credential"); err != nil {
		return nil, err
	}
	return &Verified{Credential: vc, Kid: v.kid, Claims: v.claims}, nil
}

// mapBack sets the vc properties from the JWT claims, rejecting any
// disagreement between the two.
func mapBack(vc, claims map[string]any, iss string) error {
	if raw, ok := vc["issuer"]; ok {
		id, err := issuerID(raw)
		if err != nil {
			return err
		}
		if id != iss {
			return errkind.Field(errkind.Invalid, "iss", "iss %q does not match vc.issuer %q", iss, id)
		}
	} else {
		vc["issuer"] = iss
	}
	if raw, ok := claims["sub"]; ok {
		sub, ok := raw.(string)
		if !ok {
			return errkind.Field(errkind.Invalid, "sub", "must be a string")
		}
		cs, ok := vc["credentialSubject"].(map[string]any)
		if !ok {
			return errkind.Field(errkind.Invalid, "vc.credentialSubject", "must be one object when sub is set")
		}
		if id, ok := cs["id"]; ok && id != sub {
			return errkind.Field(errkind.Invalid, "sub", "sub %q does not match vc.credentialSubject.id %v", sub, id)
		}
		cs["id"] = sub
	}
	if raw, ok := claims["jti"]; ok {
		jti, ok := raw.(string)
		if !ok {
			return errkind.Field(errkind.Invalid, "jti", "must be a string")
		}
		if id, ok := vc["id"]; ok && id != jti {
			return errkind.Field(errkind.Invalid, "jti", "jti %q does not match vc.id %v", jti, id)
		}
		vc["id"] = jti
	}
	for _, m := range []struct{ claim, prop string }{{"nbf", "issuanceDate"}, {"exp", "expirationDate"}} {
		t, ok, err := numericDate(claims, m.claim)
		if err != nil {
			return err
		}
		if !ok {
			if m.claim == "nbf" {
				if _, has := vc[m.prop]; !has {
					return errkind.Field(errkind.Invalid, "nbf", "JWT-VC has neither nbf nor vc.issuanceDate")
				}
			}
			continue
		}
		if raw, has := vc[m.prop]; has {
			d, err := parseDateTime("vc."+m.prop, raw)
			if err != nil {
				return err
			}
			if d.Unix() != t.Unix() {
				return errkind.Field(errkind.Invalid, m.claim, "%s %s does not match vc.%s %v", m.claim, t.Format(time.RFC3339), m.prop, raw)
			}
			continue
		}
		vc[m.prop] = t.Format(time.RFC3339)
	}
	return nil
}

// issuerID reads the issuer property: a URI or an object with an id.
func issuerID(v any) (string, error) {
	switch t := v.(type) {
	case string:
		if t != "" {
			return t, nil
		}
	case map[string]any:
		if id, ok := t["id"].(string); ok && id != "" {
			return id, nil
		}
	case nil:
		return "", errkind.Field(errkind.Invalid, "issuer", "missing")
	}
	return "", errkind.Field(errkind.Invalid, "issuer", "must be a URI or an object with an id")
}

// subjectID returns credentialSubject.id when there is one subject with an id.
func subjectID(vc map[string]any) (string, bool) {
	cs, ok := vc["credentialSubject"].(map[string]any)
	if !ok {
		return "", false
	}
	id, ok := cs["id"].(string)
	return id, ok && id != ""
}

// hasType requires the type property to include want.
func hasType(obj map[string]any, want, field string) error {
	switch t := obj["type"].(type) {
	case string:
		if t == want {
			return nil
		}
	case []any:
		if slices.Contains(t, any(want)) {
			return nil
		}
	}
	return errkind.Field(errkind.Invalid, field, "must include %q", want)
}
