package node

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

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
			chain := newCometChain(t, g, keys[0], keys[1], seedKey("validator-9"))

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
				resp := chain.finalize(a, keys[0], c.ops...)
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
			// After a restart, a block proposed by v9 names it.
			b := newApp(t, db, g, keys, 0)
			resp := chain.finalize(b, seedKey("validator-9"), gov.setValidator(t, g.ChainID, 4, "v9", v9, 20))
			if got := updates(resp); !slices.Equal(got, []string{Address(v9) + "=20"}) {
				t.Errorf("after a restart: got validator updates %v; want v9 at 20", got)
			}
			head, err := db.Head(context.Background())
			if err != nil || head.Proposer != "v9" {
				t.Errorf("head proposer: got %q (%v); want v9", head.Proposer, err)
			}
			if err := chain.verify(db, openDB(t, kind), g); err != nil {
				t.Errorf("registry verify: %v", err)
			}
		})
	}
}
