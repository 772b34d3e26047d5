package jwtvc

import (
	"crypto"
	"slices"
	"strconv"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// PresentationTTL is how long a JWT-VP stays valid after it is signed.
const PresentationTTL = 5 * time.Minute

// VerifiedPresentation is a JWT-VP whose signature, holder, audience,
// nonce and validity checked out, with its embedded JWT-VCs verified.
type VerifiedPresentation struct {
	// Presentation is the vp claim with holder and id set from iss and jti.
	Presentation map[string]any
	// Holder is the DID that signed the presentation (iss).
	Holder string
	// Kid is the DID URL of the holder key.
	Kid string
	// Credentials are the verified JWT-VCs of vp.verifiableCredential, in
	// order; credentials in other formats are left to the caller.
	Credentials []*Verified
}

// SignPresentation encodes a VC Data Model 1.1 presentation as a JWT-VP
// signed by the holder key kid (a DID URL of the holder), bound to the
// verifier's audience and nonce: claims vp (the presentation without
// proof), iss (the holder), aud, nonce, iat and nbf (now), exp (now plus
// PresentationTTL) and jti (the id, where present).
func SignPresentation(pres map[string]any, signer crypto.Signer, kid, audience, nonce string, now time.Time) (string, error) {
	if pres == nil {
		return "", errkind.New(errkind.Invalid, "no presentation")
	}
	did, err := checkKid(kid)
	if err != nil {
		return "", err
	}
	if audience == "" || nonce == "" {
		return "", errkind.New(errkind.Invalid, "a JWT-VP needs the verifier's audience and nonce")
	}
	vp, err := clone(pres)
	if err != nil {
		return "", err
	}
	delete(vp, "proof")
	if err := hasType(vp, "VerifiablePresentation", "type"); err != nil {
		return "", err
	}
	if h, ok := vp["holder"]; ok && h != did {
		return "", errkind.Field(errkind.Invalid, "holder", "holder %v does not match the DID of key %s", h, kid)
	}
	claims := map[string]any{
		"vp": vp, "iss": did, "aud": audience, "nonce": nonce,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(PresentationTTL).Unix(),
	}
	if id, ok := vp["id"].(string); ok && id != "" {
		claims["jti"] = id
	}
	return sign(claims, signer, kid)
}

// VerifyPresentation checks a JWT-VP: alg, kid (a DID URL of the holder,
// resolved with keyFor), the signature, that iss is the holder, that aud
// includes audience and nonce equals nonce, the validity period, and every
// embedded JWT-VC with Verify.
func VerifyPresentation(token string, keyFor func(kid string) (crypto.PublicKey, error), audience, nonce string, now time.Time) (*VerifiedPresentation, error) {
	if audience == "" || nonce == "" {
		return nil, errkind.New(errkind.Invalid, "verifying a JWT-VP needs the expected audience and nonce")
	}
	v, err := verify(token, keyFor, "JWT-VP")
	if err != nil {
		return nil, err
	}
	raw, ok := v.claims["vp"].(map[string]any)
	if !ok {
		return nil, errkind.Field(errkind.Invalid, "vp", "JWT-VP has no vp object")
	}
	vp, err := clone(raw)
	if err != nil {
		return nil, err
	}
	if err := hasType(vp, "VerifiablePresentation", "vp.type"); err != nil {
		return nil, err
	}
	iss, ok := v.claims["iss"].(string)
	if !ok || iss == "" {
		return nil, errkind.Field(errkind.Invalid, "iss", "JWT-VP has no iss claim")
	}
	if v.did != iss {
		return nil, errkind.Field(errkind.Forbidden, "kid", "signing key %s does not belong to holder %s", v.kid, iss)
	}
	if h, ok := vp["holder"]; ok && h != iss {
		return nil, errkind.Field(errkind.Invalid, "iss", "iss %q does not match vp.holder %v", iss, h)
	}
	vp["holder"] = iss
	if jti, ok := v.claims["jti"].(string); ok {
		if id, has := vp["id"]; has && id != jti {
			return nil, errkind.Field(errkind.Invalid, "jti", "jti %q does not match vp.id %v", jti, id)
		}
		vp["id"] = jti
	}
	if !audienceIncludes(v.claims["aud"], audience) {
		return nil, errkind.Field(errkind.Unauthorized, "aud", "JWT-VP aud %v does not include %q", v.claims["aud"], audience)
	}
	if got, _ := v.claims["nonce"].(string); got != nonce {
		return nil, errkind.Field(errkind.Unauthorized, "nonce", "JWT-VP nonce is %q; want %q", got, nonce)
	}
	if err := checkPeriod(v.claims, now, "presentation"); err != nil {
		return nil, err
	}
	out := &VerifiedPresentation{Presentation: vp, Holder: iss, Kid: v.kid}
	var creds []any
	switch c := vp["verifiableCredential"].(type) {
	case nil:
	case []any:
		creds = c
	default:
		creds = []any{c}
	}
	for i, c := range creds {
		tok, ok := c.(string)
		if !ok {
			continue
		}
		cv, err := Verify(tok, keyFor, now)
		if err != nil {
			return nil, errkind.Wrap(errkind.KindOf(err), err, "vp.verifiableCredential[%s]", strconv.Itoa(i))
		}
		out.Credentials = append(out.Credentials, cv)
	}
	return out, nil
}

// audienceIncludes reports whether aud (a string or an array) names want.
func audienceIncludes(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		return slices.Contains(a, any(want))
	}
	return false
}
