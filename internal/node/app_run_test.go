package node

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/registry"
)

// TestAppReplicasAgree runs the same blocks through two applications on
// two databases, as two validators do: they reach the same app hashes
// and reject the same operations (TestVerifyAgainstCommits replays such
// chains against their commits).
func TestAppReplicasAgree(t *testing.T) {
	for _, kind := range dbKinds() {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			g, keys := testGenesis(t, 2)
			var apps []*App
			var stores []*store.DB
			for i := range 2 {
				db := openDB(t, kind)
				stores = append(stores, db)
				a := newApp(t, db, g, keys, i)
				resp, err := a.InitChain(ctx, &abci.InitChainRequest{ChainId: g.ChainID, Time: g.Time})
				if err != nil {
					t.Fatal(err)
				}
				if got := hex.EncodeToString(resp.AppHash); got != g.Hash() {
					t.Fatalf("InitChain app hash: got %s; want the genesis hash %s", got, g.Hash())
				}
				apps = append(apps, a)
			}
			alice, createA := create(t, g.ChainID, "alice")
			_, createB := create(t, g.ChainID, "bob")
			updateA := alice.update(t, g.ChainID)
			replayA := createA

			// CheckTx.
			_, otherChain := create(t, "other-chain", "carol")
			forged := createB[:len(createB)-4] + "AAAA"
			for _, c := range []struct {
				name string
				tx   string
				want uint32
			}{
				{"good", createA, codeOK},
				{"not a JWS", "hello", codeInvalid},
				{"other chain", otherChain, codeInvalid},
				{"forged signature", forged, codeForbidden},
			} {
				resp, err := apps[0].CheckTx(ctx, &abci.CheckTxRequest{Tx: []byte(c.tx), Type: abci.CHECK_TX_TYPE_CHECK})
				if err != nil {
					t.Fatal(err)
				}
				if resp.Code != c.want {
					t.Errorf("CheckTx %s: got code %d (%s); want %d", c.name, resp.Code, resp.Log, c.want)
				}
			}

			proposer := hexAddr(t, keys[0])
			blocks := []struct {
				ops   []string
				codes []uint32
			}{
				{[]string{createA, createB, "garbage", updateA}, []uint32{0, 0, codeRejected, 0}},
				{nil, []uint32{}},
				{[]string{replayA}, []uint32{codeRejected}},
			}
			var hashes [2][]string
			for i, a := range apps {
				for j, b := range blocks {
					at := genesisTime.Add(time.Duration(j+1) * time.Second)
					h, codes := block(t, a, int64(j+1), at, proposer, b.ops...)
					if !slices.Equal(codes, b.codes) {
						t.Errorf("replica %d block %d: got codes %v; want %v", i, j+1, codes, b.codes)
					}
					hashes[i] = append(hashes[i], h)
				}
			}
			if !slices.Equal(hashes[0], hashes[1]) {
				t.Fatalf("app hashes: replica 1 %v; replica 2 %v; want equal", hashes[0], hashes[1])
			}
			if hashes[0][1] != hashes[0][0] {
				t.Errorf("an empty block changed the app hash: %v", hashes[0])
			}
			if hashes[0][0] == g.Hash() {
				t.Errorf("block 1 left the app hash at the genesis hash")
			}
			if hashes[0][2] != hashes[0][1] {
				t.Errorf("a block of rejected operations changed the app hash: %s -> %s", hashes[0][1], hashes[0][2])
			}

			db := stores[0]
			v, err := db.LatestDIDVersion(ctx, alice.id)
			if err != nil || v.Version != 2 {
				t.Errorf("alice: got version %d (%v); want 2", v.Version, err)
			}
			head, err := db.Head(ctx)
			if err != nil || head.Height != 1 || head.OpCount != 3 || head.Proposer != "v1" {
				t.Errorf("head: got %+v (%v); want registry height 1 with 3 operations proposed by v1", head, err)
			}
			st, err := db.OpStatus(ctx, opHash("garbage"))
			if err != nil || st.Status != registry.StatusRejected {
				t.Errorf("garbage: got %+v (%v); want rejected", st, err)
			}
			// A restart reads the committed height and app hash.
			info, err := newApp(t, db, g, keys, 0).Info(ctx, &abci.InfoRequest{})
			if err != nil || info.LastBlockHeight != 3 || hex.EncodeToString(info.LastBlockAppHash) != hashes[0][2] {
				t.Errorf("Info after a restart: got height %d, app hash %x (%v); want 3, %s", info.LastBlockHeight, info.LastBlockAppHash, err, hashes[0][2])
			}
		})
	}
}

func hexAddr(t testing.TB, k ed25519.PrivateKey) []byte {
	t.Helper()
	b, err := hex.DecodeString(Address(k.Public().(ed25519.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAppAbandonedBlockLeavesNoTrace finalizes a block and stops before
// Commit, as a node killed between the two does: nothing is stored, and
// the block applied again gives the app hash a replica that committed it
// has.
func TestAppAbandonedBlockLeavesNoTrace(t *testing.T) {
	for _, kind := range dbKinds() {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			g, keys := testGenesis(t, 1)
			_, op := create(t, g.ChainID, "alice")
			ref := newApp(t, openDB(t, kind), g, keys, 0)
			want, _ := block(t, ref, 1, genesisTime.Add(time.Second), hexAddr(t, keys[0]), op)

			db := openDB(t, kind)
			a := newApp(t, db, g, keys, 0)
			if _, err := a.FinalizeBlock(ctx, &abci.FinalizeBlockRequest{Txs: [][]byte{[]byte(op)}, Height: 1, Time: genesisTime.Add(time.Second), ProposerAddress: hexAddr(t, keys[0])}); err != nil {
				t.Fatal(err)
			}
			a.Close()
			if _, err := db.Head(ctx); !errors.Is(err, errkind.NotFound) {
				t.Fatalf("head after an abandoned block: got %v; want NotFound", err)
			}
			b := newApp(t, db, g, keys, 0)
			if h, _ := b.Committed(); h != 0 {
				t.Fatalf("committed height after an abandoned block: got %d; want 0", h)
			}
			if got, _ := block(t, b, 1, genesisTime.Add(time.Second), hexAddr(t, keys[0]), op); got != want {
				t.Errorf("app hash of the block applied again: got %s; want %s", got, want)
			}
		})
	}
}

// TestAppRefusesForeignGenesis checks InitChain against the registry genesis.
func TestAppRefusesForeignGenesis(t *testing.T) {
	g, keys := testGenesis(t, 1)
	other := seedKey("stranger").Public().(ed25519.PublicKey)
	a := newApp(t, openDB(t, store.SQLite), g, keys, 0)
	for _, c := range []struct {
		name string
		req  *abci.InitChainRequest
		want string
	}{
		{"chain", &abci.InitChainRequest{ChainId: "other"}, "chain"},
		{"validator", &abci.InitChainRequest{ChainId: g.ChainID, Validators: []abci.ValidatorUpdate{{Power: 10, PubKeyType: "ed25519", PubKeyBytes: other}}}, "not a validator"},
	} {
		_, err := a.InitChain(context.Background(), c.req)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v; want an error saying %q", c.name, err, c.want)
		}
	}
}
