package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// errAbandoned rolls back a block transaction that Commit will not commit.
var errAbandoned = errors.New("node: block abandoned")

// FinalizeBlock implements abci.Application: it applies the decided
// block's operations in one database transaction, left open until
// Commit, and returns the new state root as the app hash. A store
// failure is returned as an error, which stops the node: a replicated
// engine must not let one node's disk decide an operation's fate.
func (a *App) FinalizeBlock(ctx context.Context, req *abci.FinalizeBlockRequest) (*abci.FinalizeBlockResponse, error) {
	a.mu.Lock()
	if a.pend != nil {
		a.mu.Unlock()
		return nil, fmt.Errorf("node: FinalizeBlock of height %d while height %d awaits Commit", req.Height, a.pend.height)
	}
	height, root, head, headHash := a.height, a.stateRoot, a.head, a.headHash
	a.mu.Unlock()
	if req.Height != height+1 {
		return nil, fmt.Errorf("node: FinalizeBlock of height %d after committed height %d", req.Height, height)
	}
	h := registry.Header{
		Chain: a.cfg.Genesis.ChainID, Height: head.Height + 1, Previous: headHash,
		Time: blockTime(req.Time, head.Time), Proposer: a.proposer(req.ProposerAddress), ConsensusHeight: uint64(req.Height),
	}
	ops := make([]string, len(req.Txs))
	for i, tx := range req.Txs {
		ops[i] = string(tx)
	}
	p := &pending{height: req.Height, stateRoot: root, commit: make(chan bool), done: make(chan error, 1)}
	type applied struct {
		b   *registry.AppliedBlock
		err error
	}
	ready := make(chan applied, 1)
	go func() {
		p.done <- a.cfg.Store.InBlockTx(context.WithoutCancel(ctx), func(tx registry.BlockTx) error {
			b, err := a.applyIn(ctx, tx, h, root, req.Height, ops)
			ready <- applied{b, err}
			if err != nil {
				return err
			}
			if !<-p.commit {
				return errAbandoned
			}
			return nil
		})
	}()
	var res applied
	select {
	case res = <-ready:
	case err := <-p.done: // the transaction did not begin
		a.ap.Reset()
		return nil, fmt.Errorf("node: block %d: %w", req.Height, err)
	}
	if res.err != nil {
		<-p.done
		a.ap.Reset()
		return nil, fmt.Errorf("node: block %d: %w", req.Height, res.err)
	}
	p.block = res.b
	if res.b.Block != nil {
		p.stateRoot = res.b.Block.Header.StateRoot
	}
	results := make([]*abci.ExecTxResult, len(res.b.Ops))
	p.statuses = make([]registry.OpStatus, len(res.b.Ops))
	idx := 0
	for i, o := range res.b.Ops {
		st := registry.OpStatus{Hash: o.Hash, Kind: o.Kind, Time: h.Time}
		if o.Reason != "" {
			st.Status, st.Reason = registry.StatusRejected, o.Reason
			results[i] = &abci.ExecTxResult{Code: codeRejected, Log: o.Reason}
		} else {
			st.Status, st.Height, st.Index = registry.StatusCommitted, h.Height, idx
			idx++
			results[i] = &abci.ExecTxResult{Code: codeOK}
		}
		p.statuses[i] = st
	}
	ups, sets := validatorUpdates(ops, res.b)
	p.sets = sets
	for i, o := range res.b.Ops {
		if o.Reason == "" && o.Kind == KindValidatorSet {
			// Indexed, so that a proof can find the validator-set changes.
			results[i].Events = []abci.Event{{Type: validatorSetEvent, Attributes: []abci.EventAttribute{{Key: "op", Value: o.Hash, Index: true}}}}
		}
	}
	a.mu.Lock()
	a.pend = p
	a.mu.Unlock()
	return &abci.FinalizeBlockResponse{TxResults: results, ValidatorUpdates: ups, AppHash: hashBytes(p.stateRoot)}, nil
}

// codeRejected is the FinalizeBlock code of a rejected operation.
const codeRejected uint32 = 1

// applyIn applies ops in tx, stores the block (unsigned: the CometBFT
// commit vouches for it) and the record of the CometBFT height.
func (a *App) applyIn(ctx context.Context, tx registry.BlockTx, h registry.Header, root string, height int64, ops []string) (*registry.AppliedBlock, error) {
	b, err := a.ap.Apply(ctx, tx, h, root, ops)
	if err != nil {
		return nil, err
	}
	if b.Block != nil {
		root = b.Block.Header.StateRoot
		b.Block.Signatures = []registry.Signature{}
		if err := tx.PutBlock(ctx, *b.Block, b.Hashes); err != nil {
			return nil, err
		}
	}
	rec, err := json.Marshal(lastBlock{Height: height, AppHash: root})
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "encode the block record")
	}
	if err := tx.PutOpStatus(ctx, registry.OpStatus{Hash: metaHash, Status: registry.StatusRejected, Reason: string(rec), Time: h.Time}); err != nil {
		return nil, err
	}
	return b, nil
}

// Commit implements abci.Application: it commits the transaction of the
// finalized block, then tells the waiters.
func (a *App) Commit(context.Context, *abci.CommitRequest) (*abci.CommitResponse, error) {
	a.mu.Lock()
	p := a.pend
	a.mu.Unlock()
	if p == nil {
		return &abci.CommitResponse{}, nil
	}
	p.commit <- true
	if err := <-p.done; err != nil {
		a.ap.Reset()
		return nil, fmt.Errorf("node: commit block %d: %w", p.height, err)
	}
	a.ap.Committed(p.block)
	a.noteValidators(p.sets)
	a.mu.Lock()
	a.pend = nil
	a.height, a.stateRoot = p.height, p.stateRoot
	if b := p.block.Block; b != nil {
		a.head, a.headHash = b.Header, b.Header.Hash()
	}
	a.mu.Unlock()
	if len(p.statuses) > 0 {
		a.onFinal(p.statuses)
	}
	return &abci.CommitResponse{}, nil
}

// Close rolls back a block finalized but not committed (the node stops).
func (a *App) Close() {
	a.mu.Lock()
	p := a.pend
	a.pend = nil
	a.mu.Unlock()
	if p != nil {
		p.commit <- false
		<-p.done
		a.ap.Reset()
	}
}

// proposer returns the registry validator id of a CometBFT proposer
// address, or the address itself if the registry genesis does not list it.
func (a *App) proposer(addr []byte) string {
	hexAddr := strings.ToUpper(fmt.Sprintf("%x", addr))
	a.mu.Lock()
	defer a.mu.Unlock()
	if id, ok := a.byAddr[hexAddr]; ok {
		return id
	}
	return hexAddr
}

// blockTime returns the registry time of a block: CometBFT's, to the
// millisecond, never before the previous block (or genesis).
func blockTime(t, prev time.Time) time.Time {
	t = t.UTC().Truncate(blockTimeUnit)
	if prev = prev.UTC(); t.Before(prev) {
		t = prev.Truncate(blockTimeUnit)
		if t.Before(prev) {
			t = t.Add(blockTimeUnit)
		}
	}
	return t
}
