package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// Run sequences blocks until ctx ends: every Interval, or as soon as a
// tenth of MaxOps operations are pending (at once after a block if they
// arrived while it was made), it takes up to MaxOps pending operations,
// applies them in arrival order, each inside a savepoint (a rejected one is rolled back
// and recorded with its reason), stores the signed block and commits,
// and only then tells the waiters. An interval with nothing pending
// makes no block. When ctx ends, Run refuses new submissions, commits
// what is pending and returns nil; it returns an error only if the store
// fails at start or while committing the last operations, or (with a
// LazyChainStore) if committed blocks cannot be synced to disk, which
// stops it at once.
func (s *Solo) Run(ctx context.Context) (err error) {
	s.mu.Lock()
	if s.running || s.closed {
		s.mu.Unlock()
		return errkind.New(errkind.Conflict, "solo engine: Run was called already")
	}
	s.running = true
	s.mu.Unlock()
	if err := s.loadHead(context.WithoutCancel(ctx)); err != nil {
		s.close()
		return err
	}
	if st, ok := s.cfg.Store.(signerLister); ok {
		s.signers.beginLoad()
		go func() {
			if err := s.signers.loadSigners(ctx, st); err != nil && ctx.Err() == nil {
				s.cfg.Logger.Warn("registry: the signer filter did not load; new signers' nonces are read from the store", "err", err)
			}
		}()
	}
	if ls, ok := s.cfg.Store.(LazyChainStore); ok {
		s.lazy, s.syncq = ls, make(chan synced, syncQueue)
		s.syncErr, s.syncDone = make(chan error, 1), make(chan struct{})
		go s.syncBlocks()
		defer func() {
			close(s.syncq)
			<-s.syncDone
			select {
			case serr := <-s.syncErr: // a failure while draining
				err = errors.Join(err, serr)
			default:
			}
		}()
	}
	tick := time.NewTicker(s.cfg.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return s.drain()
		case serr := <-s.syncErr: // nil channel without a lazy store
			s.close()
			return serr
		case <-tick.C:
		case <-s.wake:
		}
		for {
			n, err := s.produce(ctx)
			if err != nil {
				s.cfg.Logger.Error("registry: block failed; its operations stay pending", "height", s.head.Height+1, "err", err)
				break
			}
			if n < s.cfg.MaxOps && s.queued() < s.eager() || ctx.Err() != nil {
				break
			}
		}
	}
}

// eager is how many pending operations start a block at once rather
// than at the next tick (group commit under load): a tenth of MaxOps, or
// MaxOps when it is under 100. Under it blocks wait for the tick, so that
// a trickle of operations makes one block per Interval; under load the
// sequencer does not sit idle until the tick while a block's worth
// waits.
func (s *Solo) eager() int {
	if s.cfg.MaxOps < 100 {
		return s.cfg.MaxOps
	}
	return s.cfg.MaxOps / 10
}

// queued returns how many operations wait for a block.
func (s *Solo) queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// close refuses further submissions.
func (s *Solo) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

// drain commits what is pending after a stop.
func (s *Solo) drain() error {
	s.close()
	ctx := context.Background()
	for {
		n, err := s.produce(ctx)
		if err != nil {
			return errkind.Wrap(errkind.KindOf(err), err, "registry: commit pending operations at shutdown")
		}
		if n == 0 {
			return nil
		}
	}
}

// loadHead reads the latest block, or starts from genesis.
func (s *Solo) loadHead(ctx context.Context) error {
	g := s.cfg.Genesis
	h, err := s.cfg.Store.Head(ctx)
	switch {
	case errors.Is(err, errkind.NotFound):
		s.head = Header{Chain: g.ChainID, Time: g.Time.UTC()}
		s.headHash, s.stateRoot = ZeroHash, g.Hash()
		return nil
	case err != nil:
		return err
	case h.Chain != g.ChainID:
		return errkind.New(errkind.Conflict, "the store holds chain %q; the genesis is of chain %q", h.Chain, g.ChainID)
	}
	s.head, s.headHash, s.stateRoot = h, h.Hash(), h.StateRoot
	return nil
}

// take removes up to n operations from the front of the queue.
func (s *Solo) take(n int) []*entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	n = min(n, len(s.queue))
	batch := make([]*entry, n)
	copy(batch, s.queue)
	rest := len(s.queue) - n
	copy(s.queue, s.queue[n:])
	clear(s.queue[rest:])
	s.queue = s.queue[:rest]
	return batch
}

// requeue puts a batch whose block failed back at the front.
func (s *Solo) requeue(batch []*entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(batch, s.queue...)
}

// blockTime returns the time of the next block: the clock, to the
// millisecond, never before the previous block (or genesis).
func (s *Solo) blockTime() time.Time {
	t := s.cfg.Clock().UTC().Truncate(blockTimeUnit)
	if prev := s.head.Time.UTC(); t.Before(prev) {
		t = prev.Truncate(blockTimeUnit)
		if t.Before(prev) {
			t = t.Add(blockTimeUnit)
		}
	}
	return t
}

// outcome is what became of one operation of a batch.
type outcome struct {
	e      *entry
	effect []byte
	reason string // rejected if set
}

// produce makes one block of up to MaxOps pending operations and returns
// how many operations it decided.
func (s *Solo) produce(ctx context.Context) (int, error) {
	batch := s.take(s.cfg.MaxOps)
	if len(batch) == 0 {
		return 0, nil
	}
	start := time.Now()
	h := Header{
		Chain: s.cfg.Genesis.ChainID, Height: s.head.Height + 1, Previous: s.headHash,
		Time: s.blockTime(), Proposer: s.cfg.ValidatorID,
	}
	var (
		outs []outcome
		blk  *Block
		bs   *blockState
	)
	inTx := s.cfg.Store.InBlockTx
	if s.lazy != nil {
		inTx = s.lazy.InBlockTxLazy
	}
	err := inTx(context.WithoutCancel(ctx), func(tx BlockTx) error {
		var err error
		bs = newBlockState(tx, s.signers)
		outs, blk, err = s.applyBatch(context.WithoutCancel(ctx), bs, h, batch)
		return err
	})
	if err != nil {
		// The commit may have happened all the same.
		s.signers.reset()
		s.requeue(batch)
		return 0, err
	}
	if blk != nil {
		s.head, s.headHash, s.stateRoot = blk.Header, blk.Header.Hash(), blk.Header.StateRoot
	}
	s.signers.committed(bs)
	if blk != nil {
		s.cfg.Logger.Debug("registry: block committed", "height", h.Height, "ops", blk.Header.OpCount,
			"rejected", len(outs)-blk.Header.OpCount, "took", time.Since(start))
	}
	if s.lazy != nil {
		s.syncq <- synced{h: h, outs: outs}
	} else {
		s.complete(h, outs)
	}
	return len(batch), nil
}

// syncQueue bounds the committed blocks waiting for the disk; beyond it
// the sequencer waits.
const syncQueue = 64

// syncBlocks makes the committed blocks of syncq durable, one sync for
// all those waiting, and then tells their waiters, in block order. If a
// sync fails, nobody is told (the blocks may not be on disk), the error
// goes to Run, which stops, and the rest of syncq is only drained.
func (s *Solo) syncBlocks() {
	defer close(s.syncDone)
	failed := false
	for b := range s.syncq {
		batch := []synced{b}
	more:
		for {
			select {
			case b, ok := <-s.syncq:
				if !ok {
					break more
				}
				batch = append(batch, b)
			default:
				break more
			}
		}
		if failed {
			continue
		}
		if err := s.lazy.SyncBlocks(context.Background()); err != nil {
			failed = true
			s.cfg.Logger.Error("registry: committed blocks could not be synced to disk; stopping", "height", batch[len(batch)-1].h.Height, "err", err)
			s.syncErr <- err
			continue
		}
		for _, b := range batch {
			s.complete(b.h, b.outs)
		}
	}
}

// applyBatch applies batch in tx and stores the block (nil if every
// operation was rejected). A store failure aborts the block, unless the
// same operation has caused maxAttempts of them: it is then rejected.
func (s *Solo) applyBatch(ctx context.Context, tx *blockState, h Header, batch []*entry) ([]outcome, *Block, error) {
	ops := make([]*parsed, len(batch))
	for i, e := range batch {
		ops[i] = e.p
	}
	res, err := s.m.applyOps(ctx, tx, h, s.stateRoot, ops, func(i int, err error) bool {
		e := batch[i]
		if e.attempts++; e.attempts < maxAttempts {
			return true
		}
		s.cfg.Logger.Error("registry: operation rejected after repeated store failures", "op", e.p.Hash, "err", err)
		return false
	})
	if err != nil {
		return nil, nil, err
	}
	outs := make([]outcome, len(batch))
	for i, e := range batch {
		outs[i] = outcome{e: e, effect: res.effects[i], reason: res.reasons[i]}
	}
	if len(res.hashes) == 0 {
		return outs, nil, nil
	}
	h = res.header
	blk := &Block{Header: h, Signatures: []Signature{SignHeader(h, s.cfg.ValidatorID, s.cfg.ValidatorKey)}, Ops: res.jws}
	if err := tx.PutBlock(ctx, *blk, res.hashes); err != nil {
		return nil, nil, err
	}
	return outs, blk, nil
}

// complete tells the waiters of a committed batch. It closes their
// channels after releasing s.mu, so that the woken handlers do not
// queue on the lock the submitters and the sequencer need.
func (s *Solo) complete(h Header, outs []outcome) {
	s.mu.Lock()
	i := 0
	for _, o := range outs {
		st := OpStatus{Hash: o.e.p.Hash, Kind: o.e.p.Op.Kind, Time: h.Time}
		if o.reason != "" {
			st.Status, st.Reason = StatusRejected, o.reason
		} else {
			st.Status, st.Height, st.Index = StatusCommitted, h.Height, i
			i++
		}
		o.e.status = st
		if st.Status == StatusCommitted {
			s.recent.add(st)
		}
		delete(s.pending, o.e.p.Hash)
		if s.bySigner[o.e.p.signerDID]--; s.bySigner[o.e.p.signerDID] <= 0 {
			delete(s.bySigner, o.e.p.signerDID)
		}
	}
	s.recent.seal()
	s.mu.Unlock()
	for _, o := range outs {
		close(o.e.done)
	}
}

// opHashes returns the hashes of compact JWS operations.
func opHashes(ops []string) []string {
	out := make([]string, len(ops))
	for i, op := range ops {
		sum := sha256.Sum256([]byte(op))
		out[i] = hex.EncodeToString(sum[:])
	}
	return out
}

// recentBlocks is how many blocks' committed operations recentSet keeps.
const recentBlocks = 4

// recentSet remembers the operations committed in the last few blocks, so
// that a duplicate submitted while its twin was being committed is
// answered with the committed status instead of being applied again
// (and recorded as rejected over the committed status).
type recentSet struct {
	byHash map[string]OpStatus
	blocks [recentBlocks][]string
	cur    []string
	next   int
}

func (r *recentSet) add(st OpStatus) {
	if r.byHash == nil {
		r.byHash = make(map[string]OpStatus)
	}
	r.byHash[st.Hash] = st
	r.cur = append(r.cur, st.Hash)
}

// seal ends a block: the oldest block's operations are forgotten.
func (r *recentSet) seal() {
	for _, h := range r.blocks[r.next] {
		delete(r.byHash, h)
	}
	r.blocks[r.next], r.cur = r.cur, nil
	r.next = (r.next + 1) % recentBlocks
}

func (r *recentSet) get(hash string) (OpStatus, bool) {
	st, ok := r.byHash[hash]
	return st, ok
}
