package kms

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/urbis-id/urbis/internal/errkind"
)

var fixedNow = time.Date(2030, 5, 17, 9, 30, 0, 123456789, time.FixedZone("CEST", 2*3600))

func newTestCustodian(t *testing.T) (*Custodian, *memStore) {
	t.Helper()
	st := &memStore{}
	return NewCustodian(st, GenerateMasterKey(), func() time.Time { return fixedNow }), st
}

func verify(t *testing.T, pub crypto.PublicKey, msg, sig []byte) bool {
	t.Helper()
	switch p := pub.(type) {
	case ed25519.PublicKey:
		return ed25519.Verify(p, msg, sig)
	case *ecdsa.PublicKey:
		h := sha256.Sum256(msg)
		return ecdsa.VerifyASN1(p, h[:], sig)
	}
	t.Fatalf("public key type %T; want ed25519 or ecdsa", pub)
	return false
}

func TestGenerateSign(t *testing.T) {
	tests := []struct {
		typ     KeyType
		alg     string
		pubType string
	}{
		{Ed25519, "EdDSA", "ed25519.PublicKey"},
		{P256, "ES256", "*ecdsa.PublicKey"},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ), func(t *testing.T) {
			ctx := context.Background()
			c, _ := newTestCustodian(t)
			k, err := c.Generate(ctx, "agy_a", tt.typ)
			if err != nil {
				t.Fatalf("Generate error = %v", err)
			}
			if !strings.HasPrefix(k.ID, "key_") || len(k.ID) != len("key_")+26 {
				t.Errorf("key id = %q; want key_ and 26 base32 characters", k.ID)
			}
			if k.Status != StatusActive || k.Type != tt.typ || k.AgencyID != "agy_a" {
				t.Errorf("key = %+v; want active %s of agy_a", k, tt.typ)
			}
			if want := fixedNow.UTC().Truncate(time.Microsecond); !k.CreatedAt.Equal(want) || k.CreatedAt.Location() != time.UTC {
				t.Errorf("CreatedAt = %v; want %v", k.CreatedAt, want)
			}
			if got := typeName(k.Public); got != tt.pubType {
				t.Errorf("public key type = %s; want %s", got, tt.pubType)
			}

			pub, err := c.Public(ctx, "agy_a", k.ID)
			if err != nil {
				t.Fatalf("Public error = %v", err)
			}
			if !pub.Public.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public) {
				t.Errorf("Public returned another key than Generate")
			}

			s, err := c.Signer(ctx, "agy_a", k.ID)
			if err != nil {
				t.Fatalf("Signer error = %v", err)
			}
			if s.KeyID() != k.ID || s.Algorithm() != tt.alg || s.AgencyID() != "agy_a" || s.Type() != tt.typ {
				t.Errorf("signer = (%s, %s, %s, %s); want (%s, %s, agy_a, %s)", s.KeyID(), s.Algorithm(), s.AgencyID(), s.Type(), k.ID, tt.alg, tt.typ)
			}
			msg := []byte("one person, one vote")
			digest, opts := msg, crypto.SignerOpts(crypto.Hash(0))
			if tt.typ == P256 {
				h := sha256.Sum256(msg)
				digest, opts = h[:], crypto.SHA256
			}
			sig, err := s.Sign(rand.Reader, digest, opts)
			if err != nil {
				t.Fatalf("Sign error = %v", err)
			}
			if !verify(t, k.Public, msg, sig) {
				t.Errorf("signature does not verify with the public key")
			}
		})
	}
}

func typeName(v any) string {
	switch v.(type) {
	case ed25519.PublicKey:
		return "ed25519.PublicKey"
	case *ecdsa.PublicKey:
		return "*ecdsa.PublicKey"
	}
	return "other"
}

func TestSignerWithJWS(t *testing.T) {
	tests := []struct {
		typ KeyType
		alg jwa.SignatureAlgorithm
	}{
		{Ed25519, jwa.EdDSA},
		{P256, jwa.ES256},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ), func(t *testing.T) {
			ctx := context.Background()
			c, _ := newTestCustodian(t)
			k, err := c.Generate(ctx, "agy_a", tt.typ)
			if err != nil {
				t.Fatal(err)
			}
			s, err := c.Signer(ctx, "agy_a", k.ID)
			if err != nil {
				t.Fatal(err)
			}
			if s.Algorithm() != tt.alg.String() {
				t.Errorf("Algorithm() = %s; want %s", s.Algorithm(), tt.alg)
			}
			payload := []byte(`{"iss":"did:example:agency"}`)
			compact, err := jws.Sign(payload, jws.WithKey(tt.alg, s))
			if err != nil {
				t.Fatalf("jws.Sign error = %v", err)
			}
			got, err := jws.Verify(compact, jws.WithKey(tt.alg, k.Public))
			if err != nil {
				t.Fatalf("jws.Verify error = %v", err)
			}
			if string(got) != string(payload) {
				t.Errorf("payload = %s; want %s", got, payload)
			}
		})
	}
}

func TestGenerateInvalid(t *testing.T) {
	c, _ := newTestCustodian(t)
	tests := []struct {
		name, agency string
		typ          KeyType
		field        string
	}{
		{"unknown type", "agy_a", "RSA", "keyType"},
		{"empty type", "agy_a", "", "keyType"},
		{"no agency", "", Ed25519, "agencyID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Generate(context.Background(), tt.agency, tt.typ)
			var e *errkind.Error
			if !errors.As(err, &e) || e.Kind != errkind.Invalid || e.Field != tt.field {
				t.Errorf("Generate error = %v; want Invalid about %s", err, tt.field)
			}
		})
	}
}

func TestOtherAgencyIsNotFound(t *testing.T) {
	ctx := context.Background()
	c, _ := newTestCustodian(t)
	k, err := c.Generate(ctx, "agy_a", Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"Public": func() error { _, err := c.Public(ctx, "agy_b", k.ID); return err },
		"Signer": func() error { _, err := c.Signer(ctx, "agy_b", k.ID); return err },
		"Rotate": func() error { _, err := c.Rotate(ctx, "agy_b", k.ID); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := call(); !errors.Is(err, errkind.NotFound) {
				t.Errorf("%s with another agency: error = %v; want NotFound", name, err)
			}
		})
	}
	keys, err := c.List(ctx, "agy_b")
	if err != nil || len(keys) != 0 {
		t.Errorf("List(agy_b) = %d keys, %v; want none", len(keys), err)
	}
}

func TestWrongMasterKey(t *testing.T) {
	ctx := context.Background()
	c, st := newTestCustodian(t)
	k, err := c.Generate(ctx, "agy_a", P256)
	if err != nil {
		t.Fatal(err)
	}
	other := NewCustodian(st, GenerateMasterKey(), nil)
	_, err = other.Signer(ctx, "agy_a", k.ID)
	if !errors.Is(err, errkind.Internal) || !strings.Contains(err.Error(), "wrong master key") {
		t.Errorf("Signer under another master key: error = %v; want Internal saying wrong master key", err)
	}
	// The public half needs no master key.
	if _, err := other.Public(ctx, "agy_a", k.ID); err != nil {
		t.Errorf("Public under another master key: error = %v; want nil", err)
	}
}

func TestTamperedRecord(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		tamper func(r *Record)
	}{
		{"sealed bit flip", func(r *Record) { r.Sealed[len(r.Sealed)-1] ^= 1 }},
		{"wrapped key bit flip", func(r *Record) { r.WrappedDEK[5] ^= 1 }},
		{"truncated", func(r *Record) { r.Sealed = r.Sealed[:3] }},
		{"empty", func(r *Record) { r.WrappedDEK = nil }},
		{"moved to another agency", func(r *Record) { r.AgencyID = "agy_b" }},
		{"other public key", func(r *Record) {
			c, _ := newTestCustodian(t)
			other, _, _ := c.NewRecord("agy_a", Ed25519)
			r.Public = other.Public
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, st := newTestCustodian(t)
			r, _, err := c.NewRecord("agy_a", Ed25519)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.CreateKey(ctx, r); err != nil {
				t.Fatal(err)
			}
			bad := clone(r)
			tt.tamper(&bad)
			st.set(bad)
			if _, err := c.Signer(ctx, bad.AgencyID, r.ID); !errors.Is(err, errkind.Internal) {
				t.Errorf("Signer of tampered record: error = %v; want Internal", err)
			}
		})
	}
}

func TestRotate(t *testing.T) {
	ctx := context.Background()
	for _, typ := range KeyTypes {
		t.Run(string(typ), func(t *testing.T) {
			c, _ := newTestCustodian(t)
			old, err := c.Generate(ctx, "agy_a", typ)
			if err != nil {
				t.Fatal(err)
			}
			next, err := c.Rotate(ctx, "agy_a", old.ID)
			if err != nil {
				t.Fatalf("Rotate error = %v", err)
			}
			if next.ID == old.ID || next.Type != typ || next.Status != StatusActive {
				t.Errorf("new key = %+v; want a new active %s key", next, typ)
			}
			got, err := c.Public(ctx, "agy_a", old.ID)
			if err != nil {
				t.Fatalf("Public(old) error = %v; want the old key to stay readable", err)
			}
			if got.Status != StatusRotated || got.ReplacedBy != next.ID {
				t.Errorf("old key status = %s replaced by %q; want rotated replaced by %s", got.Status, got.ReplacedBy, next.ID)
			}
			if _, err := c.Signer(ctx, "agy_a", old.ID); !errors.Is(err, errkind.Gone) {
				t.Errorf("Signer(old) error = %v; want Gone", err)
			}
			if _, err := c.Rotate(ctx, "agy_a", old.ID); !errors.Is(err, errkind.Conflict) {
				t.Errorf("second Rotate(old) error = %v; want Conflict", err)
			}
			if _, err := c.Signer(ctx, "agy_a", next.ID); err != nil {
				t.Errorf("Signer(new) error = %v", err)
			}
			keys, err := c.List(ctx, "agy_a")
			if err != nil || len(keys) != 2 {
				t.Errorf("List = %d keys, %v; want 2", len(keys), err)
			}
		})
	}
}

func TestParseKeyType(t *testing.T) {
	tests := []struct {
		in      string
		want    KeyType
		wantErr bool
	}{
		{"Ed25519", Ed25519, false},
		{"ed25519", Ed25519, false},
		{"P-256", P256, false},
		{"bls12381g2", Bls12381G2, false},
		{"p-256", P256, false},
		{"P256", "", true},
		{"secp256k1", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseKeyType(tt.in)
			if tt.wantErr {
				var e *errkind.Error
				if !errors.As(err, &e) || e.Kind != errkind.Invalid || e.Field != "keyType" ||
					!strings.Contains(e.Msg, "Ed25519") || !strings.Contains(e.Msg, "P-256") {
					t.Errorf("ParseKeyType(%q) error = %v; want Invalid naming Ed25519 and P-256", tt.in, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseKeyType(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}
