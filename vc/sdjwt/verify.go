package sdjwt

import (
	"crypto"
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// DefaultLeeway is the clock skew allowed on exp, nbf and iat.
const DefaultLeeway = time.Minute

// DefaultMaxKBAge is how old a Key Binding JWT may be by default.
const DefaultMaxKBAge = 5 * time.Minute

// VerifyOptions are the verifier's inputs to Verify.
type VerifyOptions struct {
	// IssuerKey returns the key that must have signed the issuer-signed JWT,
	// given its header and its payload as signed (not yet verified, not
	// yet processed). It may return a crypto.PublicKey or a jwk.Key.
	IssuerKey func(header, claims map[string]any) (crypto.PublicKey, error)
	// Type, when set, is the typ the issuer-signed JWT must carry (for an
	// SD-JWT VC, MediaType).
	Type string
	// RequireKeyBinding makes a missing Key Binding JWT an error; it then
	// requires Audience and Nonce too.
	RequireKeyBinding bool
	// Audience and Nonce are what the Key Binding JWT's aud and nonce must
	// equal. They are checked whenever a Key Binding JWT is present and
	// they are set.
	Audience, Nonce string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ClaimsTime, when not zero, is the instant at which the issuer-signed
	// JWT's iat, nbf and exp are checked instead of Now: a caller that
	// reports the validity period itself passes the issuance time. The
	// Key Binding JWT is always checked at Now.
	ClaimsTime time.Time
	// MaxKBAge bounds the age of the Key Binding JWT's iat; 0 means
	// DefaultMaxKBAge.
	MaxKBAge time.Duration
	// Leeway is the clock skew allowed; 0 means DefaultLeeway.
	Leeway time.Duration
}

// Verified is the outcome of a successful Verify.
type Verified struct {
	// Claims are the processed claims: disclosed claims inserted, _sd and
	// _sd_alg removed, undisclosed array elements dropped.
	Claims map[string]any
	// Header is the header of the issuer-signed JWT.
	Header map[string]any
	// HolderKey is the cnf.jwk key, or nil when the SD-JWT has none.
	HolderKey crypto.PublicKey
	// KeyBound reports that a Key Binding JWT was present and verified.
	KeyBound bool
}

// parts is an SD-JWT or SD-JWT+KB split into its components.
type parts struct {
	jwt         string   // issuer-signed JWT, compact
	disclosures []string // as they appear
	kb          string   // Key Binding JWT, or ""
	hashInput   string   // what sd_hash covers: jwt~d1~...~dn~
}

// split parses the compact form (or, when s starts with "{", the flattened
// or general JSON serialization of RFC 9901 section 8).
func split(s string) (*parts, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") {
		return splitJSON(s)
	}
	segs := strings.Split(s, "~")
	if len(segs) < 2 {
		return nil, errkind.New(errkind.Invalid, "not an SD-JWT: no ~ separator after the issuer-signed JWT")
	}
	p := &parts{jwt: segs[0], disclosures: segs[1 : len(segs)-1], kb: segs[len(segs)-1]}
	p.hashInput = s[:len(s)-len(p.kb)]
	return p, nil
}

// jsonSD is the JSON serialization of an SD-JWT (flattened or general).
type jsonSD struct {
	Payload    string       `json:"payload"`
	Protected  string       `json:"protected"`
	Signature  string       `json:"signature"`
	Header     jsonSDHeader `json:"header"`
	Signatures []struct {
		Protected string       `json:"protected"`
		Signature string       `json:"signature"`
		Header    jsonSDHeader `json:"header"`
	} `json:"signatures"`
}

type jsonSDHeader struct {
	Disclosures []string `json:"disclosures"`
	KBJWT       string   `json:"kb_jwt"`
}

func splitJSON(s string) (*parts, error) {
	var j jsonSD
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "SD-JWT JSON serialization")
	}
	if len(j.Signatures) > 0 {
		if len(j.Signatures) != 1 || j.Protected != "" {
			return nil, errkind.New(errkind.Unsupported, "SD-JWT JSON serialization with %d signatures; only one signature is supported", len(j.Signatures))
		}
		j.Protected, j.Signature, j.Header = j.Signatures[0].Protected, j.Signatures[0].Signature, j.Signatures[0].Header
	}
	if j.Payload == "" || j.Protected == "" || j.Signature == "" {
		return nil, errkind.New(errkind.Invalid, "SD-JWT JSON serialization needs payload, protected and signature")
	}
	p := &parts{jwt: j.Protected + "." + j.Payload + "." + j.Signature, disclosures: j.Header.Disclosures, kb: j.Header.KBJWT}
	var sb strings.Builder
	sb.WriteString(p.jwt)
	sb.WriteByte('~')
	for _, d := range p.disclosures {
		sb.WriteString(d)
		sb.WriteByte('~')
	}
	p.hashInput = sb.String()
	return p, nil
}

// Verify checks an SD-JWT, with or without a Key Binding JWT, following
// RFC 9901 section 7: the issuer signature, every disclosure's digest
// (each referenced exactly once, no digest repeated, no claim name
// collision), the validity period, and the Key Binding JWT against the
// cnf key, the audience, the nonce and sd_hash.
//
// Malformed input and broken disclosure rules are errkind.Invalid; a bad
// signature, a missing or mismatched Key Binding JWT are
// errkind.Unauthorized; an expired or not yet valid SD-JWT is
// errkind.Invalid.
func Verify(sdjwt string, opts VerifyOptions) (*Verified, error) {
	if opts.IssuerKey == nil {
		return nil, errkind.Field(errkind.Invalid, "IssuerKey", "VerifyOptions needs an IssuerKey function")
	}
	if opts.RequireKeyBinding && (opts.Audience == "" || opts.Nonce == "") {
		return nil, errkind.Field(errkind.Invalid, "VerifyOptions", "RequireKeyBinding needs Audience and Nonce to check the Key Binding JWT against")
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	leeway := opts.Leeway
	if leeway == 0 {
		leeway = DefaultLeeway
	}
	t := now()

	p, err := split(sdjwt)
	if err != nil {
		return nil, err
	}
	j, err := parseCompact(p.jwt, "issuer-signed JWT")
	if err != nil {
		return nil, err
	}
	if alg, _ := j.header["alg"].(string); strings.EqualFold(alg, "none") {
		return nil, errkind.New(errkind.Unauthorized, `issuer-signed JWT alg "none" is not accepted`)
	}
	if opts.Type != "" {
		if typ, _ := j.header["typ"].(string); typ != opts.Type {
			return nil, errkind.Field(errkind.Invalid, "typ", "issuer-signed JWT typ is %q; want %q", typ, opts.Type)
		}
	}
	key, err := opts.IssuerKey(j.header, j.payload)
	if err != nil {
		return nil, errkind.Wrap(errkind.KindOf(err), err, "issuer key")
	}
	if err := j.verify(key, "issuer-signed JWT"); err != nil {
		return nil, err
	}

	proc, err := newProcessor(p.disclosures)
	if err != nil {
		return nil, err
	}
	claims, err := proc.run(j.payload)
	if err != nil {
		return nil, err
	}
	claimsAt := t
	if !opts.ClaimsTime.IsZero() {
		claimsAt = opts.ClaimsTime
	}
	if err := checkTimes(claims, claimsAt, leeway); err != nil {
		return nil, err
	}

	v := &Verified{Claims: claims, Header: j.header}
	if cnf, ok := claims["cnf"]; ok {
		m, ok := cnf.(map[string]any)
		if !ok {
			return nil, errkind.Field(errkind.Invalid, "/cnf", "must be an object; got %s", jsonType(cnf))
		}
		if jk, ok := m["jwk"]; ok {
			if v.HolderKey, err = parseJWK(jk); err != nil {
				return nil, err
			}
		}
	}

	if p.kb == "" {
		if opts.RequireKeyBinding {
			return nil, errkind.New(errkind.Unauthorized, "key binding is required but the presentation has no Key Binding JWT")
		}
		return v, nil
	}
	if v.HolderKey == nil {
		return nil, errkind.New(errkind.Invalid, "a Key Binding JWT is present but the SD-JWT has no cnf.jwk holder key")
	}
	maxAge := opts.MaxKBAge
	if maxAge == 0 {
		maxAge = DefaultMaxKBAge
	}
	if err := verifyKB(p, v.HolderKey, opts, t, leeway, maxAge); err != nil {
		return nil, err
	}
	v.KeyBound = true
	return v, nil
}

// verifyKB checks the Key Binding JWT (RFC 9901 section 7.3).
func verifyKB(p *parts, holder crypto.PublicKey, opts VerifyOptions, now time.Time, leeway, maxAge time.Duration) error {
	kb, err := parseCompact(p.kb, "Key Binding JWT")
	if err != nil {
		return err
	}
	if typ, _ := kb.header["typ"].(string); typ != KBType {
		return errkind.Field(errkind.Invalid, "typ", "Key Binding JWT typ is %q; want %q", typ, KBType)
	}
	if err := kb.verify(holder, "Key Binding JWT"); err != nil {
		return err
	}
	iat, err := numericDate(kb.payload, "iat", "Key Binding JWT")
	if err != nil {
		return err
	}
	if iat == nil {
		return errkind.Field(errkind.Invalid, "iat", "Key Binding JWT has no iat")
	}
	if iat.After(now.Add(leeway)) {
		return errkind.Field(errkind.Unauthorized, "iat", "Key Binding JWT was issued at %s, in the future (now %s)", iat.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if iat.Before(now.Add(-maxAge - leeway)) {
		return errkind.Field(errkind.Unauthorized, "iat", "Key Binding JWT was issued at %s, more than %s ago", iat.UTC().Format(time.RFC3339), maxAge)
	}
	for _, c := range []struct{ name, want string }{{"aud", opts.Audience}, {"nonce", opts.Nonce}, {"sd_hash", digest(p.hashInput)}} {
		raw, ok := kb.payload[c.name]
		if !ok {
			return errkind.Field(errkind.Invalid, c.name, "Key Binding JWT has no %s", c.name)
		}
		got, ok := raw.(string)
		if !ok {
			return errkind.Field(errkind.Invalid, c.name, "Key Binding JWT %s must be a string; got %s", c.name, jsonType(raw))
		}
		if c.want != "" && got != c.want {
			if c.name == "sd_hash" {
				return errkind.Field(errkind.Unauthorized, c.name, "Key Binding JWT sd_hash %s does not match the presentation's hash %s", got, c.want)
			}
			return errkind.Field(errkind.Unauthorized, c.name, "Key Binding JWT %s is %q; want %q", c.name, got, c.want)
		}
	}
	return nil
}

// checkTimes checks exp, nbf and iat of the processed claims.
func checkTimes(claims map[string]any, now time.Time, leeway time.Duration) error {
	exp, err := numericDate(claims, "exp", "SD-JWT")
	if err != nil {
		return err
	}
	if exp != nil && !now.Before(exp.Add(leeway)) {
		return errkind.Field(errkind.Invalid, "/exp", "SD-JWT expired at %s (now %s)", exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	nbf, err := numericDate(claims, "nbf", "SD-JWT")
	if err != nil {
		return err
	}
	if nbf != nil && now.Add(leeway).Before(*nbf) {
		return errkind.Field(errkind.Invalid, "/nbf", "SD-JWT is not valid before %s (now %s)", nbf.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	iat, err := numericDate(claims, "iat", "SD-JWT")
	if err != nil {
		return err
	}
	if iat != nil && now.Add(leeway).Before(*iat) {
		return errkind.Field(errkind.Invalid, "/iat", "SD-JWT was issued at %s, in the future (now %s)", iat.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// numericDate reads a NumericDate claim; nil when absent.
func numericDate(m map[string]any, name, what string) (*time.Time, error) {
	raw, ok := m[name]
	if !ok {
		return nil, nil
	}
	f, ok := raw.(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errkind.Field(errkind.Invalid, "/"+name, "%s %s must be a number of seconds; got %s", what, name, jsonType(raw))
	}
	sec, frac := math.Modf(f)
	t := time.Unix(int64(sec), int64(frac*1e9))
	return &t, nil
}
