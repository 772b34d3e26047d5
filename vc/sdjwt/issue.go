package sdjwt

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/urbis-id/urbis/internal/errkind"
)

// MediaType is the media type and JWT typ of an SD-JWT VC.
const MediaType = "dc+sd-jwt"

// KBType is the typ of a Key Binding JWT.
const KBType = "kb+jwt"

// HashAlg is the only digest algorithm Urbis issues and accepts (_sd_alg).
const HashAlg = "sha-256"

// DisclosurePolicy lists the claim paths that are selectively disclosable.
// Each path is a JSON Pointer (RFC 6901) into the claims: "/given_name",
// "/address/locality", "/nationalities/1". A segment "*" stands for every
// member of an object or every element of an array ("/nationalities/*").
// A path and one below it may both be listed ("/address" and
// "/address/locality"): the inner claim becomes its own disclosure inside
// the outer one (recursive disclosure).
type DisclosurePolicy []string

// IssueOptions are the header and binding options of Issue.
type IssueOptions struct {
	// KeyID is the JWS kid, normally the DID URL of the issuer key.
	KeyID string
	// Type is the JWS typ; empty means MediaType ("dc+sd-jwt"), which also
	// requires a vct claim and keeps iss, nbf, exp, cnf, vct and status
	// always disclosed, as SD-JWT VC demands.
	Type string
	// HolderKey, when set (a jwk.Key or a crypto.PublicKey), is placed in
	// cnf.jwk so that presentations can carry a Key Binding JWT.
	HolderKey any
	// Decoys is the number of decoy digests added to every _sd array.
	Decoys int
	// Rand is the source of salts; nil means crypto/rand.
	Rand io.Reader
}

// alwaysVisible are the SD-JWT VC claims that must not be selectively
// disclosable (SD-JWT VC, section 3.2.2).
var alwaysVisible = []string{"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"}

// Issue returns a compact SD-JWT (issuer-signed JWT followed by every
// disclosure, each ended by "~") over claims, making the paths of disclose
// selectively disclosable. Salts are 128 random bits; digests are SHA-256
// and sorted within each _sd array.
func Issue(claims map[string]any, disclose DisclosurePolicy, signer crypto.Signer, opts IssueOptions) (string, error) {
	if claims == nil {
		return "", errkind.New(errkind.Invalid, "no claims")
	}
	typ := opts.Type
	if typ == "" {
		typ = MediaType
	}
	if _, ok := claims["_sd_alg"]; ok {
		return "", errkind.Field(errkind.Invalid, "/_sd_alg", "is set by Issue; remove it from the claims")
	}
	if _, ok := claims["cnf"]; ok && opts.HolderKey != nil {
		return "", errkind.Field(errkind.Invalid, "/cnf", "is set by Issue from HolderKey; remove it from the claims")
	}
	if typ == MediaType {
		if v, ok := claims["vct"].(string); !ok || v == "" {
			return "", errkind.Field(errkind.Invalid, "/vct", "an SD-JWT VC needs a vct claim (a non-empty string)")
		}
	}
	if opts.Decoys < 0 {
		return "", errkind.Field(errkind.Invalid, "Decoys", "must not be negative; got %d", opts.Decoys)
	}
	pats := make([][]string, len(disclose))
	used := make([]bool, len(disclose))
	for i, p := range disclose {
		segs, err := splitPointer(p)
		if err != nil {
			return "", err
		}
		if len(segs) == 0 {
			return "", errkind.Field(errkind.Invalid, "DisclosurePolicy", "path %q names the whole claim set; name a claim", p)
		}
		if typ == MediaType && len(segs) == 1 && (slices.Contains(alwaysVisible, segs[0]) || segs[0] == "*") {
			if segs[0] == "*" {
				return "", errkind.Field(errkind.Invalid, "DisclosurePolicy", "path %q would hide iss, vct and the other claims an SD-JWT VC must show; list the claims instead", p)
			}
			return "", errkind.Field(errkind.Invalid, "DisclosurePolicy", "claim %q of an SD-JWT VC must not be selectively disclosable", segs[0])
		}
		pats[i] = segs
	}
	b := &builder{pats: pats, used: used, decoys: opts.Decoys, rand: opts.Rand}
	if b.rand == nil {
		b.rand = rand.Reader
	}
	out, err := b.object(claims, nil)
	if err != nil {
		return "", err
	}
	for i, u := range used {
		if !u {
			return "", errkind.Field(errkind.Invalid, "DisclosurePolicy", "path %q matches no claim", disclose[i])
		}
	}
	out["_sd_alg"] = HashAlg
	if opts.HolderKey != nil {
		j, err := publicJWK(opts.HolderKey)
		if err != nil {
			return "", err
		}
		out["cnf"] = map[string]any{"jwk": j}
	}
	payload, err := json.Marshal(out)
	if err != nil {
		return "", errkind.Wrap(errkind.Invalid, err, "encode claims")
	}
	header := map[string]any{"typ": typ}
	if opts.KeyID != "" {
		header["kid"] = opts.KeyID
	}
	jwt, err := signCompact(header, payload, signer)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	sb.WriteString(jwt)
	sb.WriteByte('~')
	for _, d := range b.disclosures {
		sb.WriteString(d)
		sb.WriteByte('~')
	}
	return sb.String(), nil
}

// builder turns claims into an SD-JWT payload and its disclosures.
type builder struct {
	pats        [][]string
	used        []bool
	decoys      int
	rand        io.Reader
	disclosures []string
}

// match reports whether path is selectively disclosable.
func (b *builder) match(path []string) bool {
	hit := false
	for i, p := range b.pats {
		if len(p) != len(path) {
			continue
		}
		ok := true
		for j := range p {
			if p[j] != "*" && p[j] != path[j] {
				ok = false
				break
			}
		}
		if ok {
			b.used[i] = true
			hit = true
		}
	}
	return hit
}

func (b *builder) value(v any, path []string) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		return b.object(t, path)
	case []any:
		return b.array(t, path)
	default:
		// Round-trip other Go values (structs, typed slices) through JSON so
		// that nested paths reach into them too.
		if v == nil {
			return nil, nil
		}
		switch v.(type) {
		case string, bool, float64, float32, int, int8, int16, int32, int64,
			uint, uint8, uint16, uint32, uint64, json.Number:
			return v, nil
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "claim %s", pointer(path))
		}
		var g any
		if err := json.Unmarshal(raw, &g); err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "claim %s", pointer(path))
		}
		switch g.(type) {
		case map[string]any, []any:
			return b.value(g, path)
		}
		return g, nil
	}
}

func (b *builder) object(m map[string]any, path []string) (map[string]any, error) {
	out := make(map[string]any, len(m))
	var digests []string
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := append(slices.Clone(path), k)
		if k == "_sd" || k == "..." {
			return nil, errkind.Field(errkind.Invalid, pointer(p), "claim name %q is reserved by SD-JWT", k)
		}
		v, err := b.value(m[k], p)
		if err != nil {
			return nil, err
		}
		if !b.match(p) {
			out[k] = v
			continue
		}
		d, err := b.disclose([]any{nil, k, v})
		if err != nil {
			return nil, err
		}
		digests = append(digests, d)
	}
	if len(digests) > 0 {
		for range b.decoys {
			d, err := b.decoy()
			if err != nil {
				return nil, err
			}
			digests = append(digests, d)
		}
		slices.Sort(digests)
		out["_sd"] = digests
	}
	return out, nil
}

func (b *builder) array(a []any, path []string) ([]any, error) {
	out := make([]any, 0, len(a))
	for i, e := range a {
		p := append(slices.Clone(path), strconv.Itoa(i))
		v, err := b.value(e, p)
		if err != nil {
			return nil, err
		}
		if !b.match(p) {
			out = append(out, v)
			continue
		}
		d, err := b.disclose([]any{nil, v})
		if err != nil {
			return nil, err
		}
		out = append(out, map[string]any{"...": d})
	}
	return out, nil
}

// disclose fills in a fresh salt, records the disclosure and returns its
// digest.
func (b *builder) disclose(d []any) (string, error) {
	salt, err := b.salt()
	if err != nil {
		return "", err
	}
	d[0] = salt
	raw, err := json.Marshal(d)
	if err != nil {
		return "", errkind.Wrap(errkind.Invalid, err, "encode disclosure")
	}
	enc := b64.EncodeToString(raw)
	b.disclosures = append(b.disclosures, enc)
	return digest(enc), nil
}

// decoy returns the digest of a random value that no disclosure matches.
func (b *builder) decoy() (string, error) {
	s, err := b.salt()
	if err != nil {
		return "", err
	}
	return digest(s), nil
}

func (b *builder) salt() (string, error) {
	var s [16]byte
	if _, err := io.ReadFull(b.rand, s[:]); err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "read salt")
	}
	return b64.EncodeToString(s[:]), nil
}

// digest is the base64url SHA-256 of the ASCII form of s (a disclosure as
// it appears in the SD-JWT, or a presentation for sd_hash).
func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return b64.EncodeToString(h[:])
}

// splitPointer splits a JSON Pointer into its unescaped segments.
func splitPointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, errkind.Field(errkind.Invalid, "DisclosurePolicy", "path %q is not a JSON Pointer; want a leading /", p)
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return segs, nil
}

// pointer is the JSON Pointer of path.
func pointer(path []string) string {
	if len(path) == 0 {
		return ""
	}
	var sb strings.Builder
	for _, s := range path {
		sb.WriteByte('/')
		sb.WriteString(strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1"))
	}
	return sb.String()
}
