package registry

import (
	"context"
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
// Merkle root and the validator signatures, re-applies the operations
// with the state machine inside one transaction of fresh (storing the
// block there too) and compares the state root. It ends by comparing the
// state digests of live and fresh, which differ if a state row was
// edited. The first mismatch returns a *VerifyError naming the block and
// what differs. Blocks are read one at a time; progress, if not nil, is
// called after each block. Run it against a stopped node: blocks added
// meanwhile are replayed too, but a live chain can still outrun it.
func Verify(ctx context.Context, live ChainStore, fresh ChainStore, g *Genesis, progress func(height, head uint64)) error {
	if err := g.Validate(); err != nil {
		return err
	}
	if _, err := fresh.Head(ctx); err == nil {
		return errkind.New(errkind.Invalid, "the store to replay into already holds blocks; give an empty, migrated one")
	} else if !errors.Is(err, errkind.NotFound) {
		return err
	}
	r := &replay{m: NewMachine(g), g: g, live: live, fresh: fresh, prevHash: ZeroHash, prevRoot: g.Hash(), prevTime: g.Time.UTC()}
	for range 10 {
		head, err := liveHead(ctx, live)
		if err != nil {
			return err
		}
		if err := r.run(ctx, head, progress); err != nil {
			return err
		}
		want, err := live.StateDigest(ctx)
		if err != nil {
			return err
		}
		if again, err := liveHead(ctx, live); err != nil || again != head {
			if err != nil {
				return err
			}
			continue // the chain grew while we read: replay the rest
		}
		got, err := fresh.StateDigest(ctx)
		if err != nil {
			return err
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
// signatures in parallel where the replayed state already gives the key
// (the machine resolves the key again when it applies them).
func (r *replay) fetch(ctx context.Context, h uint64) fetched {
	b, err := r.live.Block(ctx, h)
	if err != nil {
		return fetched{err: errkind.Wrap(errkind.KindOf(err), err, "read block %d", h)}
	}
	ops := make([]*parsed, len(b.Ops))
	errs := make([]error, len(b.Ops))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(b.Ops); i += workers {
				p, err := parse(b.Ops[i])
				if err != nil {
					errs[i] = mismatch(h, "operation %d does not parse: %v", i, err)
					continue
				}
				ops[i] = p
				if pub, err := r.m.keyFor(ctx, r.fresh, p); err == nil {
					_ = r.m.preverify(p, pub) // a failure is the machine's to report
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fetched{err: err}
	}
	return fetched{b: b, ops: ops}
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
	}
	if _, ok := r.g.validator(hd.Proposer); !ok {
		return mismatch(h, "proposer %q is not a genesis validator", hd.Proposer)
	}
	hashes := make([]string, len(f.ops))
	for i, p := range f.ops {
		hashes[i] = p.Hash
	}
	if root := MerkleRoot(hashes); root != hd.OpsRoot {
		return mismatch(h, "operations root is %s; the operations give %s (an operation was changed, added, removed or reordered)", hd.OpsRoot, root)
	}
	if err := checkSignatures(hd, b.Signatures, r.g); err != nil {
		return mismatch(h, "%v", err)
	}
	var root string
	err := r.fresh.InBlockTx(ctx, func(tx BlockTx) error {
		effects := make([][]byte, len(f.ops))
		for i, p := range f.ops {
			eff, err := r.m.apply(ctx, tx, hd, p)
			if err != nil {
				if k := errkind.KindOf(err); k == errkind.Internal || k == errkind.Unavailable {
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
		return tx.PutBlock(ctx, b, hashes)
	})
	if err != nil {
		return err
	}
	r.prevHash, r.prevRoot, r.prevTime = hd.Hash(), root, hd.Time.UTC()
	return nil
}
