package bls

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/hyperledger/aries-framework-go/pkg/crypto/primitive/bbs12381g2pub"

	"github.com/urbis-id/urbis/internal/errkind"
)

func TestParsePublicKey(t *testing.T) {
	pub, _, err := bbs12381g2pub.GenerateKeyPair(sha256.New, nil)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := pub.Marshal()
	k, err := ParsePublicKey(good)
	if err != nil {
		t.Fatalf("ParsePublicKey(a generated key): %v", err)
	}
	if !bytes.Equal(k.Bytes(), good) {
		t.Errorf("Bytes = %x; want %x", k.Bytes(), good)
	}
	k2, _ := ParsePublicKey(good)
	other, _, _ := bbs12381g2pub.GenerateKeyPair(sha256.New, nil)
	ob, _ := other.Marshal()
	k3, _ := ParsePublicKey(ob)
	if !k.Equal(k2) || k.Equal(k3) || k.Equal(nil) || k.Equal(good) {
		t.Errorf("Equal: same %v, other %v, nil %v, bytes %v; want true, false, false, false", k.Equal(k2), k.Equal(k3), k.Equal(nil), k.Equal(good))
	}
	for name, b := range map[string][]byte{"empty": nil, "short": good[:48], "zero": make([]byte, PublicKeySize), "long": append(append([]byte{}, good...), 0)} {
		if _, err := ParsePublicKey(b); !errors.Is(err, errkind.Invalid) {
			t.Errorf("ParsePublicKey(%s) error = %v; want Invalid", name, err)
		}
	}
}
