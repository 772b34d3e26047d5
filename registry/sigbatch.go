package registry

import (
	"crypto"
	"crypto/ed25519"
	"runtime"
	"sync"
	"time"

	"github.com/urbis-id/urbis/internal/edsig"
)

// Batches of Ed25519 checks on a ZIP 215 chain: at most sigBatchMax
// signatures in one, and a check waits at most sigBatchWait for others to
// join it. A batch of 64 costs about 60% of checking its signatures one
// by one; the wait is small beside a block interval.
const (
	sigBatchMax  = 64
	sigBatchWait = 2 * time.Millisecond
)

// preverifyJoined is preverify for a caller that runs concurrently with
// others, as the engine's submissions do: on a ZIP 215 chain an Ed25519
// check joins the checks other callers asked for meanwhile and is made
// in one batch with them. The verdict is the one preverify gives.
func (m *Machine) preverifyJoined(p *parsed, pub crypto.PublicKey) error {
	k, ok := pub.(ed25519.PublicKey)
	if m.batcher == nil || !ok || p.alg != AlgEdDSA || m.sigs.has(p.Hash, pub) {
		return m.preverify(p, pub)
	}
	if !m.batcher.verify(k, p.signingInput(), p.sig) {
		return p.verify(pub, m.zip215) // refused: its error says why
	}
	m.sigs.add(p.Hash, pub)
	return nil
}

// preverifyMany preverifies ops[i] with keys[i] (nil: skip) on every
// core; on a ZIP 215 chain each core checks its share of the Ed25519
// signatures in batches. Failures are not reported: the machine reports
// them when it applies the operation.
func (m *Machine) preverifyMany(ops []*parsed, keys []crypto.PublicKey) {
	if !m.zip215 {
		parallel(len(ops), func(i int) {
			if keys[i] != nil {
				_ = m.preverify(ops[i], keys[i])
			}
		})
		return
	}
	var batched []int // Ed25519 checks not already remembered
	var single []int  // the others (ES256)
	for i, p := range ops {
		switch k, ok := keys[i].(ed25519.PublicKey); {
		case keys[i] == nil || m.sigs.has(p.Hash, keys[i]):
		case ok && p.alg == AlgEdDSA && len(k) == ed25519.PublicKeySize:
			batched = append(batched, i)
		default:
			single = append(single, i)
		}
	}
	// Batches of up to sigBatchMax, at least one per core.
	cores := runtime.GOMAXPROCS(0)
	size := max(1, min(sigBatchMax, (len(batched)+cores-1)/cores))
	chunks := (len(batched) + size - 1) / size
	parallel(chunks+len(single), func(c int) {
		if c >= chunks {
			i := single[c-chunks]
			_ = m.preverify(ops[i], keys[i])
			return
		}
		part := batched[c*size : min((c+1)*size, len(batched))]
		b := edsig.NewBatch(len(part))
		for _, i := range part {
			b.Add(keys[i].(ed25519.PublicKey), ops[i].signingInput(), ops[i].sig)
		}
		for j, ok := range b.Verify() {
			if ok {
				i := part[j]
				m.sigs.add(ops[i].Hash, keys[i])
			}
		}
	})
}

// sigBatcher gathers the Ed25519 checks that concurrent callers ask for
// and makes them in batches under ZIP 215's rule: a batch is checked when
// sigBatchMax checks wait (by the caller that made it full) or when the
// first of them has waited sigBatchWait (by a timer).
type sigBatcher struct {
	mu      sync.Mutex
	pending []*sigCheck
}

// sigCheck is one check waiting in a sigBatcher.
type sigCheck struct {
	pub      ed25519.PublicKey
	msg, sig []byte
	ok       bool
	done     chan struct{}
}

// verify reports whether sig is pub's signature of msg under ZIP 215's
// rule, as edsig.VerifyZIP215 does, made in a batch with other callers'.
func (b *sigBatcher) verify(pub ed25519.PublicKey, msg, sig []byte) bool {
	c := &sigCheck{pub: pub, msg: msg, sig: sig, done: make(chan struct{})}
	b.mu.Lock()
	b.pending = append(b.pending, c)
	var full []*sigCheck
	switch len(b.pending) {
	case sigBatchMax:
		full, b.pending = b.pending, nil
	case 1:
		time.AfterFunc(sigBatchWait, func() { b.check(b.take(c)) })
	}
	b.mu.Unlock()
	b.check(full)
	<-c.done
	return c.ok
}

// take returns the pending checks if first is still among them (its
// batch was not made full meanwhile), else nothing.
func (b *sigBatcher) take(first *sigCheck) []*sigCheck {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.pending) == 0 || b.pending[0] != first {
		return nil
	}
	out := b.pending
	b.pending = nil
	return out
}

// check verifies a batch and tells each waiter its verdict.
func (b *sigBatcher) check(batch []*sigCheck) {
	if len(batch) == 0 {
		return
	}
	v := edsig.NewBatch(len(batch))
	for _, c := range batch {
		v.Add(c.pub, c.msg, c.sig)
	}
	for i, ok := range v.Verify() {
		batch[i].ok = ok
		close(batch[i].done)
	}
}
