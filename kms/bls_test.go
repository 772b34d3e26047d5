package kms

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/hyperledger/aries-framework-go/pkg/crypto/primitive/bbs12381g2pub"

	"github.com/urbis-id/urbis/internal/bls"
	"github.com/urbis-id/urbis/internal/errkind"
)

func TestBLSGenerateSign(t *testing.T) {
	ctx := context.Background()
	c, st := newTestCustodian(t)
	k, err := c.Generate(ctx, "agy_a", Bls12381G2)
	if err != nil {
		t.Fatalf("Generate error = %v", err)
	}
	pub, ok := k.Public.(*bls.PublicKey)
	if !ok {
		t.Fatalf("public key type = %T; want *bls.PublicKey", k.Public)
	}
	rec, err := st.Key(ctx, "agy_a", k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(rec.Public); got != hex.EncodeToString(pub.Bytes()) {
		t.Errorf("stored public key = %s; want the compressed G2 point %x", got, pub.Bytes())
	}
	s, err := c.Signer(ctx, "agy_a", k.ID)
	if err != nil {
		t.Fatalf("Signer error = %v", err)
	}
	if !s.Public().(*bls.PublicKey).Equal(pub) || s.Type() != Bls12381G2 || s.Algorithm() != "" {
		t.Errorf("signer = (%v, %s, %q); want the generated key, Bls12381G2, no JOSE alg", s.Public(), s.Type(), s.Algorithm())
	}
	msgs := "first message\nsecond message\n\nthird message\n"
	sig, err := s.Sign(rand.Reader, []byte(msgs), crypto.Hash(0))
	if err != nil {
		t.Fatalf("Sign error = %v", err)
	}
	three := [][]byte{[]byte("first message"), []byte("second message"), []byte("third message")}
	if err := bbs12381g2pub.New().Verify(three, sig, pub.Bytes()); err != nil {
		t.Errorf("BBS+ signature over the three lines does not verify: %v", err)
	}
	three[1] = []byte("changed")
	if err := bbs12381g2pub.New().Verify(three, sig, pub.Bytes()); err == nil {
		t.Errorf("BBS+ signature verifies over a changed message; want an error")
	}
	if _, err := s.Sign(rand.Reader, []byte("\n \n"), crypto.Hash(0)); !errors.Is(err, errkind.Invalid) {
		t.Errorf("Sign of no message: error = %v; want Invalid", err)
	}
}

func TestBLSTamperedRecord(t *testing.T) {
	ctx := context.Background()
	c, st := newTestCustodian(t)
	r, _, err := c.NewRecord("agy_a", Bls12381G2)
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := c.NewRecord("agy_a", Bls12381G2)
	r.Public = other.Public
	if err := st.CreateKey(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Signer(ctx, "agy_a", r.ID); !errors.Is(err, errkind.Internal) {
		t.Errorf("Signer of a record whose public key is another's: error = %v; want Internal", err)
	}
}
