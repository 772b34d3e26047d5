package node

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmtstore "github.com/cometbft/cometbft/store"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/urbis-id/urbis/registry"
)

// blockSource is what Commits reads of a CometBFT block store.
type blockSource interface {
	LoadBlock(height int64) (*cmttypes.Block, *cmttypes.BlockMeta)
	LoadBlockMeta(height int64) *cmttypes.BlockMeta
	LoadBlockCommit(height int64) *cmttypes.Commit
	LoadSeenCommit(height int64) *cmttypes.Commit
}

// Commits vouches for the registry blocks a validator stored with the
// commits of its CometBFT block store: it is the registry.Consensus of
// urbis registry verify on a validator's database. Open it on a stopped
// validator's home with OpenCommits.
type Commits struct {
	doc   *cmttypes.GenesisDoc
	src   blockSource
	close func() error
}

var _ registry.Consensus = (*Commits)(nil)

// OpenCommits opens the CometBFT genesis and block store (data/) of a
// validator home. The validator must be stopped: its block store is
// locked while it runs. Close it after use.
func OpenCommits(home string) (*Commits, error) {
	conf, err := LoadConfig(home)
	if err != nil {
		return nil, err
	}
	doc, err := cmttypes.GenesisDocFromFile(conf.GenesisFile())
	if err != nil {
		return nil, err
	}
	db, err := cmtcfg.DefaultDBProvider(&cmtcfg.DBContext{ID: "blockstore", Config: conf})
	if err != nil {
		return nil, fmt.Errorf("open the CometBFT block store of %s (stop the validator first): %w", home, err)
	}
	bs := cmtstore.NewBlockStore(db)
	return &Commits{doc: doc, src: bs, close: bs.Close}, nil
}

// Close closes the block store.
func (c *Commits) Close() error { return c.close() }

// GenesisPower implements registry.Consensus: the power the CometBFT
// genesis gives v's key (0 if it does not list it).
func (c *Commits) GenesisPower(v registry.Validator) int64 {
	pub, err := validatorPub(v)
	if err != nil {
		return 0
	}
	for _, gv := range c.doc.Validators {
		if bytes.Equal(gv.PubKey.Bytes(), pub) {
			return gv.Power
		}
	}
	return 0
}

// Vouch implements registry.Consensus: the CometBFT block at
// h.ConsensusHeight, with the commit the block store holds for it, is
// signed by more than two thirds of the voting power of set; its
// transactions hold ops in order (the block's other transactions are
// the operations the registry rejected); its proposer is h's and its
// time h's; and the next block, if stored, follows it and has
// h.StateRoot as its app hash.
func (c *Commits) Vouch(_ context.Context, h registry.Header, ops []string, set []registry.ValidatorChange) error {
	height := int64(h.ConsensusHeight)
	blk, meta := c.src.LoadBlock(height)
	if blk == nil || meta == nil {
		return fmt.Errorf("the CometBFT block store holds no block %d, which made this block", height)
	}
	commit := c.src.LoadBlockCommit(height)
	if commit == nil {
		commit = c.src.LoadSeenCommit(height)
	}
	if commit == nil {
		return fmt.Errorf("the CometBFT block store holds no commit of block %d, which made this block", height)
	}
	members := make([]SetMember, 0, len(set))
	var proposer string
	for _, v := range set {
		pub, err := validatorPub(v.Validator)
		if err != nil {
			return err
		}
		members = append(members, SetMember{PublicKey: pub, Power: v.Power})
		if v.ID == h.Proposer {
			proposer = Address(pub)
		}
	}
	vs, err := toSet(members)
	if err != nil {
		return fmt.Errorf("the validator set in force: %v", err)
	}
	if err := verifyHeader(c.doc.ChainID, vs, &cmttypes.SignedHeader{Header: &blk.Header, Commit: commit}); err != nil {
		return fmt.Errorf("CometBFT %v (in force: %s)", err, ids(set))
	}
	next := 0
	for _, tx := range blk.Txs {
		if next < len(ops) && string(tx) == ops[next] {
			next++
		}
	}
	if next < len(ops) {
		return fmt.Errorf("operation %d is not a transaction of CometBFT block %d (or not in its order): the validators did not decide it here", next, height)
	}
	if got := strings.ToUpper(hex.EncodeToString(blk.ProposerAddress)); got != proposer {
		return fmt.Errorf("the proposer is %s, but CometBFT block %d was proposed by %s", h.Proposer, height, got)
	}
	if want := blockTime(blk.Time, time.Time{}); !h.Time.Equal(want) {
		return fmt.Errorf("the time is %s, but CometBFT block %d was made at %s", h.Time.UTC(), height, want)
	}
	if nm := c.src.LoadBlockMeta(height + 1); nm != nil {
		if !bytes.Equal(nm.Header.LastBlockID.Hash, meta.BlockID.Hash) {
			return fmt.Errorf("CometBFT block %d does not follow block %d", height+1, height)
		}
		if got := hex.EncodeToString(nm.Header.AppHash); got != h.StateRoot {
			return fmt.Errorf("CometBFT block %d records the app hash %s after block %d; this block's state root is %s", height+1, got, height, h.StateRoot)
		}
	}
	return nil
}

func ids(set []registry.ValidatorChange) string {
	out := make([]string, len(set))
	for i, v := range set {
		out[i] = fmt.Sprintf("%s power %d", v.ID, v.Power)
	}
	return strings.Join(out, ", ")
}
