package statuslist

import (
	"bytes"
	"compress/zlib"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/bits"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/kms"
)

// The IETF Token Status List (draft-ietf-oauth-status-list): a referenced
// token (an SD-JWT VC) carries "status": {"status_list": {"idx", "uri"}},
// and the uri serves a Status List Token, a JWT of type statuslist+jwt
// whose status_list claim holds the ZLIB-compressed list. Urbis publishes
// each list with one bit per token (bits 1): 0 VALID, 1 INVALID.
const (
	// TokenType is the typ header of a Status List Token.
	TokenType = "statuslist+jwt"
	// TokenMediaType is the media type of a Status List Token.
	TokenMediaType = "application/statuslist+jwt"
)

// TokenClaim returns the status claim of a referenced token whose status
// is entry index of the list at uri.
func TokenClaim(uri string, index int) map[string]any {
	return map[string]any{"status_list": map[string]any{"idx": index, "uri": uri}}
}

// TokenList encodes b as a Token Status List lst of bits 1: index 0 is
// the least significant bit of the first byte (the reverse of the W3C
// Bitstring's order), ZLIB-compressed, base64url without padding.
func TokenList(b *Bitstring) (string, error) {
	raw := make([]byte, len(b.b))
	for i, x := range b.b {
		raw[i] = bits.Reverse8(x)
	}
	var buf bytes.Buffer
	w, err := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "zlib")
	}
	if _, err := w.Write(raw); err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "zlib")
	}
	if err := w.Close(); err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "zlib")
	}
	return base64.RawURLEncoding.EncodeToString(buf.Bytes()), nil
}

// TokenStatus reads the status of entry idx, of bits bits (1, 2, 4 or
// 8), from a Token Status List lst.
func TokenStatus(lst string, bitsPer, idx int) (uint8, error) {
	switch bitsPer {
	case 1, 2, 4, 8:
	default:
		return 0, errkind.Field(errkind.Invalid, "status_list/bits", "is %d; want 1, 2, 4 or 8", bitsPer)
	}
	if idx < 0 {
		return 0, errkind.Field(errkind.Invalid, "status/status_list/idx", "is %d; want a non-negative integer", idx)
	}
	if len(lst) > maxEncodedLen {
		return 0, errkind.New(errkind.TooLarge, "status_list lst of %d characters exceeds the limit", len(lst))
	}
	comp, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(lst, "="))
	if err != nil {
		return 0, errkind.Field(errkind.Invalid, "status_list/lst", "is not base64url: %v", err)
	}
	r, err := zlib.NewReader(bytes.NewReader(comp))
	if err != nil {
		return 0, errkind.Field(errkind.Invalid, "status_list/lst", "is not ZLIB-compressed: %v", err)
	}
	raw, err := io.ReadAll(io.LimitReader(r, MaxSize/8+1))
	if err != nil {
		return 0, errkind.Field(errkind.Invalid, "status_list/lst", "does not decompress: %v", err)
	}
	if len(raw) > MaxSize/8 {
		return 0, errkind.New(errkind.TooLarge, "status list exceeds the limit of %d bytes", MaxSize/8)
	}
	bit := idx * bitsPer
	if bit/8 >= len(raw) {
		return 0, errkind.Field(errkind.Invalid, "status/status_list/idx", "%d is outside the list of %d entries", idx, len(raw)*8/bitsPer)
	}
	return raw[bit/8] >> (bit % 8) & (1<<bitsPer - 1), nil
}

// SignToken signs the Status List Token of b (bits 1) published at uri,
// issued at iat by the key of kid (a DID URL); ttl, when positive, says
// how long, in seconds, a relying party may cache it.
func SignToken(uri string, b *Bitstring, iat time.Time, ttl int, signer crypto.Signer, kid string) (string, error) {
	lst, err := TokenList(b)
	if err != nil {
		return "", err
	}
	claims := map[string]any{
		"sub":         uri,
		"iat":         iat.Unix(),
		"status_list": map[string]any{"bits": 1, "lst": lst},
	}
	if ttl > 0 {
		claims["ttl"] = ttl
	}
	if iss, _, ok := strings.Cut(kid, "#"); ok {
		claims["iss"] = iss
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "encode status list token")
	}
	alg, err := kms.AlgorithmOf(signer.Public())
	if err != nil {
		return "", err
	}
	h := jws.NewHeaders()
	if err := h.Set(jws.KeyIDKey, kid); err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "set kid")
	}
	if err := h.Set(jws.TypeKey, TokenType); err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "set typ")
	}
	tok, err := jws.Sign(payload, jws.WithKey(jwa.SignatureAlgorithm(alg), signer, jws.WithProtectedHeaders(h)))
	if err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "sign status list token")
	}
	return string(tok), nil
}

// Token is a verified Status List Token.
type Token struct {
	Kid  string // the DID URL of the key that signed it
	Sub  string
	Bits int
	Lst  string
	Exp  time.Time // zero when absent
}

// VerifyToken checks a Status List Token: typ statuslist+jwt, an EdDSA
// or ES256 signature by the key keyFor returns for its kid, sub equal to
// uri (the reference's), exp (if any) after now, and a status_list claim.
func VerifyToken(tok, uri string, keyFor func(kid string) (crypto.PublicKey, error), now time.Time) (*Token, error) {
	head, _, _ := strings.Cut(tok, ".")
	hb, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil || strings.Count(tok, ".") != 2 {
		return nil, errkind.New(errkind.Invalid, "status list token is not a compact JWS")
	}
	var h struct {
		Alg, Kid, Typ string
		Crit          []string
	}
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, errkind.New(errkind.Invalid, "status list token header is not a JSON object: %v", err)
	}
	switch {
	case h.Typ != TokenType:
		return nil, errkind.Field(errkind.Invalid, "typ", "status list token typ is %q; want %q", h.Typ, TokenType)
	case h.Alg != "EdDSA" && h.Alg != "ES256":
		return nil, errkind.Field(errkind.Invalid, "alg", "status list token alg %q is not accepted; want EdDSA or ES256", h.Alg)
	case len(h.Crit) > 0:
		return nil, errkind.Field(errkind.Invalid, "crit", "status list token has critical extensions %v", h.Crit)
	case h.Kid == "":
		return nil, errkind.Field(errkind.Invalid, "kid", "status list token names no key")
	}
	key, err := keyFor(h.Kid)
	if err != nil {
		return nil, err
	}
	payload, err := jws.Verify([]byte(tok), jws.WithKey(jwa.SignatureAlgorithm(h.Alg), key))
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "status list token signature does not verify with key %s", h.Kid)
	}
	var c struct {
		Sub        string   `json:"sub"`
		Exp        *float64 `json:"exp"`
		StatusList *struct {
			Bits int    `json:"bits"`
			Lst  string `json:"lst"`
		} `json:"status_list"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errkind.New(errkind.Invalid, "status list token claims: %v", err)
	}
	switch {
	case c.Sub != uri:
		return nil, errkind.Field(errkind.Invalid, "sub", "status list token sub is %q; want the referenced uri %q", c.Sub, uri)
	case c.StatusList == nil || c.StatusList.Lst == "":
		return nil, errkind.Field(errkind.Invalid, "status_list", "status list token has no status_list with lst")
	}
	t := &Token{Kid: h.Kid, Sub: c.Sub, Bits: c.StatusList.Bits, Lst: c.StatusList.Lst}
	if c.Exp != nil {
		t.Exp = time.Unix(int64(*c.Exp), 0)
		if !now.Before(t.Exp) {
			return nil, errkind.Field(errkind.Invalid, "exp", "status list token expired at %s", t.Exp.UTC().Format(time.RFC3339))
		}
	}
	return t, nil
}
