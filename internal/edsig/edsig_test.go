package edsig

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestVerifyAgreesWithStdlib checks Verify against crypto/ed25519 on
// valid signatures and on many altered keys, messages and signatures,
// including a signature whose S is not reduced and keys of small order.
func TestVerifyAgreesWithStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	seed := make([]byte, ed25519.SeedSize)
	msg := []byte("urbis registry operation")
	for i := range 2000 {
		for j := range seed {
			seed[j] = byte(r.Uint32())
		}
		priv := ed25519.NewKeyFromSeed(seed)
		pub := priv.Public().(ed25519.PublicKey)
		sig := ed25519.Sign(priv, msg)
		p, m, s := append([]byte(nil), pub...), append([]byte(nil), msg...), append([]byte(nil), sig...)
		switch i % 5 {
		case 1:
			s[r.IntN(len(s))] ^= 1 << r.IntN(8)
		case 2:
			p[r.IntN(len(p))] ^= 1 << r.IntN(8)
		case 3:
			m[r.IntN(len(m))] ^= 1 << r.IntN(8)
		case 4:
			s[63] |= 0xf0 // S far above the group order
		}
		if got, want := Verify(p, m, s), ed25519.Verify(p, m, s); got != want {
			t.Fatalf("case %d: Verify = %v; crypto/ed25519 says %v (pub %x sig %x)", i, got, want, p, s)
		}
		if i%5 == 0 && !Verify(p, m, s) {
			t.Fatalf("case %d: a valid signature does not verify", i)
		}
	}
	// Keys of small order and non-canonical encodings: the identity, a
	// point of order 8, and y = p (non-canonical zero).
	for _, k := range []string{
		"0100000000000000000000000000000000000000000000000000000000000000",
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	} {
		pub, _ := hex.DecodeString(k)
		for _, sig := range [][]byte{make([]byte, 64), append(append([]byte(nil), pub...), make([]byte, 32)...)} {
			if got, want := Verify(pub, msg, sig), ed25519.Verify(pub, msg, sig); got != want {
				t.Errorf("key %s: Verify = %v; crypto/ed25519 says %v", k, got, want)
			}
		}
	}
	if Verify(make([]byte, 31), msg, make([]byte, 64)) || Verify(make([]byte, 32), msg, make([]byte, 63)) {
		t.Error("a key or signature of the wrong length verified")
	}
}

// TestBatchAgreesWithVerifyZIP215 checks that a batch gives each
// signature the verdict VerifyZIP215 gives it, for batches of valid
// signatures and for batches mixing in altered ones, keys of small order
// and wrong lengths; and that the two rule sets differ where ZIP 215 says
// they do.
func TestBatchAgreesWithVerifyZIP215(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	seed := make([]byte, ed25519.SeedSize)
	smallOrder, _ := hex.DecodeString("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
	for round := range 60 {
		n := 1 + r.IntN(70)
		b := NewBatch(n)
		type item struct{ pub, msg, sig []byte }
		items := make([]item, n)
		for i := range items {
			for j := range seed {
				seed[j] = byte(r.Uint32())
			}
			priv := ed25519.NewKeyFromSeed(seed)
			msg := []byte(fmt.Sprintf("operation %d of batch %d", i, round))
			it := item{priv.Public().(ed25519.PublicKey), msg, ed25519.Sign(priv, msg)}
			if round%2 == 1 { // every other batch has bad entries
				switch r.IntN(6) {
				case 0:
					it.sig[r.IntN(64)] ^= 1 << r.IntN(8)
				case 1:
					it.msg = append(it.msg, '!')
				case 2:
					it.pub, it.sig = smallOrder, make([]byte, 64)
				case 3:
					it.sig = it.sig[:63]
				}
			}
			items[i] = it
			b.Add(it.pub, it.msg, it.sig)
		}
		got := b.Verify()
		for i, it := range items {
			if want := VerifyZIP215(it.pub, it.msg, it.sig); got[i] != want {
				t.Fatalf("batch %d, signature %d: batch says %v, VerifyZIP215 %v", round, i, got[i], want)
			}
			if round%2 == 0 && !got[i] {
				t.Fatalf("batch %d, signature %d: a valid signature does not verify", round, i)
			}
		}
	}
	// A key of order 8, R the identity and S = 0: the cofactored equation
	// holds for every message, the cofactorless one only when the
	// challenge is a multiple of 8.
	sig := append([]byte{1}, make([]byte, 63)...)
	differ := false
	for i := range 64 {
		msg := []byte(fmt.Sprintf("message %d", i))
		if !VerifyZIP215(smallOrder, msg, sig) {
			t.Fatalf("message %d: ZIP 215 refuses a small-order key's signature it accepts by definition", i)
		}
		if !Verify(smallOrder, msg, sig) {
			differ = true
		}
	}
	if !differ {
		t.Error("the standard library's rules accepted all 64 small-order signatures; want some refused")
	}
}

// BenchmarkVerify compares Verify with crypto/ed25519's.
func BenchmarkVerify(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	msg := make([]byte, 600) // about a registry operation's signing input
	sig := ed25519.Sign(priv, msg)
	b.Run("edsig", func(b *testing.B) {
		for b.Loop() {
			if !Verify(pub, msg, sig) {
				b.Fatal("does not verify")
			}
		}
	})
	b.Run("crypto-ed25519", func(b *testing.B) {
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("does not verify")
			}
		}
	})
}
