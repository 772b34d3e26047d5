package registry

import "context"

// Consensus vouches for the blocks a consensus engine made, those whose
// header has a ConsensusHeight: under urbis node, CometBFT's commits,
// read from a validator's home (internal/node.Commits). The authority of
// such a block is the engine's commit, signed by more than two thirds of
// the voting power of the validators in force; the node that stored it
// adds no signature of its own.
type Consensus interface {
	// GenesisPower returns the voting power the consensus engine's
	// genesis gives the genesis validator v.
	GenesisPower(v Validator) int64
	// Vouch checks that the consensus engine decided the block of
	// header h with the operations ops: they are, in order, transactions
	// of its block at h.ConsensusHeight, made by h's proposer and signed
	// by more than two thirds of the voting power of set (the validators
	// in force at that height), and the engine's next block, if it made
	// one, records h.StateRoot as the app hash. Its error says what fails.
	Vouch(ctx context.Context, h Header, ops []string, set []ValidatorChange) error
}

// VerifyOptions are the options of VerifyWith.
type VerifyOptions struct {
	// Progress, if not nil, is called after each block.
	Progress func(height, head uint64)
	// Consensus vouches for the blocks with a consensus height. Without
	// it, such a block must carry signatures of validators in force, as
	// a block of the solo engine does.
	Consensus Consensus
}
