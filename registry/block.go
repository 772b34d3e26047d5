package registry

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"

	"github.com/urbis-id/urbis/internal/edsig"
	"github.com/urbis-id/urbis/internal/errkind"
)

// ZeroHash is the Previous of the block at height 1.
const ZeroHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Hash returns the hex SHA-256 of the canonical encoding of h, with its
// time in UTC (RFC 3339 with nanoseconds).
func (h Header) Hash() string {
	h.Time = h.Time.UTC()
	b, err := Canonical(h)
	if err != nil {
		// A Header holds no json.RawMessage; encoding cannot fail.
		panic("registry: encode header: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// SignHeader returns validatorID's signature of the hash of h.
func SignHeader(h Header, validatorID string, k ed25519.PrivateKey) Signature {
	sig := ed25519.Sign(k, hashBytes(h.Hash()))
	return Signature{Validator: validatorID, Signature: base64.RawURLEncoding.EncodeToString(sig)}
}

// hashBytes decodes a hex hash; a string that is not hex stands for its
// own bytes (so that it cannot collide with a well-formed hash).
func hashBytes(h string) []byte {
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != sha256.Size {
		return []byte(h)
	}
	return b
}

// isHash reports whether s is 64 lowercase hex characters.
func isHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// checkSignatures checks that sigs are signatures of h's hash by
// distinct genesis validators, and that there is at least one.
func checkSignatures(h Header, sigs []Signature, g *Genesis) error {
	return checkSignaturesBy(h, sigs, "the genesis key", func(id string) (ed25519.PublicKey, error) {
		v, ok := g.validator(id)
		if !ok {
			return nil, errkind.New(errkind.Invalid, "%q, which is not a genesis validator of chain %s", id, g.ChainID)
		}
		return validatorKey(v)
	})
}

// checkSignaturesBy checks that sigs are signatures of h's hash by
// distinct validators, each with the key keyOf gives it (keyOf's error
// completes "header is signed by "), and that there is at least one;
// whose names the keys in messages.
func checkSignaturesBy(h Header, sigs []Signature, whose string, keyOf func(id string) (ed25519.PublicKey, error)) error {
	if len(sigs) == 0 {
		return errkind.New(errkind.Invalid, "header is not signed")
	}
	msg := hashBytes(h.Hash())
	seen := make(map[string]bool, len(sigs))
	for _, s := range sigs {
		pub, err := keyOf(s.Validator)
		if err != nil {
			return errkind.New(errkind.Invalid, "header is signed by %v", err)
		}
		if seen[s.Validator] {
			return errkind.New(errkind.Invalid, "header carries two signatures of validator %s", s.Validator)
		}
		seen[s.Validator] = true
		sig, err := base64.RawURLEncoding.Strict().DecodeString(s.Signature)
		if err != nil || !edsig.Verify(pub, msg, sig) {
			return errkind.New(errkind.Invalid, "header signature of validator %s does not verify against %s (header hash %s)", s.Validator, whose, h.Hash())
		}
	}
	return nil
}
