package node

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmted "github.com/cometbft/cometbft/crypto/ed25519"
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

// proofClient is the part of a CometBFT RPC client (remote, or local
// to the node) a commit proof is read with.
type proofClient interface {
	Tx(ctx context.Context, hash []byte, prove bool) (*ctypes.ResultTx, error)
	Commit(ctx context.Context, height *int64) (*ctypes.ResultCommit, error)
	BlockResults(ctx context.Context, height *int64) (*ctypes.ResultBlockResults, error)
	TxSearch(ctx context.Context, query string, prove bool, page, perPage *int, orderBy string) (*ctypes.ResultTxSearch, error)
	Validators(ctx context.Context, height *int64, page, perPage *int) (*ctypes.ResultValidators, error)
}

// FetchCommitProof builds the commit proof of the operation with the
// given hash from a validator's CometBFT RPC (http://host:port). The
// operation must be committed and the next block made.
func FetchCommitProof(ctx context.Context, rpc, hash string) (*CommitProof, error) {
	c, err := rpchttp.New(rpc)
	if err != nil {
		return nil, err
	}
	return commitProof(ctx, c, hash)
}

func commitProof(ctx context.Context, c proofClient, hash string) (*CommitProof, error) {
	h, err := hex.DecodeString(hash)
	if err != nil || len(h) != sha256.Size {
		return nil, errkind.Field(errkind.Invalid, "hash", "%q is not an operation hash (64 hex characters)", hash)
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
		return nil, fmt.Errorf("find operation %s in the CometBFT transaction index: %w", hash, err)
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

// GenesisDoc returns the CometBFT genesis of the registry genesis g as
// urbis node init and localnet write it: its chain, and its validators,
// each with power GenesisPower.
func GenesisDoc(g *registry.Genesis) (*cmttypes.GenesisDoc, error) {
	doc := &cmttypes.GenesisDoc{ChainID: g.ChainID, GenesisTime: g.Time}
	for _, v := range g.Validators {
		pub, err := validatorPub(v)
		if err != nil {
			return nil, err
		}
		doc.Validators = append(doc.Validators, cmttypes.GenesisValidator{PubKey: cmted.PubKey(pub), Power: GenesisPower, Name: v.ID})
	}
	return doc, nil
}

// ConsensusCheck returns the registry.ConsensusCheck of the chain whose
// CometBFT genesis is doc: a proof's Consensus is a CommitProof that
// checks (CheckCommitProof), of the proof's operation, made at the
// header's consensus height and time, and whose next block records the
// header's state root as the app hash.
func ConsensusCheck(doc *cmttypes.GenesisDoc) registry.ConsensusCheck {
	return func(p registry.Proof, g *registry.Genesis) error {
		if doc.ChainID != g.ChainID {
			return fmt.Errorf("the CometBFT genesis is of chain %q; the registry genesis of chain %q", doc.ChainID, g.ChainID)
		}
		var cp CommitProof
		if err := json.Unmarshal(p.Consensus, &cp); err != nil {
			return fmt.Errorf("consensus is not a CometBFT commit proof: %v", err)
		}
		if _, err := CheckCommitProof(&cp, doc); err != nil {
			return err
		}
		switch {
		case cp.Operation != p.Operation:
			return fmt.Errorf("the commit proof is of another operation")
		case cp.Height != int64(p.Header.ConsensusHeight):
			return fmt.Errorf("the commit proof is of CometBFT block %d; the header was made at consensus height %d", cp.Height, p.Header.ConsensusHeight)
		case !blockTime(cp.SignedHeader.Time, time.Time{}).Equal(p.Header.Time):
			return fmt.Errorf("the header's time is %s; CometBFT block %d was made at %s", p.Header.Time.UTC(), cp.Height, blockTime(cp.SignedHeader.Time, time.Time{}))
		case hex.EncodeToString(cp.NextHeader.AppHash) != p.Header.StateRoot:
			return fmt.Errorf("the header's state root is %s; CometBFT block %d records the app hash %x after block %d", p.Header.StateRoot, cp.Height+1, cp.NextHeader.AppHash, cp.Height)
		}
		return nil
	}
}

// LoadGenesis reads a genesis file a proof is checked against: a
// registry genesis (urbis/genesis.json), whose CometBFT genesis is then
// GenesisDoc's, or a CometBFT genesis (config/genesis.json), with the
// registry genesis as its app_state.
func LoadGenesis(path string) (*registry.Genesis, *cmttypes.GenesisDoc, error) {
	g, err := registry.LoadGenesis(path)
	if err == nil {
		doc, err := GenesisDoc(g)
		return g, doc, err
	}
	doc, cerr := cmttypes.GenesisDocFromFile(path)
	if cerr != nil || len(doc.AppState) == 0 {
		return nil, nil, err // not a CometBFT genesis either: the registry's error says why
	}
	g, err = registryGenesis(doc, path)
	return g, doc, err
}
