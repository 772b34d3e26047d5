package sdjwt

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/kms"
)

// b64 is the base64url encoding without padding used throughout JOSE.
var b64 = base64.RawURLEncoding

// algFor returns the JWS algorithm for a signing key: EdDSA for Ed25519,
// ES256 for P-256.
func algFor(pub crypto.PublicKey) (jwa.SignatureAlgorithm, error) {
	alg, err := kms.AlgorithmOf(pub)
	return jwa.SignatureAlgorithm(alg), err
}

// allowedAlgs are the JWS algorithms a verifier accepts. "none" and the
// symmetric algorithms are never accepted.
var allowedAlgs = map[string]jwa.SignatureAlgorithm{
	"EdDSA": jwa.EdDSA,
	"ES256": jwa.ES256,
	"ES384": jwa.ES384,
	"ES512": jwa.ES512,
}

// signCompact signs payload with signer under header (alg is set here) and
// returns the compact JWS.
func signCompact(header map[string]any, payload []byte, signer crypto.Signer) (string, error) {
	if signer == nil {
		return "", errkind.New(errkind.Invalid, "no signer")
	}
	alg, err := algFor(signer.Public())
	if err != nil {
		return "", err
	}
	header["alg"] = alg.String()
	hb, err := json.Marshal(header)
	if err != nil {
		return "", errkind.Wrap(errkind.Invalid, err, "encode JWS header")
	}
	input := b64.EncodeToString(hb) + "." + b64.EncodeToString(payload)
	s, err := jws.NewSigner(alg)
	if err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "%s signer", alg)
	}
	sig, err := s.Sign([]byte(input), signer)
	if err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "sign with %s", alg)
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// compactJWS is a decoded compact JWS whose signature is not yet checked.
type compactJWS struct {
	header  map[string]any
	payload map[string]any
	input   string // protected "." payload, the signing input
	sig     []byte
}

// parseCompact splits and decodes a compact JWS; what names it in errors.
func parseCompact(s, what string) (*compactJWS, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return nil, errkind.New(errkind.Invalid, "%s is not a compact JWS: %d parts; want 3", what, len(parts))
	}
	hb, err := b64.DecodeString(parts[0])
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "%s header is not base64url", what)
	}
	pb, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "%s payload is not base64url", what)
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "%s signature is not base64url", what)
	}
	j := &compactJWS{input: parts[0] + "." + parts[1], sig: sig}
	if err := decodeObject(hb, &j.header); err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "%s header is not a JSON object", what)
	}
	if err := decodeObject(pb, &j.payload); err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "%s payload is not a JSON object", what)
	}
	if j.header == nil || j.payload == nil {
		return nil, errkind.New(errkind.Invalid, "%s header and payload must be JSON objects", what)
	}
	return j, nil
}

// decodeObject decodes one JSON value from b into v, rejecting trailing data.
func decodeObject(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errkind.New(errkind.Invalid, "trailing data after the JSON value")
	}
	return nil
}

// verify checks the signature of j with key; what names j in errors.
func (j *compactJWS) verify(key any, what string) error {
	name, _ := j.header["alg"].(string)
	if name == "" {
		return errkind.New(errkind.Invalid, "%s header has no alg", what)
	}
	alg, ok := allowedAlgs[name]
	if !ok {
		return errkind.New(errkind.Unauthorized, "%s alg %q is not accepted; want one of EdDSA, ES256, ES384, ES512", what, name)
	}
	if crit, ok := j.header["crit"]; ok {
		return errkind.New(errkind.Invalid, "%s header has crit %v; no critical extensions are understood", what, crit)
	}
	raw, err := rawKey(key)
	if err != nil {
		return err
	}
	v, err := jws.NewVerifier(alg)
	if err != nil {
		return errkind.Wrap(errkind.Internal, err, "%s verifier", alg)
	}
	if err := v.Verify([]byte(j.input), j.sig, raw); err != nil {
		return errkind.Wrap(errkind.Unauthorized, err, "%s signature does not verify (%s)", what, alg)
	}
	return nil
}

// rawKey turns a jwk.Key or a raw public key into a raw public key.
func rawKey(key any) (any, error) {
	switch k := key.(type) {
	case nil:
		return nil, errkind.New(errkind.Invalid, "no verification key")
	case jwk.Key:
		var raw any
		if err := k.Raw(&raw); err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "verification JWK")
		}
		return publicOf(raw), nil
	default:
		return publicOf(key), nil
	}
}

// publicOf returns the public half when k is a private key.
func publicOf(k any) any {
	switch p := k.(type) {
	case ed25519.PrivateKey:
		return p.Public()
	case *ecdsa.PrivateKey:
		return &p.PublicKey
	}
	return k
}

// publicJWK returns the public JWK of key (a jwk.Key or a crypto.PublicKey)
// as a JSON object.
func publicJWK(key any) (map[string]any, error) {
	var k jwk.Key
	switch v := key.(type) {
	case jwk.Key:
		k = v
	default:
		var err error
		if k, err = jwk.FromRaw(publicOf(v)); err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "holder key")
		}
	}
	pk, err := k.PublicKey()
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "holder key")
	}
	b, err := json.Marshal(pk)
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "encode holder JWK")
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "decode holder JWK")
	}
	return m, nil
}

// parseJWK decodes a public JWK given as a JSON object.
func parseJWK(v any) (crypto.PublicKey, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errkind.Field(errkind.Invalid, "cnf.jwk", "must be a JSON object")
	}
	for _, p := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
		if _, ok := m[p]; ok {
			return nil, errkind.Field(errkind.Invalid, "cnf.jwk", "holds private key member %q", p)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "cnf.jwk")
	}
	k, err := jwk.ParseKey(b)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "cnf.jwk")
	}
	var raw any
	if err := k.Raw(&raw); err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "cnf.jwk")
	}
	return raw, nil
}
