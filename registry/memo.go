package registry

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"sync"

	"github.com/urbis-id/urbis/internal/errkind"
)

// memoSize bounds the checks a machine remembers as passed: enough for
// the operations between submission and their block (about 2 MiB).
const memoSize = 1 << 16

// checkMemo remembers the ids of pure checks that passed (see Call.Once),
// so that a check a program made ahead of the block (Precheck) is not
// made again when the operation is applied. It forgets the oldest id
// when full; a forgotten id only costs the check again.
type checkMemo struct{ *digestSet }

func newCheckMemo(size int) *checkMemo { return &checkMemo{newDigestSet(size)} }

// digestSet is a set of at most a fixed number of 32-byte digests: it
// forgets the oldest when full. The check memo and the verified-signature
// cache keep theirs in one.
type digestSet struct {
	mu   sync.Mutex
	set  map[[32]byte]struct{}
	ring [][32]byte
	used []bool
	next int
}

func newDigestSet(size int) *digestSet {
	return &digestSet{set: make(map[[32]byte]struct{}), ring: make([][32]byte, size), used: make([]bool, size)}
}

func (c *digestSet) has(k [32]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.set[k]
	return ok
}

func (c *digestSet) add(k [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.set[k]; ok {
		return
	}
	if c.used[c.next] {
		delete(c.set, c.ring[c.next])
	}
	c.ring[c.next], c.used[c.next] = k, true
	c.next = (c.next + 1) % len(c.ring)
	c.set[k] = struct{}{}
}

// once runs check unless a check with the same id passed before; it
// remembers id if check passes. The id is hashed with the kind, so that
// two kinds never share ids.
func (c *checkMemo) once(kind Kind, id string, check func() error) error {
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(id))
	var k [32]byte
	h.Sum(k[:0])
	if c.has(k) {
		return nil
	}
	if err := check(); err != nil {
		return err
	}
	c.add(k)
	return nil
}

// Once runs check, an expensive check that is a pure function of its
// inputs (a signature verification, say), unless a check with the same
// id passed before on this node, in this Apply or in a Precheck. id must
// commit to every input of check (the key, the message and the
// signature, for a signature), so that a remembered id answers exactly
// what check would: the memo only saves the work, never changes a
// verdict, and a forgotten id just runs check again.
func (pc *Call) Once(id string, check func() error) error {
	return pc.c.m.memo.once(pc.c.p.Op.Kind, id, check)
}

// Precall is a program operation as its kind's Precheck sees it, before
// it is sequenced: the operation, the committed state, and the memo of
// passed checks that Call.Once reads.
type Precall struct {
	m  *Machine
	st StateReader
	p  *parsed
}

// Kind returns the operation's kind.
func (pc *Precall) Kind() Kind { return pc.p.Op.Kind }

// Payload returns the operation's payload, in canonical JSON.
func (pc *Precall) Payload() json.RawMessage { return pc.p.Op.Payload }

// Signer returns the DID that signed the operation.
func (pc *Precall) Signer() string { return pc.p.signerDID }

// Get decodes the committed value at key into v; NotFound if there is
// none. Operations not yet committed may change it before the block.
func (pc *Precall) Get(ctx context.Context, key string, v any) error {
	b, err := pc.st.ProgramGet(ctx, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errkind.Wrap(errkind.Internal, err, "state at %s", key)
	}
	return nil
}

// Once is Call.Once: a check that passes here is not made again by the
// operation's Apply.
func (pc *Precall) Once(id string, check func() error) error {
	return pc.m.memo.once(pc.p.Op.Kind, id, check)
}

// precheckProgram runs the Precheck of p's kind, if it has one, against
// the committed state st. Its error is dropped: a Precheck only does
// ahead of time, through the memo, work that Apply would do, and Apply
// decides the operation in the state the block gives it.
// It also works out the state keys the operation will read (the kind's
// Reads), which the block prefetches.
func (m *Machine) precheckProgram(ctx context.Context, st StateReader, p *parsed) {
	pk, ok := m.kinds[p.Op.Kind]
	if !ok {
		return
	}
	m.programReads(p)
	if pk.Precheck != nil {
		_ = pk.Precheck(ctx, &Precall{m: m, st: st, p: p})
	}
}

// programReads works out, once, the program state keys p will read.
func (m *Machine) programReads(p *parsed) []string {
	if pk, ok := m.kinds[p.Op.Kind]; ok && pk.Reads != nil && !p.readsKnown {
		p.reads, p.readsKnown = pk.Reads(p.Op.Payload), true
	}
	return p.reads
}
