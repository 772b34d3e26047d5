package registry

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// VerifyError reports the first block of a chain that does not replay
// to what it claims, or (Height 0) a state that differs from its replay.
type VerifyError struct {
	Height uint64
	Msg    string
}

// Error implements error.
func (e *VerifyError) Error() string {
	if e.Height == 0 {
		return e.Msg
	}
	return fmt.Sprintf("block %d: %s", e.Height, e.Msg)
}

// Unwrap makes a VerifyError of kind Conflict.
func (e *VerifyError) Unwrap() error { return errkind.Conflict }

func mismatch(h uint64, format string, args ...any) error {
	return &VerifyError{Height: h, Msg: fmt.Sprintf(format, args...)}
}

// Verify replays the chain in live into fresh, an empty migrated store,
// with the genesis g. For each block from 1 to the head it checks the
// chain id, the height, the previous hash, the time, the operations'
// Merkle root, the proposer and the validator signatures (against the
// validators in force at the block: the genesis's, changed by the
// operations of the programs that are ValidatorSetters, as they take
// effect), re-applies the operations
// with the state machine inside one transaction of fresh (which receives
// the state only, not the blocks) and compares the state root. It ends by comparing the
// state digests of live and fresh, which differ if a state row was
// edited. The first mismatch returns a *VerifyError naming the block and
// what differs. Blocks are read one at a time; progress, if not nil, is
// called after each block. Run it against a stopped node: blocks added
// meanwhile are replayed too, but a live chain can still outrun it.
// programs are the civic programs the chain runs (as the node's engine).
// A block made by a consensus engine (with a consensus height) needs
// signatures as a solo block does: VerifyWith checks it against the
// engine's commit instead.
func Verify(ctx context.Context, live ChainStore, fresh ChainStore, g *Genesis, progress func(height, head uint64), programs ...Program) error {
	return VerifyWith(ctx, live, fresh, g, VerifyOptions{Progress: progress}, programs...)
}

// VerifyWith is Verify with options: with opts.Consensus, the authority
// of a block with a consensus height is the consensus engine's commit,
// checked by opts.Consensus against the validators in force at that
// height (with their voting power), and the signatures the block may
// carry (older nodes stored their own) are not checked.
func VerifyWith(ctx context.Context, live ChainStore, fresh ChainStore, g *Genesis, opts VerifyOptions, programs ...Program) error {
	progress := opts.Progress
	if err := g.Validate(); err != nil {
		return err
	}
	if _, err := fresh.Head(ctx); err == nil {
		return errkind.New(errkind.Invalid, "the store to replay into already holds blocks; give an empty, migrated one")
	} else if !errors.Is(err, errkind.NotFound) {
		return err
	}
	var power func(Validator) int64
	if opts.Consensus != nil {
		power = opts.Consensus.GenesisPower
	}
	sets, err := newValidatorSets(g, power)
	if err != nil {
		return err
	}
	r := &replay{m: NewMachine(g, programs...), g: g, live: live, fresh: fresh, prevHash: ZeroHash, prevRoot: g.Hash(), prevTime: g.Time.UTC(),
		hints: &keyHints{StateReader: fresh}, sets: sets, consensus: opts.Consensus}
	for _, p := range programs {
		if s, ok := p.(ValidatorSetter); ok {
			r.setters = append(r.setters, s)
		}
	}
	for range 10 {
		head, err := liveHead(ctx, live)
		if err != nil {
			return err
		}
		if err := r.run(ctx, head, progress); err != nil {
			return err
		}
		// The two digests read two databases: on two cores at once.
		var (
			got    string
			gotErr error
			done   = make(chan struct{})
		)
		go func() {
			defer close(done)
			got, gotErr = fresh.StateDigest(ctx)
		}()
		want, err := live.StateDigest(ctx)
		<-done
		if err != nil {
			return err
		}
		if again, err := liveHead(ctx, live); err != nil || again != head {
			if err != nil {
				return err
			}
			continue // the chain grew while we read: replay the rest
		}
		if gotErr != nil {
			return gotErr
		}
		if got != want {
			return mismatch(0, "every block replays, but the live state digest is %s and the replayed state's is %s: a state row was edited", want, got)
		}
		return nil
	}
	return errkind.New(errkind.Unavailable, "the chain keeps growing; stop the node and verify again")
}

func liveHead(ctx context.Context, live ChainStore) (uint64, error) {
	h, err := live.Head(ctx)
	if errors.Is(err, errkind.NotFound) {
		return 0, nil
	}
	return h.Height, err
}

// replay is the state of a Verify between blocks.
type replay struct {
	m           *Machine
	g           *Genesis
	live, fresh ChainStore
	done        uint64
	prevHash    string
	prevRoot    string
	prevTime    time.Time
	hints       *keyHints // read-ahead only
	prevCons    uint64    // the previous block's consensus height
	sets        *validatorSets
	setters     []ValidatorSetter
	consensus   Consensus // nil: blocks with a consensus height need signatures
}

// fetched is a block read ahead, its operations parsed.
type fetched struct {
	b   Block
	ops []*parsed
	err error
}

// run replays blocks done+1 to head, reading ahead one block while the
// current one is applied.
func (r *replay) run(ctx context.Context, head uint64, progress func(height, head uint64)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan fetched, 1)
	go func() {
		defer close(ch)
		for h := r.done + 1; h <= head; h++ {
			f := r.fetch(ctx, h)
			select {
			case ch <- f:
			case <-ctx.Done():
				return
			}
			if f.err != nil {
				return
			}
		}
	}()
	for h := r.done + 1; h <= head; h++ {
		f, ok := <-ch
		if !ok {
			return ctx.Err()
		}
		if f.err != nil {
			return f.err
		}
		if err := r.block(ctx, h, f); err != nil {
			return err
		}
		r.done = h
		if progress != nil {
			progress(h, head)
		}
	}
	return nil
}

// fetch reads block h, parses its operations and verifies their
// signatures in parallel with the keys the chain gives their signers (the
// machine resolves each key again from state when it applies them, and
// only skips the arithmetic for a key verified here), and runs their
// programs' Prechecks in parallel against the state replayed so far
// (only the memo of passed checks keeps what they do).
func (r *replay) fetch(ctx context.Context, h uint64) fetched {
	b, err := r.live.Block(ctx, h)
	if err != nil {
		return fetched{err: errkind.Wrap(errkind.KindOf(err), err, "read block %d", h)}
	}
	ops := make([]*parsed, len(b.Ops))
	errs := make([]error, len(b.Ops))
	parallel(len(b.Ops), func(i int) {
		if ops[i], errs[i] = parse(b.Ops[i]); errs[i] != nil {
			errs[i] = mismatch(h, "operation %d does not parse: %v", i, errs[i])
		}
	})
	if err := errors.Join(errs...); err != nil {
		return fetched{err: err}
	}
	keys := make([]crypto.PublicKey, len(ops))
	r.hints.start(h)
	for i, p := range ops {
		keys[i], _ = r.m.keyFor(ctx, r.hints, p)
		r.hints.note(p)
	}
	r.m.preverifyMany(ops, keys) // a failure is the machine's to report
	parallel(len(ops), func(i int) {
		r.m.precheckProgram(ctx, r.fresh, ops[i])
	})
	return fetched{b: b, ops: ops}
}

// parallel runs f(0) ... f(n-1) on GOMAXPROCS goroutines.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				f(i)
			}
		})
	}
	wg.Wait()
}

// keyHints gives the replay's read-ahead the did:urbis documents written
// by the operations it has read, so that it finds signing keys without
// reading the state being replayed (which lags behind); other DIDs it
// reads from that state. A hint is only a guess at a key. It keeps the
// documents of three blocks: while the read-ahead reads block h, the
// apply has committed every block before h-2 (run sends block h-1 once
// the apply has taken h-2 off the channel), so older hints are in state.
type keyHints struct {
	StateReader
	gens [3]map[string]DIDVersion // by height modulo 3
	cur  int                      // the block being read
}

// start begins block h, forgetting the documents of block h-3.
func (k *keyHints) start(h uint64) {
	k.cur = int(h % 3)
	if k.gens[k.cur] == nil {
		k.gens[k.cur] = make(map[string]DIDVersion)
	}
	clear(k.gens[k.cur])
}

// LatestDIDVersion returns the version the operations read so far wrote.
func (k *keyHints) LatestDIDVersion(ctx context.Context, id string) (DIDVersion, error) {
	for back := range 3 { // the newest first
		if v, ok := k.gens[(k.cur+3-back)%3][id]; ok {
			return v, nil
		}
	}
	return k.StateReader.LatestDIDVersion(ctx, id)
}

// note remembers the document p writes, if it writes one.
func (k *keyHints) note(p *parsed) {
	var v DIDVersion
	switch body := p.body.(type) {
	case *DIDCreate:
		v = DIDVersion{DID: p.signerDID, Document: body.Document}
	case *DIDUpdate:
		v = DIDVersion{DID: body.DID, Document: body.Document}
	case *DIDDeactivate:
		v = DIDVersion{DID: body.DID, Deactivated: true}
	default:
		return
	}
	k.gens[k.cur][v.DID] = v
}

// block checks and replays one block.
func (r *replay) block(ctx context.Context, h uint64, f fetched) error {
	b, hd := f.b, f.b.Header
	switch {
	case hd.Chain != r.g.ChainID:
		return mismatch(h, "chain is %q; the genesis is of chain %q", hd.Chain, r.g.ChainID)
	case hd.Height != h:
		return mismatch(h, "the block stored at height %d says height %d", h, hd.Height)
	case hd.Previous != r.prevHash:
		return mismatch(h, "previous hash is %s; block %d hashes to %s", hd.Previous, h-1, r.prevHash)
	case hd.Time.Before(r.prevTime):
		return mismatch(h, "time %s is before the previous block's %s", hd.Time.UTC(), r.prevTime)
	case hd.OpCount != len(b.Ops) || hd.OpCount == 0:
		return mismatch(h, "header counts %d operations; the block holds %d", hd.OpCount, len(b.Ops))
	case hd.OpCount > r.g.Params.MaxBlockOps:
		return mismatch(h, "holds %d operations; the genesis allows %d a block", hd.OpCount, r.g.Params.MaxBlockOps)
	}
	if r.prevCons > 0 && hd.ConsensusHeight <= r.prevCons {
		return mismatch(h, "consensus height %d does not follow block %d's %d", hd.ConsensusHeight, h-1, r.prevCons)
	}
	r.sets.at(hd)
	keyOf := func(id string) (ed25519.PublicKey, error) { return r.sets.key(id, hd) }
	if _, err := keyOf(hd.Proposer); err != nil {
		return mismatch(h, "proposer %v", err)
	}
	hashes := make([]string, len(f.ops))
	for i, p := range f.ops {
		hashes[i] = p.Hash
	}
	if root := MerkleRoot(hashes); root != hd.OpsRoot {
		return mismatch(h, "operations root is %s; the operations give %s (an operation was changed, added, removed or reordered)", hd.OpsRoot, root)
	}
	switch {
	case hd.ConsensusHeight > 0 && r.consensus != nil:
		if err := r.consensus.Vouch(ctx, hd, b.Ops, r.sets.members()); err != nil {
			return mismatch(h, "%v", err)
		}
	case hd.ConsensusHeight > 0 && len(b.Signatures) == 0:
		return mismatch(h, "made at consensus height %d, it carries no signature: its authority is the consensus engine's commit; "+
			"verify it with the commits of a validator's home (urbis registry verify --data-dir HOME/urbis finds HOME/config and HOME/data)", hd.ConsensusHeight)
	default:
		if err := checkSignaturesBy(hd, b.Signatures, "its key", keyOf); err != nil {
			return mismatch(h, "%v", err)
		}
	}
	var root string
	err := r.fresh.InBlockTx(ctx, func(tx BlockTx) error {
		if err := r.m.prefetch(ctx, tx, f.ops, nil); err != nil {
			return err
		}
		effects := make([][]byte, len(f.ops))
		for i, p := range f.ops {
			eff, err := r.m.apply(ctx, tx, hd, p)
			if err != nil {
				var ve *VerifyError // the store found its state edited
				if k := errkind.KindOf(err); k == errkind.Internal || k == errkind.Unavailable || errors.As(err, &ve) {
					return err
				}
				return mismatch(h, "operation %d (%s) is rejected on replay: %v", i, p.Hash, err)
			}
			effects[i] = eff
		}
		root = NextStateRoot(r.prevRoot, hashes, effects)
		if root != hd.StateRoot {
			return mismatch(h, "state root is %s; replaying the block gives %s", hd.StateRoot, root)
		}
		// The block itself is not stored again: the replay checks state,
		// and the live store holds the blocks.
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range f.ops {
		for _, s := range r.setters {
			if c, ok := s.ValidatorChange(p.Op.Kind, p.Op.Payload); ok {
				if err := r.sets.change(hd, p.Op.Kind, c); err != nil {
					return mismatch(h, "validator change of operation %s: %v", p.Hash, err)
				}
			}
		}
	}
	r.prevHash, r.prevRoot, r.prevTime, r.prevCons = hd.Hash(), root, hd.Time.UTC(), hd.ConsensusHeight
	return nil
}
