package registry

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
)

// sigCacheSize bounds the signatures the machine remembers as verified:
// a pair is needed from the operation's submission to its block, so
// this many is more than the pending operations of a busy node.
const sigCacheSize = 1 << 16

// sigCache remembers (operation hash, public key) pairs whose signature
// verified, so that an operation checked when it was submitted is not
// checked again by the sequencer. A pair is a fact about bytes, true in
// any state: the machine still resolves the key from state and only
// skips the arithmetic. It forgets the oldest pair when full. Pairs are
// kept as the SHA-256 of the hash and the key (32 bytes each).
type sigCache struct{ digests *digestSet }

func newSigCache(size int) *sigCache { return &sigCache{newDigestSet(size)} }

func sigKey(hash string, pub crypto.PublicKey) ([32]byte, bool) {
	var b []byte
	switch k := pub.(type) {
	case ed25519.PublicKey:
		b = k
	case *ecdsa.PublicKey:
		var err error
		if b, err = k.Bytes(); err != nil {
			return [32]byte{}, false
		}
	default:
		return [32]byte{}, false
	}
	h := sha256.New()
	h.Write([]byte(hash))
	h.Write(b)
	var k [32]byte
	h.Sum(k[:0])
	return k, true
}

func (c *sigCache) has(hash string, pub crypto.PublicKey) bool {
	k, ok := sigKey(hash, pub)
	return ok && c.digests.has(k)
}

func (c *sigCache) add(hash string, pub crypto.PublicKey) {
	if k, ok := sigKey(hash, pub); ok {
		c.digests.add(k)
	}
}

// preverify verifies p's signature with the key state gives its signer
// now, if state gives one, and remembers the pair when it verifies. It
// returns an error only for a signature that fails with that key; a key
// it cannot resolve (the DID is created or rotated by an operation not
// yet applied) is left to Apply.
func (m *Machine) preverify(p *parsed, pub crypto.PublicKey) error {
	if m.sigs.has(p.Hash, pub) {
		return nil
	}
	if err := p.verify(pub, m.zip215); err != nil {
		return err
	}
	m.sigs.add(p.Hash, pub)
	return nil
}

// preverifyBatch verifies, on every core, the signatures of a batch's
// operations that were not verified at submission (their signer had
// another operation pending then), each with the key the state before
// the batch gives its signer, and remembers those that verify. Applying
// the batch then skips the arithmetic for every operation whose key is
// still that one when its turn comes; an operation whose key an earlier
// one changed, or whose signature fails here, is verified again in
// order by Apply, which alone decides. st must be the block's state
// before any of ops is applied; keys are resolved in order on this
// goroutine.
func (m *Machine) preverifyBatch(ctx context.Context, st StateReader, ops []*parsed) {
	todo := make([]int, 0, len(ops))
	keys := make([]crypto.PublicKey, len(ops))
	for i, p := range ops {
		pub, err := m.keyFor(ctx, st, p)
		if err != nil || m.sigs.has(p.Hash, pub) {
			continue
		}
		keys[i] = pub
		todo = append(todo, i)
	}
	if len(todo) < 2 {
		return
	}
	batch, batchKeys := make([]*parsed, len(todo)), make([]crypto.PublicKey, len(todo))
	for j, i := range todo {
		batch[j], batchKeys[j] = ops[i], keys[i]
	}
	m.preverifyMany(batch, batchKeys)
}
