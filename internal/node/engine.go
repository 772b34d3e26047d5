package node

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"sync"

	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// broadcaster submits a transaction to the local mempool.
type broadcaster interface {
	BroadcastTxSync(ctx context.Context, tx cmttypes.Tx) (*ctypes.ResultBroadcastTx, error)
}

// cometClient is the CometBFT client of the engine: it submits to the
// mempool and reads commit proofs.
type cometClient interface {
	broadcaster
	proofClient
}

// maxWaiting bounds the operations submitted here and not yet decided.
const maxWaiting = 100_000

// Engine is the registry engine of a validator, with the methods the
// REST API and the services need (as the solo engine's): Submit checks
// an operation against committed state and puts it in the mempool; Wait
// returns once the block that decides it is committed on this node;
// reads come from this node's database.
type Engine struct {
	app   *App
	store registry.ChainStore
	bc    cometClient
	// syncing reports whether the mempool still refuses transactions
	// because the node is catching up (nil: never).
	syncing func() bool

	mu      sync.Mutex
	waiting map[string]*waiter
}

type waiter struct {
	done   chan struct{}
	status registry.OpStatus // final once done is closed; guarded by Engine.mu
}

func newEngine(app *App, st registry.ChainStore, bc cometClient) *Engine {
	e := &Engine{app: app, store: st, bc: bc, waiting: make(map[string]*waiter)}
	app.OnFinal(e.final)
	app.OnDrop(e.drop)
	return e
}

// CatchingUp reports whether this validator is still fetching blocks it
// missed; until it has, its mempool refuses operations.
func (e *Engine) CatchingUp() bool { return e.syncing != nil && e.syncing() }

// ChainID returns the chain id.
func (e *Engine) ChainID() string { return e.app.cfg.Genesis.ChainID }

// Submit checks compact against committed state (as CheckTx does) and
// submits it to the mempool, which gossips it to the other validators.
// It returns the pending status, or the committed status of a duplicate.
// Errors: Invalid, Forbidden, Conflict for bad operations; Unavailable
// when the mempool is full.
func (e *Engine) Submit(ctx context.Context, compact string) (registry.OpStatus, error) {
	so, err := e.app.ap.Precheck(ctx, e.store, compact)
	if err != nil {
		if errors.Is(err, errkind.Conflict) {
			sum := sha256.Sum256([]byte(compact))
			if st, serr := e.store.OpStatus(ctx, hex.EncodeToString(sum[:])); serr == nil && st.Status == registry.StatusCommitted {
				return st, nil
			}
		}
		return registry.OpStatus{}, err
	}
	pending := registry.OpStatus{Hash: so.Hash, Status: registry.StatusPending, Kind: so.Op.Kind}
	e.mu.Lock()
	if _, ok := e.waiting[so.Hash]; ok {
		e.mu.Unlock()
		return pending, nil
	}
	if len(e.waiting) >= maxWaiting {
		e.mu.Unlock()
		return registry.OpStatus{}, errkind.New(errkind.Unavailable, "registry is busy; retry")
	}
	e.waiting[so.Hash] = &waiter{done: make(chan struct{}), status: pending}
	e.mu.Unlock()
	res, err := e.bc.BroadcastTxSync(ctx, cmttypes.Tx(compact))
	switch {
	case err != nil && strings.Contains(err.Error(), "already exists in cache"):
		return pending, nil
	case err != nil && strings.Contains(err.Error(), "catching up"):
		e.forget(so.Hash)
		return registry.OpStatus{}, errkind.New(errkind.Unavailable, "this validator is catching up with the network; retry, or submit to another validator")
	case err != nil:
		e.forget(so.Hash)
		return registry.OpStatus{}, errkind.Wrap(errkind.Unavailable, err, "submit to the mempool; retry")
	case res.Code != codeOK:
		e.forget(so.Hash)
		return registry.OpStatus{}, errkind.New(KindOfCode(res.Code), "%s", res.Log)
	}
	return pending, nil
}

func (e *Engine) forget(hash string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.waiting, hash)
}

// final is told by the application of the operations a committed block decided.
func (e *Engine) final(sts []registry.OpStatus) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, st := range sts {
		if w, ok := e.waiting[st.Hash]; ok {
			w.status = st
			close(w.done)
			delete(e.waiting, st.Hash)
		}
	}
}

// drop is told of an operation the mempool dropped: it can no longer be
// applied (another operation took its nonce).
func (e *Engine) drop(hash, reason string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if w, ok := e.waiting[hash]; ok {
		w.status = registry.OpStatus{Hash: hash, Status: registry.StatusRejected, Kind: w.status.Kind, Reason: reason}
		close(w.done)
		delete(e.waiting, hash)
	}
}

// Status returns the status of an operation: pending if it was submitted
// here and is undecided, else what this node's database recorded.
func (e *Engine) Status(ctx context.Context, hash string) (registry.OpStatus, error) {
	e.mu.Lock()
	w, ok := e.waiting[hash]
	var st registry.OpStatus
	if ok {
		st = w.status
	}
	e.mu.Unlock()
	if ok {
		return st, nil
	}
	return e.stored(ctx, hash)
}

func (e *Engine) stored(ctx context.Context, hash string) (registry.OpStatus, error) {
	if hash == metaHash {
		return registry.OpStatus{}, errkind.New(errkind.NotFound, "operation %s is unknown to this node", hash)
	}
	st, err := e.store.OpStatus(ctx, hash)
	if errors.Is(err, errkind.NotFound) {
		return registry.OpStatus{}, errkind.New(errkind.NotFound, "operation %s is unknown to this node", hash)
	}
	return st, err
}

// Wait waits until the operation is decided in a block committed on this
// node and returns its status. If ctx ends first it returns the pending
// status and an Unavailable error wrapping ctx.Err().
func (e *Engine) Wait(ctx context.Context, hash string) (registry.OpStatus, error) {
	e.mu.Lock()
	w, ok := e.waiting[hash]
	e.mu.Unlock()
	if !ok {
		return e.stored(ctx, hash)
	}
	select {
	case <-w.done:
		e.mu.Lock()
		defer e.mu.Unlock()
		return w.status, nil
	case <-ctx.Done():
		e.mu.Lock()
		defer e.mu.Unlock()
		return w.status, errkind.Wrap(errkind.Unavailable, ctx.Err(), "operation %s is still pending", hash)
	}
}

// Proof returns the inclusion proof of a committed operation: the
// registry's (Merkle path and block header), with, in Consensus, the
// CometBFT commit proof (CommitProof) that vouches for it, read from
// this validator's block store and transaction index. It waits for the
// block after the operation's, which records its result.
func (e *Engine) Proof(ctx context.Context, hash string) (registry.Proof, error) {
	st, err := e.stored(ctx, hash)
	if err != nil {
		return registry.Proof{}, err
	}
	if st.Status != registry.StatusCommitted {
		return registry.Proof{}, errkind.New(errkind.NotFound, "operation %s is %s, not committed: only committed operations have proofs", hash, st.Status)
	}
	p, err := registry.ProofFrom(ctx, e.store, st)
	if err != nil || p.Header.ConsensusHeight == 0 {
		return p, err
	}
	cp, err := commitProof(ctx, e.bc, hash)
	if err != nil {
		return registry.Proof{}, errkind.Wrap(errkind.Unavailable, err, "the commit proof of operation %s; retry", hash)
	}
	if p.Consensus, err = json.Marshal(cp); err != nil {
		return registry.Proof{}, errkind.Wrap(errkind.Internal, err, "encode the commit proof")
	}
	return p, nil
}
