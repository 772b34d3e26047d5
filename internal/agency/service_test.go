package agency

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// These tests cover what the Service decides before it reaches its Store;
// the Service on a real database is tested in internal/store.

func TestValidName(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"Land Registry", "Land Registry", false},
		{"  Election Office \n", "Election Office", false},
		{"Ämter für Übersicht", "Ämter für Übersicht", false},
		{strings.Repeat("é", 200), strings.Repeat("é", 200), false},
		{"", "", true},
		{"   ", "", true},
		{strings.Repeat("a", 201), "", true},
		{"bad\x00name", "", true},
		{"bad\xffname", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got, err := validName(tt.in)
			if tt.wantErr {
				var e *errkind.Error
				if !errors.As(err, &e) || e.Kind != errkind.Invalid || e.Field != "name" {
					t.Errorf("validName(%q) error = %v; want Invalid about name", tt.in, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("validName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestCreateRejectsBadNameBeforeStoring(t *testing.T) {
	s := NewService(nil, nil, nil) // a nil store would panic if reached
	_, _, err := s.Create(t.Context(), " ")
	var e *errkind.Error
	if !errors.As(err, &e) || e.Kind != errkind.Invalid || e.Field != "name" {
		t.Errorf("Create(blank) error = %v; want Invalid about name", err)
	}
}

func TestCreateDIDRejectsBadInputBeforeStoring(t *testing.T) {
	s := NewService(nil, nil, nil)
	tests := []struct{ method, keyType, field string }{
		{"web", "Ed25519", "method"},
		{"KEY", "Ed25519", "method"},
		{"key", "RSA", "keyType"},
		{"jwk", "", "keyType"},
		{"jwk", "Bls12381G2", "keyType"},
		{"urbis", "Bls12381G2", "keyType"},
	}
	for _, tt := range tests {
		t.Run(tt.method+"/"+tt.keyType, func(t *testing.T) {
			_, err := s.CreateDID(t.Context(), "agy_a", tt.method, tt.keyType)
			var e *errkind.Error
			if !errors.As(err, &e) || e.Kind != errkind.Invalid || e.Field != tt.field {
				t.Errorf("CreateDID error = %v; want Invalid about %s", err, tt.field)
			}
		})
	}
}

func TestAuthenticateRejectsMalformedKeys(t *testing.T) {
	s := NewService(nil, nil, nil)
	for _, key := range []string{"", "urbis_", "secret", "urbis_" + strings.Repeat("A", 42), "xrbis_" + strings.Repeat("A", 43)} {
		_, err := s.Authenticate(t.Context(), key)
		if !errors.Is(err, errkind.Unauthorized) {
			t.Errorf("Authenticate(%q) error = %v; want Unauthorized", key, err)
		}
		if len(key) > len(APIKeyPrefix) && err != nil && strings.Contains(err.Error(), key) {
			t.Errorf("Authenticate error %q repeats the key", err)
		}
	}
}

func TestNewAPIKey(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 6789, time.FixedZone("Y", 3600))
	s := NewService(nil, nil, func() time.Time { return now })
	seen := map[string]bool{}
	for range 50 {
		key, rec := s.newAPIKey("agy_a")
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(key, APIKeyPrefix))
		if !strings.HasPrefix(key, APIKeyPrefix) || err != nil || len(raw) != 32 || len(key) != apiKeyLen {
			t.Fatalf("API key %q...: want urbis_ and 32 bytes in base64url", key[:10])
		}
		if seen[key] {
			t.Fatalf("API key repeated")
		}
		seen[key] = true
		if rec.Hash != HashAPIKey(key) || len(rec.Hash) != 64 || strings.Contains(rec.Hash, key) {
			t.Errorf("stored hash %q; want the sha256 hex of the key", rec.Hash)
		}
		if rec.Prefix != key[:12] || !strings.HasPrefix(rec.ID, "apk_") || rec.AgencyID != "agy_a" {
			t.Errorf("stored key = %+v; want prefix %q, apk_ id, agy_a", rec, key[:12])
		}
		if want := now.UTC().Truncate(time.Microsecond); !rec.CreatedAt.Equal(want) || rec.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt = %v; want %v", rec.CreatedAt, want)
		}
	}
}

func TestHashAPIKey(t *testing.T) {
	// sha256("abc")
	if got, want := HashAPIKey("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("HashAPIKey(abc) = %s; want %s", got, want)
	}
}

func TestDeriveDID(t *testing.T) {
	_, err := deriveDID("web", nil)
	if !errors.Is(err, errkind.Invalid) {
		t.Errorf("deriveDID(web) error = %v; want Invalid", err)
	}
}
