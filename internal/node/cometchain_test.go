package node

import (
	"context"
	"crypto/ed25519"
	"maps"
	"slices"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtversion "github.com/cometbft/cometbft/api/cometbft/version/v1"
	cmted "github.com/cometbft/cometbft/crypto/ed25519"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cometbft/cometbft/version"

	"github.com/urbis-id/urbis/registry"
)

// cometChain plays CometBFT for an App: it finalizes and commits blocks
// on it and keeps what CometBFT's block store would (each block, with
// the header's validator-set hash, app hash and the commit of the
// validators in force, by CometBFT's rule: a validator update of height
// H is in force from H+2), as a blockSource for Commits.
type cometChain struct {
	t       testing.TB
	chainID string
	doc     *cmttypes.GenesisDoc
	keys    map[string]ed25519.PrivateKey // by CometBFT address
	power   map[string]int64              // in force at the next height, by address
	updates map[int64][]abci.ValidatorUpdate
	blocks  map[int64]*cmttypes.Block
	metas   map[int64]*cmttypes.BlockMeta
	commits map[int64]*cmttypes.Commit
	appHash []byte // after the last block
	results map[int64][]*abci.ExecTxResult
	sets    map[int64]*cmttypes.ValidatorSet
	// signers, if it returns a list, picks the addresses that sign the
	// commit of a height (else every validator in force signs).
	signers func(height int64, inForce []string) []string
	// early makes the chain apply validator updates one height early.
	early bool
}

func newCometChain(t testing.TB, g *registry.Genesis, keys ...ed25519.PrivateKey) *cometChain {
	t.Helper()
	c := &cometChain{t: t, chainID: g.ChainID, doc: &cmttypes.GenesisDoc{ChainID: g.ChainID, GenesisTime: g.Time},
		keys: make(map[string]ed25519.PrivateKey), power: make(map[string]int64), updates: make(map[int64][]abci.ValidatorUpdate),
		blocks: make(map[int64]*cmttypes.Block), metas: make(map[int64]*cmttypes.BlockMeta), commits: make(map[int64]*cmttypes.Commit),
		appHash: hashBytes(g.Hash()), results: make(map[int64][]*abci.ExecTxResult), sets: make(map[int64]*cmttypes.ValidatorSet)}
	for _, k := range keys {
		c.keys[Address(k.Public().(ed25519.PublicKey))] = k
	}
	for _, v := range g.Validators {
		pub, err := validatorPub(v)
		if err != nil {
			t.Fatal(err)
		}
		c.doc.Validators = append(c.doc.Validators, cmttypes.GenesisValidator{PubKey: cmted.PubKey(pub), Power: GenesisPower, Name: v.ID})
		c.power[Address(pub)] = GenesisPower
	}
	return c
}

// set returns the validator set of the powers in force, with the
// updates ups applied.
func (c *cometChain) set(ups ...abci.ValidatorUpdate) *cmttypes.ValidatorSet {
	power := maps.Clone(c.power)
	for _, u := range ups {
		power[Address(u.PubKeyBytes)] = u.Power
	}
	var ms []SetMember
	for addr, p := range power {
		k, ok := c.keys[addr]
		if !ok {
			c.t.Fatalf("no key for validator %s", addr)
		}
		if p > 0 {
			ms = append(ms, SetMember{PublicKey: k.Public().(ed25519.PublicKey), Power: p})
		}
	}
	set, err := toSet(ms)
	if err != nil {
		c.t.Fatal(err)
	}
	return set
}

// finalize makes the next block on a, proposed by proposer, with ops.
func (c *cometChain) finalize(a *App, proposer ed25519.PrivateKey, ops ...string) *abci.FinalizeBlockResponse {
	t := c.t
	t.Helper()
	height := int64(len(c.blocks) + 1)
	apply := func(h int64) {
		for _, u := range c.updates[h] {
			c.power[Address(u.PubKeyBytes)] = u.Power
		}
	}
	apply(height - 2)
	if c.early {
		apply(height - 1)
		delete(c.updates, height-1)
	}
	set := c.set()
	nextSet := c.set(c.updates[height-1]...) // CometBFT's header names the set of the next height
	if c.early {
		nextSet = set
	}
	txs := make([]cmttypes.Tx, len(ops))
	for i, op := range ops {
		txs[i] = cmttypes.Tx(op)
	}
	at := genesisTime.Add(time.Duration(height) * time.Second)
	b := cmttypes.MakeBlock(height, txs, &cmttypes.Commit{}, nil)
	var last cmttypes.BlockID
	if height > 1 {
		last = c.metas[height-1].BlockID
	}
	b.Header.Populate(cmtversion.Consensus{Block: version.BlockProtocol}, c.chainID, at, last, set.Hash(), nextSet.Hash(), nil, c.appHash,
		cmttypes.NewResults(c.results[height-1]).Hash(), cmted.PubKey(proposer.Public().(ed25519.PublicKey)).Address())
	c.sets[height] = set
	ps, err := b.MakePartSet(cmttypes.BlockPartSizeBytes)
	if err != nil {
		t.Fatal(err)
	}
	id := cmttypes.BlockID{Hash: b.Hash(), PartSetHeader: ps.Header()}
	c.blocks[height], c.metas[height] = b, cmttypes.NewBlockMeta(b, ps)
	var inForce []string
	for _, v := range set.Validators {
		inForce = append(inForce, v.Address.String())
	}
	signers := inForce
	if c.signers != nil {
		if s := c.signers(height, inForce); s != nil {
			signers = s
		}
	}
	commit := &cmttypes.Commit{Height: height, BlockID: id, Signatures: make([]cmttypes.CommitSig, len(set.Validators))}
	for i, v := range set.Validators {
		commit.Signatures[i] = cmttypes.NewCommitSigAbsent()
		if slices.Contains(signers, v.Address.String()) {
			commit.Signatures[i] = cmttypes.CommitSig{BlockIDFlag: cmttypes.BlockIDFlagCommit, ValidatorAddress: v.Address, Timestamp: at}
			commit.Signatures[i].Signature = ed25519.Sign(c.keys[v.Address.String()], commit.VoteSignBytes(c.chainID, int32(i)))
		}
	}
	c.commits[height] = commit
	resp := finalize(t, a, height, hexAddr(t, proposer), ops...)
	c.updates[height] = resp.ValidatorUpdates
	c.appHash = resp.AppHash
	c.results[height] = resp.TxResults
	return resp
}

// commitProof returns the commit proof of transaction i of block
// height, as FetchCommitProof reads it from a validator (the block after
// it must be made), with the validator-set changes up to it.
func (c *cometChain) commitProof(height int64, i int) *CommitProof {
	b := c.blocks[height]
	p := &CommitProof{Operation: string(b.Txs[i]), Height: height, Index: uint32(i), TxProof: b.Txs.Proof(i),
		SignedHeader: &cmttypes.SignedHeader{Header: &b.Header, Commit: c.commits[height]},
		Result:       abci.DeterministicExecTxResult(c.results[height][i]), ResultProof: cmttypes.NewResults(c.results[height]).ProveResult(i),
		NextHeader: &cmttypes.SignedHeader{Header: &c.blocks[height+1].Header, Commit: c.commits[height+1]}}
	for h := int64(1); h < height; h++ {
		if len(c.updates[h]) == 0 {
			continue
		}
		var ms []SetMember
		for _, v := range c.sets[h+2].Validators {
			ms = append(ms, SetMember{PublicKey: v.PubKey.Bytes(), Power: v.VotingPower})
		}
		p.History = append(p.History, SetChange{Height: h + 1, SignedHeader: &cmttypes.SignedHeader{Header: &c.blocks[h+1].Header, Commit: c.commits[h+1]}, Validators: ms})
	}
	return p
}

func (c *cometChain) LoadBlock(h int64) (*cmttypes.Block, *cmttypes.BlockMeta) {
	return c.blocks[h], c.metas[h]
}
func (c *cometChain) LoadBlockMeta(h int64) *cmttypes.BlockMeta { return c.metas[h] }
func (c *cometChain) LoadBlockCommit(h int64) *cmttypes.Commit  { return c.commits[h] }
func (c *cometChain) LoadSeenCommit(int64) *cmttypes.Commit     { return nil }
func (c *cometChain) commitsOf() *Commits {
	return &Commits{doc: c.doc, src: c, close: func() error { return nil }}
}
func (c *cometChain) verify(db registry.ChainStore, fresh registry.ChainStore, g *registry.Genesis) error {
	return registry.VerifyWith(context.Background(), db, fresh, g, registry.VerifyOptions{Consensus: c.commitsOf()}, validatorPrograms(g)...)
}
