package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/urbis-id/urbis/internal/errkind"
)

// applied is what applyOps made of a block's operations.
type applied struct {
	reasons []string // per operation, in order: "" if accepted, else why it was rejected
	effects [][]byte // per operation: its effect if accepted
	hashes  []string // the accepted operations' hashes, in order
	jws     []string // the accepted operations, in order
	header  Header   // h with OpCount, OpsRoot and StateRoot set if any was accepted
}

// internalReason is the recorded reason of an operation rejected after
// store failures.
const internalReason = "internal error while applying the operation"

// applyOps applies ops in order in tx as the block h whose previous
// state root is prevRoot, each inside a savepoint: a rejected operation
// is rolled back alone and recorded (PutOpStatus) with its reason. A
// store failure (Internal or Unavailable) while applying operation i
// aborts the block if storeFailed(i, err) is true; otherwise the
// operation is rejected with a generic reason. The block itself is not
// stored: its signatures are the engine's.
func (m *Machine) applyOps(ctx context.Context, tx *blockState, h Header, prevRoot string, ops []*parsed, storeFailed func(i int, err error) bool) (applied, error) {
	const sp = "op"
	rel, canRelease := tx.BlockTx.(savepointReleaser)
	out := applied{reasons: make([]string, len(ops)), effects: make([][]byte, len(ops)), header: h}
	if err := m.prefetch(ctx, tx.BlockTx, ops, tx.c.newSigner); err != nil {
		return applied{}, err
	}
	m.preverifyBatch(ctx, tx, ops)
	for i, p := range ops {
		if err := tx.Savepoint(ctx, sp); err != nil {
			return applied{}, err
		}
		eff, err := m.apply(ctx, tx, h, p)
		if err != nil {
			tx.discard()
			if rerr := tx.RollbackTo(ctx, sp); rerr != nil {
				return applied{}, rerr
			}
			if k := errkind.KindOf(err); k == errkind.Internal || k == errkind.Unavailable {
				if storeFailed(i, err) {
					return applied{}, err
				}
				err = errkind.New(errkind.Internal, internalReason)
			}
			reason := err.Error()
			if perr := tx.PutOpStatus(ctx, OpStatus{Hash: p.Hash, Status: StatusRejected, Reason: reason, Kind: p.Op.Kind, Time: h.Time}); perr != nil {
				return applied{}, perr
			}
			out.reasons[i] = reason
			continue
		}
		if canRelease {
			if err := rel.ReleaseSavepoint(ctx, sp); err != nil {
				return applied{}, err
			}
		}
		tx.accept()
		out.effects[i] = eff
		out.hashes = append(out.hashes, p.Hash)
		out.jws = append(out.jws, p.JWS)
	}
	if len(out.hashes) > 0 {
		acc := make([][]byte, 0, len(out.hashes))
		for i, r := range out.reasons {
			if r == "" {
				acc = append(acc, out.effects[i])
			}
		}
		out.header.OpCount = len(out.hashes)
		out.header.OpsRoot = MerkleRoot(out.hashes)
		out.header.StateRoot = NextStateRoot(prevRoot, out.hashes, acc)
	}
	return out, nil
}

// BlockApplier applies whole blocks of operations with the state
// machine, for an engine outside this package (the CometBFT
// application). It keeps the committed nonces and documents of recent
// signers in memory, as the solo engine does; tell it of every commit
// (Committed) and of every abandoned transaction (Reset).
type BlockApplier struct {
	m       *Machine
	signers *signerCache
}

// NewBlockApplier returns a BlockApplier for the chain of g with the
// given civic programs (every node of a chain runs the same ones).
func NewBlockApplier(g *Genesis, programs ...Program) *BlockApplier {
	return &BlockApplier{m: NewMachine(g, programs...), signers: newSignerCache(signerCacheSize)}
}

// AppliedOp is what became of one operation of an applied block.
type AppliedOp struct {
	Hash   string // hex SHA-256 of the operation as given
	Kind   Kind   // empty if the operation does not parse
	Reason string // empty if accepted; else why it was rejected
}

// AppliedBlock is a block applied in a transaction that is not yet
// committed.
type AppliedBlock struct {
	// Block is the block of the accepted operations, without
	// signatures; nil if none was accepted (then no block is made).
	Block *Block
	// Hashes are the accepted operations' hashes, for PutBlock.
	Hashes []string
	// Ops are every operation given, in order.
	Ops []AppliedOp
	bs  *blockState
}

// Apply applies ops (compact JWS, in order) in tx as the block h (its
// Chain, Height, Previous, Time and Proposer set by the caller), after
// the state root prevRoot. An operation that does not parse, is of
// another chain or is refused by the state machine is rejected and
// recorded with its reason (PutOpStatus); the others make the block,
// whose OpCount, OpsRoot and StateRoot Apply sets. It does not store
// the block: sign it, PutBlock it, commit, then call Committed. Any
// store failure aborts the block (a replicated engine must not let one
// node's disk decide an operation's fate): roll back and call Reset.
func (a *BlockApplier) Apply(ctx context.Context, tx BlockTx, h Header, prevRoot string, ops []string) (*AppliedBlock, error) {
	out := &AppliedBlock{Ops: make([]AppliedOp, len(ops))}
	parsedOps := make([]*parsed, 0, len(ops))
	where := make([]int, 0, len(ops))
	for i, op := range ops {
		p, err := parse(op)
		if err != nil {
			sum := sha256.Sum256([]byte(op))
			hash := hex.EncodeToString(sum[:])
			out.Ops[i] = AppliedOp{Hash: hash, Reason: err.Error()}
			if perr := tx.PutOpStatus(ctx, OpStatus{Hash: hash, Status: StatusRejected, Reason: err.Error(), Time: h.Time}); perr != nil {
				return nil, perr
			}
			continue
		}
		out.Ops[i] = AppliedOp{Hash: p.Hash, Kind: p.Op.Kind}
		parsedOps = append(parsedOps, p)
		where = append(where, i)
	}
	out.bs = newBlockState(tx, a.signers)
	res, err := a.m.applyOps(ctx, out.bs, h, prevRoot, parsedOps, func(int, error) bool { return true })
	if err != nil {
		return nil, err
	}
	for j, r := range res.reasons {
		out.Ops[where[j]].Reason = r
	}
	if len(res.hashes) > 0 {
		out.Block = &Block{Header: res.header, Ops: res.jws}
		out.Hashes = res.hashes
	}
	return out, nil
}

// Committed tells a that the transaction of b committed.
func (a *BlockApplier) Committed(b *AppliedBlock) { a.signers.committed(b.bs) }

// Reset tells a that a transaction it applied a block in was abandoned.
func (a *BlockApplier) Reset() { a.signers.reset() }

// Precheck makes the checks of an operation that committed state can
// decide, as the solo engine's Submit does: it parses compact, checks
// the chain and the payload, refuses a nonce the signer has used
// already, and, when the nonce is the next one (so that the committed
// state is the state the operation will meet), checks that the signing
// key is authorised and that the signature verifies (remembered, so
// that applying the block does not verify it again).
func (a *BlockApplier) Precheck(ctx context.Context, st StateReader, compact string) (SignedOp, error) {
	p, err := parse(compact)
	if err != nil {
		return SignedOp{}, err
	}
	if p.Op.Chain != a.m.g.ChainID {
		return SignedOp{}, errkind.Field(errkind.Invalid, "chain", "operation is for chain %q; this is chain %q", p.Op.Chain, a.m.g.ChainID)
	}
	if err := a.m.Check(p.SignedOp); err != nil {
		return SignedOp{}, err
	}
	cs := cachedState{StateReader: st, c: a.signers}
	n, err := cs.Nonce(ctx, p.signerDID)
	if err != nil {
		return SignedOp{}, err
	}
	if p.Op.Nonce <= n {
		return SignedOp{}, errkind.Field(errkind.Conflict, "nonce", "replayed or out-of-order nonce: got %d, want %d", p.Op.Nonce, n+1)
	}
	if p.Op.Nonce == n+1 {
		pub, err := a.m.keyFor(ctx, cs, p)
		if err != nil {
			return SignedOp{}, err
		}
		if err := a.m.preverify(p, pub); err != nil {
			return SignedOp{}, err
		}
	}
	a.m.precheckProgram(ctx, st, p)
	return p.SignedOp, nil
}
