package oid4vci

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// A c_nonce is 16 random bytes, its expiry (Unix seconds, 8 bytes) and an
// HMAC-SHA-256 over both (16 bytes kept), base64url: the nonce endpoint
// writes nothing, and the credential endpoint spends a nonce by storing
// its hash until it expires.
const (
	nonceRandom = 16
	nonceMAC    = 16
	nonceLen    = nonceRandom + 8 + nonceMAC
)

// Nonce returns a fresh c_nonce, valid for the configured NonceTTL.
func (s *Service) Nonce() string {
	b := make([]byte, nonceLen)
	rand.Read(b[:nonceRandom]) // never fails
	binary.BigEndian.PutUint64(b[nonceRandom:], uint64(s.now().Add(s.cfg.NonceTTL).Unix()))
	copy(b[nonceRandom+8:], s.nonceMAC(b[:nonceRandom+8]))
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Service) nonceMAC(b []byte) []byte {
	m := hmac.New(sha256.New, s.cfg.NonceKey)
	m.Write(b)
	return m.Sum(nil)[:nonceMAC]
}

// checkNonce returns the expiry of a c_nonce this Service made that has
// not expired (it does not say whether it was spent).
func (s *Service) checkNonce(n string) (time.Time, error) {
	b, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil || len(b) != nonceLen || !hmac.Equal(b[nonceRandom+8:], s.nonceMAC(b[:nonceRandom+8])) {
		return time.Time{}, oauthError(errkind.Invalid, ErrInvalidNonce, "the proof's nonce is not a c_nonce of this issuer; get one from the nonce endpoint")
	}
	exp := time.Unix(int64(binary.BigEndian.Uint64(b[nonceRandom:])), 0).UTC()
	if !s.now().Before(exp) {
		return time.Time{}, oauthError(errkind.Invalid, ErrInvalidNonce, "the c_nonce expired at %s; get a fresh one from the nonce endpoint", exp.Format(time.RFC3339))
	}
	return exp, nil
}
