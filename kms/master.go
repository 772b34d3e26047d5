package kms

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/urbis-id/urbis/internal/errkind"
)

// MasterKeySize is the size of a master key in bytes (AES-256).
const MasterKeySize = 32

const redactedMasterKey = "kms.MasterKey(redacted)"

// MasterKey is the key that wraps every data key. It never prints: all
// fmt verbs, JSON and slog show "kms.MasterKey(redacted)". The bytes are
// held in a closure, so that even a MasterKey inside another struct, or
// printed with a verb fmt does not expect, shows an address, never bytes.
type MasterKey struct {
	k func() *[MasterKeySize]byte
}

func newMasterKey(b []byte) *MasterKey {
	k := new([MasterKeySize]byte)
	copy(k[:], b)
	return &MasterKey{k: func() *[MasterKeySize]byte { return k }}
}

// GenerateMasterKey returns a new random master key.
func GenerateMasterKey() *MasterKey {
	b := make([]byte, MasterKeySize)
	defer clear(b)
	rand.Read(b) // never fails
	return newMasterKey(b)
}

// ParseMasterKey decodes a master key from base64 (standard or URL
// alphabet, padded or not), as found in the URBIS_MASTER_KEY environment
// variable. The error never repeats the input.
func ParseMasterKey(b64 string) (*MasterKey, error) {
	s := strings.TrimSpace(b64)
	if s == "" {
		return nil, errkind.New(errkind.Invalid, "kms: master key is empty; want %d bytes in base64", MasterKeySize)
	}
	var b []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return nil, errkind.New(errkind.Invalid, "kms: master key is not valid base64")
	}
	if len(b) != MasterKeySize {
		clear(b)
		return nil, errkind.New(errkind.Invalid, "kms: master key has %d bytes; want %d", len(b), MasterKeySize)
	}
	defer clear(b)
	return newMasterKey(b), nil
}

// LoadOrCreateMasterKey reads the base64 master key in the file at path,
// or, if there is no such file, creates it with a new random key (mode
// 0600, in a directory created with mode 0700) and reports created. It
// refuses a file that group or others may read or write.
func LoadOrCreateMasterKey(path string) (*MasterKey, bool, error) {
	m, err := loadMasterKey(path)
	if err == nil {
		return m, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	m = GenerateMasterKey()
	if err := writeMasterKey(path, m); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process won the race
			m, err := loadMasterKey(path)
			return m, false, err
		}
		return nil, false, err
	}
	return m, true, nil
}

func loadMasterKey(path string) (*MasterKey, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, errkind.Wrap(errkind.Invalid, err, "kms: master key file")
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "kms: master key file")
	}
	if !fi.Mode().IsRegular() {
		return nil, errkind.New(errkind.Invalid, "kms: master key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, errkind.New(errkind.Invalid,
			"kms: master key file %s has mode %#o, so group or others can access it; run `chmod 600 %s`", path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, 1024))
	defer clear(b)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "kms: read master key file %s", path)
	}
	m, err := ParseMasterKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func writeMasterKey(path string, m *MasterKey) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return errkind.Wrap(errkind.Invalid, err, "kms: create master key directory")
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return errkind.Wrap(errkind.Invalid, err, "kms: create master key file")
	}
	b := []byte(base64.StdEncoding.EncodeToString(m.k()[:]) + "\n")
	defer clear(b)
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return errkind.Wrap(errkind.Internal, err, "kms: write master key file %s", path)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil { // make the new name durable
		d.Sync()
		d.Close()
	}
	return nil
}

// String implements fmt.Stringer; it never shows the key.
func (m MasterKey) String() string { return redactedMasterKey }

// GoString implements fmt.GoStringer; it never shows the key.
func (m MasterKey) GoString() string { return redactedMasterKey }

// Format implements fmt.Formatter so that no verb shows the key.
func (m MasterKey) Format(f fmt.State, _ rune) { f.Write([]byte(redactedMasterKey)) }

// MarshalJSON implements json.Marshaler; it never shows the key.
func (m MasterKey) MarshalJSON() ([]byte, error) { return []byte(`"` + redactedMasterKey + `"`), nil }

// MarshalText implements encoding.TextMarshaler; it never shows the key.
func (m MasterKey) MarshalText() ([]byte, error) { return []byte(redactedMasterKey), nil }

// LogValue implements slog.LogValuer; it never shows the key.
func (m MasterKey) LogValue() slog.Value { return slog.StringValue(redactedMasterKey) }
