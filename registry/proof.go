package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/urbis-id/urbis/internal/errkind"
)

// Proof is an inclusion proof of an operation: the operation, its hash,
// its index in the block, the Merkle audit path from it to the block's
// OpsRoot, and the block header with what vouches for it: the signatures
// of the solo engine's validator, or, for a block a consensus engine made
// (urbis node), the engine's own proof in Consensus (the CometBFT commit
// proof, internal/node.CommitProof), which rests on more than two thirds
// of the voting power of the validators in force. A client checks it
// with CheckProof (CheckProofWith for Consensus), offline, against the
// genesis alone.
type Proof struct {
	Operation  string          `json:"operation"` // compact JWS
	Hash       string          `json:"hash"`
	Index      int             `json:"index"`
	Path       []string        `json:"path"`
	Header     Header          `json:"header"`
	Signatures []Signature     `json:"signatures"`
	Consensus  json.RawMessage `json:"consensus,omitempty"`
}

// ConsensusCheck checks the Consensus of a proof against the genesis g:
// that it proves p.Operation accepted in the consensus engine's block at
// p.Header.ConsensusHeight, and vouches for p.Header.
type ConsensusCheck func(p Proof, g *Genesis) error

// CheckProof checks p with nothing but the genesis g: the operation hashes
// to p.Hash and is a well-formed operation of g's chain, the path leads
// from it to Header.OpsRoot, the header is of g's chain, and genesis
// validators signed the header hash. A proof that carries Consensus
// fails: check it with CheckProofWith. Errors are of kind Invalid and
// name what is wrong.
func CheckProof(p Proof, g *Genesis) error { return CheckProofWith(p, g, nil) }

// CheckProofWith is CheckProof, except that a proof carrying Consensus
// is vouched for by consensus (and not by its signatures, if any).
func CheckProofWith(p Proof, g *Genesis, consensus ConsensusCheck) error {
	if g == nil {
		return errkind.New(errkind.Invalid, "no genesis to check the proof against")
	}
	sum := sha256.Sum256([]byte(p.Operation))
	if got := hex.EncodeToString(sum[:]); got != p.Hash {
		return errkind.New(errkind.Invalid, "proof operation hashes to %s, not to the proof's hash %s: the operation or the hash was altered", got, p.Hash)
	}
	op, err := ParseSigned(p.Operation)
	if err != nil {
		return errkind.Wrap(errkind.Invalid, err, "proof operation")
	}
	if op.Op.Chain != g.ChainID {
		return errkind.New(errkind.Invalid, "proof operation is for chain %q; the genesis is of chain %q", op.Op.Chain, g.ChainID)
	}
	if p.Header.Chain != g.ChainID {
		return errkind.New(errkind.Invalid, "proof block header is of chain %q; the genesis is of chain %q", p.Header.Chain, g.ChainID)
	}
	if p.Index < 0 || p.Index >= p.Header.OpCount {
		return errkind.New(errkind.Invalid, "proof index %d is outside block %d, which holds %d operations", p.Index, p.Header.Height, p.Header.OpCount)
	}
	if !verifyPath(p.Hash, p.Index, p.Header.OpCount, p.Path, p.Header.OpsRoot) {
		return errkind.New(errkind.Invalid, "proof Merkle path does not lead from operation %s at index %d to the opsRoot %s of block %d", p.Hash, p.Index, p.Header.OpsRoot, p.Header.Height)
	}
	switch {
	case len(p.Consensus) > 0 && consensus == nil:
		return errkind.New(errkind.Invalid, "proof block %d was made by a consensus engine and the proof rests on its commit: "+
			"check it with urbis registry check-proof", p.Header.Height)
	case len(p.Consensus) > 0:
		if err := consensus(p, g); err != nil {
			return errkind.Wrap(errkind.Invalid, err, "proof block %d", p.Header.Height)
		}
	case p.Header.ConsensusHeight > 0 && len(p.Signatures) == 0:
		return errkind.New(errkind.Invalid, "proof block %d was made at consensus height %d and carries no signature: "+
			"its authority is the consensus engine's commit, which the proof does not carry", p.Header.Height, p.Header.ConsensusHeight)
	default:
		if err := checkSignatures(p.Header, p.Signatures, g); err != nil {
			return errkind.Wrap(errkind.Invalid, err, "proof block %d", p.Header.Height)
		}
	}
	return nil
}

// BlockReader reads blocks; ChainStore is one.
type BlockReader interface {
	Block(ctx context.Context, height uint64) (Block, error)
}

// ProofFrom builds the inclusion proof of the committed operation op
// from the block that holds it.
func ProofFrom(ctx context.Context, st BlockReader, op OpStatus) (Proof, error) {
	b, err := st.Block(ctx, op.Height)
	if err != nil {
		return Proof{}, err
	}
	hashes := opHashes(b.Ops)
	if op.Index < 0 || op.Index >= len(hashes) || hashes[op.Index] != op.Hash {
		return Proof{}, errkind.New(errkind.Internal, "block %d does not hold operation %s at index %d", op.Height, op.Hash, op.Index)
	}
	return Proof{
		Operation: b.Ops[op.Index], Hash: op.Hash, Index: op.Index,
		Path: MerklePath(hashes, op.Index), Header: b.Header, Signatures: b.Signatures,
	}, nil
}
