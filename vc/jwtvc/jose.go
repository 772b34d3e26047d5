package jwtvc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/urbis-id/urbis/internal/edsig"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/kms"
)

// Leeway is the clock skew allowed on exp, nbf and iat.
const Leeway = time.Minute

// algFor returns the JWS algorithm for a signing key: EdDSA for Ed25519,
// ES256 for P-256.
func algFor(pub crypto.PublicKey) (jwa.SignatureAlgorithm, error) {
	alg, err := kms.AlgorithmOf(pub)
	return jwa.SignatureAlgorithm(alg), err
}

// accepted are the algorithms Verify accepts; never "none" or HMAC.
var accepted = map[jwa.SignatureAlgorithm]bool{jwa.EdDSA: true, jwa.ES256: true, jwa.ES384: true}

// checkKid requires kid to be a DID URL with a fragment and returns its DID.
func checkKid(kid string) (string, error) {
	if kid == "" {
		return "", errkind.Field(errkind.Invalid, "kid", "missing; want the DID URL of the signing key")
	}
	did, frag, ok := strings.Cut(kid, "#")
	if !strings.HasPrefix(did, "did:") || !ok || frag == "" {
		return "", errkind.Field(errkind.Invalid, "kid", "%q is not a DID URL with a fragment (did:...#key)", kid)
	}
	return did, nil
}

// sign signs claims as a JWT with typ JWT and the given kid.
func sign(claims map[string]any, signer crypto.Signer, kid string) (string, error) {
	if signer == nil {
		return "", errkind.New(errkind.Invalid, "no signer")
	}
	alg, err := algFor(signer.Public())
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", errkind.Wrap(errkind.Invalid, err, "encode JWT claims")
	}
	h := jws.NewHeaders()
	if err := h.Set(jws.KeyIDKey, kid); err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "set kid")
	}
	if err := h.Set(jws.TypeKey, "JWT"); err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "set typ")
	}
	tok, err := jws.Sign(payload, jws.WithKey(alg, signer, jws.WithProtectedHeaders(h)))
	if err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "sign JWT with %s", alg)
	}
	return string(tok), nil
}

// verified is a JWT whose signature checked out.
type verified struct {
	kid    string
	did    string // the DID of kid
	claims map[string]any
}

// Token is a compact JWT taken apart, its signature not yet checked:
// Parse returns it so that a caller can read a claim it needs before
// verifying (when the token says it was issued, to pick the issuer's key
// of that time) without decoding the payload twice.
type Token struct {
	raw     string
	what    string
	header  jwsHeader
	payload []byte
	claims  map[string]any
	sig     []byte
}

// Parse takes a compact JWT apart: three base64url parts, a protected
// header that is a JSON object, a payload that is a JSON object. It
// checks no signature.
func Parse(token string) (*Token, error) { return parse(token, "JWT-VC") }

// UnverifiedClaims returns the payload's claims, which nothing has
// checked yet; callers must not change them.
func (t *Token) UnverifiedClaims() map[string]any { return t.claims }

func parse(token, what string) (*Token, error) {
	if strings.Count(token, ".") != 2 {
		return nil, errkind.New(errkind.Invalid, "%s is not a compact JWS (want three dot-separated parts)", what)
	}
	h, payloadPart, err := protectedHeader(token, what)
	if err != nil {
		return nil, err
	}
	payload, err := base64.RawURLEncoding.DecodeString(payloadPart)
	if err != nil {
		return nil, errkind.New(errkind.Invalid, "parse %s: payload is not base64url: %v", what, err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil || claims == nil {
		return nil, errkind.New(errkind.Invalid, "%s payload is not a JSON object", what)
	}
	sig, err := base64.RawURLEncoding.DecodeString(token[strings.LastIndexByte(token, '.')+1:])
	if err != nil {
		return nil, errkind.New(errkind.Invalid, "parse %s: signature is not base64url: %v", what, err)
	}
	return &Token{raw: token, what: what, header: h, payload: payload, claims: claims, sig: sig}, nil
}

// verify checks a compact JWT's header and signature; what names it.
func verify(token string, keyFor func(kid string) (crypto.PublicKey, error), what string) (*verified, error) {
	t, err := parse(token, what)
	if err != nil {
		return nil, err
	}
	return t.verify(keyFor)
}

// verify checks the token's header and signature.
func (t *Token) verify(keyFor func(kid string) (crypto.PublicKey, error)) (*verified, error) {
	if keyFor == nil {
		return nil, errkind.New(errkind.Invalid, "no key lookup function")
	}
	h, what := t.header, t.what
	alg := jwa.SignatureAlgorithm(h.Alg)
	if alg == jwa.NoSignature || strings.EqualFold(h.Alg, "none") {
		return nil, errkind.Field(errkind.Unauthorized, "alg", `%s alg "none" is not accepted`, what)
	}
	if !accepted[alg] {
		return nil, errkind.Field(errkind.Unauthorized, "alg", "%s alg %q is not accepted; want EdDSA, ES256 or ES384", what, alg)
	}
	if h.Typ != "" && h.Typ != "JWT" {
		return nil, errkind.Field(errkind.Invalid, "typ", "%s typ is %q; want \"JWT\"", what, h.Typ)
	}
	if len(h.Crit) > 0 {
		return nil, errkind.Field(errkind.Invalid, "crit", "%s header has crit %v; no critical extensions are understood", what, h.Crit)
	}
	kid := h.Kid
	if kid == "" {
		if kid = impliedKid(t.payload); kid == "" {
			return nil, errkind.Field(errkind.Invalid, "kid", "missing; want the DID URL of the signing key (only a did:key or did:jwk issuer may leave it out)")
		}
	}
	did, err := checkKid(kid)
	if err != nil {
		return nil, err
	}
	key, err := keyFor(kid)
	if err != nil {
		return nil, errkind.Wrap(errkind.KindOf(err), err, "key %s", kid)
	}
	raw, err := rawPublic(key)
	if err != nil {
		return nil, err
	}
	bad := func(err error) error {
		return errkind.Wrap(errkind.Unauthorized, err, "%s signature does not verify with key %s (%s)", what, kid, alg)
	}
	if k, ok := raw.(ed25519.PublicKey); ok && alg == jwa.EdDSA && len(k) == ed25519.PublicKeySize {
		// What jws.Verify does for EdDSA, without taking the token apart
		// again: the header holds no crit, so nothing changes the input.
		if !edsig.Verify(k, []byte(t.raw[:strings.LastIndexByte(t.raw, '.')]), t.sig) {
			return nil, bad(errors.New("ed25519: invalid signature"))
		}
	} else if _, err := jws.Verify([]byte(t.raw), jws.WithKey(alg, raw)); err != nil {
		return nil, bad(err)
	}
	return &verified{kid: kid, did: did, claims: t.claims}, nil
}

// jwsHeader is the part of a JWS protected header that verify reads.
type jwsHeader struct {
	Alg  string   `json:"alg"`
	Kid  string   `json:"kid"`
	Typ  string   `json:"typ"`
	Crit []string `json:"crit"`
}

// protectedHeader decodes the protected header of a compact JWS with
// three parts and returns it with the (still encoded) payload part.
func protectedHeader(token, what string) (jwsHeader, string, error) {
	head, rest, _ := strings.Cut(token, ".")
	payload, _, _ := strings.Cut(rest, ".")
	if h, ok := headers.get(head); ok {
		return h, payload, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return jwsHeader{}, "", errkind.New(errkind.Invalid, "parse %s: protected header is not base64url: %v", what, err)
	}
	var h jwsHeader
	if err := json.Unmarshal(b, &h); err != nil {
		return jwsHeader{}, "", errkind.New(errkind.Invalid, "parse %s: protected header is not a JSON object with string alg, kid and typ: %v", what, err)
	}
	headers.put(head, h)
	return h, payload, nil
}

// headers remembers decoded protected headers by their encoded form:
// every token signed with one key carries the same header, and decoding
// it is a fair part of verifying a short JWT. Only headers that decoded
// are kept; their Crit slices are shared, read only.
var headers headerCache

// headerCache is a bounded map of decoded headers, emptied when full.
type headerCache struct {
	m sync.Map // encoded header → jwsHeader
	n atomic.Int64
}

const (
	maxCachedHeaders   = 1024
	maxCachedHeaderLen = 512
)

func (c *headerCache) get(head string) (jwsHeader, bool) {
	h, ok := c.m.Load(head)
	if !ok {
		return jwsHeader{}, false
	}
	return h.(jwsHeader), true
}

func (c *headerCache) put(head string, h jwsHeader) {
	if len(head) > maxCachedHeaderLen {
		return
	}
	if c.n.Add(1) > maxCachedHeaders {
		c.m.Clear()
		c.n.Store(1)
	}
	c.m.Store(strings.Clone(head), h)
}

// impliedKid is the key id of a JWT without a kid header whose iss is a
// DID with one key by construction: did:key (the fragment is the key's
// multibase value) and did:jwk (#0). VC-JWT makes kid optional, and
// did-jwt-vc, for one, leaves it out unless told. It is "" for any other
// iss, and only picks the key: the signature, and that the key's DID is
// the issuer, are checked as with a kid.
func impliedKid(payload []byte) string {
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(payload, &c) != nil || strings.ContainsAny(c.Iss, "#?/") {
		return ""
	}
	if id, ok := strings.CutPrefix(c.Iss, "did:key:"); ok && id != "" {
		return c.Iss + "#" + id
	}
	if id, ok := strings.CutPrefix(c.Iss, "did:jwk:"); ok && id != "" {
		return c.Iss + "#0"
	}
	return ""
}

// rawPublic accepts a raw public key (or private key) or a jwk.Key.
func rawPublic(key any) (any, error) {
	switch k := key.(type) {
	case nil:
		return nil, errkind.New(errkind.NotFound, "no verification key")
	case jwk.Key:
		var raw any
		if err := k.Raw(&raw); err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "verification JWK")
		}
		return rawPublic(raw)
	case ed25519.PrivateKey:
		return k.Public(), nil
	case *ecdsa.PrivateKey:
		return &k.PublicKey, nil
	}
	return key, nil
}

// numericDate reads a NumericDate claim; ok is false when it is absent.
func numericDate(claims map[string]any, name string) (t time.Time, ok bool, err error) {
	raw, ok := claims[name]
	if !ok {
		return time.Time{}, false, nil
	}
	f, isNum := raw.(float64)
	if !isNum {
		return time.Time{}, false, errkind.Field(errkind.Invalid, name, "must be a NumericDate (seconds since 1970); got %T", raw)
	}
	return time.Unix(int64(f), 0).UTC(), true, nil
}

// checkPeriod checks exp and nbf against now.
func checkPeriod(claims map[string]any, now time.Time, what string) error {
	exp, ok, err := numericDate(claims, "exp")
	if err != nil {
		return err
	}
	if ok && !now.Before(exp.Add(Leeway)) {
		return errkind.Field(errkind.Invalid, "exp", "%s expired at %s (now %s)", what, exp.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	nbf, ok, err := numericDate(claims, "nbf")
	if err != nil {
		return err
	}
	if ok && now.Add(Leeway).Before(nbf) {
		return errkind.Field(errkind.Invalid, "nbf", "%s is not valid before %s (now %s)", what, nbf.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	iat, ok, err := numericDate(claims, "iat")
	if err != nil {
		return err
	}
	if ok && now.Add(Leeway).Before(iat) {
		return errkind.Field(errkind.Invalid, "iat", "%s was issued at %s, in the future (now %s)", what, iat.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// parseDateTime reads an xsd:dateTime as VC 1.1 writes it.
func parseDateTime(field string, v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, errkind.Field(errkind.Invalid, field, "must be a date-time string; got %T", v)
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errkind.Field(errkind.Invalid, field, "%q is not an XML Schema date-time (like 2026-01-02T15:04:05Z)", s)
}

// clone deep-copies a JSON object.
func clone(m map[string]any) (map[string]any, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "encode JSON")
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "decode JSON")
	}
	return out, nil
}

// copyJSON deep-copies a value decoded by encoding/json (maps, slices and
// scalars only); clone is for values from elsewhere.
func copyJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = copyJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyJSON(e)
		}
		return out
	}
	return v
}
