package registry

import (
	"cmp"
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/edsig"
)

// smallOrderOp returns an operation "signed" by a key of order 8 with R
// the identity and S = 0, which ZIP 215's rule accepts and
// crypto/ed25519's refuses (its challenge is not a multiple of 8).
func smallOrderOp(t *testing.T) (*parsed, ed25519.PublicKey) {
	t.Helper()
	pub, _ := hex.DecodeString("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
	sig := append([]byte{1}, make([]byte, 63)...)
	for i := range 64 {
		compact := fmt.Sprintf("aGVhZGVy.cGF5bG9hZA%d.%s", i, base64.RawURLEncoding.EncodeToString(sig))
		p := &parsed{SignedOp: SignedOp{JWS: compact, Hash: fmt.Sprintf("small-order-%d", i)}, alg: AlgEdDSA, sig: sig}
		if !ed25519.Verify(pub, p.signingInput(), sig) {
			return p, pub
		}
	}
	t.Fatal("no message found that crypto/ed25519 refuses")
	return nil, nil
}

func machineWithRule(t *testing.T, rule string) *Machine {
	t.Helper()
	g, _, _, err := NewDevGenesis("rule-test", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	g.Params.SignatureRule = rule
	return NewMachine(g)
}

// TestSignatureRuleOnEveryPath checks that the chain's signature rule,
// and nothing else, decides a signature on which the rules differ, on
// each path that checks one: a single check, a submission's joined
// check, and the checks of a block made in batches.
func TestSignatureRuleOnEveryPath(t *testing.T) {
	for _, tt := range []struct {
		rule   string
		accept bool
	}{{SignatureRuleZIP215, true}, {SignatureRuleStdlib, false}} {
		t.Run(cmp.Or(tt.rule, "stdlib"), func(t *testing.T) {
			p, pub := smallOrderOp(t)
			if err := machineWithRule(t, tt.rule).preverify(p, pub); (err == nil) != tt.accept {
				t.Errorf("preverify: %v; want accepted %v", err, tt.accept)
			}
			if err := machineWithRule(t, tt.rule).preverifyJoined(p, pub); (err == nil) != tt.accept {
				t.Errorf("preverifyJoined: %v; want accepted %v", err, tt.accept)
			}
			m := machineWithRule(t, tt.rule)
			ops, keys := []*parsed{p}, []crypto.PublicKey{pub}
			for i := range 70 { // more than a batch of valid signatures with it
				_, priv, _ := ed25519.GenerateKey(nil)
				compact := fmt.Sprintf("aGVhZGVy.b3A%d", i)
				sig := ed25519.Sign(priv, []byte(compact))
				compact += "." + base64.RawURLEncoding.EncodeToString(sig)
				ops = append(ops, &parsed{SignedOp: SignedOp{JWS: compact, Hash: fmt.Sprintf("op-%d", i)}, alg: AlgEdDSA, sig: sig})
				keys = append(keys, priv.Public())
			}
			m.preverifyMany(ops, keys)
			if got := m.sigs.has(p.Hash, pub); got != tt.accept {
				t.Errorf("preverifyMany remembered the small-order signature: %v; want %v", got, tt.accept)
			}
			for i := 1; i < len(ops); i++ {
				if !m.sigs.has(ops[i].Hash, keys[i]) {
					t.Fatalf("preverifyMany: valid signature %d not remembered", i)
				}
			}
		})
	}
}

// TestSigBatcherVerdicts checks that checks asked for concurrently, in
// full batches and in a last partial one the timer makes, each get the
// verdict edsig.VerifyZIP215 gives, with a bad signature among good ones.
func TestSigBatcherVerdicts(t *testing.T) {
	var b sigBatcher
	const n = 3*sigBatchMax + 17
	var wg sync.WaitGroup
	for i := range n {
		pub, priv, _ := ed25519.GenerateKey(nil)
		msg := []byte(fmt.Sprintf("check %d", i))
		sig := ed25519.Sign(priv, msg)
		if i%7 == 3 {
			sig[10] ^= 1
		}
		wg.Go(func() {
			if got, want := b.verify(pub, msg, sig), edsig.VerifyZIP215(pub, msg, sig); got != want || got != (i%7 != 3) {
				t.Errorf("check %d: got %v; VerifyZIP215 says %v", i, got, want)
			}
		})
	}
	wg.Wait()
	if len(b.pending) != 0 {
		t.Errorf("%d checks left pending", len(b.pending))
	}
}
