package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/registry"
)

// liveChain makes a chain of four blocks on a real store with the solo
// engine and returns its genesis, the store and the DID it created first.
func liveChain(t *testing.T, k storeKind) (*registry.Genesis, *store.DB, string) {
	t.Helper()
	db := k.open(t).(*store.DB)
	g, govKey, val := newGenesis(t)
	// Each block a second after the last, so that versions differ in time.
	var tick atomic.Int64
	s := startSolo(t, db, g, val, func(c *registry.SoloConfig) {
		batched(2)(c)
		c.Clock = func() time.Time { return genesisTime.Add(time.Duration(tick.Add(1)) * time.Second) }
	})
	gd := g.Governance[0]
	govKID := gd + "#" + strings.TrimPrefix(gd, "did:key:")
	key := seedKey("issuer")
	c1, id := create(t, g, key)
	c2, _ := create(t, g, seedKey("bob"))
	acc := sign(t, g, registry.KindTrustAccredit, govKID, 1, registry.TrustAccredit{Issuer: id, Types: []string{"Resident"}}, govKey)
	ops := []registry.SignedOp{
		c1, c2,
		acc, update(t, g, id, 1, key, key),
		sign(t, g, registry.KindSchemaRegister, id+"#key-1", 3, registry.SchemaRegister{Type: "Resident", Schema: json.RawMessage(`{"type":"object"}`)}, key),
		sign(t, g, registry.KindAnchor, id+"#key-1", 4, registry.AnchorPayload{Root: strings.Repeat("f", 64)}, key),
		sign(t, g, registry.KindTrustSuspend, govKID, 2, registry.TrustChange{Accreditation: acc.Hash, Reason: "audit"}, govKey),
		// A typed anchor needs the (now suspended) accreditation.
		sign(t, g, registry.KindAnchor, id+"#key-1", 5, registry.AnchorPayload{Root: strings.Repeat("e", 64), Type: "Resident"}, key),
		// Status changes need no accreditation: the suspended issuer may
		// still revoke what it issued.
		sign(t, g, registry.KindStatusUpdate, id+"#key-1", 5, registry.StatusUpdatePayload{List: "https://city.example/status/sl_1", Index: 7, Purpose: registry.PurposeRevocation, Value: true}, key),
		sign(t, g, registry.KindStatusUpdate, id+"#key-1", 6, registry.StatusUpdatePayload{List: "https://city.example/status/sl_1", Index: 7, Purpose: registry.PurposeSuspension, Value: true}, key),
	}
	for i := 0; i < len(ops); i += 2 {
		for _, st := range submitAll(t, s, ops[i:i+2]...) {
			if i == 6 && st.Hash == ops[7].Hash {
				continue // the anchor after the suspension is rejected
			}
			if st.Status != registry.StatusCommitted {
				t.Fatalf("got %+v; want committed", st)
			}
		}
	}
	return g, db, id
}

// replayModes are the stores a test replays into: an empty one, and one
// that keeps DID versions and nonces in memory over the live store (as
// urbis registry verify does).
var replayModes = []struct {
	name  string
	fresh func(t *testing.T, k storeKind, live *store.DB) registry.ChainStore
}{
	{"fresh", func(t *testing.T, k storeKind, _ *store.DB) registry.ChainStore { return k.open(t) }},
	{"over-live", func(t *testing.T, k storeKind, live *store.DB) registry.ChainStore {
		db := k.open(t).(*store.DB)
		if err := db.ReplayOver(context.Background(), live); err != nil {
			t.Fatal(err)
		}
		return db
	}},
}

func TestVerifyReplaysTheStore(t *testing.T) {
	for _, k := range storeKinds() {
		for _, mode := range replayModes {
			t.Run(k.name+"/"+mode.name, func(t *testing.T) {
				g, live, id := liveChain(t, k)
				var last, head uint64
				fresh := mode.fresh(t, k, live)
				err := registry.Verify(context.Background(), live, fresh, g, func(h, n uint64) { last, head = h, n })
				if err != nil {
					t.Fatalf("Verify of a good chain: %v", err)
				}
				if last != 5 || head != 5 {
					t.Errorf("got progress %d of %d; want 5 of 5", last, head)
				}
				sameReads(t, live, fresh, id)
			})
		}
	}
}

// sameReads checks that the replayed store reads id (which has two
// versions) and its nonce as live does.
func sameReads(t *testing.T, live, fresh registry.StateReader, id string) {
	t.Helper()
	ctx := context.Background()
	v2, err := live.LatestDIDVersion(ctx, id)
	if err != nil || v2.Version != 2 {
		t.Fatalf("live's latest version of %s: %v, %v; want version 2", id, v2.Version, err)
	}
	v1, err := live.DIDVersion(ctx, id, 1)
	if err != nil {
		t.Fatal(err)
	}
	reads := []struct {
		name string
		read func(registry.StateReader) (registry.DIDVersion, error)
	}{
		{"latest", func(s registry.StateReader) (registry.DIDVersion, error) { return s.LatestDIDVersion(ctx, id) }},
		{"version 1", func(s registry.StateReader) (registry.DIDVersion, error) { return s.DIDVersion(ctx, id, 1) }},
		{"version 2", func(s registry.StateReader) (registry.DIDVersion, error) { return s.DIDVersion(ctx, id, 2) }},
		{"version 3", func(s registry.StateReader) (registry.DIDVersion, error) { return s.DIDVersion(ctx, id, 3) }},
		{"at version 2's time", func(s registry.StateReader) (registry.DIDVersion, error) { return s.DIDVersionAt(ctx, id, v2.Time) }},
		{"just before it (version 1)", func(s registry.StateReader) (registry.DIDVersion, error) {
			return s.DIDVersionAt(ctx, id, v2.Time.Add(-time.Microsecond))
		}},
		{"before the DID", func(s registry.StateReader) (registry.DIDVersion, error) {
			return s.DIDVersionAt(ctx, id, v1.Time.Add(-time.Microsecond))
		}},
		{"another DID", func(s registry.StateReader) (registry.DIDVersion, error) {
			return s.LatestDIDVersion(ctx, "did:urbis:none")
		}},
	}
	for _, r := range reads {
		want, wantErr := r.read(live)
		got, gotErr := r.read(fresh)
		if errkind.KindOf(gotErr) != errkind.KindOf(wantErr) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: replayed store read %+v, %v; live %+v, %v", r.name, got, gotErr, want, wantErr)
		}
	}
	if v1.Version != 1 || !v1.Time.Before(v2.Time) {
		t.Fatalf("live's version 1: %+v; want it before version 2 (%s)", v1, v2.Time)
	}
	for _, signer := range []string{id, "did:urbis:none"} {
		want, _ := live.Nonce(ctx, signer)
		if got, err := fresh.Nonce(ctx, signer); err != nil || got != want {
			t.Errorf("nonce of %s: replayed store read %d, %v; live %d", signer, got, err, want)
		}
	}
}

func TestReplayOverNeedsAnEmptyStore(t *testing.T) {
	k := storeKinds()[0]
	_, live, _ := liveChain(t, k)
	if err := live.ReplayOver(context.Background(), live); !errors.Is(err, errkind.Invalid) {
		t.Fatalf("ReplayOver into a store with blocks: got %v; want an invalid error", err)
	}
}

func TestVerifyFindsEditedRows(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(t *testing.T, db *store.DB, did string)
		height uint64
		want   string
	}{
		{"operation of a block edited", func(t *testing.T, db *store.DB, _ string) {
			storetest.Exec(t, db, "UPDATE block_ops SET jws = (SELECT jws FROM block_ops WHERE height = 2 AND idx = 1) || '' WHERE height = 2 AND idx = 0")
		}, 2, "operations root"},
		{"block header edited", func(t *testing.T, db *store.DB, _ string) {
			storetest.Exec(t, db, "UPDATE blocks SET header = replace(header, state_root, ?) WHERE height = 3", registry.ZeroHash)
		}, 3, "does not verify"},
		{"block signature removed", func(t *testing.T, db *store.DB, _ string) {
			storetest.Exec(t, db, "UPDATE blocks SET signatures = '[]' WHERE height = 4")
		}, 4, "not signed"},
		{"nonce edited", func(t *testing.T, db *store.DB, did string) {
			if n := storetest.Exec(t, db, "UPDATE nonces SET nonce = nonce + 1 WHERE signer = ?", did); n != 1 {
				t.Fatalf("edited %d rows; want 1", n)
			}
		}, 0, "a state row was edited"},
		{"accreditation status edited", func(t *testing.T, db *store.DB, _ string) {
			storetest.Exec(t, db, "UPDATE accreditations SET status = 'active'")
		}, 0, "a state row was edited"},
		{"status update edited", func(t *testing.T, db *store.DB, _ string) {
			if n := storetest.Exec(t, db, "UPDATE status_updates SET idx = 8 WHERE idx = 7 AND purpose = 'revocation'"); n != 1 {
				t.Fatalf("edited %d rows; want 1", n)
			}
		}, 0, "a state row was edited"},
		// The DID's first version, which its update (block 2) reads.
		{"DID version read later edited", func(t *testing.T, db *store.DB, did string) {
			if n := storetest.Exec(t, db, "UPDATE did_versions SET document = replace(document, 'key-1', 'key-9') WHERE did = ? AND version = 1", did); n != 1 {
				t.Fatalf("edited %d rows; want 1", n)
			}
		}, 0, "a state row was edited"},
		// The other DID, which nothing reads after its creation.
		{"DID version never read again edited", func(t *testing.T, db *store.DB, did string) {
			if n := storetest.Exec(t, db, "UPDATE did_versions SET op_hash = 'x' || op_hash WHERE did <> ?", did); n != 1 {
				t.Fatalf("edited %d rows; want 1", n)
			}
		}, 0, "a state row was edited"},
		// The DID's second version, whose key signs the schema (block 3).
		{"latest DID version deleted", func(t *testing.T, db *store.DB, did string) {
			if n := storetest.Exec(t, db, "DELETE FROM did_versions WHERE did = ? AND version = 2", did); n != 1 {
				t.Fatalf("deleted %d rows; want 1", n)
			}
		}, 0, "a state row was edited"},
		{"DID version added", func(t *testing.T, db *store.DB, did string) {
			if n := storetest.Exec(t, db, "INSERT INTO did_versions (did, version, document, deactivated, height, time, op_hash) "+
				"SELECT did, 3, document, deactivated, height, time, op_hash FROM did_versions WHERE did = ? AND version = 2", did); n != 1 {
				t.Fatalf("added %d rows; want 1", n)
			}
		}, 0, "a state row was edited"},
		{"DID of no operation added", func(t *testing.T, db *store.DB, did string) {
			if n := storetest.Exec(t, db, "INSERT INTO did_versions (did, version, document, deactivated, height, time, op_hash) "+
				"SELECT 'did:urbis:forged', 1, document, deactivated, height, time, op_hash FROM did_versions WHERE did = ? AND version = 2", did); n != 1 {
				t.Fatalf("added %d rows; want 1", n)
			}
		}, 0, "a state row was edited"},
		{"nonce added", func(t *testing.T, db *store.DB, _ string) {
			storetest.Exec(t, db, "INSERT INTO nonces (signer, nonce) VALUES ('did:key:z6MkForged', 1)")
		}, 0, "a state row was edited"},
		{"nonce deleted", func(t *testing.T, db *store.DB, did string) {
			if n := storetest.Exec(t, db, "DELETE FROM nonces WHERE signer <> ?", did); n != 2 {
				t.Fatalf("deleted %d rows; want 2", n)
			}
		}, 0, "a state row was edited"},
	}
	for _, k := range storeKinds() {
		for _, mode := range replayModes {
			for _, tt := range tests {
				t.Run(k.name+"/"+mode.name+"/"+tt.name, func(t *testing.T) {
					g, live, did := liveChain(t, k)
					tt.edit(t, live, did)
					err := registry.Verify(context.Background(), live, mode.fresh(t, k, live), g, nil)
					var ve *registry.VerifyError
					if !errors.As(err, &ve) || ve.Height != tt.height || !strings.Contains(err.Error(), tt.want) {
						t.Fatalf("got %v; want a VerifyError at block %d mentioning %q", err, tt.height, tt.want)
					}
					if !errors.Is(err, errkind.Conflict) {
						t.Errorf("got kind %s; want conflict", errkind.KindOf(err))
					}
				})
			}
		}
	}
}
