package node

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtversion "github.com/cometbft/cometbft/api/cometbft/version/v1"
	cmted "github.com/cometbft/cometbft/crypto/ed25519"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cometbft/cometbft/version"

	"github.com/urbis-id/urbis/civic"
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

// TestVerifyAgainstCommits replays chains made by the application, which
// stores its blocks unsigned, with registry.VerifyWith and the CometBFT
// commits: a block checks when more than two thirds of the voting power
// of the validators in force at its consensus height (the genesis's,
// then as validator.set changed them, two heights later) signed its
// CometBFT block, and fails, naming the block, when the commit falls
// short, is signed by another set, lacks an operation, or the next block
// records another app hash. The node that stores the blocks holds no
// validator key: its database replays all the same.
func TestVerifyAgainstCommits(t *testing.T) {
	g, keys := testGenesis(t, 2) // v1, v2
	k3, stranger := seedKey("validator-3"), seedKey("stranger")
	v2, v3 := keys[1].Public().(ed25519.PublicKey), k3.Public().(ed25519.PublicKey)
	// good are the proposers of consensus heights 1 to 6: v3 is added at
	// height 1 (in force from 3), v2 removed at height 4 (out from 6);
	// height 3 commits no operation, so makes no registry block.
	good := []ed25519.PrivateKey{keys[0], keys[0], k3, keys[1], keys[1], k3}
	with := func(h int, p ed25519.PrivateKey) []ed25519.PrivateKey {
		ps := slices.Clone(good)
		ps[h-1] = p
		return ps
	}
	a1, a2 := Address(keys[0].Public().(ed25519.PublicKey)), Address(v2)
	signAt := func(height int64, addrs ...string) func(c *cometChain) {
		return func(c *cometChain) {
			c.signers = func(h int64, in []string) []string {
				if h != height {
					return nil
				}
				if addrs == nil {
					return in[:1]
				}
				return addrs
			}
		}
	}
	for _, c := range []struct {
		name      string
		proposers []ed25519.PrivateKey
		before    func(c *cometChain) // changes how the chain is made
		after     func(c *cometChain) // alters the blocks made
		height    uint64              // the registry block that fails, 0 if none
		want      string
	}{
		{"validators added and removed", good, nil, nil, 0, ""},
		{"proposed by a validator not yet in force", with(2, k3), nil, nil, 2,
			`proposer "v3", which is not a validator in force at block 2 (consensus height 2): the validator.set of block 1 gave it power 10 from consensus height 3`},
		{"proposed by a removed validator", with(6, keys[1]), nil, nil, 5,
			`proposer "v2", which is not a validator in force at block 5 (consensus height 6): the validator.set of block 3 removed it from consensus height 6`},
		{"proposed by a key that never was a validator", with(2, stranger), nil, nil, 2,
			`proposer "` + Address(stranger.Public().(ed25519.PublicKey)) + `", which is not a validator in force at block 2 (consensus height 2): neither the genesis of chain node-test nor a validator change before this block made it a validator`},
		{"a commit short of two thirds", good, signAt(4), nil, 3,
			"CometBFT block 4: the commit does not carry signatures of more than two thirds of the voting power"},
		{"signed by the removed validator and one in force", good, signAt(6, a1, a2), nil, 5,
			"CometBFT block 6: the commit does not carry signatures of more than two thirds of the voting power"},
		{"validator changes applied a height early", good, func(c *cometChain) { c.early = true }, nil, 2,
			"CometBFT block 2 is signed by another validator set than the one in force"},
		{"an operation missing from the CometBFT block", good, nil, func(c *cometChain) { c.blocks[5].Txs = nil }, 4,
			"operation 0 is not a transaction of CometBFT block 5"},
		{"the next block records another app hash", good, nil, func(c *cometChain) { c.metas[6].Header.AppHash = hashBytes(g.Hash()) }, 4,
			"CometBFT block 6 records the app hash " + g.Hash()},
	} {
		t.Run(c.name, func(t *testing.T) {
			kind := dbKinds()[0]
			db := openDB(t, kind)
			// The storing node holds no validator key at all.
			a, err := NewApp(context.Background(), AppConfig{Store: db, Genesis: g, Programs: civic.Programs()})
			if err != nil {
				t.Fatal(err)
			}
			chain := newCometChain(t, g, keys[0], keys[1], k3, stranger)
			if c.before != nil {
				c.before(chain)
			}
			gov := keySigner(t, "gov")
			alice, createA := create(t, g.ChainID, "alice")
			ops := [][]string{
				{gov.setValidator(t, g.ChainID, 1, "v3", v3, 10), createA},
				{alice.update(t, g.ChainID)},
				nil,
				{gov.setValidator(t, g.ChainID, 2, "v2", v2, 0), alice.update(t, g.ChainID)},
				{alice.update(t, g.ChainID)},
				{alice.update(t, g.ChainID)},
			}
			for i, p := range c.proposers {
				if resp := chain.finalize(a, p, ops[i]...); slices.ContainsFunc(codes(resp), func(c uint32) bool { return c != codeOK }) {
					t.Fatalf("consensus height %d: got codes %v; want all accepted", i+1, codes(resp))
				}
			}
			if c.after != nil {
				c.after(chain)
			}
			head, err := db.Head(context.Background())
			if err != nil || head.Height != 5 || head.ConsensusHeight != 6 {
				t.Fatalf("head: got block %d at consensus height %d (%v); want block 5 at 6", head.Height, head.ConsensusHeight, err)
			}
			err = chain.verify(db, openDB(t, kind), g)
			if c.height == 0 {
				if err != nil {
					t.Fatalf("registry verify: %v", err)
				}
				return
			}
			var ve *registry.VerifyError
			if !errors.As(err, &ve) || ve.Height != c.height || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("registry verify: got %v; want a failure at block %d saying %q", err, c.height, c.want)
			}
		})
	}
}

// TestVerifyWithoutCommits replays a chain of the application without
// its commits: the first block fails, saying where its authority is.
func TestVerifyWithoutCommits(t *testing.T) {
	g, keys := testGenesis(t, 1)
	db := openDB(t, dbKinds()[0])
	a := newApp(t, db, g, keys, 0)
	_, op := create(t, g.ChainID, "alice")
	newCometChain(t, g, keys[0]).finalize(a, keys[0], op)
	err := registry.Verify(context.Background(), db, openDB(t, dbKinds()[0]), g, nil, validatorPrograms(g)...)
	want := "block 1: made at consensus height 1, it carries no signature: its authority is the consensus engine's commit"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("registry verify without commits: got %v; want %q", err, want)
	}
}

func validatorPrograms(g *registry.Genesis) []registry.Program {
	return append(civic.Programs(), ValidatorProgram(g))
}

// TestProofAfterValidatorChanges checks the REST API's proof of an
// operation committed after validator.set added v3 and removed v2: the
// registry's Merkle path and header, vouched for by the CometBFT commit
// proof in Consensus, which carries the validator-set history; it checks
// against the genesis, and fails without the history, without the
// commit proof, with another operation's, or with the header altered.
func TestProofAfterValidatorChanges(t *testing.T) {
	ctx := context.Background()
	g, keys := testGenesis(t, 2)
	k3 := seedKey("validator-3")
	db := openDB(t, dbKinds()[0])
	a, err := NewApp(ctx, AppConfig{Store: db, Genesis: g, Programs: civic.Programs()})
	if err != nil {
		t.Fatal(err)
	}
	chain := newCometChain(t, g, keys[0], keys[1], k3)
	gov := keySigner(t, "gov")
	alice, createA := create(t, g.ChainID, "alice")
	for _, b := range []struct {
		proposer ed25519.PrivateKey
		ops      []string
	}{
		{keys[0], []string{gov.setValidator(t, g.ChainID, 1, "v3", k3.Public().(ed25519.PublicKey), 10), createA}},
		{keys[0], []string{gov.setValidator(t, g.ChainID, 2, "v2", keys[1].Public().(ed25519.PublicKey), 0)}},
		{k3, nil},
		{k3, []string{alice.update(t, g.ChainID)}},
		{keys[0], nil},
	} {
		chain.finalize(a, b.proposer, b.ops...)
	}
	proofOf := func(height int64, i int) registry.Proof {
		t.Helper()
		op := string(chain.blocks[height].Txs[i])
		st, err := db.OpStatus(ctx, opHash(op))
		if err != nil {
			t.Fatal(err)
		}
		p, err := registry.ProofFrom(ctx, db, st)
		if err != nil {
			t.Fatal(err)
		}
		cp := chain.commitProof(height, i)
		if p.Consensus, err = json.Marshal(cp); err != nil {
			t.Fatal(err)
		}
		return p
	}
	check := ConsensusCheck(chain.doc)
	good := proofOf(4, 0)
	if len(good.Signatures) != 0 || good.Header.ConsensusHeight != 4 {
		t.Fatalf("proof: got %d signatures at consensus height %d; want none, at 4", len(good.Signatures), good.Header.ConsensusHeight)
	}
	for _, c := range []struct {
		name  string
		edit  func(p *registry.Proof)
		check registry.ConsensusCheck
		want  string
	}{
		{"as served", func(*registry.Proof) {}, check, ""},
		{"without the validator-set history", func(p *registry.Proof) {
			var cp CommitProof
			_ = json.Unmarshal(p.Consensus, &cp)
			cp.History = nil
			p.Consensus, _ = json.Marshal(cp)
		}, check, "is signed by another validator set than the one in force"},
		{"checked without a consensus check", func(*registry.Proof) {}, nil, "the proof rests on its commit"},
		{"without the commit proof", func(p *registry.Proof) { p.Consensus = nil }, check, "carries no signature"},
		{"with another operation's commit proof", func(p *registry.Proof) { p.Consensus = proofOf(2, 0).Consensus }, check, "the commit proof is of another operation"},
		{"with the header's state root altered", func(p *registry.Proof) { p.Header.StateRoot = g.Hash() }, check, "the header's state root is " + g.Hash()},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := good
			p.Consensus = slices.Clone(good.Consensus)
			c.edit(&p)
			err := registry.CheckProofWith(p, g, c.check)
			if c.want == "" {
				if err != nil {
					t.Fatalf("CheckProofWith: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("CheckProofWith: got %v; want a failure saying %q", err, c.want)
			}
		})
	}
}

// TestLoadGenesis reads the genesis a proof is checked against from a
// registry genesis and from a CometBFT genesis: the same registry
// genesis, and the CometBFT validators (those of GenesisDoc for the
// registry genesis, the file's own for the CometBFT one).
func TestLoadGenesis(t *testing.T) {
	g, _ := testGenesis(t, 2)
	dir := t.TempDir()
	regFile, cmtFile := filepath.Join(dir, "registry.json"), filepath.Join(dir, "genesis.json")
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(regFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	doc, err := GenesisDoc(g)
	if err != nil {
		t.Fatal(err)
	}
	doc.Validators[1].Power = 30 // a genesis assembled by hand
	doc.AppState = b
	if err := doc.SaveAs(cmtFile); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file   string
		powers []int64
	}{
		{regFile, []int64{GenesisPower, GenesisPower}},
		{cmtFile, []int64{GenesisPower, 30}},
	} {
		gotG, gotDoc, err := LoadGenesis(c.file)
		if err != nil {
			t.Fatalf("LoadGenesis(%s): %v", c.file, err)
		}
		if gotG.Hash() != g.Hash() || gotDoc.ChainID != g.ChainID {
			t.Errorf("LoadGenesis(%s): got genesis %s of chain %s; want %s of %s", c.file, gotG.Hash(), gotDoc.ChainID, g.Hash(), g.ChainID)
		}
		var powers []int64
		for _, v := range gotDoc.Validators {
			powers = append(powers, v.Power)
		}
		if !slices.Equal(powers, c.powers) {
			t.Errorf("LoadGenesis(%s): got powers %v; want %v", c.file, powers, c.powers)
		}
	}
	if _, _, err := LoadGenesis(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("LoadGenesis of a missing file: got %v; want the registry's error", err)
	}
}
