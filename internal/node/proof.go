package node

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/merkle"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// CommitProof is an inclusion proof of an operation that rests on the
// validators' commit signatures: the operation is transaction Index of
// the CometBFT block at Height (a Merkle path to the header's DataHash),
// more than two thirds of the voting power signed that header (its
// commit), and the registry accepted it: its result (code 0) has a Merkle
// path to LastResultsHash of the next header, itself signed by more than
// two thirds. Anyone checks it offline with CheckCommitProof and the
// CometBFT genesis: the validator sets that signed come from the genesis
// and from the validator-set changes the proof carries, each signed by
// more than two thirds of the set before it.
type CommitProof struct {
	Operation    string                 `json:"operation"` // compact JWS
	Height       int64                  `json:"height"`
	Index        uint32                 `json:"index"`
	TxProof      cmttypes.TxProof       `json:"txProof"`
	SignedHeader *cmttypes.SignedHeader `json:"signedHeader"`
	Result       *abci.ExecTxResult     `json:"result"`
	ResultProof  merkle.Proof           `json:"resultProof"`
	NextHeader   *cmttypes.SignedHeader `json:"nextSignedHeader"`
	// History are the validator-set changes since the genesis that took
	// effect up to the next header, oldest first.
	History []SetChange `json:"history,omitempty"`
}

// FetchCommitProof builds the commit proof of the operation with the
// given hash from a validator's CometBFT RPC (http://host:port). The
// operation must be committed and the next block made.
func FetchCommitProof(ctx context.Context, rpc, hash string) (*CommitProof, error) {
	h, err := hex.DecodeString(hash)
	if err != nil || len(h) != sha256.Size {
		return nil, errkind.Field(errkind.Invalid, "hash", "%q is not an operation hash (64 hex characters)", hash)
	}
	c, err := rpchttp.New(rpc)
	if err != nil {
		return nil, err
	}
	tx, err := c.Tx(ctx, h, true)
	// CometBFT indexes a block's transactions after the block commits:
	// an operation acknowledged a moment ago may not be found yet, so
	// "not found" is asked again for up to 5 s.
	for try := 0; err != nil && strings.Contains(err.Error(), "not found") && try < 50; try++ {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		tx, err = c.Tx(ctx, h, true)
	}
	if err != nil {
		return nil, fmt.Errorf("find operation %s through %s: %w", hash, rpc, err)
	}
	p := &CommitProof{Operation: string(tx.Tx), Height: tx.Height, Index: tx.Index, TxProof: tx.Proof}
	commit, err := c.Commit(ctx, &tx.Height)
	if err != nil {
		return nil, err
	}
	p.SignedHeader = &commit.SignedHeader
	results, err := c.BlockResults(ctx, &tx.Height)
	if err != nil {
		return nil, err
	}
	if int(tx.Index) >= len(results.TxResults) {
		return nil, fmt.Errorf("block %d has %d results; the operation is transaction %d", tx.Height, len(results.TxResults), tx.Index)
	}
	p.Result = abci.DeterministicExecTxResult(results.TxResults[tx.Index])
	p.ResultProof = cmttypes.NewResults(results.TxResults).ProveResult(int(tx.Index))
	// The next block, which signs the results, follows the block of an
	// accepted operation within a block interval (its app hash changed).
	next := tx.Height + 1
	var nc *ctypes.ResultCommit
	for wait := time.Now().Add(10 * time.Second); ; {
		if nc, err = c.Commit(ctx, &next); err == nil {
			break
		}
		if time.Now().After(wait) || ctx.Err() != nil {
			return nil, fmt.Errorf("block %d, which signs the results of block %d, is not made yet; retry: %w", next, tx.Height, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.NextHeader = &nc.SignedHeader
	if p.History, err = fetchHistory(ctx, c, tx.Height); err != nil {
		return nil, err
	}
	return p, nil
}

// CheckCommitProof checks p against the CometBFT genesis doc (its chain
// and validators, then the validator-set changes the proof carries, each
// signed by the set before it) and returns the operation it proves.
func CheckCommitProof(p *CommitProof, doc *cmttypes.GenesisDoc) (registry.SignedOp, error) {
	bad := func(format string, args ...any) (registry.SignedOp, error) {
		return registry.SignedOp{}, errkind.New(errkind.Invalid, "commit proof: "+format, args...)
	}
	if p.SignedHeader == nil || p.NextHeader == nil || p.Result == nil {
		return bad("signed headers and result are required")
	}
	w := &setWalker{chainID: doc.ChainID, set: genesisSet(doc), changes: p.History}
	for _, sh := range []*cmttypes.SignedHeader{p.SignedHeader, p.NextHeader} {
		set, err := w.at(sh.Height)
		if err != nil {
			return bad("%v", err)
		}
		if err := verifyHeader(doc.ChainID, set, sh); err != nil {
			return bad("%v", err)
		}
	}
	if w.next < len(p.History) {
		return bad("the proof carries a validator-set change at block %d, after the blocks it proves", p.History[w.next].Height)
	}
	if p.SignedHeader.Height != p.Height || p.NextHeader.Height != p.Height+1 {
		return bad("headers are of heights %d and %d; want %d and %d", p.SignedHeader.Height, p.NextHeader.Height, p.Height, p.Height+1)
	}
	if !bytes.Equal(p.NextHeader.LastBlockID.Hash, p.SignedHeader.Hash()) {
		return bad("block %d does not follow block %d", p.Height+1, p.Height)
	}
	if !bytes.Equal(p.TxProof.Data, []byte(p.Operation)) || p.TxProof.Proof.Index != int64(p.Index) {
		return bad("the transaction proof is not of this operation at index %d", p.Index)
	}
	if err := p.TxProof.Validate(p.SignedHeader.DataHash); err != nil {
		return bad("the operation is not in block %d: %v", p.Height, err)
	}
	leaf, err := abci.DeterministicExecTxResult(p.Result).Marshal()
	if err != nil {
		return bad("result: %v", err)
	}
	if p.ResultProof.Index != int64(p.Index) {
		return bad("the result proof is of transaction %d, not %d", p.ResultProof.Index, p.Index)
	}
	if err := p.ResultProof.Verify(p.NextHeader.LastResultsHash, leaf); err != nil {
		return bad("the result is not the one block %d records for block %d: %v", p.Height+1, p.Height, err)
	}
	if p.Result.Code != codeOK {
		return bad("the registry rejected the operation (code %d)", p.Result.Code)
	}
	op, err := registry.ParseSigned(p.Operation)
	if err != nil {
		return bad("operation: %v", err)
	}
	if op.Op.Chain != doc.ChainID {
		return bad("the operation is for chain %q; the genesis is of chain %q", op.Op.Chain, doc.ChainID)
	}
	return op, nil
}
