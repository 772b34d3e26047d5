package registry

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

func TestGenesisRoundTrip(t *testing.T) {
	g, gov, val, err := NewDevGenesis("urbis-dev", time.Date(2030, 1, 1, 0, 0, 0, 0, time.FixedZone("CET", 3600)))
	if err != nil {
		t.Fatal(err)
	}
	if len(gov) == 0 || len(val) == 0 || g.Params.BlockIntervalMillis != 250 || g.Params.MaxBlockOps != 5000 {
		t.Fatalf("got %+v; want keys and the default parameters", g)
	}
	path := filepath.Join(t.TempDir(), "genesis.json")
	if err := g.Write(path); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("got mode %o; want 0644", fi.Mode().Perm())
	}
	back, err := LoadGenesis(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Hash() != g.Hash() {
		t.Errorf("got hash %s after the round trip; want %s", back.Hash(), g.Hash())
	}
	wantErr(t, g.Write(path), errkind.Conflict, "refusing to overwrite")
}

func TestGenesisValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Genesis)
		want string
	}{
		{"no chain id", func(g *Genesis) { g.ChainID = "" }, "chain id"},
		{"bad chain id", func(g *Genesis) { g.ChainID = "a b" }, "chain id"},
		{"no time", func(g *Genesis) { g.Time = time.Time{} }, "no time"},
		{"no governance", func(g *Genesis) { g.Governance = nil }, "at least one governance DID"},
		{"governance did:web", func(g *Genesis) { g.Governance = []string{"did:web:example.org"} }, "must be a did:key or a did:urbis"},
		{"governance bad did:key", func(g *Genesis) { g.Governance = []string{"did:key:zzz"} }, "governance/0"},
		{"governance twice", func(g *Genesis) { g.Governance = append(g.Governance, g.Governance[0]) }, "listed twice"},
		{"no validators", func(g *Genesis) { g.Validators = nil }, "at least one validator"},
		{"validator id twice", func(g *Genesis) { g.Validators = append(g.Validators, g.Validators[0]) }, "used twice"},
		{"validator bad key", func(g *Genesis) { g.Validators[0].PublicKey = "z1" }, "validators/0/publicKey"},
		{"zero interval", func(g *Genesis) { g.Params.BlockIntervalMillis = 0 }, "blockIntervalMillis"},
		{"too many ops", func(g *Genesis) { g.Params.MaxBlockOps = maxBlockOps + 1 }, "maxBlockOps"},
		{"unknown signature rule", func(g *Genesis) { g.Params.SignatureRule = "ed448" }, `signature rule "ed448" is not known`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _, _ := testGenesis(t)
			tt.edit(g)
			wantErr(t, g.Validate(), errkind.Invalid, tt.want)
		})
	}
}

func TestLoadGenesisRefuses(t *testing.T) {
	dir := t.TempDir()
	unknown := filepath.Join(dir, "unknown.json")
	os.WriteFile(unknown, []byte(`{"chainId":"c","extra":1}`), 0o644)
	_, err := LoadGenesis(unknown)
	wantErr(t, err, errkind.Invalid, `unknown field "extra"`)
	_, err = LoadGenesis(filepath.Join(dir, "missing.json"))
	wantErr(t, err, errkind.NotFound, "does not exist")
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	k := seedKey("validator")
	path := filepath.Join(dir, "validator.pem")
	if err := WriteKeyFile(path, k); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("got mode %o; want 0600", fi.Mode().Perm())
	}
	back, err := ReadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(k) {
		t.Errorf("got another key back; want the one written")
	}
	wantErr(t, WriteKeyFile(path, k), errkind.Conflict, "refusing to overwrite")
	os.Chmod(path, 0o640)
	_, err = ReadKeyFile(path)
	wantErr(t, err, errkind.Invalid, "chmod 600")
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("hello"), 0o600)
	_, err = ReadKeyFile(junk)
	wantErr(t, err, errkind.Invalid, "PKCS#8")
}

// TestGenesisWithoutSignatureRule checks that a genesis naming no rule
// encodes, and so hashes, as genesis files written before the rule
// existed (their chains keep their hashes and crypto/ed25519's rule), and
// that a dev genesis names ZIP 215.
func TestGenesisWithoutSignatureRule(t *testing.T) {
	g, _, _ := testGenesis(t)
	g.Params.SignatureRule = SignatureRuleStdlib
	b, err := Canonical(*g)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "signatureRule") {
		t.Errorf("got %s; want no signatureRule member", b)
	}
	dev, _, _, err := NewDevGenesis("dev", time.Now())
	if err != nil || dev.Params.SignatureRule != SignatureRuleZIP215 {
		t.Errorf("NewDevGenesis: rule %q, %v; want %q", dev.Params.SignatureRule, err, SignatureRuleZIP215)
	}
}
