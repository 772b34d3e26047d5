package registry

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// buildChain makes a chain of four blocks on a memory store with the
// solo engine, driven block by block.
func buildChain(t *testing.T) (*Genesis, *memStore, *Solo) {
	t.Helper()
	g, govKey, val := testGenesis(t)
	st := newMemStore()
	clock := genesisTime
	s, err := NewSolo(SoloConfig{Store: st, Genesis: g, ValidatorID: "validator-1", ValidatorKey: val,
		Clock: func() time.Time { clock = clock.Add(time.Second); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.loadHead(ctx); err != nil {
		t.Fatal(err)
	}
	block := func(ops ...SignedOp) {
		t.Helper()
		for _, op := range ops {
			if _, err := s.Submit(ctx, op.JWS); err != nil {
				t.Fatalf("Submit %s: %v", op.Op.Kind, err)
			}
		}
		if _, err := s.produce(ctx); err != nil {
			t.Fatal(err)
		}
		for _, op := range ops {
			if st, _ := st.OpStatus(ctx, op.Hash); st.Status != StatusCommitted {
				t.Fatalf("got %+v; want %s committed", st, op.Op.Kind)
			}
		}
	}
	gd, gk := keyKID(t, govKey)
	gov := actor{did: gd, kid: gk, key: govKey}
	k := seedKey("issuer")
	create, id := createOp(t, k)
	issuer := actor{did: id, kid: id + "#key-1", key: k}
	bobCreate, _ := createOp(t, seedKey("bob"))
	block(create, bobCreate)
	acc := signed(t, KindTrustAccredit, gov.kid, 1, TrustAccredit{Issuer: id, Types: []string{"Resident"}}, gov.key)
	block(acc, signed(t, KindDIDUpdate, issuer.kid, 2, DIDUpdate{DID: id, PreviousVersion: 1, Document: oneKeySpec(t, k)}, k))
	block(signed(t, KindSchemaRegister, issuer.kid, 3, SchemaRegister{Type: "Resident", Schema: json.RawMessage(`{"type":"object"}`)}, k),
		signed(t, KindAnchor, issuer.kid, 4, AnchorPayload{Root: strings.Repeat("f", 64), Count: 2}, k))
	block(signed(t, KindTrustSuspend, gov.kid, 2, TrustChange{Accreditation: acc.Hash}, gov.key))
	return g, st, s
}

func TestVerify(t *testing.T) {
	g, live, _ := buildChain(t)
	var seen []uint64
	if err := Verify(context.Background(), live, newMemStore(), g, func(h, head uint64) {
		if head != 4 {
			t.Errorf("got head %d; want 4", head)
		}
		seen = append(seen, h)
	}); err != nil {
		t.Fatalf("Verify of a good chain: %v", err)
	}
	if len(seen) != 4 || seen[3] != 4 {
		t.Errorf("got progress %v; want 1 to 4", seen)
	}
	t.Run("fresh store not empty", func(t *testing.T) {
		wantErr(t, Verify(context.Background(), live, live, g, nil), errkind.Invalid, "already holds blocks")
	})
}

func TestVerifyFindsTampering(t *testing.T) {
	val := seedKey("validator")
	resign := func(b *Block) { b.Signatures = []Signature{SignHeader(b.Header, "validator-1", val)} }
	tests := []struct {
		name   string
		height uint64
		edit   func(st *memState)
		want   string
	}{
		{"operation swapped", 2, func(st *memState) {
			st.blocks[1].Ops[0], st.blocks[1].Ops[1] = st.blocks[1].Ops[1], st.blocks[1].Ops[0]
		}, "operations root"},
		{"operation dropped, header fixed and re-signed", 2, func(st *memState) {
			b := &st.blocks[1]
			b.Ops = b.Ops[1:]
			b.Header.OpCount, b.Header.OpsRoot = 1, MerkleRoot(opHashes(b.Ops))
			resign(b)
		}, "replaying the block gives"},
		{"operation replaced by one the machine refuses, header fixed and re-signed", 4, func(st *memState) {
			gov := seedKey("governance")
			_, kid := keyKID(t, gov)
			acc := opHashes(st.blocks[1].Ops)[0]
			b := &st.blocks[3]
			b.Ops = []string{signed(t, KindTrustReinstate, kid, 2, TrustChange{Accreditation: acc}, gov).JWS}
			b.Header.OpsRoot = MerkleRoot(opHashes(b.Ops))
			resign(b)
		}, "operation 0 ("},
		{"header time edited", 3, func(st *memState) { st.blocks[2].Header.Time = st.blocks[2].Header.Time.Add(time.Millisecond) }, "does not verify"},
		{"state root edited and re-signed", 3, func(st *memState) {
			st.blocks[2].Header.StateRoot = ZeroHash
			resign(&st.blocks[2])
		}, "state root is " + ZeroHash},
		{"signature dropped", 4, func(st *memState) { st.blocks[3].Signatures = nil }, "not signed"},
		{"previous hash edited", 2, func(st *memState) { st.blocks[1].Header.Previous = ZeroHash; resign(&st.blocks[1]) }, "previous hash is " + ZeroHash},
		{"height edited", 3, func(st *memState) { st.blocks[2].Header.Height = 9 }, "says height 9"},
		{"other chain", 1, func(st *memState) { st.blocks[0].Header.Chain = "x" }, `chain is "x"`},
		{"state row edited", 0, func(st *memState) { st.nonces["did:key:z6Mkx"] = 7 }, "a state row was edited"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, live, _ := buildChain(t)
			tt.edit(live.st)
			err := Verify(context.Background(), live, newMemStore(), g, nil)
			var ve *VerifyError
			if !errors.As(err, &ve) || ve.Height != tt.height || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v; want a VerifyError at block %d mentioning %q", err, tt.height, tt.want)
			}
			if !errors.Is(err, errkind.Conflict) {
				t.Errorf("got kind %s; want conflict", errkind.KindOf(err))
			}
		})
	}
}
