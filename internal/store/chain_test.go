package store_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/registry"
)

// read is one read of chain state and what it should give.
type read struct {
	name string
	do   func(ctx context.Context, r registry.StateReader) (any, error)
	want any
}

// reads are the reads of every row of s, through every StateReader method.
func (s state) reads() []read {
	var rs []read
	for _, v := range s.versions {
		rs = append(rs, read{fmt.Sprintf("DIDVersion %s %d", v.DID, v.Version),
			func(ctx context.Context, r registry.StateReader) (any, error) {
				return r.DIDVersion(ctx, v.DID, v.Version)
			}, v})
	}
	latest := map[string]registry.DIDVersion{}
	for _, v := range s.versions {
		latest[v.DID] = v
	}
	for did, v := range latest {
		rs = append(rs, read{"LatestDIDVersion " + did,
			func(ctx context.Context, r registry.StateReader) (any, error) { return r.LatestDIDVersion(ctx, did) }, v})
	}
	for signer, n := range s.nonces {
		rs = append(rs, read{"Nonce " + signer,
			func(ctx context.Context, r registry.StateReader) (any, error) { return r.Nonce(ctx, signer) }, n})
	}
	byIssuer := map[string][]registry.Accreditation{}
	for _, a := range s.accs {
		rs = append(rs, read{"Accreditation " + a.ID,
			func(ctx context.Context, r registry.StateReader) (any, error) { return r.Accreditation(ctx, a.ID) }, a})
		byIssuer[a.Issuer] = append(byIssuer[a.Issuer], a)
	}
	for issuer, as := range byIssuer {
		rs = append(rs, read{"Accreditations " + issuer,
			func(ctx context.Context, r registry.StateReader) (any, error) { return r.Accreditations(ctx, issuer) }, as})
	}
	history := map[string][]registry.AccreditationEvent{s.noHistory: {}}
	for _, e := range s.events {
		history[e.Accreditation] = append(history[e.Accreditation], e)
	}
	for id, es := range history {
		rs = append(rs, read{"AccreditationHistory " + id,
			func(ctx context.Context, r registry.StateReader) (any, error) { return r.AccreditationHistory(ctx, id) }, es})
	}
	for _, sc := range s.schemas {
		rs = append(rs, read{"Schema " + sc.ID,
			func(ctx context.Context, r registry.StateReader) (any, error) { return r.Schema(ctx, sc.ID) }, sc})
	}
	for _, a := range s.anchors {
		rs = append(rs, read{"Anchor " + a.Root,
			func(ctx context.Context, r registry.StateReader) (any, error) { return r.Anchor(ctx, a.Root) }, a})
	}
	for _, u := range s.updates {
		rs = append(rs, read{"StatusListIssuer " + u.List,
			func(ctx context.Context, r registry.StateReader) (any, error) { return r.StatusListIssuer(ctx, u.List) }, u.Issuer})
	}
	// The last update of each bit, read at the time of the last update.
	type bit struct {
		list    string
		index   int
		purpose string
	}
	last := map[bit]registry.StatusUpdate{}
	for _, u := range s.updates {
		last[bit{u.List, u.Index, u.Purpose}] = u
	}
	for b, u := range last {
		rs = append(rs, read{fmt.Sprintf("StatusAt %s %d %s", b.list, b.index, b.purpose),
			func(ctx context.Context, r registry.StateReader) (any, error) {
				v, h, found, err := r.StatusAt(ctx, b.list, b.index, b.purpose, t3)
				return []any{v, h, found}, err
			}, []any{u.Value, u.Height, true}})
	}
	return rs
}

func checkReads(t *testing.T, r registry.StateReader, reads []read) {
	t.Helper()
	for _, rd := range reads {
		got, err := rd.do(t.Context(), r)
		if err != nil || !reflect.DeepEqual(got, rd.want) {
			t.Errorf("%s = %+v, %v; want %+v", rd.name, got, err, rd.want)
		}
	}
}

func TestChainStateRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		s := sampleState()
		reads := s.reads()
		err := db.InBlockTx(t.Context(), func(tx registry.BlockTx) error {
			s.write(t, tx, false)
			t.Run("inside the transaction", func(t *testing.T) { checkReads(t, tx, reads) })
			t.Run("not visible outside before commit", func(t *testing.T) {
				if _, err := db.LatestDIDVersion(t.Context(), didA); !errors.Is(err, errkind.NotFound) {
					t.Errorf("LatestDIDVersion outside the open transaction: error %v; want NotFound", err)
				}
			})
			return nil
		})
		if err != nil {
			t.Fatalf("InBlockTx: %v", err)
		}
		t.Run("after commit", func(t *testing.T) { checkReads(t, db, reads) })
	})
}

func TestStateReaderAbsent(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		tests := []struct {
			name string
			do   func() (any, error)
			want any // for reads that do not fail
		}{
			{"LatestDIDVersion", func() (any, error) { return db.LatestDIDVersion(ctx, didA) }, nil},
			{"DIDVersion", func() (any, error) { return db.DIDVersion(ctx, didA, 1) }, nil},
			{"DIDVersion beyond int64", func() (any, error) { return db.DIDVersion(ctx, didA, math.MaxUint64) }, nil},
			{"DIDVersionAt", func() (any, error) { return db.DIDVersionAt(ctx, didA, t3) }, nil},
			{"Accreditation", func() (any, error) { return db.Accreditation(ctx, "x") }, nil},
			{"AccreditationHistory", func() (any, error) { return db.AccreditationHistory(ctx, "x") }, nil},
			{"Schema", func() (any, error) { return db.Schema(ctx, "x") }, nil},
			{"Anchor", func() (any, error) { return db.Anchor(ctx, "x") }, nil},
			{"StatusListIssuer", func() (any, error) { return db.StatusListIssuer(ctx, listA) }, nil},
			{"StatusAt", func() (any, error) {
				v, h, found, err := db.StatusAt(ctx, listA, 1, registry.PurposeRevocation, t3)
				return []any{v, h, found}, err
			}, []any{false, uint64(0), false}},
			{"Head", func() (any, error) { return db.Head(ctx) }, nil},
			{"Block", func() (any, error) { return db.Block(ctx, 1) }, nil},
			{"Block beyond int64", func() (any, error) { return db.Block(ctx, math.MaxUint64) }, nil},
			{"OpStatus", func() (any, error) { return db.OpStatus(ctx, "x") }, nil},
			{"Nonce", func() (any, error) { return db.Nonce(ctx, didA) }, uint64(0)},
			{"Accreditations", func() (any, error) { return db.Accreditations(ctx, didA) }, []registry.Accreditation{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := tt.do()
				if tt.want == nil {
					wantKind(t, tt.name, err, errkind.NotFound)
					return
				}
				if err != nil || !reflect.DeepEqual(got, tt.want) {
					t.Errorf("%s = %#v, %v; want %#v", tt.name, got, err, tt.want)
				}
			})
		}
	})
}

func TestDIDVersionAt(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		v1, v2, v3, v4 := didVersion(didA, 1, 1, t1), didVersion(didA, 2, 2, t2), didVersion(didA, 3, 2, t2), didVersion(didA, 4, 3, t3)
		if err := db.InBlockTx(t.Context(), func(tx registry.BlockTx) error {
			for _, v := range []registry.DIDVersion{v1, v2, v3, v4, didVersion(didB, 1, 1, t1)} {
				if err := tx.PutDIDVersion(t.Context(), v); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			at   time.Time
			want uint64 // 0: NotFound
		}{
			{"before the first", t1.Add(-time.Microsecond), 0},
			{"a nanosecond before the first", t1.Add(-time.Nanosecond), 0},
			{"at the first", t1, 1},
			{"a nanosecond after the first", t1.Add(time.Nanosecond), 1},
			{"between", t1.Add(time.Second), 1},
			{"a microsecond before the second block", t2.Add(-time.Microsecond), 1},
			{"at the block of two versions", t2, 3},
			{"at that block, in another zone", t2.In(time.FixedZone("X", 7*3600)), 3},
			{"at the last", t3, 4},
			{"long after", t3.AddDate(10, 0, 0), 4},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := db.DIDVersionAt(t.Context(), didA, tt.at)
				if tt.want == 0 {
					wantKind(t, "DIDVersionAt", err, errkind.NotFound)
					return
				}
				if err != nil || got.Version != tt.want || got.DID != didA {
					t.Errorf("DIDVersionAt(%s) = %s version %d, %v; want version %d", tt.at, got.DID, got.Version, err, tt.want)
				}
			})
		}
	})
}

func TestSavepoints(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		nonces := func(r registry.StateReader, signers ...string) []uint64 {
			t.Helper()
			var out []uint64
			for _, s := range signers {
				n, err := r.Nonce(ctx, s)
				if err != nil {
					t.Fatalf("Nonce(%s): %v", s, err)
				}
				out = append(out, n)
			}
			return out
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		err := db.InBlockTx(ctx, func(tx registry.BlockTx) error {
			must(tx.SetNonce(ctx, "a", 1))
			must(tx.Savepoint(ctx, "op"))
			must(tx.SetNonce(ctx, "b", 1))
			must(tx.SetNonce(ctx, "a", 2))
			must(tx.PutDIDVersion(ctx, didVersion(didA, 1, 1, t1)))
			must(tx.RollbackTo(ctx, "op"))
			if got := nonces(tx, "a", "b"); !reflect.DeepEqual(got, []uint64{1, 0}) {
				t.Errorf("nonces a, b after RollbackTo = %v; want [1 0]: the earlier write kept, the later undone", got)
			}
			if _, err := tx.LatestDIDVersion(ctx, didA); !errors.Is(err, errkind.NotFound) {
				t.Errorf("LatestDIDVersion after RollbackTo: error %v; want NotFound", err)
			}

			// A failed write, rolled back, leaves the transaction usable
			// (on PostgreSQL it would be aborted until then).
			must(tx.Savepoint(ctx, "op"))
			must(tx.SetNonce(ctx, "c", 1))
			must(tx.PutDIDVersion(ctx, didVersion(didB, 1, 1, t1)))
			wantKind(t, "PutDIDVersion twice", tx.PutDIDVersion(ctx, didVersion(didB, 1, 1, t1)), errkind.Conflict)
			must(tx.RollbackTo(ctx, "op"))
			// Rolling back twice to the same savepoint is allowed.
			must(tx.RollbackTo(ctx, "op"))

			// Reusing a name keeps the writes made since it was set.
			must(tx.Savepoint(ctx, "op"))
			must(tx.SetNonce(ctx, "d", 1))
			must(tx.Savepoint(ctx, "op"))
			must(tx.SetNonce(ctx, "e", 1))
			must(tx.Savepoint(ctx, "Inner_2"))
			must(tx.SetNonce(ctx, "f", 1))
			must(tx.RollbackTo(ctx, "op"))
			if got := nonces(tx, "c", "d", "e", "f"); !reflect.DeepEqual(got, []uint64{0, 1, 0, 0}) {
				t.Errorf("nonces c, d, e, f = %v; want [0 1 0 0]", got)
			}
			wantKind(t, "RollbackTo a savepoint released by rolling back past it", tx.RollbackTo(ctx, "Inner_2"), errkind.Invalid)
			wantKind(t, "RollbackTo a savepoint never set", tx.RollbackTo(ctx, "never"), errkind.Invalid)
			for _, name := range []string{"", "1op", "op-1", "op 1", `op"; DROP TABLE nonces; --`, "é", strings.Repeat("a", 64)} {
				wantKind(t, fmt.Sprintf("Savepoint(%q)", name), tx.Savepoint(ctx, name), errkind.Invalid)
				wantKind(t, fmt.Sprintf("RollbackTo(%q)", name), tx.RollbackTo(ctx, name), errkind.Invalid)
			}
			must(tx.Savepoint(ctx, strings.Repeat("a", 63)))
			must(tx.Savepoint(ctx, "select")) // quoted: keywords are fine
			must(tx.SetNonce(ctx, "g", 1))

			// Releasing keeps the writes, into the enclosing savepoint.
			release := tx.(interface {
				ReleaseSavepoint(ctx context.Context, name string) error
			}).ReleaseSavepoint
			must(tx.Savepoint(ctx, "outer"))
			must(tx.Savepoint(ctx, "step"))
			must(tx.SetNonce(ctx, "h", 1))
			must(release(ctx, "step"))
			wantKind(t, "RollbackTo a released savepoint", tx.RollbackTo(ctx, "step"), errkind.Invalid)
			wantKind(t, "ReleaseSavepoint twice", release(ctx, "step"), errkind.Invalid)
			must(tx.Savepoint(ctx, "step"))
			must(tx.SetNonce(ctx, "i", 1))
			must(release(ctx, "step"))
			must(tx.Savepoint(ctx, "inner"))
			must(tx.SetNonce(ctx, "j", 1))
			must(release(ctx, "outer")) // and inner with it
			wantKind(t, "RollbackTo a savepoint released with an earlier one", tx.RollbackTo(ctx, "inner"), errkind.Invalid)
			must(tx.Savepoint(ctx, "outer"))
			must(tx.SetNonce(ctx, "k", 1))
			must(tx.Savepoint(ctx, "step"))
			must(tx.SetNonce(ctx, "l", 1))
			must(release(ctx, "step"))
			must(tx.RollbackTo(ctx, "outer")) // undoes the released step's write too
			if got := nonces(tx, "h", "i", "j", "k", "l"); !reflect.DeepEqual(got, []uint64{1, 1, 1, 0, 0}) {
				t.Errorf("nonces h to l = %v; want [1 1 1 0 0]", got)
			}
			must(tx.Savepoint(ctx, "step"))
			must(tx.SetNonce(ctx, "m", 1))
			must(release(ctx, "step"))
			return nil // with step released but not yet in the database
		})
		if err != nil {
			t.Fatalf("InBlockTx: %v", err)
		}
		want := []uint64{1, 0, 0, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1}
		if got := nonces(db, "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m"); !reflect.DeepEqual(got, want) {
			t.Errorf("nonces a to m after commit = %v; want %v", got, want)
		}
	})
}

func TestInBlockTxRollsBack(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		fn   func() error // the end of fn, after it wrote everything
		want func(error) bool
	}{
		{"error", func() error { return boom }, func(err error) bool { return errors.Is(err, boom) }},
		{"error of a kind", func() error { return errkind.New(errkind.Conflict, "stale") },
			func(err error) bool { return errors.Is(err, errkind.Conflict) }},
		{"panic", func() error { panic(boom) }, func(err error) bool { return err == nil }},
		{"cancelled context", nil, func(err error) bool { return errors.Is(err, errkind.Unavailable) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			each(t, func(t *testing.T, db *store.DB) {
				empty, err := db.StateDigest(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				s := sampleState()
				b, hashes := block(1, t1, 1, 3)
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				err = func() (err error) {
					defer func() {
						if r := recover(); r != nil && r != boom {
							panic(r)
						}
					}()
					return db.InBlockTx(ctx, func(tx registry.BlockTx) error {
						s.write(t, tx, false)
						if err := tx.PutBlock(ctx, b, hashes); err != nil {
							t.Fatal(err)
						}
						if err := tx.PutOpStatus(ctx, registry.OpStatus{Hash: "rejected", Status: "rejected", Time: t1}); err != nil {
							t.Fatal(err)
						}
						if tt.fn == nil {
							cancel()
							return nil
						}
						return tt.fn()
					})
				}()
				if !tt.want(err) {
					t.Errorf("InBlockTx error = %v", err)
				}
				checkEmpty(t, db, empty, hashes[0])
			})
		})
	}
}

// checkEmpty checks that db holds no block and no state.
func checkEmpty(t *testing.T, db *store.DB, emptyDigest, opHash string) {
	t.Helper()
	ctx := t.Context()
	if d, err := db.StateDigest(ctx); err != nil || d != emptyDigest {
		t.Errorf("StateDigest = %s, %v; want that of the empty store, %s", d, err, emptyDigest)
	}
	for _, rd := range sampleState().reads() {
		got, err := rd.do(ctx, db)
		if n, ok := got.(uint64); ok && n == 0 && err == nil {
			continue // Nonce
		}
		if as, ok := got.([]registry.Accreditation); ok && len(as) == 0 && err == nil {
			continue
		}
		if st, ok := got.([]any); ok && len(st) == 3 && st[2] == false && err == nil {
			continue // StatusAt: not found
		}
		if !errors.Is(err, errkind.NotFound) {
			t.Errorf("%s = %+v, %v; want NotFound", rd.name, got, err)
		}
	}
	_, err := db.Head(ctx)
	wantKind(t, "Head", err, errkind.NotFound)
	_, err = db.Block(ctx, 1)
	wantKind(t, "Block(1)", err, errkind.NotFound)
	_, err = db.OpStatus(ctx, opHash)
	wantKind(t, "OpStatus", err, errkind.NotFound)
	_, err = db.OpStatus(ctx, "rejected")
	wantKind(t, "OpStatus of the rejected", err, errkind.NotFound)
}

func TestBlocks(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		put := func(fn func(tx registry.BlockTx) error) error { return db.InBlockTx(ctx, fn) }
		b1, h1 := block(1, t1, 1, 3)
		b2, h2 := block(2, t2, 4, 0)
		lateOp, lateHash := jws(registry.KindDIDUpdate, 9)
		b3, h3 := block(3, t3.In(time.FixedZone("X", -3*3600)), 4, 1) // stored, hashed and returned in UTC
		b3.Ops[0], h3[0] = lateOp, lateHash

		err := put(func(tx registry.BlockTx) error {
			if err := tx.PutOpStatus(ctx, registry.OpStatus{Hash: lateHash, Status: "rejected", Kind: registry.KindDIDUpdate, Reason: "nonce 9; want 4", Time: t1}); err != nil {
				return err
			}
			return tx.PutBlock(ctx, b1, h1)
		})
		if err != nil {
			t.Fatalf("PutBlock 1: %v", err)
		}
		if err := put(func(tx registry.BlockTx) error { return tx.PutBlock(ctx, b2, h2) }); err != nil {
			t.Fatalf("PutBlock 2 (empty): %v", err)
		}
		if got, err := db.Head(ctx); err != nil || !reflect.DeepEqual(got, b2.Header) {
			t.Errorf("Head = %+v, %v; want %+v", got, err, b2.Header)
		}
		for _, b := range []registry.Block{b1, b2} {
			if n := storetest.Exec(t, db, "UPDATE blocks SET hash = hash WHERE height = ? AND hash = ?", b.Header.Height, b.Header.Hash()); n != 1 {
				t.Errorf("blocks with height %d and hash Header.Hash(): %d; want 1", b.Header.Height, n)
			}
		}
		for _, want := range []registry.Block{b1, b2} {
			if got, err := db.Block(ctx, want.Header.Height); err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("Block(%d) = %+v, %v; want %+v", want.Header.Height, got, err, want)
			}
		}
		for i, h := range h1 {
			want := registry.OpStatus{Hash: h, Status: "committed", Height: 1, Index: i, Kind: registry.KindAnchor, Time: t1}
			if got, err := db.OpStatus(ctx, h); err != nil || got != want {
				t.Errorf("OpStatus(op %d) = %+v, %v; want %+v", i, got, err, want)
			}
		}
		want := registry.OpStatus{Hash: lateHash, Status: "rejected", Kind: registry.KindDIDUpdate, Reason: "nonce 9; want 4", Time: t1}
		if got, err := db.OpStatus(ctx, lateHash); err != nil || got != want {
			t.Errorf("OpStatus(rejected) = %+v, %v; want %+v", got, err, want)
		}

		// The rejected operation, submitted again, makes it into block 3;
		// a replay of a committed one is rejected but stays committed.
		err = put(func(tx registry.BlockTx) error {
			if err := tx.PutBlock(ctx, b3, h3); err != nil {
				return err
			}
			return tx.PutOpStatus(ctx, registry.OpStatus{Hash: h1[0], Status: "rejected", Kind: registry.KindAnchor, Reason: "replay", Time: t3})
		})
		if err != nil {
			t.Fatalf("PutBlock 3: %v", err)
		}
		want = registry.OpStatus{Hash: lateHash, Status: "committed", Height: 3, Index: 0, Kind: registry.KindDIDUpdate, Time: t3}
		if got, err := db.OpStatus(ctx, lateHash); err != nil || got != want {
			t.Errorf("OpStatus(rejected, then committed) = %+v, %v; want %+v", got, err, want)
		}
		if got, err := db.OpStatus(ctx, h1[0]); err != nil || got.Status != "committed" || got.Height != 1 {
			t.Errorf("OpStatus(committed, then replayed) = %+v, %v; want committed at height 1", got, err)
		}
		if got, err := db.Head(ctx); err != nil || got.Height != 3 || got.Time != t3 || got.Hash() != b3.Header.Hash() {
			t.Errorf("Head = %+v, %v; want height 3 at %s, and the hash of block 3", got, err, t3)
		}

		bad, badHashes := block(4, t3, 20, 2)
		b5, h5 := block(5, t3, 30, 2)
		b5.Ops[1], h5[1] = b5.Ops[0], h5[0]
		errs := []struct {
			name string
			fn   func(tx registry.BlockTx) error
			kind errkind.Kind
		}{
			{"fewer hashes than operations", func(tx registry.BlockTx) error { return tx.PutBlock(ctx, bad, badHashes[:1]) }, errkind.Invalid},
			{"OpCount not the number of operations", func(tx registry.BlockTx) error {
				b := bad
				b.Header.OpCount = 3
				return tx.PutBlock(ctx, b, badHashes)
			}, errkind.Invalid},
			{"height taken", func(tx registry.BlockTx) error {
				b, h := block(2, t2, 40, 1)
				return tx.PutBlock(ctx, b, h)
			}, errkind.Conflict},
			{"operation already in a block", func(tx registry.BlockTx) error {
				b, h := block(4, t3, 1, 1)
				return tx.PutBlock(ctx, b, h)
			}, errkind.Conflict},
			{"operation twice in a block", func(tx registry.BlockTx) error { return tx.PutBlock(ctx, b5, h5) }, errkind.Conflict},
			{"height zero", func(tx registry.BlockTx) error {
				b, h := block(0, t3, 50, 0)
				return tx.PutBlock(ctx, b, h)
			}, errkind.Invalid},
			{"height beyond int64", func(tx registry.BlockTx) error {
				b, h := block(math.MaxUint64, t3, 50, 0)
				return tx.PutBlock(ctx, b, h)
			}, errkind.Invalid},
			{"PutOpStatus committed", func(tx registry.BlockTx) error {
				return tx.PutOpStatus(ctx, registry.OpStatus{Hash: "x", Status: "committed", Height: 1, Time: t3})
			}, errkind.Invalid},
		}
		for _, e := range errs {
			wantKind(t, e.name, put(e.fn), e.kind)
		}
		if got, err := db.Head(ctx); err != nil || got.Height != 3 {
			t.Errorf("Head after failed PutBlocks = height %d, %v; want 3", got.Height, err)
		}
	})
}

func TestStateWriteErrors(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		s := sampleState()
		s.put(t, db)
		bigVersion := didVersion(didA, math.MaxUint64, 1, t1)
		bigHeight := didVersion(didA, 9, math.MaxUint64, t1)
		badStatus := s.accs[0]
		badStatus.ID, badStatus.Status = "new", "pending"
		tests := []struct {
			name string
			fn   func(tx registry.BlockTx) error
			kind errkind.Kind
		}{
			{"PutDIDVersion of an existing version", func(tx registry.BlockTx) error { return tx.PutDIDVersion(ctx, s.versions[0]) }, errkind.Conflict},
			{"PutDIDVersion version beyond int64", func(tx registry.BlockTx) error { return tx.PutDIDVersion(ctx, bigVersion) }, errkind.Invalid},
			{"PutDIDVersion height beyond int64", func(tx registry.BlockTx) error { return tx.PutDIDVersion(ctx, bigHeight) }, errkind.Invalid},
			{"PutDIDVersion version 0", func(tx registry.BlockTx) error { return tx.PutDIDVersion(ctx, didVersion(didA, 0, 1, t1)) }, errkind.Invalid},
			{"SetNonce beyond int64", func(tx registry.BlockTx) error { return tx.SetNonce(ctx, didA, math.MaxUint64) }, errkind.Invalid},
			{"PutAccreditation with an unknown status", func(tx registry.BlockTx) error { return tx.PutAccreditation(ctx, badStatus) }, errkind.Invalid},
			{"PutSchema of an existing id", func(tx registry.BlockTx) error { return tx.PutSchema(ctx, s.schemas[0]) }, errkind.Conflict},
			{"PutAnchor of an existing root", func(tx registry.BlockTx) error { return tx.PutAnchor(ctx, s.anchors[0]) }, errkind.Conflict},
		}
		before, err := db.StateDigest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// In a savepoint, as the engine does: the error aborts a
				// PostgreSQL transaction until it rolls back to one.
				err := db.InBlockTx(ctx, func(tx registry.BlockTx) error {
					if err := tx.Savepoint(ctx, "op"); err != nil {
						return err
					}
					err := tt.fn(tx)
					wantKind(t, tt.name, err, tt.kind)
					if err := tx.RollbackTo(ctx, "op"); err != nil {
						return err
					}
					return tx.SetNonce(ctx, "after", 1)
				})
				if err != nil {
					t.Errorf("InBlockTx: %v; want the block to commit without the failed write", err)
				}
			})
		}
		if n := storetest.Exec(t, db, "DELETE FROM nonces WHERE signer = ?", "after"); n != 1 {
			t.Errorf("nonce of after: %d rows; want 1, set by each block", n)
		}
		if after, err := db.StateDigest(ctx); err != nil || after != before {
			t.Errorf("StateDigest after the failed writes = %s, %v; want it unchanged, %s", after, err, before)
		}
	})
}

func TestPutAccreditationReplaces(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		s := sampleState()
		s.put(t, db)
		changed := s.accs[0] // didA's first
		changed.Status, changed.ValidUntil, changed.Height, changed.Time = "suspended", time.Time{}, 3, t3
		later := s.accs[0]
		later.ID, later.Height, later.Time = hash("acc9"), 3, t3
		if err := db.InBlockTx(ctx, func(tx registry.BlockTx) error {
			if err := tx.PutAccreditation(ctx, later); err != nil {
				return err
			}
			return tx.PutAccreditation(ctx, changed)
		}); err != nil {
			t.Fatal(err)
		}
		got, err := db.Accreditations(ctx, didA)
		want := []registry.Accreditation{changed, s.accs[2], later}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Accreditations(%s) = %+v, %v; want %+v: replaced in place, the new one last", didA, got, err, want)
		}
	})
}

func TestStateDigest(t *testing.T) {
	dbs := storetest.Open(t)
	digests := map[string]string{}
	for _, db := range dbs {
		t.Run(db.Dialect(), func(t *testing.T) {
			ctx := t.Context()
			empty, err := db.StateDigest(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if again, err := db.StateDigest(ctx); err != nil || again != empty {
				t.Errorf("StateDigest twice = %s, %s, %v; want the same", empty, again, err)
			}
			s := sampleState()
			s.put(t, db)
			d, err := db.StateDigest(ctx)
			if err != nil || d == empty || len(d) != 64 {
				t.Fatalf("StateDigest = %q, %v; want 64 hex digits, not those of the empty store", d, err)
			}
			digests[db.Dialect()] = d

			// Blocks and statuses are not state.
			b, h := block(1, t1, 1, 2)
			if err := db.InBlockTx(ctx, func(tx registry.BlockTx) error { return tx.PutBlock(ctx, b, h) }); err != nil {
				t.Fatal(err)
			}
			if got, err := db.StateDigest(ctx); err != nil || got != d {
				t.Errorf("StateDigest after PutBlock = %s, %v; want it unchanged, %s", got, err, d)
			}

			// The same state, written in another order into another store.
			other := openAnother(t, db.Dialect())
			if err := other.InBlockTx(ctx, func(tx registry.BlockTx) error {
				if err := tx.Savepoint(ctx, "op"); err != nil {
					return err
				}
				if err := tx.AddAccreditationEvent(ctx, registry.AccreditationEvent{Accreditation: "gone", Kind: registry.KindTrustRevoke, Time: t1}); err != nil {
					return err
				}
				if err := tx.RollbackTo(ctx, "op"); err != nil { // burns a PostgreSQL identity value
					return err
				}
				s.write(t, tx, true)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if got, err := other.StateDigest(ctx); err != nil || got != d {
				t.Errorf("StateDigest of the same state written otherwise = %s, %v; want %s", got, err, d)
			}
		})
	}
	if len(digests) == 2 && digests[store.SQLite] != digests[store.Postgres] {
		t.Errorf("StateDigest on SQLite = %s, on PostgreSQL = %s; want the same for the same state", digests[store.SQLite], digests[store.Postgres])
	}
}

func TestStateDigestSeesEveryEdit(t *testing.T) {
	s := sampleState()
	acc2 := s.accs[1].ID
	edits := []struct {
		name  string
		query string
		args  []any
	}{
		{"document", "UPDATE did_versions SET document = replace(document, '#key-1', '#key-2') WHERE did = ? AND version = 1", []any{didA}},
		{"deactivated", "UPDATE did_versions SET deactivated = ? WHERE did = ? AND version = 1", []any{true, didA}},
		{"version time", "UPDATE did_versions SET time = ? WHERE did = ? AND version = 1", []any{t1.Add(time.Microsecond), didA}},
		{"version height", "UPDATE did_versions SET height = height + 1 WHERE did = ? AND version = 2", []any{didA}},
		{"version deleted", "DELETE FROM did_versions WHERE did = ? AND version = 2", []any{didB}},
		{"version renumbered", "UPDATE did_versions SET version = 3 WHERE did = ? AND version = 2", []any{didB}},
		{"nonce", "UPDATE nonces SET nonce = nonce - 1 WHERE signer = ?", []any{didA}},
		{"nonce added", "INSERT INTO nonces (signer, nonce) VALUES (?, 1)", []any{"did:urbis:new"}},
		{"accreditation status", "UPDATE accreditations SET status = 'active' WHERE id = ?", []any{acc2}},
		{"accreditation types", `UPDATE accreditations SET types = '["LibraryCard","ResidentCard"]' WHERE id = ?`, []any{acc2}},
		{"accreditation open-ended", "UPDATE accreditations SET valid_until = NULL WHERE issuer = ? AND valid_until IS NOT NULL", []any{didA}},
		{"accreditation delegation", "UPDATE accreditations SET may_delegate = ? WHERE id = ?", []any{true, acc2}},
		{"accreditation order", "UPDATE accreditations SET seq = seq + 10 WHERE id = ?", []any{s.accs[0].ID}},
		{"event reason", "UPDATE accreditation_events SET reason = 'edited' WHERE accreditation = ? AND reason = 'audit'", []any{acc2}},
		{"event by", "UPDATE accreditation_events SET by_did = ? WHERE accreditation = ? AND kind = 'trust.accredit'", []any{gov, acc2}},
		{"event deleted", "DELETE FROM accreditation_events WHERE accreditation = ? AND kind = 'trust.reinstate'", []any{acc2}},
		{"schema content", `UPDATE schemas SET content = '{"type": "object"}' WHERE id = ?`, []any{s.schemas[0].ID}},
		{"schema issuer", "UPDATE schemas SET issuer = ? WHERE id = ?", []any{didB, s.schemas[0].ID}},
		{"anchor count", "UPDATE anchors SET count = count + 1 WHERE root = ?", []any{s.anchors[0].Root}},
		{"anchor op hash", "UPDATE anchors SET op_hash = ? WHERE root = ?", []any{hash("x"), s.anchors[1].Root}},
		{"anchor deleted", "DELETE FROM anchors WHERE root = ?", []any{s.anchors[1].Root}},
		{"status value", "UPDATE status_updates SET value = ? WHERE op_hash = ?", []any{false, s.updates[0].OpHash}},
		{"status index", "UPDATE status_updates SET idx = idx + 1 WHERE op_hash = ?", []any{s.updates[3].OpHash}},
		{"status issuer", "UPDATE status_updates SET issuer = ? WHERE op_hash = ?", []any{didB, s.updates[0].OpHash}},
		{"status time", "UPDATE status_updates SET time = ? WHERE op_hash = ?", []any{t1, s.updates[2].OpHash}},
		{"status deleted", "DELETE FROM status_updates WHERE op_hash = ?", []any{s.updates[1].OpHash}},
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			for _, db := range storetest.Open(t) {
				t.Run(db.Dialect(), func(t *testing.T) {
					s.put(t, db)
					before, err := db.StateDigest(t.Context())
					if err != nil {
						t.Fatal(err)
					}
					if n := storetest.Exec(t, db, e.query, e.args...); n != 1 {
						t.Fatalf("%s: %d rows; want 1", e.query, n)
					}
					if after, err := db.StateDigest(t.Context()); err != nil || after == before {
						t.Errorf("StateDigest after the edit = %s, %v; want it to differ from %s", after, err, before)
					}
				})
			}
		})
	}
}

// TestOpsStoredOnceMigration: migration 00014 moves committed statuses
// into block_ops (with their kinds) and back, and OpStatus reads the same
// on both sides of it.
func TestOpsStoredOnceMigration(t *testing.T) {
	each(t, func(t *testing.T, shared *store.DB) {
		ctx := t.Context()
		db := openAnother(t, shared.Dialect())
		b1, h1 := block(1, t1, 1, 2)
		_, rejected := jws(registry.KindDIDUpdate, 9)
		if err := db.InBlockTx(ctx, func(tx registry.BlockTx) error {
			if err := tx.PutOpStatus(ctx, registry.OpStatus{Hash: rejected, Status: "rejected", Kind: registry.KindDIDUpdate, Reason: "nonce", Time: t1}); err != nil {
				return err
			}
			return tx.PutBlock(ctx, b1, h1)
		}); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"00015_did_versions_time_index.sql", "00014_ops_stored_once.sql"} {
			if v, err := db.MigrateDown(ctx); err != nil || v != want {
				t.Fatalf("MigrateDown = %q, %v; want %s undone", v, err, want)
			}
		}
		for i, h := range h1 {
			if n := storetest.Exec(t, db, "UPDATE op_status SET kind = kind WHERE hash = ? AND status = 'committed' AND height = 1 AND idx = ? AND kind = 'anchor'", h, i); n != 1 {
				t.Errorf("after down: committed op_status rows of op %d: %d; want 1", i, n)
			}
		}
		if _, err := db.MigrateUp(ctx); err != nil {
			t.Fatal(err)
		}
		if n := storetest.Exec(t, db, "DELETE FROM op_status WHERE status = 'committed'"); n != 0 {
			t.Errorf("after up: %d committed rows left in op_status; want 0", n)
		}
		for i, h := range h1 {
			want := registry.OpStatus{Hash: h, Status: "committed", Height: 1, Index: i, Kind: registry.KindAnchor, Time: t1}
			if got, err := db.OpStatus(ctx, h); err != nil || got != want {
				t.Errorf("after up: OpStatus(op %d) = %+v, %v; want %+v", i, got, err, want)
			}
		}
		if got, err := db.OpStatus(ctx, rejected); err != nil || got.Status != "rejected" || got.Reason != "nonce" {
			t.Errorf("after up: OpStatus(rejected) = %+v, %v; want the rejection", got, err)
		}
	})
}

// TestDIDVersionAtSearch checks the binary search of DIDVersionAt
// against a scan of the versions: a DID with versions whose block times
// repeat (several in one block) and jump, read at every version's time,
// just before and after it, before the first and after the last, both
// through the database and inside a block transaction.
func TestDIDVersionAtSearch(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		const did = "did:urbis:search"
		var versions []registry.DIDVersion
		at := t1
		for v := uint64(1); v <= 37; v++ {
			if v%3 != 0 { // every third version shares its block with the one before
				at = at.Add(time.Duration(v) * time.Second)
			}
			versions = append(versions, didVersion(did, v, v, at))
		}
		err := db.InBlockTx(t.Context(), func(tx registry.BlockTx) error {
			for _, v := range versions {
				if err := tx.PutDIDVersion(t.Context(), v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var times []time.Time
		for _, v := range versions {
			times = append(times, v.Time.Add(-time.Microsecond), v.Time, v.Time.Add(time.Microsecond))
		}
		times = append(times, t1.Add(-time.Hour), at.Add(time.Hour))
		check := func(t *testing.T, r registry.StateReader) {
			for _, q := range times {
				var want *registry.DIDVersion
				for i := range versions {
					if !versions[i].Time.After(q) {
						want = &versions[i]
					}
				}
				got, err := r.DIDVersionAt(t.Context(), did, q)
				switch {
				case want == nil && !errors.Is(err, errkind.NotFound):
					t.Errorf("DIDVersionAt(%s) = version %d, %v; want NotFound (before the first version)", q, got.Version, err)
				case want != nil && (err != nil || !reflect.DeepEqual(got, *want)):
					t.Errorf("DIDVersionAt(%s) = version %d, %v; want version %d", q, got.Version, err, want.Version)
				}
			}
		}
		check(t, db)
		err = db.InBlockTx(t.Context(), func(tx registry.BlockTx) error {
			check(t, tx)
			return errors.New("roll back")
		})
		if err == nil {
			t.Fatal("InBlockTx: want the rollback error")
		}
	})
}
