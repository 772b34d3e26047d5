package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// memState is chain state in memory, for the state machine's unit tests.
type memState struct {
	versions map[string][]DIDVersion
	nonces   map[string]uint64
	accs     map[string]Accreditation
	accOrder []string
	events   map[string][]AccreditationEvent
	schemas  map[string]Schema
	anchors  map[string]Anchor
	blocks   []Block
	statuses map[string]OpStatus
	updates  []StatusUpdate
	prog     map[string][]byte
}

func newMemState() *memState {
	return &memState{
		versions: map[string][]DIDVersion{}, nonces: map[string]uint64{}, accs: map[string]Accreditation{},
		events: map[string][]AccreditationEvent{}, schemas: map[string]Schema{}, anchors: map[string]Anchor{},
		statuses: map[string]OpStatus{}, prog: map[string][]byte{},
	}
}

func (s *memState) clone() *memState {
	c := &memState{
		versions: map[string][]DIDVersion{}, nonces: maps.Clone(s.nonces), accs: maps.Clone(s.accs),
		accOrder: slices.Clone(s.accOrder), events: map[string][]AccreditationEvent{},
		schemas: maps.Clone(s.schemas), anchors: maps.Clone(s.anchors), blocks: slices.Clone(s.blocks),
		statuses: maps.Clone(s.statuses), updates: slices.Clone(s.updates), prog: maps.Clone(s.prog),
	}
	for k, v := range s.versions {
		c.versions[k] = slices.Clone(v)
	}
	for k, v := range s.events {
		c.events[k] = slices.Clone(v)
	}
	return c
}

func notFound(what string) error { return errkind.New(errkind.NotFound, "%s not found", what) }

func (s *memState) ProgramGet(_ context.Context, key string) ([]byte, error) {
	v, ok := s.prog[key]
	if !ok {
		return nil, notFound(key)
	}
	return slices.Clone(v), nil
}

func (s *memState) ProgramScan(_ context.Context, prefix, after string, limit int) ([]ProgramEntry, error) {
	var out []ProgramEntry
	for _, k := range slices.Sorted(maps.Keys(s.prog)) {
		if len(out) == limit {
			break
		}
		if k > after && k >= prefix && k < ProgramPrefixEnd(prefix) {
			out = append(out, ProgramEntry{Key: k, Value: slices.Clone(s.prog[k])})
		}
	}
	return out, nil
}

func (s *memState) ProgramPut(_ context.Context, key string, value []byte) error {
	s.prog[key] = slices.Clone(value)
	return nil
}

func (s *memState) ProgramDelete(_ context.Context, key string) error {
	delete(s.prog, key)
	return nil
}

func (s *memState) LatestDIDVersion(_ context.Context, did string) (DIDVersion, error) {
	vs := s.versions[did]
	if len(vs) == 0 {
		return DIDVersion{}, notFound(did)
	}
	return vs[len(vs)-1], nil
}

func (s *memState) DIDVersion(_ context.Context, did string, v uint64) (DIDVersion, error) {
	vs := s.versions[did]
	if v == 0 || v > uint64(len(vs)) {
		return DIDVersion{}, notFound(did)
	}
	return vs[v-1], nil
}

func (s *memState) DIDVersionAt(_ context.Context, did string, t time.Time) (DIDVersion, error) {
	var out *DIDVersion
	for i, v := range s.versions[did] {
		if !v.Time.After(t) {
			out = &s.versions[did][i]
		}
	}
	if out == nil {
		return DIDVersion{}, notFound(did)
	}
	return *out, nil
}

func (s *memState) Nonce(_ context.Context, d string) (uint64, error) { return s.nonces[d], nil }

func (s *memState) Accreditation(_ context.Context, id string) (Accreditation, error) {
	a, ok := s.accs[id]
	if !ok {
		return a, notFound(id)
	}
	return a, nil
}

func (s *memState) Accreditations(_ context.Context, issuer string) ([]Accreditation, error) {
	var out []Accreditation
	for _, id := range s.accOrder {
		if a := s.accs[id]; a.Issuer == issuer {
			out = append(out, a)
		}
	}
	return out, nil
}

func (s *memState) AccreditationHistory(_ context.Context, id string) ([]AccreditationEvent, error) {
	return s.events[id], nil
}

func (s *memState) Schema(_ context.Context, id string) (Schema, error) {
	v, ok := s.schemas[id]
	if !ok {
		return v, notFound(id)
	}
	return v, nil
}

func (s *memState) Anchor(_ context.Context, root string) (Anchor, error) {
	v, ok := s.anchors[root]
	if !ok {
		return v, notFound(root)
	}
	return v, nil
}

func (s *memState) PutDIDVersion(_ context.Context, v DIDVersion) error {
	if uint64(len(s.versions[v.DID]))+1 != v.Version {
		return errkind.New(errkind.Internal, "version %d of %s out of order", v.Version, v.DID)
	}
	s.versions[v.DID] = append(s.versions[v.DID], v)
	return nil
}

func (s *memState) SetNonce(_ context.Context, d string, n uint64) error { s.nonces[d] = n; return nil }

func (s *memState) PutAccreditation(_ context.Context, a Accreditation) error {
	if _, ok := s.accs[a.ID]; !ok {
		s.accOrder = append(s.accOrder, a.ID)
	}
	s.accs[a.ID] = a
	return nil
}

func (s *memState) AddAccreditationEvent(_ context.Context, e AccreditationEvent) error {
	s.events[e.Accreditation] = append(s.events[e.Accreditation], e)
	return nil
}

func (s *memState) PutSchema(_ context.Context, v Schema) error { s.schemas[v.ID] = v; return nil }
func (s *memState) PutAnchor(_ context.Context, a Anchor) error { s.anchors[a.Root] = a; return nil }

func (s *memState) AddStatusUpdate(_ context.Context, u StatusUpdate) error {
	s.updates = append(s.updates, u)
	return nil
}

func (s *memState) StatusListIssuer(_ context.Context, list string) (string, error) {
	for _, u := range s.updates {
		if u.List == list {
			return u.Issuer, nil
		}
	}
	return "", notFound(list)
}

func (s *memState) StatusAt(_ context.Context, list string, index int, purpose string, t time.Time) (bool, uint64, bool, error) {
	for i := len(s.updates) - 1; i >= 0; i-- {
		u := s.updates[i]
		if u.List == list && u.Index == index && u.Purpose == purpose && !u.Time.After(t) {
			return u.Value, u.Height, true, nil
		}
	}
	return false, 0, false, nil
}
func (s *memState) PutOpStatus(_ context.Context, o OpStatus) error {
	s.statuses[o.Hash] = o
	return nil
}

func (s *memState) PutBlock(_ context.Context, b Block, hashes []string) error {
	s.blocks = append(s.blocks, b)
	for i, h := range hashes {
		op, err := ParseSigned(b.Ops[i])
		if err != nil {
			return err
		}
		s.statuses[h] = OpStatus{Hash: h, Status: StatusCommitted, Height: b.Header.Height, Index: i, Kind: op.Op.Kind, Time: b.Header.Time}
	}
	return nil
}

// memTx is a block transaction over a copy of the state; savepoints
// mark a journal of undo steps.
type memTx struct {
	*memState
	undo  []func()
	marks map[string][]int
}

func (t *memTx) Savepoint(_ context.Context, name string) error {
	t.marks[name] = append(t.marks[name], len(t.undo))
	return nil
}

func (t *memTx) RollbackTo(_ context.Context, name string) error {
	m := t.marks[name]
	if len(m) == 0 {
		return errkind.New(errkind.Internal, "no savepoint %s", name)
	}
	mark := m[len(m)-1]
	for i := len(t.undo) - 1; i >= mark; i-- {
		t.undo[i]()
	}
	t.undo = t.undo[:mark]
	return nil
}

func (t *memTx) PutDIDVersion(ctx context.Context, v DIDVersion) error {
	old := t.versions[v.DID]
	t.undo = append(t.undo, func() { t.versions[v.DID] = old })
	t.versions[v.DID] = slices.Clip(old)
	return t.memState.PutDIDVersion(ctx, v)
}

func (t *memTx) SetNonce(ctx context.Context, d string, n uint64) error {
	old, ok := t.nonces[d]
	t.undo = append(t.undo, func() {
		if ok {
			t.nonces[d] = old
		} else {
			delete(t.nonces, d)
		}
	})
	return t.memState.SetNonce(ctx, d, n)
}

func (t *memTx) PutAccreditation(ctx context.Context, a Accreditation) error {
	old, ok := t.accs[a.ID]
	order := t.accOrder
	t.undo = append(t.undo, func() {
		t.accOrder = order
		if ok {
			t.accs[a.ID] = old
		} else {
			delete(t.accs, a.ID)
		}
	})
	t.accOrder = slices.Clip(order)
	return t.memState.PutAccreditation(ctx, a)
}

func (t *memTx) AddAccreditationEvent(ctx context.Context, e AccreditationEvent) error {
	old := t.events[e.Accreditation]
	t.undo = append(t.undo, func() { t.events[e.Accreditation] = old })
	t.events[e.Accreditation] = slices.Clip(old)
	return t.memState.AddAccreditationEvent(ctx, e)
}

func (t *memTx) PutSchema(ctx context.Context, v Schema) error {
	t.undo = append(t.undo, func() { delete(t.schemas, v.ID) })
	return t.memState.PutSchema(ctx, v)
}

func (t *memTx) AddStatusUpdate(ctx context.Context, u StatusUpdate) error {
	n := len(t.updates)
	t.undo = append(t.undo, func() { t.updates = t.updates[:n] })
	return t.memState.AddStatusUpdate(ctx, u)
}

func (t *memTx) ProgramPut(ctx context.Context, key string, value []byte) error {
	t.undoProg(key)
	return t.memState.ProgramPut(ctx, key, value)
}

func (t *memTx) ProgramDelete(ctx context.Context, key string) error {
	t.undoProg(key)
	return t.memState.ProgramDelete(ctx, key)
}

func (t *memTx) undoProg(key string) {
	old, ok := t.prog[key]
	t.undo = append(t.undo, func() {
		if ok {
			t.prog[key] = old
		} else {
			delete(t.prog, key)
		}
	})
}

func (t *memTx) PutAnchor(ctx context.Context, a Anchor) error {
	t.undo = append(t.undo, func() { delete(t.anchors, a.Root) })
	return t.memState.PutAnchor(ctx, a)
}

// memStore is a ChainStore in memory; every read takes the lock.
type memStore struct {
	mu sync.Mutex
	st *memState
}

func newMemStore() *memStore { return &memStore{st: newMemState()} }

func (m *memStore) state() *memState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st
}

func (m *memStore) InBlockTx(_ context.Context, fn func(tx BlockTx) error) error {
	m.mu.Lock()
	tx := &memTx{memState: m.st.clone(), marks: map[string][]int{}}
	m.mu.Unlock()
	if err := fn(tx); err != nil {
		return err
	}
	m.mu.Lock()
	m.st = tx.memState
	m.mu.Unlock()
	return nil
}

func (m *memStore) LatestDIDVersion(ctx context.Context, did string) (DIDVersion, error) {
	return m.state().LatestDIDVersion(ctx, did)
}

func (m *memStore) DIDVersion(ctx context.Context, did string, v uint64) (DIDVersion, error) {
	return m.state().DIDVersion(ctx, did, v)
}

func (m *memStore) DIDVersionAt(ctx context.Context, did string, t time.Time) (DIDVersion, error) {
	return m.state().DIDVersionAt(ctx, did, t)
}

func (m *memStore) Nonce(ctx context.Context, d string) (uint64, error) {
	return m.state().Nonce(ctx, d)
}

func (m *memStore) Accreditation(ctx context.Context, id string) (Accreditation, error) {
	return m.state().Accreditation(ctx, id)
}

func (m *memStore) Accreditations(ctx context.Context, issuer string) ([]Accreditation, error) {
	return m.state().Accreditations(ctx, issuer)
}

func (m *memStore) AccreditationHistory(ctx context.Context, id string) ([]AccreditationEvent, error) {
	return m.state().AccreditationHistory(ctx, id)
}

func (m *memStore) Schema(ctx context.Context, id string) (Schema, error) {
	return m.state().Schema(ctx, id)
}

func (m *memStore) Anchor(ctx context.Context, root string) (Anchor, error) {
	return m.state().Anchor(ctx, root)
}

func (m *memStore) StatusListIssuer(ctx context.Context, list string) (string, error) {
	return m.state().StatusListIssuer(ctx, list)
}

func (m *memStore) StatusAt(ctx context.Context, list string, index int, purpose string, t time.Time) (bool, uint64, bool, error) {
	return m.state().StatusAt(ctx, list, index, purpose, t)
}

func (m *memStore) ProgramGet(ctx context.Context, key string) ([]byte, error) {
	return m.state().ProgramGet(ctx, key)
}

func (m *memStore) ProgramScan(ctx context.Context, prefix, after string, limit int) ([]ProgramEntry, error) {
	return m.state().ProgramScan(ctx, prefix, after, limit)
}

func (m *memStore) Head(context.Context) (Header, error) {
	st := m.state()
	if len(st.blocks) == 0 {
		return Header{}, notFound("head")
	}
	return st.blocks[len(st.blocks)-1].Header, nil
}

func (m *memStore) Block(_ context.Context, h uint64) (Block, error) {
	st := m.state()
	if h == 0 || h > uint64(len(st.blocks)) {
		return Block{}, notFound("block")
	}
	return st.blocks[h-1], nil
}

func (m *memStore) OpStatus(_ context.Context, hash string) (OpStatus, error) {
	o, ok := m.state().statuses[hash]
	if !ok {
		return o, notFound(hash)
	}
	return o, nil
}

func (m *memStore) StateDigest(context.Context) (string, error) {
	s := m.state()
	st := struct {
		V map[string][]DIDVersion
		N map[string]uint64
		A map[string]Accreditation
		E map[string][]AccreditationEvent
		S map[string]Schema
		R map[string]Anchor
		U []StatusUpdate
		P map[string][]byte
	}{s.versions, s.nonces, s.accs, s.events, s.schemas, s.anchors, s.updates, s.prog}
	b, err := json.Marshal(st)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), err
}

var _ ChainStore = (*memStore)(nil)
