package statuslist

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"
)

func TestTokenRoundTrip(t *testing.T) {
	b, err := NewBitstring(MinSize)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 9, 1000} {
		if err := b.Set(i, true); err != nil {
			t.Fatal(err)
		}
	}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	const uri = "https://issuer.example/status/sl_1"
	const kid = "did:key:z6Mk#z6Mk"
	iat := time.Unix(1_700_000_000, 0)
	tok, err := SignToken(uri, b, iat, 60, priv, kid)
	if err != nil {
		t.Fatal(err)
	}
	keyFor := func(got string) (crypto.PublicKey, error) {
		if got != kid {
			t.Errorf("got kid %q; want %q", got, kid)
		}
		return pub, nil
	}
	v, err := VerifyToken(tok, uri, keyFor, iat)
	if err != nil {
		t.Fatalf("VerifyToken: %v", err)
	}
	if v.Bits != 1 {
		t.Errorf("got bits %d; want 1", v.Bits)
	}
	for _, tc := range []struct {
		idx  int
		want uint8
	}{{0, 1}, {1, 0}, {8, 0}, {9, 1}, {999, 0}, {1000, 1}, {MinSize - 1, 0}} {
		got, err := TokenStatus(v.Lst, v.Bits, tc.idx)
		if err != nil || got != tc.want {
			t.Errorf("TokenStatus(%d) = %d, %v; want %d", tc.idx, got, err, tc.want)
		}
	}
	if _, err := TokenStatus(v.Lst, 1, MinSize); err == nil {
		t.Errorf("TokenStatus(%d) outside the list: got no error; want one", MinSize)
	}
	// Index 0 is the least significant bit of the first byte (draft
	// section 4.1): with bits 0 and 9 set, the first bytes are 0x01 0x02.
	if got, _ := TokenStatus(v.Lst, 8, 0); got != 0x01 {
		t.Errorf("first byte = %#x; want 0x01", got)
	}
	if got, _ := TokenStatus(v.Lst, 8, 1); got != 0x02 {
		t.Errorf("second byte = %#x; want 0x02", got)
	}

	parts := strings.Split(tok, ".")
	other, _ := SignToken(uri, b, iat.Add(time.Second), 60, priv, kid)
	tampered := parts[0] + "." + strings.Split(other, ".")[1] + "." + parts[2]
	for name, tc := range map[string]struct{ tok, uri string }{
		"tampered payload": {tampered, uri},
		"other uri":        {tok, uri + "x"},
		"not a JWS":        {"abc", uri},
	} {
		if _, err := VerifyToken(tc.tok, tc.uri, keyFor, iat); err == nil {
			t.Errorf("%s: got no error; want one", name)
		}
	}
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := VerifyToken(tok, uri, func(string) (crypto.PublicKey, error) { return otherKey.Public(), nil }, iat); err == nil {
		t.Error("another key: got no error; want one")
	}
}
