package vote_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha512"
	"testing"

	"github.com/cloudflare/circl/blindsign/blindrsa"
)

func BenchmarkVerifyCircl(b *testing.B) {
	tok, sig := token(b)
	v, _ := blindrsa.NewVerifier(blindrsa.SHA384PSSRandomized, &testKey().PublicKey)
	for b.Loop() {
		if err := v.Verify(tok, sig); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyStdlib(b *testing.B) {
	tok, sig := token(b)
	for b.Loop() {
		h := sha512.Sum384(tok)
		if err := rsa.VerifyPSS(&testKey().PublicKey, crypto.SHA384, h[:], sig, &rsa.PSSOptions{SaltLength: 48}); err != nil {
			b.Fatal(err)
		}
	}
}
