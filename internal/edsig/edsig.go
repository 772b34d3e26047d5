// Package edsig verifies Ed25519 signatures, computed by curve25519-voi,
// under one of two fixed rule sets: exactly the standard library's
// crypto/ed25519 (RFC 8032, cofactorless, canonical S, non-canonical A
// accepted), in about 60% of its time; or ZIP 215 (cofactored, the rules
// CometBFT and Zcash use), under which many signatures can be verified
// in one batch for about 60% of the cost of verifying them one by one,
// with exactly the verdicts one-by-one verification gives. The registry's
// state machine and the credential verifier use it on their hot paths: a
// verdict must never depend on which node or binary computed it, hence
// rules fixed exactly (a chain names its rule in its genesis).
package edsig

import (
	"crypto/ed25519"
	"crypto/rand"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// stdlib selects crypto/ed25519's verification rules.
var stdlib = &voi.Options{Verify: voi.VerifyOptionsStdLib}

// Verify reports whether sig is pub's signature of msg, as
// ed25519.Verify does: a key or signature of the wrong length does not
// verify.
func Verify(pub ed25519.PublicKey, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	return voi.VerifyWithOptions(voi.PublicKey(pub), msg, sig, stdlib)
}

// zip215 selects the rules of ZIP 215.
var zip215 = &voi.Options{Verify: voi.VerifyOptionsZIP_215}

// VerifyZIP215 reports whether sig is pub's signature of msg under the
// rules of ZIP 215 (cofactored; small-order and non-canonical encodings
// of A and R accepted; S must be canonical). A signature made by
// ed25519.Sign verifies under both rule sets; they differ only on
// signatures crafted with points of small order. A key or signature of
// the wrong length does not verify.
func VerifyZIP215(pub ed25519.PublicKey, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	return voi.VerifyWithOptions(voi.PublicKey(pub), msg, sig, zip215)
}

// Batch verifies signatures together under the rules of ZIP 215. Verdicts
// are those of VerifyZIP215 for each signature: when the batch equation
// fails, each signature is verified on its own. Not safe for concurrent
// use.
type Batch struct {
	items []batchItem
}

type batchItem struct {
	pub      ed25519.PublicKey
	msg, sig []byte
}

// NewBatch returns a batch with room for n signatures.
func NewBatch(n int) *Batch {
	return &Batch{items: make([]batchItem, 0, n)}
}

// Add adds pub's signature sig of msg to the batch.
func (b *Batch) Add(pub ed25519.PublicKey, msg, sig []byte) {
	b.items = append(b.items, batchItem{pub, msg, sig})
}

// Verify returns, in the order of Add, whether each signature verifies.
// Fewer than two signatures are verified one by one: for one, the batch
// equation costs more than VerifyZIP215.
func (b *Batch) Verify() []bool {
	out := make([]bool, len(b.items))
	if len(b.items) < 2 {
		for i, it := range b.items {
			out[i] = VerifyZIP215(it.pub, it.msg, it.sig)
		}
		return out
	}
	bv := voi.NewBatchVerifierWithCapacity(len(b.items))
	var added []int // wrong lengths are not added: they do not verify
	for i, it := range b.items {
		if len(it.pub) == ed25519.PublicKeySize && len(it.sig) == ed25519.SignatureSize {
			bv.AddWithOptions(voi.PublicKey(it.pub), it.msg, it.sig, zip215)
			added = append(added, i)
		}
	}
	if len(added) == 0 {
		return out
	}
	_, ok := bv.Verify(rand.Reader)
	for j, i := range added {
		out[i] = ok[j]
	}
	return out
}
