package sdjwt

import (
	"crypto"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// KeyBinding is what the holder signs into a Key Binding JWT.
type KeyBinding struct {
	// Signer holds the private key matching the SD-JWT's cnf.jwk.
	Signer crypto.Signer
	// Audience and Nonce come from the verifier's request.
	Audience, Nonce string
	// IssuedAt is the KB-JWT iat; zero means now.
	IssuedAt time.Time
}

// Present returns a presentation of an issued SD-JWT that keeps only the
// disclosures needed to show the claims at reveal (JSON Pointers into the
// fully disclosed claims; array indexes count the elements of the fully
// disclosed array; "*" matches any segment). Revealing a claim reveals
// everything beneath it and the disclosures of the claims above it. When
// kb is not nil a Key Binding JWT (typ kb+jwt, iat, aud, nonce, sd_hash)
// is appended, signed with kb.Signer.
//
// Present checks the disclosures against the digests but not the issuer
// signature; the holder verifies that with Verify.
func Present(sdjwt string, reveal []string, kb *KeyBinding) (string, error) {
	p, err := split(sdjwt)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(strings.TrimSpace(sdjwt), "{") {
		return "", errkind.New(errkind.Unsupported, "Present takes the compact serialization")
	}
	if p.kb != "" {
		return "", errkind.New(errkind.Invalid, "the SD-JWT already ends with a Key Binding JWT; present from the issued SD-JWT")
	}
	j, err := parseCompact(p.jwt, "issuer-signed JWT")
	if err != nil {
		return "", err
	}
	proc, err := newProcessor(p.disclosures)
	if err != nil {
		return "", err
	}
	full, err := proc.run(j.payload)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	sb.WriteString(p.jwt)
	sb.WriteByte('~')
	for _, r := range reveal {
		pat, err := splitPointer(r)
		if err != nil {
			return "", err
		}
		if len(pat) == 0 {
			return "", errkind.Field(errkind.Invalid, "reveal", "empty path; name a claim")
		}
		if !exists(full, pat) {
			return "", errkind.Field(errkind.Invalid, "reveal", "path %q matches no claim of the SD-JWT", r)
		}
	}
	for _, d := range proc.list {
		if selected(d.path, reveal) {
			sb.WriteString(d.enc)
			sb.WriteByte('~')
		}
	}
	out := sb.String()
	if kb == nil {
		return out, nil
	}
	if kb.Signer == nil || kb.Audience == "" || kb.Nonce == "" {
		return "", errkind.Field(errkind.Invalid, "KeyBinding", "needs Signer, Audience and Nonce")
	}
	iat := kb.IssuedAt
	if iat.IsZero() {
		iat = time.Now()
	}
	payload, err := json.Marshal(map[string]any{
		"iat":     iat.Unix(),
		"aud":     kb.Audience,
		"nonce":   kb.Nonce,
		"sd_hash": digest(out),
	})
	if err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "encode Key Binding JWT")
	}
	kbjwt, err := signCompact(map[string]any{"typ": KBType}, payload, kb.Signer)
	if err != nil {
		return "", err
	}
	return out + kbjwt, nil
}

// selected reports whether a disclosure at path is needed for any of the
// reveal paths: it lies at or below one, or above one.
func selected(path []string, reveal []string) bool {
	for _, r := range reveal {
		pat, _ := splitPointer(r)
		n := min(len(pat), len(path))
		ok := true
		for i := range n {
			if pat[i] != "*" && pat[i] != path[i] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// exists reports whether some claim of v matches the path pattern.
func exists(v any, pat []string) bool {
	if len(pat) == 0 {
		return true
	}
	switch t := v.(type) {
	case map[string]any:
		if pat[0] == "*" {
			for _, c := range t {
				if exists(c, pat[1:]) {
					return true
				}
			}
			return false
		}
		c, ok := t[pat[0]]
		return ok && exists(c, pat[1:])
	case []any:
		for i, c := range t {
			if pat[0] == "*" || pat[0] == strconv.Itoa(i) {
				if exists(c, pat[1:]) {
					return true
				}
			}
		}
	}
	return false
}
