package wallet

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

// testKDF is the smallest setting Open accepts, to keep tests fast.
var testKDF = Options{KDF: KDF{Time: 1, Memory: 8 * 1024, Threads: 1}}

var pass = []byte("correct horse battery")

func newWallet(t *testing.T) (*Wallet, string) {
	t.Helper()
	dir := t.TempDir()
	w, err := Create(dir, pass, testKDF)
	if err != nil {
		t.Fatal(err)
	}
	return w, dir
}

func TestCreateOpenAndPassphrase(t *testing.T) {
	w, dir := newWallet(t)
	d, err := w.NewDIDKey("")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d.DID, "did:key:z6Mk") {
		t.Errorf("got DID %s; want an Ed25519 did:key", d.DID)
	}
	if _, err := Create(dir, pass, testKDF); !errors.Is(err, errkind.Conflict) {
		t.Errorf("Create over an existing wallet: got %v; want Conflict", err)
	}
	if _, err := Create(t.TempDir(), []byte("short"), testKDF); !errors.Is(err, errkind.Invalid) {
		t.Errorf("Create with a 5-character passphrase: got %v; want Invalid", err)
	}

	w2, err := Open(dir, pass, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := w2.DIDs(); len(got) != 1 || got[0].DID != d.DID {
		t.Errorf("reopened wallet has DIDs %v; want [%s]", got, d.DID)
	}
	if _, err := Open(dir, []byte("wrong horse battery"), Options{}); !errors.Is(err, errkind.Unauthorized) {
		t.Errorf("Open with a wrong passphrase: got %v; want Unauthorized", err)
	}
	if _, err := Open(t.TempDir(), pass, Options{}); !errors.Is(err, errkind.NotFound) {
		t.Errorf("Open of an empty directory: got %v; want NotFound", err)
	}

	// The key signs for its DID: the did:key resolves to the same key.
	signer, vm, err := w2.Signer(d.DID)
	if err != nil {
		t.Fatal(err)
	}
	id, err := did.Parse(d.DID)
	if err != nil {
		t.Fatal(err)
	}
	res, err := did.KeyMethod{}.Resolve(t.Context(), id, did.ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, ok := res.Document.VerificationMethodByID(vm)
	if !ok {
		t.Fatalf("the did:key document has no verification method %s", vm)
	}
	pub, err := m.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("hello")
	sig, _ := signer.Sign(nil, msg, &ed25519Opts)
	if !ed25519.Verify(pub.(ed25519.PublicKey), msg, sig) {
		t.Error("signature by the wallet key does not verify with the did:key's key")
	}
}

var ed25519Opts = ed25519.Options{}

func TestFileHoldsNoSecretsInTheClear(t *testing.T) {
	w, dir := newWallet(t)
	if _, err := w.NewDIDKey(""); err != nil {
		t.Fatal(err)
	}
	tok := jwtVC(t, "did:example:issuer", "ResidentCredential", "Alice Example")
	if _, err := w.AddCredential(mustJSON(t, tok)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"Alice", "did:key", "did:example:issuer", "ResidentCredential", tok[:20]} {
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("wallet file holds %q in the clear", secret)
		}
	}
	if fi, _ := os.Stat(Path(dir)); fi.Mode().Perm() != 0o600 {
		t.Errorf("wallet file mode: got %v; want 0600", fi.Mode().Perm())
	}
	if s := fmt.Sprintf("%v %+v %#v", w.c.Keys[0], w.c.Keys[0].Seed, w.c.Keys[0].Seed); strings.Contains(s, fmt.Sprintf("%x", []byte(w.c.Keys[0].Seed))) {
		t.Errorf("printing a key shows its seed: %s", s)
	}
}

func TestTamperedFileIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(s *sealed)
		want   error
	}{
		{"ciphertext", func(s *sealed) { s.Ciphertext[0] ^= 1 }, errkind.Unauthorized},
		{"salt", func(s *sealed) { s.Salt[0] ^= 1 }, errkind.Unauthorized},
		{"kdf time (authenticated)", func(s *sealed) { s.Params.Time++ }, errkind.Unauthorized},
		{"kdf memory out of range", func(s *sealed) { s.Params.Memory = 1 << 30 }, errkind.Invalid},
		{"cipher name", func(s *sealed) { s.Cipher = "none" }, errkind.Invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, dir := newWallet(t)
			b, _ := os.ReadFile(Path(dir))
			var s sealed
			if err := json.Unmarshal(b, &s); err != nil {
				t.Fatal(err)
			}
			tc.change(&s)
			b, _ = json.Marshal(s)
			os.WriteFile(Path(dir), b, 0o600)
			if _, err := Open(dir, pass, Options{}); !errors.Is(err, tc.want) {
				t.Errorf("got %v; want %v", err, tc.want)
			}
		})
	}
}

// TestCrashDuringWriteKeepsAWallet: a write that dies before its rename
// leaves a temporary file beside the wallet; the wallet still opens with
// its previous contents, and the next write succeeds.
func TestCrashDuringWriteKeepsAWallet(t *testing.T) {
	w, dir := newWallet(t)
	d, err := w.NewDIDKey("")
	if err != nil {
		t.Fatal(err)
	}
	// What a crash between write and rename leaves: a partial temp file.
	os.WriteFile(filepath.Join(dir, FileName+".123.tmp"), []byte(`{"version":1,"cip`), 0o600)
	// A failed write (directory made read-only) changes nothing in memory.
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	_, err = w.NewDIDKey("shop.example")
	os.Chmod(dir, 0o700)
	if os.Geteuid() != 0 { // root writes regardless of mode
		if err == nil {
			t.Fatal("writing into a read-only directory succeeded")
		}
		if got := len(w.DIDs()); got != 1 {
			t.Errorf("after a failed write the wallet has %d DIDs; want 1", got)
		}
	}
	w2, err := Open(dir, pass, Options{})
	if err != nil {
		t.Fatalf("open after a crash: %v", err)
	}
	if got := w2.DIDs(); len(got) < 1 || got[0].DID != d.DID {
		t.Errorf("after a crash the wallet has %v; want %s first", got, d.DID)
	}
	if _, err := w2.NewDIDKey("later"); err != nil {
		t.Errorf("write after a crash: %v", err)
	}
}

func TestCredentialsAndFormats(t *testing.T) {
	w, _ := newWallet(t)
	tok := jwtVC(t, "did:example:issuer", "ResidentCredential", "Alice")
	sd := sdJWT(t, "did:example:city", "urn:urbis:ResidentCredential") + "WyJzYWx0IiwibmFtZSIsIkFsaWNlIl0~"
	ldp := map[string]any{"@context": []any{"https://www.w3.org/ns/credentials/v2"}, "type": []any{"VerifiableCredential", "LandTitle"},
		"issuer": map[string]any{"id": "did:example:land"}, "credentialSubject": map[string]any{"id": "did:example:alice"}, "proof": map[string]any{"type": "DataIntegrityProof"}}
	for _, tc := range []struct {
		name       string
		in         any
		format     string
		issuer     string
		types      []string
		wantErrStr string
	}{
		{"jwt string", tok, FormatJWT, "did:example:issuer", []string{"VerifiableCredential", "ResidentCredential"}, ""},
		{"issue answer with envelope", map[string]any{"verifiableCredential": map[string]any{"@context": []any{"https://www.w3.org/ns/credentials/v2"},
			"type": "EnvelopedVerifiableCredential", "id": "data:application/vc+jwt," + tok}}, FormatJWT, "did:example:issuer", []string{"VerifiableCredential", "ResidentCredential"}, ""},
		{"sd-jwt", sd, FormatSDJWT, "did:example:city", []string{"urn:urbis:ResidentCredential"}, ""},
		{"ldp object", ldp, FormatLDP, "did:example:land", []string{"VerifiableCredential", "LandTitle"}, ""},
		{"ldp without proof", map[string]any{"type": []any{"VerifiableCredential"}}, "", "", nil, "/proof"},
		{"not a credential", map[string]any{"type": "Thing"}, "", "", nil, "/type"},
		{"two-part token", "a.b", "", "", nil, "three dot-separated parts"},
		{"number", 42, "", "", nil, "JSON object or a compact token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := w.AddCredential(mustJSON(t, tc.in))
			if tc.wantErrStr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrStr) {
					t.Fatalf("got %v; want an error naming %q", err, tc.wantErrStr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Format != tc.format || c.Issuer != tc.issuer || strings.Join(c.Types, ",") != strings.Join(tc.types, ",") {
				t.Errorf("got %s %s %v; want %s %s %v", c.Format, c.Issuer, c.Types, tc.format, tc.issuer, tc.types)
			}
			got, err := w.Credential(c.ID)
			if err != nil || !bytes.Equal(got.Raw, c.Raw) {
				t.Errorf("Credential(%s): got %v, %v", c.ID, got, err)
			}
		})
	}
	if _, err := w.Credential("nope"); !errors.Is(err, errkind.NotFound) {
		t.Errorf("unknown id: got %v; want NotFound", err)
	}
}

func TestExportImport(t *testing.T) {
	w, _ := newWallet(t)
	d, _ := w.NewDIDKey("")
	c, err := w.AddCredential(mustJSON(t, jwtVC(t, "did:example:issuer", "ResidentCredential", "Alice")))
	if err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "backup.urbis")
	if err := w.Export(backup, []byte("backup passphrase")); err != nil {
		t.Fatal(err)
	}
	if err := w.Export(backup, []byte("backup passphrase")); !errors.Is(err, errkind.Conflict) {
		t.Errorf("export over an existing file: got %v; want Conflict", err)
	}
	other, _ := newWallet(t)
	if _, err := other.Import(backup, pass); !errors.Is(err, errkind.Unauthorized) {
		t.Errorf("import with the wallet's passphrase instead of the backup's: got %v; want Unauthorized", err)
	}
	n, err := other.Import(backup, []byte("backup passphrase"))
	if err != nil || n != 1 {
		t.Fatalf("import: got %d, %v; want 1 credential", n, err)
	}
	if n, _ := other.Import(backup, []byte("backup passphrase")); n != 0 {
		t.Errorf("second import added %d credentials; want 0", n)
	}
	if _, _, err := other.Signer(d.DID); err != nil {
		t.Errorf("imported wallet cannot sign for %s: %v", d.DID, err)
	}
	if _, err := other.Credential(c.ID); err != nil {
		t.Errorf("imported wallet lacks credential %s: %v", c.ID, err)
	}
}

func TestClockStampsReceipt(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	w, err := Create(t.TempDir(), pass, Options{KDF: testKDF.KDF, Clock: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	c, err := w.AddCredential(mustJSON(t, jwtVC(t, "did:example:i", "T", "x")))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Received.Equal(at) {
		t.Errorf("received: got %v; want %v", c.Received, at)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jwtVC is an unsigned-looking JWT-VC: the wallet summarises without
// verifying, so the signature part is arbitrary.
func jwtVC(t *testing.T, iss, typ, name string) string {
	return token(t, map[string]any{"iss": iss, "vc": map[string]any{"type": []any{"VerifiableCredential", typ}, "credentialSubject": map[string]any{"name": name}}})
}

func sdJWT(t *testing.T, iss, vct string) string {
	return token(t, map[string]any{"iss": iss, "vct": vct, "_sd": []any{"x"}}) + "~"
}

func token(t *testing.T, claims map[string]any) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"EdDSA"}`)) + "." + enc(mustJSON(t, claims)) + "." + enc([]byte("sig"))
}
