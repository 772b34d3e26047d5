package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/urbis-id/urbis/civic"
	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/registry"
)

// signer signs operations as a did:key.
type signer struct {
	did string
	kid string
	key ed25519.PrivateKey
}

func keySigner(t testing.TB, name string) *signer {
	t.Helper()
	k := seedKey(name)
	d, err := did.NewKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return &signer{did: d.String(), kid: d.String() + "#" + d.ID, key: k}
}

// setValidator signs a validator.set with the given nonce.
func (s *signer) setValidator(t testing.TB, chain string, nonce uint64, id string, pub ed25519.PublicKey, power int64) string {
	t.Helper()
	mk, err := did.EncodeMultikey(pub)
	if err != nil {
		t.Fatal(err)
	}
	op, err := registry.NewOperation(chain, KindValidatorSet, s.kid, nonce, ValidatorSet{ID: id, PublicKey: mk, Power: power})
	if err != nil {
		t.Fatal(err)
	}
	so, err := registry.Sign(op, s.key)
	if err != nil {
		t.Fatal(err)
	}
	return so.JWS
}

// finalize finalizes and commits a block and returns its response.
func finalize(t testing.TB, a *App, height int64, proposer []byte, ops ...string) *abci.FinalizeBlockResponse {
	t.Helper()
	ctx := context.Background()
	txs := make([][]byte, len(ops))
	for i, op := range ops {
		txs[i] = []byte(op)
	}
	resp, err := a.FinalizeBlock(ctx, &abci.FinalizeBlockRequest{Txs: txs, Height: height, Time: genesisTime.Add(time.Duration(height) * time.Second), ProposerAddress: proposer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Commit(ctx, &abci.CommitRequest{}); err != nil {
		t.Fatal(err)
	}
	return resp
}

func codes(resp *abci.FinalizeBlockResponse) []uint32 {
	var out []uint32
	for _, r := range resp.TxResults {
		out = append(out, r.Code)
	}
	return out
}

func updates(resp *abci.FinalizeBlockResponse) []string {
	var out []string
	for _, u := range resp.ValidatorUpdates {
		out = append(out, fmt.Sprintf("%s=%d", Address(u.PubKeyBytes), u.Power))
	}
	return out
}

// TestValidatorSetByGovernance adds and removes validators with
// validator.set operations: the governance may, nobody else; a removal
// that would leave no validator is refused; the block's CometBFT
// validator updates follow; a validator added later names the blocks it
// proposes, after a restart too.
func TestValidatorSetByGovernance(t *testing.T) {
	for _, kind := range dbKinds() {
		t.Run(kind, func(t *testing.T) {
			g, keys := testGenesis(t, 2)
			db := openDB(t, kind)
			a := newApp(t, db, g, keys, 0)
			gov, other := keySigner(t, "gov"), keySigner(t, "stranger")
			v1, v2 := keys[0].Public().(ed25519.PublicKey), keys[1].Public().(ed25519.PublicKey)
			v9 := seedKey("validator-9").Public().(ed25519.PublicKey)
			p1 := hexAddr(t, keys[0])

			for _, c := range []struct {
				ops     []string
				codes   []uint32
				updates []string
			}{
				{[]string{gov.setValidator(t, g.ChainID, 1, "v9", v9, 10), other.setValidator(t, g.ChainID, 1, "v8", v9, 10), gov.setValidator(t, g.ChainID, 2, "v7", v9, 0)},
					[]uint32{0, codeRejected, codeRejected}, []string{Address(v9) + "=10"}},
				{[]string{gov.setValidator(t, g.ChainID, 2, "v1", v1, 0)}, []uint32{0}, []string{Address(v1) + "=0"}},
				{[]string{gov.setValidator(t, g.ChainID, 3, "v2", v2, 0), gov.setValidator(t, g.ChainID, 4, "v9", v9, 0)},
					[]uint32{0, codeRejected}, []string{Address(v2) + "=0"}},
			} {
				h, _ := a.Committed()
				resp := finalize(t, a, h+1, p1, c.ops...)
				if got := codes(resp); !slices.Equal(got, c.codes) {
					t.Errorf("block %d: got codes %v; want %v", h+1, got, c.codes)
				}
				if got := updates(resp); !slices.Equal(got, c.updates) {
					t.Errorf("block %d: got validator updates %v; want %v", h+1, got, c.updates)
				}
			}
			for _, c := range []struct {
				op, want string
			}{
				{other.setValidator(t, g.ChainID, 1, "v8", v9, 10), "only a governance DID"},
				{gov.setValidator(t, g.ChainID, 2, "v7", v9, 0), "no validator v7 to remove"},
				{gov.setValidator(t, g.ChainID, 4, "v9", v9, 0), "would leave no validator"},
			} {
				st, err := db.OpStatus(context.Background(), opHash(c.op))
				if err != nil || st.Status != registry.StatusRejected || !strings.Contains(st.Reason, c.want) {
					t.Errorf("got %+v (%v); want rejected saying %q", st, err, c.want)
				}
			}
			fresh := openDB(t, kind)
			if err := registry.Verify(context.Background(), db, fresh, g, nil, append(civic.Programs(), ValidatorProgram(g))...); err != nil {
				t.Errorf("registry verify: %v", err)
			}

			// After a restart, a block proposed by v9 names it.
			b := newApp(t, db, g, keys, 0)
			h, _ := b.Committed()
			resp := finalize(t, b, h+1, hexAddr(t, seedKey("validator-9")), gov.setValidator(t, g.ChainID, 4, "v9", v9, 20))
			if got := updates(resp); !slices.Equal(got, []string{Address(v9) + "=20"}) {
				t.Errorf("after a restart: got validator updates %v; want v9 at 20", got)
			}
			head, err := db.Head(context.Background())
			if err != nil || head.Proposer != "v9" {
				t.Errorf("head proposer: got %q (%v); want v9", head.Proposer, err)
			}
		})
	}
}

// TestVerifyFollowsValidatorSet replays chains made by the application
// with registry.Verify: a validator the governance adds proposes and
// signs blocks from two consensus heights after its block on, a removed
// one until then; a block proposed or signed by a validator not in force
// at its height (not yet added, removed, or never one) fails, naming the
// block and the validator.
func TestVerifyFollowsValidatorSet(t *testing.T) {
	g, keys := testGenesis(t, 2) // v1, v2
	k3, stranger := seedKey("validator-3"), seedKey("stranger")
	v2, v3 := keys[1].Public().(ed25519.PublicKey), k3.Public().(ed25519.PublicKey)
	p1, p2, p3, px := hexAddr(t, keys[0]), hexAddr(t, keys[1]), hexAddr(t, k3), hexAddr(t, stranger)
	// good are the proposers of consensus heights 1 to 6: v3 is added at
	// height 1 (in force from 3), v2 removed at height 4 (out from 6);
	// height 3 commits no operation, so makes no registry block.
	good := [][]byte{p1, p1, p3, p2, p2, p3}
	with := func(h int, p []byte) [][]byte { ps := slices.Clone(good); ps[h-1] = p; return ps }
	for _, c := range []struct {
		name      string
		proposers [][]byte
		id        string             // the node that stores and signs the blocks
		key       ed25519.PrivateKey // its key
		height    uint64             // the registry block that fails, 0 if none
		want      string
	}{
		{"validators added and removed", good, "v1", keys[0], 0, ""},
		{"proposed by a validator not yet in force", with(2, p3), "v1", keys[0], 2,
			`proposer "v3", which is not a validator in force at block 2 (consensus height 2): the validator.set of block 1 gave it power 10 from consensus height 3`},
		{"proposed by a removed validator", with(6, p2), "v1", keys[0], 5,
			`proposer "v2", which is not a validator in force at block 5 (consensus height 6): the validator.set of block 3 removed it from consensus height 6`},
		{"proposed by a key that never was a validator", with(2, px), "v1", keys[0], 2,
			`proposer "` + Address(stranger.Public().(ed25519.PublicKey)) + `", which is not a validator in force at block 2 (consensus height 2): neither the genesis of chain node-test nor a validator change before this block made it a validator`},
		{"signed by a removed validator", good, "v2", keys[1], 5,
			`header is signed by "v2", which is not a validator in force at block 5 (consensus height 6): the validator.set of block 3 removed it`},
		{"signed by a key that never was a validator", good, "v7", stranger, 1,
			`header is signed by "v7", which is not a validator in force at block 1 (consensus height 1): neither the genesis of chain node-test nor a validator change before this block made it a validator`},
	} {
		kinds := dbKinds()
		if c.height != 0 {
			kinds = kinds[:1] // the failures are the replay's, whatever the database
		}
		for _, kind := range kinds {
			t.Run(c.name+"/"+kind, func(t *testing.T) {
				db := openDB(t, kind)
				a, err := NewApp(context.Background(), AppConfig{Store: db, Genesis: g, ValidatorID: c.id, ValidatorKey: c.key, Programs: civic.Programs()})
				if err != nil {
					t.Fatal(err)
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
					if resp := finalize(t, a, int64(i+1), p, ops[i]...); slices.ContainsFunc(codes(resp), func(c uint32) bool { return c != codeOK }) {
						t.Fatalf("consensus height %d: got codes %v; want all accepted", i+1, codes(resp))
					}
				}
				head, err := db.Head(context.Background())
				if err != nil || head.Height != 5 || head.ConsensusHeight != 6 {
					t.Fatalf("head: got block %d at consensus height %d (%v); want block 5 at 6", head.Height, head.ConsensusHeight, err)
				}
				err = registry.Verify(context.Background(), db, openDB(t, kind), g, nil, append(civic.Programs(), ValidatorProgram(g))...)
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
}
