package kms

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
)

func TestLoadOrCreateMasterKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	path := filepath.Join(dir, "master.key")

	m, created, err := LoadOrCreateMasterKey(path)
	if err != nil || !created {
		t.Fatalf("LoadOrCreateMasterKey (new) = created %v, %v; want created, nil", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("key file mode = %#o; want 0600", got)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := di.Mode().Perm(); got != 0o700 {
		t.Errorf("key directory mode = %#o; want 0700", got)
	}
	b, _ := os.ReadFile(path)
	if got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b))); err != nil || !bytes.Equal(got, m.k()[:]) {
		t.Errorf("key file does not hold the key in base64 (%v)", err)
	}

	again, created, err := LoadOrCreateMasterKey(path)
	if err != nil || created {
		t.Fatalf("LoadOrCreateMasterKey (existing) = created %v, %v; want not created, nil", created, err)
	}
	if *again.k() != *m.k() {
		t.Errorf("reloaded key differs from the created one")
	}
}

func TestLoadMasterKeyRefusesOpenMode(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		t.Run(fmt.Sprintf("%#o", mode), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "master.key")
			if _, _, err := LoadOrCreateMasterKey(path); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			_, _, err := LoadOrCreateMasterKey(path)
			if !errors.Is(err, errkind.Invalid) || !strings.Contains(err.Error(), "chmod 600") {
				t.Errorf("load with mode %#o: error = %v; want Invalid telling to chmod 600", mode, err)
			}
		})
	}
}

func TestLoadMasterKeyBadContent(t *testing.T) {
	tests := map[string]string{
		"empty":      "",
		"short":      base64.StdEncoding.EncodeToString(make([]byte, 16)),
		"not base64": "this is not a key!",
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "master.key")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, _, err := LoadOrCreateMasterKey(path); !errors.Is(err, errkind.Invalid) {
				t.Errorf("error = %v; want Invalid", err)
			}
		})
	}
}

func TestParseMasterKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb, 0xff, 0x01}, 11)[:32]
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{"std", base64.StdEncoding.EncodeToString(raw), false},
		{"std with newline", base64.StdEncoding.EncodeToString(raw) + "\n", false},
		{"raw url", base64.RawURLEncoding.EncodeToString(raw), false},
		{"empty", "", true},
		{"31 bytes", base64.StdEncoding.EncodeToString(raw[:31]), true},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(raw, 1)), true},
		{"garbage", "%%%%", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMasterKey(tt.in)
			if tt.wantErr {
				if !errors.Is(err, errkind.Invalid) {
					t.Errorf("ParseMasterKey error = %v; want Invalid", err)
				}
				if err != nil && tt.in != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.in)) {
					t.Errorf("error %q repeats the input", err)
				}
				return
			}
			if err != nil || !bytes.Equal(m.k()[:], raw) {
				t.Errorf("ParseMasterKey = %v; want the key", err)
			}
		})
	}
}

// forbidden returns the renderings of secret that must never show up.
func forbidden(secret []byte) []string {
	dec := fmt.Sprint(secret[:8])
	return []string{
		hex.EncodeToString(secret),
		hex.EncodeToString(secret[:8]),
		base64.StdEncoding.EncodeToString(secret)[:12],
		base64.RawURLEncoding.EncodeToString(secret)[:12],
		strings.TrimSuffix(dec, "]"), // "[12 34 ..." as %v prints a byte slice
		fmt.Sprintf("%#v", secret[:4])[:16],
		string(secret[:8]),
		// an AES key schedule starts with the key as big-endian words
		strconv.FormatUint(uint64(binary.BigEndian.Uint32(secret)), 10),
		strconv.FormatUint(uint64(binary.BigEndian.Uint32(secret[4:])), 10),
	}
}

// renderings formats v every way a log line or a debug print might.
func renderings(t *testing.T, v any) []string {
	t.Helper()
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
		out = append(out, fmt.Sprintf(verb, v))
	}
	out = append(out, fmt.Sprint(v), fmt.Sprintln(v))
	if j, err := json.Marshal(v); err == nil {
		out = append(out, string(j))
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", v)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", v)
	out = append(out, buf.String())
	return out
}

func checkRedacted(t *testing.T, name string, v any, secret []byte) {
	t.Helper()
	for _, got := range renderings(t, v) {
		for _, bad := range forbidden(secret) {
			if strings.Contains(got, bad) {
				t.Errorf("%s renders as %q, which contains secret bytes (%q)", name, got, bad)
			}
		}
	}
}

func TestRedaction(t *testing.T) {
	ctx := t.Context()
	m := GenerateMasterKey()
	secret := m.k()[:]
	for name, v := range map[string]any{
		"*MasterKey":       m,
		"MasterKey":        *m,
		"struct{*M}":       struct{ M *MasterKey }{m},
		"struct{M}":        struct{ M MasterKey }{*m},
		"struct{m}":        struct{ m MasterKey }{*m},
		"struct{m *}":      struct{ m *MasterKey }{m},
		"[]*MasterKey":     []*MasterKey{m},
		"map[string]value": map[string]MasterKey{"k": *m},
	} {
		checkRedacted(t, name, v, secret)
	}
	for _, s := range []string{fmt.Sprint(m), fmt.Sprintf("%#v", m)} {
		if s != "kms.MasterKey(redacted)" {
			t.Errorf("MasterKey prints as %q; want kms.MasterKey(redacted)", s)
		}
	}
	c := NewCustodian(&memStore{}, m, nil)
	checkRedacted(t, "*Custodian", c, secret)
	checkRedacted(t, "Custodian", *c, secret)

	for _, typ := range KeyTypes {
		k, err := c.Generate(ctx, "agy_a", typ)
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.Signer(ctx, "agy_a", k.ID)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := c.store.Key(ctx, "agy_a", k.ID)
		if err != nil {
			t.Fatal(err)
		}
		key, err := unsealKey(c.wrap, rec)
		if err != nil {
			t.Fatal(err)
		}
		var priv []byte
		switch p := key.(type) {
		case ed25519.PrivateKey:
			priv = p.Seed()
		case *blsPrivateKey:
			priv = p.scalar
		case *ecdsa.PrivateKey:
			priv = p.D.Bytes()
			for _, got := range renderings(t, s) {
				if strings.Contains(got, p.D.String()) {
					t.Errorf("Signer renders as %q, which contains the private scalar", got)
				}
			}
		}
		for name, v := range map[string]any{
			"*Signer":     s,
			"Signer":      *s,
			"struct{s}":   struct{ s Signer }{*s},
			"struct{S *}": struct{ S *Signer }{s},
			"[]*Signer":   []*Signer{s},
		} {
			checkRedacted(t, string(typ)+" "+name, v, priv)
		}
		if got := fmt.Sprint(s); !strings.Contains(got, k.ID) || !strings.Contains(got, "redacted") {
			t.Errorf("Signer prints as %q; want its key id and \"redacted\"", got)
		}
	}
}
