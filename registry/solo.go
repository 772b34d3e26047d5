package registry

import (
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// MaxPending bounds the operations a Solo holds that are not yet in a
// block; beyond it Submit answers Unavailable.
const MaxPending = 100_000

// Operation statuses.
const (
	StatusPending   = "pending"
	StatusCommitted = "committed"
	StatusRejected  = "rejected"
)

// maxAttempts is how many times an operation may abort its block with a
// store failure before it is rejected.
const maxAttempts = 3

// blockTimeUnit is the precision of block times, kept by every store.
const blockTimeUnit = time.Millisecond

// SoloConfig configures the solo engine. Interval and MaxOps default to
// the genesis parameters, Clock to time.Now, Logger to discarding.
type SoloConfig struct {
	Store        ChainStore
	Genesis      *Genesis
	ValidatorID  string
	ValidatorKey ed25519.PrivateKey
	Interval     time.Duration
	MaxOps       int
	Clock        func() time.Time
	Logger       *slog.Logger
	// Programs are the civic programs whose kinds the chain applies
	// besides the core's; every node of a chain runs the same ones.
	Programs []Program
}

// Solo is the embedded engine: one sequencer that batches submitted
// operations into a block every Interval, or as soon as a tenth of
// MaxOps are pending (at most MaxOps per block), and commits each block in one database transaction (group
// commit). A submitter learns the fate of its operation only after the
// block that decides it is committed.
type Solo struct {
	cfg     SoloConfig
	m       *Machine
	wake    chan struct{}
	signers *signerCache // committed signer state, for precheck

	mu       sync.Mutex
	queue    []*entry          // submitted, not yet taken by the sequencer
	pending  map[string]*entry // queued or being applied, by hash
	bySigner map[string]int    // pending operations per signer DID
	recent   recentSet         // lately committed, against a racing duplicate
	closed   bool
	running  bool

	// Sequencer state, touched only by Run.
	head      Header
	headHash  string
	stateRoot string
	// With a LazyChainStore: committed blocks on their way to the disk,
	// and the syncer's failure.
	lazy     LazyChainStore
	syncq    chan synced
	syncErr  chan error
	syncDone chan struct{}
}

// synced is a committed block whose waiters are told once it is durable.
type synced struct {
	h    Header
	outs []outcome
}

// entry is a pending operation.
type entry struct {
	p        *parsed
	done     chan struct{}
	status   OpStatus // final once done is closed; guarded by Solo.mu
	attempts int
}

// savepointReleaser is implemented by a BlockTx that can release a
// savepoint; the engine releases each accepted operation's savepoint so
// that they do not pile up in a block of thousands.
type savepointReleaser interface {
	ReleaseSavepoint(ctx context.Context, name string) error
}

// prefetcher is implemented by a BlockTx that can read the state of many
// DIDs (their latest version and nonce) at once: the engine and the
// replay give it the DIDs of a block's operations before applying them.
type prefetcher interface {
	Prefetch(ctx context.Context, dids []string) error
}

// programPrefetcher is a transaction that can read program state keys
// ahead.
type programPrefetcher interface {
	PrefetchProgram(ctx context.Context, keys []string) error
}

// prefetch reads ahead, if tx can, the state of the DIDs ops touch (their
// signers', except those that skip, if not nil, says are known, and the
// DIDs they update or deactivate) and the program state keys their kinds
// say they read.
func (m *Machine) prefetch(ctx context.Context, tx BlockTx, ops []*parsed, skip func(did string) bool) error {
	if pf, ok := tx.(prefetcher); ok {
		dids := make([]string, 0, 2*len(ops))
		for _, p := range ops {
			if skip == nil || !skip(p.signerDID) {
				dids = append(dids, p.signerDID)
			}
			switch body := p.body.(type) {
			case *DIDUpdate:
				dids = append(dids, body.DID)
			case *DIDDeactivate:
				dids = append(dids, body.DID)
			}
		}
		if err := pf.Prefetch(ctx, dids); err != nil {
			return err
		}
	}
	if pf, ok := tx.(programPrefetcher); ok {
		var keys []string
		for _, p := range ops {
			keys = append(keys, m.programReads(p)...)
		}
		if len(keys) > 0 {
			return pf.PrefetchProgram(ctx, keys)
		}
	}
	return nil
}

// NewSolo returns a solo engine; call Run to start sequencing.
func NewSolo(cfg SoloConfig) (*Solo, error) {
	if cfg.Store == nil || cfg.Genesis == nil {
		return nil, errkind.New(errkind.Invalid, "solo engine: a store and a genesis are required")
	}
	if err := cfg.Genesis.Validate(); err != nil {
		return nil, err
	}
	v, ok := cfg.Genesis.validator(cfg.ValidatorID)
	if !ok {
		return nil, errkind.New(errkind.Invalid, "solo engine: %q is not a validator of chain %s", cfg.ValidatorID, cfg.Genesis.ChainID)
	}
	pub, _ := validatorKey(v)
	if len(cfg.ValidatorKey) != ed25519.PrivateKeySize || !pub.Equal(cfg.ValidatorKey.Public()) {
		return nil, errkind.New(errkind.Invalid, "solo engine: the validator key is not the key genesis gives validator %s", cfg.ValidatorID)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Duration(cfg.Genesis.Params.BlockIntervalMillis) * time.Millisecond
	}
	if cfg.MaxOps <= 0 {
		cfg.MaxOps = cfg.Genesis.Params.MaxBlockOps
	}
	if cfg.MaxOps > cfg.Genesis.Params.MaxBlockOps {
		return nil, errkind.New(errkind.Invalid, "solo engine: MaxOps %d exceeds the genesis maxBlockOps %d", cfg.MaxOps, cfg.Genesis.Params.MaxBlockOps)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Solo{
		cfg:      cfg,
		m:        NewMachine(cfg.Genesis, cfg.Programs...),
		wake:     make(chan struct{}, 1),
		signers:  newSignerCache(signerCacheSize),
		pending:  make(map[string]*entry),
		bySigner: make(map[string]int),
	}, nil
}

// Submit parses a signed operation, makes the checks that need no
// pending operation (chain, nonce not yet used, signature and key
// against the committed state when the signer has nothing pending) and
// queues it. It returns its pending status; a duplicate of a pending or
// committed operation returns that operation's status; a rejected
// operation may be submitted again. Errors: Invalid, TooLarge, Forbidden,
// Conflict for bad operations; Unavailable when the queue is full or the
// engine is stopping.
func (s *Solo) Submit(ctx context.Context, compact string) (OpStatus, error) {
	p, err := parse(compact)
	if err != nil {
		return OpStatus{}, err
	}
	if p.Op.Chain != s.cfg.Genesis.ChainID {
		return OpStatus{}, errkind.Field(errkind.Invalid, "chain", "operation is for chain %q; this is chain %q", p.Op.Chain, s.cfg.Genesis.ChainID)
	}
	if err := s.m.Check(p.SignedOp); err != nil {
		return OpStatus{}, err
	}
	p.checked = true
	s.mu.Lock()
	e, closed, busy, full := s.pending[p.Hash], s.closed, s.bySigner[p.signerDID] > 0, len(s.pending) >= MaxPending
	s.mu.Unlock()
	switch {
	case e != nil:
		return s.statusOf(e), nil
	case closed:
		return OpStatus{}, errkind.New(errkind.Unavailable, "registry is shutting down; retry on another node or later")
	case full:
		return OpStatus{}, errkind.New(errkind.Unavailable, "registry is busy; retry")
	}
	if st, err := s.precheck(ctx, p, busy); err != nil || st.Status == StatusCommitted {
		return st, err
	}
	s.m.precheckProgram(ctx, s.cfg.Store, p)
	return s.enqueue(p)
}

func (s *Solo) enqueue(p *parsed) (OpStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.pending[p.Hash]; e != nil {
		return e.status, nil
	}
	if st, ok := s.recent.get(p.Hash); ok {
		// Committed since Submit looked in the store.
		return st, nil
	}
	if s.closed {
		return OpStatus{}, errkind.New(errkind.Unavailable, "registry is shutting down; retry on another node or later")
	}
	if len(s.pending) >= MaxPending {
		return OpStatus{}, errkind.New(errkind.Unavailable, "registry is busy; retry")
	}
	e := &entry{p: p, done: make(chan struct{}), status: OpStatus{Hash: p.Hash, Status: StatusPending, Kind: p.Op.Kind}}
	s.pending[p.Hash] = e
	s.bySigner[p.signerDID]++
	s.queue = append(s.queue, e)
	if len(s.queue) >= s.eager() {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return e.status, nil
}

// precheck refuses an operation whose nonce is used (unless it is the
// committed operation itself, whose status it returns), and, when the
// signer has no pending operation (so that the committed state is the
// state it will meet), one whose key is not authorised or whose
// signature does not verify. A verified signature is remembered so that
// the sequencer does not verify it again. An operation whose nonce is
// unused cannot be committed yet: its nonce would be. The signer's nonce
// and DID version come from the signer cache.
func (s *Solo) precheck(ctx context.Context, p *parsed, busy bool) (OpStatus, error) {
	st := cachedState{StateReader: s.cfg.Store, c: s.signers}
	n, err := st.Nonce(ctx, p.signerDID)
	if err != nil {
		return OpStatus{}, err
	}
	if p.Op.Nonce <= n {
		st, err := s.cfg.Store.OpStatus(ctx, p.Hash)
		switch {
		case err == nil && st.Status == StatusCommitted:
			return st, nil
		case err != nil && !errors.Is(err, errkind.NotFound):
			return OpStatus{}, err
		}
		return OpStatus{}, errkind.Field(errkind.Conflict, "nonce", "replayed or out-of-order nonce: got %d, want %d", p.Op.Nonce, n+1)
	}
	if busy {
		return OpStatus{}, nil
	}
	pub, err := s.m.keyFor(ctx, st, p)
	if err != nil {
		return OpStatus{}, err
	}
	return OpStatus{}, s.m.preverifyJoined(p, pub)
}

// statusOf returns e's status under the lock.
func (s *Solo) statusOf(e *entry) OpStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return e.status
}

// Status returns the status of the operation with the given hash:
// pending from memory, else what the store recorded (NotFound if
// nobody submitted it here).
func (s *Solo) Status(ctx context.Context, hash string) (OpStatus, error) {
	s.mu.Lock()
	e := s.pending[hash]
	s.mu.Unlock()
	if e != nil {
		return s.statusOf(e), nil
	}
	return s.stored(ctx, hash)
}

func (s *Solo) stored(ctx context.Context, hash string) (OpStatus, error) {
	s.mu.Lock()
	st, ok := s.recent.get(hash)
	s.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := s.cfg.Store.OpStatus(ctx, hash)
	if errors.Is(err, errkind.NotFound) {
		return OpStatus{}, errkind.New(errkind.NotFound, "operation %s is unknown to this node", hash)
	}
	return st, err
}

// Wait waits until the operation is committed or rejected and returns
// its status. If ctx ends first it returns the pending status and an
// Unavailable error wrapping ctx.Err().
func (s *Solo) Wait(ctx context.Context, hash string) (OpStatus, error) {
	s.mu.Lock()
	e := s.pending[hash]
	s.mu.Unlock()
	if e == nil {
		return s.stored(ctx, hash)
	}
	select {
	case <-e.done:
		// Final, and written before done was closed: no lock needed, so
		// that the waiters of a block do not queue on s.mu.
		return e.status, nil
	case <-ctx.Done():
		return s.statusOf(e), errkind.Wrap(errkind.Unavailable, ctx.Err(), "operation %s is still pending", hash)
	}
}

// Proof returns the inclusion proof of a committed operation (NotFound
// unless it is committed).
func (s *Solo) Proof(ctx context.Context, hash string) (Proof, error) {
	st, err := s.stored(ctx, hash)
	if err != nil {
		return Proof{}, err
	}
	if st.Status != StatusCommitted {
		return Proof{}, errkind.New(errkind.NotFound, "operation %s is %s, not committed: only committed operations have proofs", hash, st.Status)
	}
	return ProofFrom(ctx, s.cfg.Store, st)
}
