package registry

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"runtime"

	"github.com/urbis-id/urbis/internal/errkind"
)

// WriteKeyFile writes k to path as a PKCS#8 PEM file of mode 0600. It
// refuses to overwrite an existing file.
func WriteKeyFile(path string, k ed25519.PrivateKey) error {
	if len(k) != ed25519.PrivateKeySize {
		return errkind.New(errkind.Invalid, "Ed25519 private key has %d bytes; want %d", len(k), ed25519.PrivateKeySize)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return errkind.Wrap(errkind.Internal, err, "encode private key")
	}
	return writeNew(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600, "key file")
}

// ReadKeyFile reads an Ed25519 private key from a PKCS#8 PEM file. It
// refuses a file that group or others may read or write.
func ReadKeyFile(path string) (ed25519.PrivateKey, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errkind.New(errkind.NotFound, "key file %s does not exist", path)
	}
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "key file")
	}
	if !fi.Mode().IsRegular() {
		return nil, errkind.New(errkind.Invalid, "key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, errkind.New(errkind.Invalid, "key file %s has mode %#o, so group or others can access it; run `chmod 600 %s`", path, perm, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "read key file")
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, errkind.New(errkind.Invalid, "key file %s is not a PEM \"PRIVATE KEY\" (PKCS#8) file", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "key file %s", path)
	}
	k, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, errkind.New(errkind.Invalid, "key file %s holds a %T key; want Ed25519", path, key)
	}
	return k, nil
}
