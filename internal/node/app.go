// Package node runs the registry on CometBFT: an ABCI application that
// drives the same deterministic state machine as the solo engine
// (registry.Machine, through registry.BlockApplier) over the same store,
// and the engine the REST API submits to when several authorities run
// validators together.
package node

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// metaHash is the op_status row in which the application records, in the
// transaction of every block, the CometBFT height and app hash it has
// committed: a rejected-operation row under a name no operation hash can
// take (operation hashes are 64 hex characters), so that the record and
// the state it describes commit together.
const metaHash = "cometbft:last-block"

// blockTimeUnit is the precision of block times, as in the solo engine.
const blockTimeUnit = time.Millisecond

// CheckTx codes: 0 is accepted; the others name the error kind.
const (
	codeOK uint32 = iota
	codeInvalid
	codeConflict
	codeForbidden
	codeTooLarge
	codeOther
)

// AppConfig configures the application.
type AppConfig struct {
	Store    registry.ChainStore
	Genesis  *registry.Genesis
	Programs []registry.Program
	Logger   *slog.Logger
}

// App is the ABCI application of the registry. CheckTx makes the checks
// committed state decides (format, chain, nonce, key and signature);
// FinalizeBlock applies a decided block's operations in one database
// transaction, which Commit commits; the app hash is the registry's state
// root. Block time is CometBFT's. The registry blocks it stores carry no
// signature: their authority is CometBFT's commit, more than two thirds
// of the voting power (Commits checks it offline), not the key of the
// node that stores them, which may not be a validator at all.
type App struct {
	abci.BaseApplication
	cfg     AppConfig
	ap      *registry.BlockApplier
	byAddr  map[string]string // CometBFT validator address (hex) -> registry validator id; looked up only; guarded by mu
	maxOps  int
	onFinal func([]registry.OpStatus) // told of every decided operation after commit
	onDrop  func(hash, reason string) // told of an operation the mempool dropped on recheck

	mu        sync.Mutex
	height    int64           // last committed CometBFT height
	stateRoot string          // committed state root (the app hash)
	head      registry.Header // committed registry head (zero before the first block)
	headHash  string
	pend      *pending // between FinalizeBlock and Commit
}

// pending is a block applied in an open transaction.
type pending struct {
	height    int64
	stateRoot string
	block     *registry.AppliedBlock
	statuses  []registry.OpStatus
	sets      []ValidatorSet // the block's validator changes
	commit    chan bool
	done      chan error
}

// lastBlock is what metaHash records.
type lastBlock struct {
	Height  int64  `json:"height"`
	AppHash string `json:"appHash"`
}

// NewApp returns the application, its committed height and state read
// from the store.
func NewApp(ctx context.Context, cfg AppConfig) (*App, error) {
	if cfg.Store == nil || cfg.Genesis == nil {
		return nil, errkind.New(errkind.Invalid, "node: a store and a genesis are required")
	}
	if err := cfg.Genesis.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	programs := append(slices.Clone(cfg.Programs), ValidatorProgram(cfg.Genesis))
	a := &App{cfg: cfg, ap: registry.NewBlockApplier(cfg.Genesis, programs...), byAddr: make(map[string]string),
		maxOps: cfg.Genesis.Params.MaxBlockOps, onFinal: func([]registry.OpStatus) {}, onDrop: func(string, string) {}}
	for _, v := range cfg.Genesis.Validators {
		pub, err := validatorPub(v)
		if err != nil {
			return nil, err
		}
		a.byAddr[Address(pub)] = v.ID
	}
	if err := a.load(ctx); err != nil {
		return nil, err
	}
	vs, err := loadValidators(ctx, cfg.Store)
	if err != nil {
		return nil, err
	}
	a.noteValidators(vs)
	return a, nil
}

// noteValidators records the ids of validators the governance set, so
// that blocks they propose name them.
func (a *App) noteValidators(vs []ValidatorSet) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, v := range vs {
		if pub, err := validatorPub(registry.Validator{ID: v.ID, PublicKey: v.PublicKey}); err == nil {
			a.byAddr[Address(pub)] = v.ID
		}
	}
}

// Address returns the CometBFT address of an Ed25519 validator key: the
// first 20 bytes of its SHA-256, in upper-case hex as CometBFT prints it.
func Address(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return strings.ToUpper(hex.EncodeToString(sum[:20]))
}

func validatorPub(v registry.Validator) (ed25519.PublicKey, error) {
	k, err := did.DecodeMultikey(v.PublicKey)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "validator %s", v.ID)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, errkind.New(errkind.Invalid, "validator %s: want an Ed25519 key", v.ID)
	}
	return pub, nil
}

// load reads the committed height, app hash and registry head.
func (a *App) load(ctx context.Context) error {
	g := a.cfg.Genesis
	a.height, a.stateRoot, a.head, a.headHash = 0, g.Hash(), registry.Header{Chain: g.ChainID, Time: g.Time.UTC()}, registry.ZeroHash
	st, err := a.cfg.Store.OpStatus(ctx, metaHash)
	switch {
	case errors.Is(err, errkind.NotFound):
	case err != nil:
		return err
	default:
		var lb lastBlock
		if err := json.Unmarshal([]byte(st.Reason), &lb); err != nil {
			return errkind.Wrap(errkind.Internal, err, "node: read the last committed block record")
		}
		a.height, a.stateRoot = lb.Height, lb.AppHash
	}
	h, err := a.cfg.Store.Head(ctx)
	switch {
	case errors.Is(err, errkind.NotFound):
		if a.height != 0 && a.stateRoot != g.Hash() {
			return errkind.New(errkind.Conflict, "node: the database records CometBFT height %d with app hash %s but holds no registry block", a.height, a.stateRoot)
		}
		return nil
	case err != nil:
		return err
	case h.Chain != g.ChainID:
		return errkind.New(errkind.Conflict, "node: the database holds chain %q; the genesis is of chain %q", h.Chain, g.ChainID)
	case a.height == 0:
		return errkind.New(errkind.Conflict, "node: the database holds registry blocks made by another engine (solo?); a validator needs a database of its own")
	case h.StateRoot != a.stateRoot:
		return errkind.New(errkind.Conflict, "node: the database was altered: its last registry block has state root %s but the committed app hash is %s", h.StateRoot, a.stateRoot)
	}
	a.head, a.headHash = h, h.Hash()
	return nil
}

// OnFinal sets the function told, after each commit, of every operation
// the block decided (committed or rejected). Call it before the node
// starts.
func (a *App) OnFinal(f func([]registry.OpStatus)) { a.onFinal = f }

// OnDrop sets the function told of an operation that the mempool drops
// because it no longer passes CheckTx. Call it before the node starts.
func (a *App) OnDrop(f func(hash, reason string)) { a.onDrop = f }

// Committed returns the last committed CometBFT height and state root.
func (a *App) Committed() (int64, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.height, a.stateRoot
}

// Info implements abci.Application.
func (a *App) Info(context.Context, *abci.InfoRequest) (*abci.InfoResponse, error) {
	h, root := a.Committed()
	resp := &abci.InfoResponse{Data: "urbis registry", Version: "1", AppVersion: 1, LastBlockHeight: h}
	if h > 0 {
		resp.LastBlockAppHash = hashBytes(root)
	}
	return resp, nil
}

func hashBytes(h string) []byte {
	b, _ := hex.DecodeString(h)
	return b
}

// InitChain implements abci.Application: the CometBFT genesis must be of
// the registry's chain, and its validators must be the registry's.
func (a *App) InitChain(_ context.Context, req *abci.InitChainRequest) (*abci.InitChainResponse, error) {
	g := a.cfg.Genesis
	if req.ChainId != g.ChainID {
		return nil, fmt.Errorf("node: the CometBFT genesis is of chain %q; the registry genesis of chain %q", req.ChainId, g.ChainID)
	}
	for _, v := range req.Validators {
		if v.PubKeyType != "ed25519" {
			return nil, fmt.Errorf("node: CometBFT genesis validator has a %s key; registry validators sign with Ed25519", v.PubKeyType)
		}
		if _, ok := a.byAddr[Address(v.PubKeyBytes)]; !ok {
			return nil, fmt.Errorf("node: CometBFT genesis validator %s is not a validator of the registry genesis", Address(v.PubKeyBytes))
		}
	}
	return &abci.InitChainResponse{AppHash: hashBytes(g.Hash())}, nil
}

// CheckTx implements abci.Application.
func (a *App) CheckTx(ctx context.Context, req *abci.CheckTxRequest) (*abci.CheckTxResponse, error) {
	_, err := a.ap.Precheck(ctx, a.cfg.Store, string(req.Tx))
	if err == nil {
		return &abci.CheckTxResponse{Code: codeOK}, nil
	}
	k := errkind.KindOf(err)
	if k == errkind.Internal || k == errkind.Unavailable {
		a.cfg.Logger.Error("node: CheckTx failed", "err", err)
	}
	if req.Type == abci.CHECK_TX_TYPE_RECHECK {
		sum := sha256.Sum256(req.Tx)
		a.onDrop(hex.EncodeToString(sum[:]), err.Error())
	}
	return &abci.CheckTxResponse{Code: Code(err), Log: err.Error()}, nil
}

// Code returns the CheckTx code of an error.
func Code(err error) uint32 {
	switch errkind.KindOf(err) {
	case errkind.Invalid:
		return codeInvalid
	case errkind.Conflict:
		return codeConflict
	case errkind.Forbidden:
		return codeForbidden
	case errkind.TooLarge:
		return codeTooLarge
	}
	return codeOther
}

// KindOfCode returns the error kind of a CheckTx code.
func KindOfCode(code uint32) errkind.Kind {
	switch code {
	case codeInvalid:
		return errkind.Invalid
	case codeConflict:
		return errkind.Conflict
	case codeForbidden:
		return errkind.Forbidden
	case codeTooLarge:
		return errkind.TooLarge
	}
	return errkind.Unavailable
}

// PrepareProposal implements abci.Application: up to the genesis
// maxBlockOps operations, within the byte limit.
func (a *App) PrepareProposal(_ context.Context, req *abci.PrepareProposalRequest) (*abci.PrepareProposalResponse, error) {
	txs := make([][]byte, 0, min(len(req.Txs), a.maxOps))
	var size int64
	for _, tx := range req.Txs {
		if len(txs) == a.maxOps || size+int64(len(tx)) > req.MaxTxBytes {
			break
		}
		size += int64(len(tx))
		txs = append(txs, tx)
	}
	return &abci.PrepareProposalResponse{Txs: txs}, nil
}

// ProcessProposal implements abci.Application: a block may hold at most
// maxBlockOps operations.
func (a *App) ProcessProposal(_ context.Context, req *abci.ProcessProposalRequest) (*abci.ProcessProposalResponse, error) {
	if len(req.Txs) > a.maxOps {
		return &abci.ProcessProposalResponse{Status: abci.PROCESS_PROPOSAL_STATUS_REJECT}, nil
	}
	return &abci.ProcessProposalResponse{Status: abci.PROCESS_PROPOSAL_STATUS_ACCEPT}, nil
}
