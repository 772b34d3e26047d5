package oid4vci

import (
	"errors"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

func TestNonce(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := NewService(Config{Clock: func() time.Time { return now }, NonceKey: []byte("k1")})
	other := NewService(Config{Clock: func() time.Time { return now }, NonceKey: []byte("k2")})
	n := s.Nonce()
	if n == s.Nonce() {
		t.Fatal("two nonces are equal; want fresh ones")
	}
	tampered := []byte(n)
	tampered[3] ^= 1
	tests := []struct {
		name  string
		svc   *Service
		nonce string
		after time.Duration
		ok    bool
	}{
		{"fresh", s, n, 0, true},
		{"just before expiry", s, n, DefaultNonceTTL - time.Second, true},
		{"expired", s, n, DefaultNonceTTL, false},
		{"tampered", s, string(tampered), 0, false},
		{"another key", other, n, 0, false},
		{"not base64url", s, "a b", 0, false},
		{"short", s, "AAAA", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.svc.cfg.Clock = func() time.Time { return now.Add(tt.after) }
			defer func() { tt.svc.cfg.Clock = func() time.Time { return now } }()
			exp, err := tt.svc.checkNonce(tt.nonce)
			var e *errkind.Error
			switch {
			case tt.ok && (err != nil || !exp.Equal(now.Add(DefaultNonceTTL))):
				t.Errorf("checkNonce = %v, %v; want expiry %v", exp, err, now.Add(DefaultNonceTTL))
			case !tt.ok && (!errors.As(err, &e) || e.Code != ErrInvalidNonce):
				t.Errorf("checkNonce error = %v; want %s", err, ErrInvalidNonce)
			}
		})
	}
}

func TestAudienceAndConfigurationID(t *testing.T) {
	const iss = "https://urbis.example"
	for _, tt := range []struct {
		aud  any
		want bool
	}{
		{iss, true}, {[]any{"x", iss}, true}, {"https://other.example", false}, {nil, false}, {[]any{}, false}, {42.0, false},
	} {
		if got := audience(tt.aud, iss); got != tt.want {
			t.Errorf("audience(%v) = %v; want %v", tt.aud, got, tt.want)
		}
	}
	for _, tt := range []struct {
		id, inst, typ string
		ok            bool
	}{
		{ConfigurationID("iss_1", "Degree"), "iss_1", "Degree", true},
		{"iss_1:", "", "", false}, {":Degree", "", "", false}, {"iss_1", "", "", false},
	} {
		inst, typ, ok := splitConfigurationID(tt.id)
		if ok != tt.ok || (ok && (inst != tt.inst || typ != tt.typ)) {
			t.Errorf("splitConfigurationID(%q) = %q, %q, %v; want %q, %q, %v", tt.id, inst, typ, ok, tt.inst, tt.typ, tt.ok)
		}
	}
}
