package wallet

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/urbis-id/urbis/internal/errkind"
)

// FileName is the name of the wallet file in its directory.
const FileName = "wallet.urbis"

// formatVersion is the version of the sealed file format.
const formatVersion = 1

// KDF holds the argon2id parameters that turn a passphrase into the
// wallet's key. They are stored in the file, so a wallet keeps the
// parameters it was created with.
type KDF struct {
	Time    uint32 `json:"time"`    // passes
	Memory  uint32 `json:"memory"`  // KiB
	Threads uint8  `json:"threads"` // lanes
}

// DefaultKDF is argon2id with 64 MiB, 3 passes and 2 lanes (above the
// OWASP minimum of 19 MiB and 2 passes).
var DefaultKDF = KDF{Time: 3, Memory: 64 * 1024, Threads: 2}

// valid reports whether k is within the bounds Open accepts, so that a
// tampered file cannot make Open allocate without limit or skip the KDF.
func (k KDF) valid() bool {
	return k.Time >= 1 && k.Time <= 64 && k.Memory >= 8*1024 && k.Memory <= 4*1024*1024 && k.Threads >= 1
}

// sealed is the wallet file: the KDF salt and parameters in the clear,
// and the contents encrypted with XChaCha20-Poly1305 under the argon2id
// key. The clear fields are authenticated as additional data.
type sealed struct {
	Version    int    `json:"version"`
	KDF        string `json:"kdf"` // "argon2id"
	Params     KDF    `json:"params"`
	Salt       []byte `json:"salt"`
	Cipher     string `json:"cipher"` // "xchacha20-poly1305"
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

func (s sealed) additionalData() []byte {
	b, _ := json.Marshal(struct {
		Version int    `json:"version"`
		KDF     string `json:"kdf"`
		Params  KDF    `json:"params"`
		Salt    []byte `json:"salt"`
		Cipher  string `json:"cipher"`
	}{s.Version, s.KDF, s.Params, s.Salt, s.Cipher})
	return b
}

// seal encrypts plain under passphrase with fresh salt and nonce.
func seal(plain, passphrase []byte, params KDF) (sealed, error) {
	s := sealed{Version: formatVersion, KDF: "argon2id", Params: params, Cipher: "xchacha20-poly1305",
		Salt: make([]byte, 16), Nonce: make([]byte, chacha20poly1305.NonceSizeX)}
	if _, err := rand.Read(s.Salt); err != nil {
		return sealed{}, err
	}
	if _, err := rand.Read(s.Nonce); err != nil {
		return sealed{}, err
	}
	aead, err := chacha20poly1305.NewX(deriveKey(passphrase, s.Salt, params))
	if err != nil {
		return sealed{}, err
	}
	s.Ciphertext = aead.Seal(nil, s.Nonce, plain, s.additionalData())
	return s, nil
}

// open decrypts s with passphrase: Unauthorized when the passphrase is
// wrong (or the file was altered), Invalid when s is not a wallet file
// this version reads.
func (s sealed) open(passphrase []byte) ([]byte, error) {
	if s.Version != formatVersion || s.KDF != "argon2id" || s.Cipher != "xchacha20-poly1305" {
		return nil, errkind.New(errkind.Invalid, "not a wallet file of version %d (argon2id, xchacha20-poly1305): version %d, kdf %q, cipher %q", formatVersion, s.Version, s.KDF, s.Cipher)
	}
	if !s.Params.valid() || len(s.Salt) < 16 || len(s.Nonce) != chacha20poly1305.NonceSizeX {
		return nil, errkind.New(errkind.Invalid, "wallet file has out-of-range key derivation parameters or a bad salt or nonce")
	}
	aead, err := chacha20poly1305.NewX(deriveKey(passphrase, s.Salt, s.Params))
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, s.Nonce, s.Ciphertext, s.additionalData())
	if err != nil {
		return nil, errkind.New(errkind.Unauthorized, "wrong passphrase (or the wallet file was altered)")
	}
	return plain, nil
}

func deriveKey(passphrase, salt []byte, p KDF) []byte {
	return argon2.IDKey(passphrase, salt, p.Time, p.Memory, p.Threads, chacha20poly1305.KeySize)
}

// readSealed reads and decrypts the sealed file at path.
func readSealed(path string, passphrase []byte) ([]byte, KDF, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, KDF{}, errkind.New(errkind.NotFound, "no wallet at %s; create one with `urbis wallet init`", path)
	}
	if err != nil {
		return nil, KDF{}, err
	}
	var s sealed
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, KDF{}, errkind.New(errkind.Invalid, "%s is not a wallet file: %v", path, err)
	}
	plain, err := s.open(passphrase)
	return plain, s.Params, err
}

// writeSealed encrypts plain and replaces the file at path atomically:
// the new file is written and synced beside it, renamed over it, and the
// directory synced, so a crash leaves either the old file or the new one.
func writeSealed(path string, plain, passphrase []byte, params KDF) error {
	s, err := seal(plain, passphrase, params)
	if err != nil {
		return err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
