package store_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/vc/statuslist"
)

const (
	slIssuer = "did:urbis:land-registry"
	slOther  = "did:urbis:civil-registry"
)

// openList opens the revocation list of slIssuer on db, of the minimum
// size, or fails t.
func openList(t *testing.T, db *store.DB) statuslist.List {
	t.Helper()
	l, err := db.OpenList(t.Context(), statuslist.PurposeRevocation, slIssuer, statuslist.MinSize)
	if err != nil {
		t.Fatalf("OpenList: %v", err)
	}
	return l
}

// mustList reads list id or fails t.
func mustList(t *testing.T, db *store.DB, id string) statuslist.List {
	t.Helper()
	l, err := db.List(t.Context(), id)
	if err != nil {
		t.Fatalf("List(%s): %v", id, err)
	}
	return l
}

// setBits returns the indexes whose bit is set in b.
func setBits(b *statuslist.Bitstring) []int {
	var out []int
	for i := range b.Len() {
		if v, _ := b.Get(i); v {
			out = append(out, i)
		}
	}
	return out
}

func TestStatusListOpenList(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		before := time.Now().UTC().Add(-time.Second)
		first := openList(t, db)
		if first.ID == "" || first.Purpose != statuslist.PurposeRevocation || first.Issuer != slIssuer ||
			first.Size != statuslist.MinSize || first.Closed || first.Version != 0 {
			t.Errorf("OpenList = %+v; want an open, empty revocation list of %s with %d bits", first, slIssuer, statuslist.MinSize)
		}
		if first.Bits.Len() != statuslist.MinSize || first.Used.Len() != statuslist.MinSize ||
			first.Bits.Count() != 0 || first.Used.Count() != 0 {
			t.Errorf("OpenList bits %d (%d set), used %d (%d set); want %d, all clear",
				first.Bits.Len(), first.Bits.Count(), first.Used.Len(), first.Used.Count(), statuslist.MinSize)
		}
		if first.Updated.Before(before) || first.Updated.Location() != time.UTC || first.Updated.Nanosecond()%1000 != 0 {
			t.Errorf("Updated = %v; want the creation time, in UTC, to the microsecond", first.Updated)
		}
		if got := mustList(t, db, first.ID); !got.Updated.Equal(first.Updated) {
			t.Errorf("List Updated = %v; want %v as OpenList returned", got.Updated, first.Updated)
		}

		tests := []struct {
			name    string
			purpose string
			issuer  string
			size    int
			same    bool // want first back
			kind    errkind.Kind
		}{
			{"same issuer and purpose", statuslist.PurposeRevocation, slIssuer, statuslist.MinSize, true, ""},
			{"same, other size asked", statuslist.PurposeRevocation, slIssuer, 2 * statuslist.MinSize, true, ""},
			{"other purpose", statuslist.PurposeSuspension, slIssuer, statuslist.MinSize, false, ""},
			{"other issuer", statuslist.PurposeRevocation, slOther, 2 * statuslist.MinSize, false, ""},
			{"too small", statuslist.PurposeRevocation, "did:urbis:x", 1024, false, errkind.Invalid},
			{"not bytes", statuslist.PurposeRevocation, "did:urbis:x", statuslist.MinSize + 1, false, errkind.Invalid},
			{"too large", statuslist.PurposeRevocation, "did:urbis:x", statuslist.MaxSize + 8, false, errkind.TooLarge},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				l, err := db.OpenList(ctx, tt.purpose, tt.issuer, tt.size)
				if tt.kind != "" {
					wantKind(t, "OpenList", err, tt.kind)
					return
				}
				if err != nil {
					t.Fatalf("OpenList: %v", err)
				}
				if (l.ID == first.ID) != tt.same {
					t.Errorf("OpenList ID = %s (first %s); want the first list back: %v", l.ID, first.ID, tt.same)
				}
				if l.Purpose != tt.purpose || l.Issuer != tt.issuer || (!tt.same && l.Size != tt.size) {
					t.Errorf("OpenList = %s %s %s %d bits; want %s %s %d bits", l.ID, l.Purpose, l.Issuer, l.Size, tt.purpose, tt.issuer, tt.size)
				}
			})
		}

		// Once closed, the list is never open again; a new one is.
		if err := db.CloseList(ctx, first.ID); err != nil {
			t.Fatal(err)
		}
		next := openList(t, db)
		if next.ID == first.ID || next.Closed {
			t.Errorf("OpenList after CloseList = %s closed %v; want a new open list, not %s", next.ID, next.Closed, first.ID)
		}
		if again := openList(t, db); again.ID != next.ID {
			t.Errorf("OpenList = %s; want %s, the list now open", again.ID, next.ID)
		}
	})
}

func TestStatusListCloseList(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		l := openList(t, db)
		if err := db.Allocate(ctx, l.ID, 7); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			id   string
			kind errkind.Kind
		}{
			{"open list", l.ID, ""},
			{"closed list", l.ID, ""},
			{"missing list", "sl_missing", errkind.NotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := db.CloseList(ctx, tt.id)
				if tt.kind != "" {
					wantKind(t, "CloseList", err, tt.kind)
					return
				}
				if err != nil {
					t.Fatalf("CloseList: %v", err)
				}
				got := mustList(t, db, tt.id)
				if !got.Closed || got.Version != 0 || !got.Updated.Equal(l.Updated) || got.Used.Count() != 1 {
					t.Errorf("after CloseList: closed %v, version %d, updated %v, %d used; want closed, the rest as before (0, %v, 1)",
						got.Closed, got.Version, got.Updated, got.Used.Count(), l.Updated)
				}
			})
		}
		// A closed list's statuses can still change.
		at := clock.Add(time.Hour)
		if err := db.SetStatus(ctx, l.ID, 7, true, at); err != nil {
			t.Errorf("SetStatus on a closed list: %v; want it to change", err)
		}
		if got := mustList(t, db, l.ID); got.Version != 1 || !got.Updated.Equal(at) {
			t.Errorf("after SetStatus on a closed list: version %d, updated %v; want 1, %v", got.Version, got.Updated, at)
		}
	})
}

func TestStatusListAllocate(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		l := openList(t, db)
		closed, err := db.OpenList(ctx, statuslist.PurposeSuspension, slIssuer, statuslist.MinSize)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.CloseList(ctx, closed.ID); err != nil {
			t.Fatal(err)
		}
		// Steps run in order; each is one Allocate.
		tests := []struct {
			name  string
			id    string
			index int
			kind  errkind.Kind
		}{
			{"first index", l.ID, 0, ""},
			{"last index", l.ID, statuslist.MinSize - 1, ""},
			{"within a byte", l.ID, 9, ""},
			{"next to it", l.ID, 10, ""},
			{"taken", l.ID, 9, errkind.Conflict},
			{"taken first", l.ID, 0, errkind.Conflict},
			{"negative", l.ID, -1, errkind.Invalid},
			{"past the end", l.ID, statuslist.MinSize, errkind.Invalid},
			{"far past the end", l.ID, 1 << 40, errkind.Invalid},
			{"missing list", "sl_missing", 3, errkind.NotFound},
			{"missing list, bad index", "sl_missing", -1, errkind.NotFound},
			{"closed list", closed.ID, 3, errkind.Conflict},
			{"closed list, bad index", closed.ID, -1, errkind.Conflict},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := db.Allocate(ctx, tt.id, tt.index)
				if tt.kind == "" && err != nil {
					t.Errorf("Allocate(%d) = %v; want nil", tt.index, err)
				}
				if tt.kind != "" {
					wantKind(t, fmt.Sprintf("Allocate(%d)", tt.index), err, tt.kind)
				}
			})
		}
		got := mustList(t, db, l.ID)
		if want := []int{0, 9, 10, statuslist.MinSize - 1}; fmt.Sprint(setBits(got.Used)) != fmt.Sprint(want) {
			t.Errorf("used = %v; want %v", setBits(got.Used), want)
		}
		if got.Bits.Count() != 0 || got.Version != 0 || !got.Updated.Equal(l.Updated) {
			t.Errorf("after Allocate: %d status bits, version %d, updated %v; want 0, 0, %v", got.Bits.Count(), got.Version, got.Updated, l.Updated)
		}
		if c := mustList(t, db, closed.ID); c.Used.Count() != 0 {
			t.Errorf("closed list has %d used; want 0", c.Used.Count())
		}
	})
}

func TestStatusListSetStatus(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		l := openList(t, db)
		for _, i := range []int{5, 6, 1000, statuslist.MinSize - 1} {
			if err := db.Allocate(ctx, l.ID, i); err != nil {
				t.Fatal(err)
			}
		}
		t0 := clock
		// Steps run in order, each one SetStatus, then the list is
		// checked against the bits, version and time wanted.
		tests := []struct {
			name    string
			id      string
			index   int
			value   bool
			at      time.Time
			kind    errkind.Kind
			bits    []int
			version uint64
			updated time.Time
		}{
			{"set", l.ID, 5, true, t0, "", []int{5}, 1, t0},
			{"set again changes nothing", l.ID, 5, true, t0.Add(time.Minute), "", []int{5}, 1, t0},
			{"set a neighbour", l.ID, 6, true, t0.Add(2 * time.Minute), "", []int{5, 6}, 2, t0.Add(2 * time.Minute)},
			{"set the last", l.ID, statuslist.MinSize - 1, true, t0.Add(3 * time.Minute), "", []int{5, 6, statuslist.MinSize - 1}, 3, t0.Add(3 * time.Minute)},
			{"clear", l.ID, 5, false, t0.Add(4 * time.Minute), "", []int{6, statuslist.MinSize - 1}, 4, t0.Add(4 * time.Minute)},
			{"clear again changes nothing", l.ID, 5, false, t0.Add(5 * time.Minute), "", []int{6, statuslist.MinSize - 1}, 4, t0.Add(4 * time.Minute)},
			{"clear a clear bit changes nothing", l.ID, 1000, false, t0.Add(6 * time.Minute), "", []int{6, statuslist.MinSize - 1}, 4, t0.Add(4 * time.Minute)},
			{"never handed out", l.ID, 7, true, t0, errkind.NotFound, []int{6, statuslist.MinSize - 1}, 4, t0.Add(4 * time.Minute)},
			{"never handed out, clear", l.ID, 7, false, t0, errkind.NotFound, []int{6, statuslist.MinSize - 1}, 4, t0.Add(4 * time.Minute)},
			{"negative", l.ID, -1, true, t0, errkind.NotFound, []int{6, statuslist.MinSize - 1}, 4, t0.Add(4 * time.Minute)},
			{"past the end", l.ID, statuslist.MinSize, true, t0, errkind.NotFound, []int{6, statuslist.MinSize - 1}, 4, t0.Add(4 * time.Minute)},
			{"far past the end", l.ID, 1 << 40, true, t0, errkind.NotFound, []int{6, statuslist.MinSize - 1}, 4, t0.Add(4 * time.Minute)},
			{"missing list", "sl_missing", 5, true, t0, errkind.NotFound, []int{6, statuslist.MinSize - 1}, 4, t0.Add(4 * time.Minute)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := db.SetStatus(ctx, tt.id, tt.index, tt.value, tt.at)
				if tt.kind == "" && err != nil {
					t.Fatalf("SetStatus = %v; want nil", err)
				}
				if tt.kind != "" {
					wantKind(t, "SetStatus", err, tt.kind)
				}
				got := mustList(t, db, l.ID)
				if fmt.Sprint(setBits(got.Bits)) != fmt.Sprint(tt.bits) || got.Version != tt.version ||
					!got.Updated.Equal(tt.updated) || got.Updated.Location() != time.UTC {
					t.Errorf("got bits %v, version %d, updated %v; want %v, %d, %v in UTC",
						setBits(got.Bits), got.Version, got.Updated, tt.bits, tt.version, tt.updated.UTC().Truncate(time.Microsecond))
				}
				if got.Used.Count() != 4 {
					t.Errorf("got %d used; want 4", got.Used.Count())
				}
			})
		}
	})
}

func TestStatusListList(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		l := openList(t, db)
		if err := db.Allocate(ctx, l.ID, 3); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			id   string
			kind errkind.Kind
		}{
			{"stored", l.ID, ""},
			{"missing", "sl_missing", errkind.NotFound},
			{"empty ID", "", errkind.NotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := db.List(ctx, tt.id)
				if tt.kind != "" {
					wantKind(t, "List", err, tt.kind)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got.ID != l.ID || got.Purpose != l.Purpose || got.Issuer != l.Issuer || got.Size != l.Size ||
					got.Closed || got.Version != 0 || !got.Updated.Equal(l.Updated) || fmt.Sprint(setBits(got.Used)) != "[3]" {
					t.Errorf("List = %+v; want %+v with index 3 used", got, l)
				}
			})
		}
		// The bitstrings returned belong to the caller.
		got := mustList(t, db, l.ID)
		got.Used.Set(4, true)
		got.Bits.Set(3, true)
		if again := mustList(t, db, l.ID); fmt.Sprint(setBits(again.Used)) != "[3]" || again.Bits.Count() != 0 {
			t.Errorf("List after changing a returned copy: used %v, %d bits set; want [3], 0", setBits(again.Used), again.Bits.Count())
		}
	})
}

// TestStatusListOneOpenList checks the schema itself: a second open list
// for the same issuer and purpose cannot be stored.
func TestStatusListOneOpenList(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		l := openList(t, db)
		blank := make([]byte, statuslist.MinSize/8)
		insert := func(id string, closed bool) error {
			_, err := db.ExecRaw(t.Context(), "INSERT INTO status_lists (id, purpose, issuer, size, bits, used, closed, version, updated) "+
				"VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)", id, l.Purpose, l.Issuer, l.Size, blank, blank, closed, clock.UTC())
			return err
		}
		if err := insert("sl_second", false); err == nil {
			t.Errorf("inserting a second open list: no error; want a unique violation")
		}
		if err := insert("sl_closed", true); err != nil {
			t.Errorf("inserting a closed list beside the open one: %v; want it stored", err)
		}
	})
}

func TestStatusListConcurrentOpenList(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		const n = 20
		ids := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				l, err := db.OpenList(t.Context(), statuslist.PurposeSuspension, slIssuer, statuslist.MinSize)
				ids[i], errs[i] = l.ID, err
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil || ids[i] != ids[0] {
				t.Errorf("OpenList %d = %s, %v; want %s like the first", i, ids[i], errs[i], ids[0])
			}
		}
		// Count the stored lists: updating them all touches each once.
		if rows := storetest.Exec(t, db, "UPDATE status_lists SET version = version WHERE issuer = ?", slIssuer); rows != 1 {
			t.Errorf("%d lists stored after %d concurrent OpenList; want 1", rows, n)
		}
	})
}

func TestStatusListConcurrentAllocate(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		l := openList(t, db)
		// 200 allocations of indexes drawn from 120, so that many collide:
		// each index drawn must be granted exactly once.
		const n, span = 200, 120
		picks := make([]int, n)
		for i := range picks {
			picks[i] = rand.IntN(span) * 1091 % statuslist.MinSize // spread over the list's bytes
		}
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = db.Allocate(t.Context(), l.ID, picks[i]) })
		}
		wg.Wait()
		granted := map[int]int{}
		drawn := map[int]bool{}
		for i, err := range errs {
			drawn[picks[i]] = true
			switch {
			case err == nil:
				granted[picks[i]]++
			case !errors.Is(err, errkind.Conflict):
				t.Errorf("Allocate(%d) = %v; want nil or Conflict", picks[i], err)
			}
		}
		for i := range drawn {
			if granted[i] != 1 {
				t.Errorf("index %d granted %d times; want once", i, granted[i])
			}
		}
		got := mustList(t, db, l.ID)
		if got.Used.Count() != len(drawn) {
			t.Errorf("%d indexes used; want %d", got.Used.Count(), len(drawn))
		}
		for i := range drawn {
			if v, _ := got.Used.Get(i); !v {
				t.Errorf("index %d granted but not used", i)
			}
		}
	})
}

// TestStatusListConcurrentSetStatus changes statuses and allocates on one
// list at once: no change may be lost, and the version counts them.
func TestStatusListConcurrentSetStatus(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		l := openList(t, db)
		const n = 64
		for i := range n {
			if err := db.Allocate(ctx, l.ID, i*3); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		errs := make([]error, 2*n)
		for i := range n {
			wg.Go(func() { errs[i] = db.SetStatus(ctx, l.ID, i*3, true, clock) })
			wg.Go(func() { errs[n+i] = db.Allocate(ctx, l.ID, i*3+1) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("call %d: %v", i, err)
			}
		}
		got := mustList(t, db, l.ID)
		if got.Bits.Count() != n || got.Version != n || got.Used.Count() != 2*n {
			t.Errorf("got %d bits set, version %d, %d used; want %d, %d, %d", got.Bits.Count(), got.Version, got.Used.Count(), n, n, 2*n)
		}
	})
}

// TestStatusListAllocator runs the statuslist.Allocator on the store,
// with a fill ratio that closes a list after a few allocations.
func TestStatusListAllocator(t *testing.T) {
	tests := []struct {
		name     string
		capacity int // allocations before a list counts as full
		workers  int
		each     int // allocations per worker
	}{
		{"sequential", 10, 1, 35},
		// Enough room per list that a worker rarely loses the
		// allocator's few attempts to lists closing under it.
		{"concurrent", 40, 8, 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			each(t, func(t *testing.T, db *store.DB) {
				ctx := t.Context()
				fill := float64(tt.capacity) / statuslist.MinSize
				a, err := statuslist.NewAllocator(db, statuslist.Config{FillRatio: fill, Clock: func() time.Time { return clock }})
				if err != nil {
					t.Fatal(err)
				}
				if got := a.Capacity(statuslist.MinSize); got != tt.capacity {
					t.Fatalf("Capacity = %d; want %d", got, tt.capacity)
				}
				var (
					mu     sync.Mutex
					allocs []statuslist.Allocation
					wg     sync.WaitGroup
				)
				for range tt.workers {
					wg.Go(func() {
						for range tt.each {
							got, err := a.Allocate(ctx, statuslist.PurposeSuspension, slIssuer)
							if err != nil {
								t.Errorf("Allocate: %v", err)
								return
							}
							mu.Lock()
							allocs = append(allocs, got)
							mu.Unlock()
						}
					})
				}
				wg.Wait()
				checkAllocations(t, db, a, allocs, tt.workers*tt.each, tt.capacity+tt.workers-1)
			})
		})
	}
}

// TestStatusListAllocatorTwoServers has two allocators on two handles of
// one database, as two servers sharing PostgreSQL would (on SQLite, two
// processes): each claims indexes ahead for its own callers, and still no
// index is handed out twice, every one handed out is marked used, no list
// holds more than its capacity, and only the indexes the two may still
// hold ahead are used without being handed out.
func TestStatusListAllocatorTwoServers(t *testing.T) {
	urls := []string{storetest.SQLitePath(t)}
	if os.Getenv(storetest.EnvPostgresURL) != "" {
		urls = append(urls, storetest.PostgresURL(t))
	}
	for _, url := range urls {
		var dbs []*store.DB
		for range 2 {
			db, err := store.Open(t.Context(), url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			dbs = append(dbs, db)
		}
		t.Run(dbs[0].Dialect(), func(t *testing.T) {
			ctx := t.Context()
			if _, err := dbs[0].MigrateUp(ctx); err != nil {
				t.Fatal(err)
			}
			const capacity, workers, each = 100, 4, 40
			var as []*statuslist.Allocator
			for _, db := range dbs {
				a, err := statuslist.NewAllocator(db, statuslist.Config{FillRatio: (capacity + 0.5) / statuslist.MinSize, Clock: func() time.Time { return clock }})
				if err != nil {
					t.Fatal(err)
				}
				as = append(as, a)
			}
			var (
				mu     sync.Mutex
				handed = map[string]map[int]bool{}
				n      int
				wg     sync.WaitGroup
			)
			for w := range 2 * workers {
				wg.Go(func() {
					for range each {
						got, err := as[w%2].Allocate(ctx, statuslist.PurposeSuspension, slIssuer)
						if err != nil {
							t.Errorf("Allocate: %v", err)
							return
						}
						mu.Lock()
						if handed[got.ListID] == nil {
							handed[got.ListID] = map[int]bool{}
						}
						if handed[got.ListID][got.Index] {
							t.Errorf("index %d of %s handed out twice", got.Index, got.ListID)
						}
						handed[got.ListID][got.Index] = true
						n++
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if n != 2*workers*each {
				t.Fatalf("%d allocations; want %d", n, 2*workers*each)
			}
			unused, open := 0, 0
			for id, idx := range handed {
				l := mustList(t, dbs[0], id)
				for i := range idx {
					if v, _ := l.Used.Get(i); !v {
						t.Errorf("list %s: index %d handed out but not used", id, i)
					}
				}
				if l.Used.Count() > capacity {
					t.Errorf("list %s: %d used; want at most %d", id, l.Used.Count(), capacity)
				}
				unused += l.Used.Count() - len(idx)
				if !l.Closed {
					open++
				}
			}
			// Each allocator holds at most one list's claims ahead for
			// this issuer and purpose: at most a capacity's worth here.
			if unused < 0 || unused > 2*capacity {
				t.Errorf("%d indexes used but not handed out; want between 0 and %d", unused, 2*capacity)
			}
			if open > 1 {
				t.Errorf("%d lists open; want at most 1", open)
			}
		})
	}
}

// checkAllocations checks the allocations against the lists stored: each
// index handed out once and marked used, lists holding at most most
// allocations, all but the newest closed, and no index of a closed list
// used that was not handed out (the open list's used set also holds the
// indexes the allocator has claimed ahead and not handed out yet). Then
// it suspends and reinstates one credential through a.
func checkAllocations(t *testing.T, db *store.DB, a *statuslist.Allocator, allocs []statuslist.Allocation, want, most int) {
	t.Helper()
	ctx := t.Context()
	if len(allocs) != want {
		t.Fatalf("%d allocations; want %d", len(allocs), want)
	}
	perList := map[string]map[int]bool{}
	for _, al := range allocs {
		if al.Purpose != statuslist.PurposeSuspension {
			t.Errorf("allocation %+v; want purpose suspension", al)
		}
		if perList[al.ListID] == nil {
			perList[al.ListID] = map[int]bool{}
		}
		if perList[al.ListID][al.Index] {
			t.Errorf("index %d of %s handed out twice", al.Index, al.ListID)
		}
		perList[al.ListID][al.Index] = true
	}
	if least := (want + most - 1) / most; len(perList) < least {
		t.Errorf("%d lists used; want at least %d", len(perList), least)
	}
	open := 0
	for id, idx := range perList {
		l := mustList(t, db, id)
		if l.Closed && l.Used.Count() != len(idx) || l.Used.Count() < len(idx) || l.Used.Count() > most {
			t.Errorf("list %s (closed %v): %d used, %d handed out; want at most %d used, all handed out once the list is closed",
				id, l.Closed, l.Used.Count(), len(idx), most)
		}
		for i := range idx {
			if v, _ := l.Used.Get(i); !v {
				t.Errorf("list %s: index %d handed out but not used", id, i)
			}
		}
		if l.Issuer != slIssuer || l.Purpose != statuslist.PurposeSuspension || l.Version != 0 {
			t.Errorf("list %s: %s %s version %d; want %s suspension version 0", id, l.Issuer, l.Purpose, l.Version, slIssuer)
		}
		if !l.Closed {
			open++
		}
	}
	if open > 1 {
		t.Errorf("%d lists open; want at most 1", open)
	}
	// The allocator's status changes go through the store.
	al := allocs[len(allocs)/2]
	for _, v := range []bool{true, true, false} {
		if err := a.SetStatus(ctx, al.ListID, al.Index, v); err != nil {
			t.Fatalf("SetStatus(%v): %v", v, err)
		}
		if l := mustList(t, db, al.ListID); func() bool { b, _ := l.Bits.Get(al.Index); return b }() != v {
			t.Errorf("after SetStatus(%v): bit %d is not %v", v, al.Index, v)
		}
	}
	if l := mustList(t, db, al.ListID); l.Version != 2 || !l.Updated.Equal(clock) {
		t.Errorf("after suspending and reinstating: version %d, updated %v; want 2, %v", l.Version, l.Updated, clock)
	}
	cred, err := a.Credential(ctx, al.ListID, "https://urbis.example/status/"+al.ListID)
	if err != nil || cred == nil {
		t.Errorf("Credential: %v", err)
	}
}

// TestStatusListMigration checks that 00003 can be rolled back, with
// any later migrations, and applied again with the lists gone and back.
func TestStatusListMigration(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		l := openList(t, db)
		for {
			down, err := db.MigrateDown(ctx)
			if err != nil {
				t.Fatalf("MigrateDown: %v; want to reach 00003_status_lists.sql", err)
			}
			if down == "00003_status_lists.sql" {
				break
			}
		}
		if _, err := db.List(ctx, l.ID); err == nil || errors.Is(err, errkind.NotFound) {
			t.Errorf("List with the table gone = %v; want an error other than NotFound", err)
		}
		if _, err := db.MigrateUp(ctx); err != nil {
			t.Fatal(err)
		}
		_, err := db.List(ctx, l.ID)
		wantKind(t, "List after down and up", err, errkind.NotFound)
		if again := openList(t, db); again.ID == l.ID {
			t.Errorf("OpenList after down and up = %s; want a new list", again.ID)
		}
	})
}

func TestStatusListAllocateMany(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		l := openList(t, db)
		if err := db.Allocate(ctx, l.ID, 5); err != nil {
			t.Fatal(err)
		}
		claimed, used, err := db.AllocateMany(ctx, l.ID, []int{3, 5, 9, statuslist.MinSize - 1, 11}, 4)
		if err != nil {
			t.Fatal(err)
		}
		// 5 is taken, and the limit of 4 used stops before 11.
		if fmt.Sprint(claimed) != "[3 9 131071]" {
			t.Errorf("claimed %v; want [3 9 131071]", claimed)
		}
		if want := "[3 5 9 131071]"; fmt.Sprint(setBits(used)) != want || fmt.Sprint(setBits(mustList(t, db, l.ID).Used)) != want {
			t.Errorf("used %v, stored %v; want %s", setBits(used), setBits(mustList(t, db, l.ID).Used), want)
		}
		if claimed, _, err := db.AllocateMany(ctx, l.ID, []int{12}, 4); err != nil || len(claimed) != 0 {
			t.Errorf("at the limit: claimed %v, %v; want none, nil", claimed, err)
		}
		_, _, err = db.AllocateMany(ctx, l.ID, []int{20, statuslist.MinSize}, 100)
		wantKind(t, "AllocateMany past the end", err, errkind.Invalid)
		if v, _ := mustList(t, db, l.ID).Used.Get(20); v {
			t.Errorf("index 20 marked by a failed AllocateMany")
		}
		_, _, err = db.AllocateMany(ctx, "sl_missing", []int{1}, 100)
		wantKind(t, "AllocateMany of a missing list", err, errkind.NotFound)
		if err := db.CloseList(ctx, l.ID); err != nil {
			t.Fatal(err)
		}
		_, _, err = db.AllocateMany(ctx, l.ID, []int{1}, 100)
		wantKind(t, "AllocateMany of a closed list", err, errkind.Conflict)
	})
}

// TestStatusListConcurrentAllocateMany claims overlapping batches at
// once: each index is granted exactly once.
func TestStatusListConcurrentAllocateMany(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		l := openList(t, db)
		const n, span = 20, 120
		claims := make([][]int, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for g := range n {
			picks := make([]int, 10)
			for i := range picks {
				picks[i] = rand.IntN(span) * 1091 % statuslist.MinSize
			}
			wg.Go(func() { claims[g], _, errs[g] = db.AllocateMany(t.Context(), l.ID, picks, statuslist.MinSize) })
		}
		wg.Wait()
		granted := map[int]int{}
		for g, err := range errs {
			if err != nil {
				t.Fatalf("AllocateMany: %v", err)
			}
			for _, i := range claims[g] {
				granted[i]++
			}
		}
		for i, k := range granted {
			if k != 1 {
				t.Errorf("index %d granted %d times; want once", i, k)
			}
		}
		if got := mustList(t, db, l.ID).Used.Count(); got != len(granted) {
			t.Errorf("%d indexes used; want %d", got, len(granted))
		}
	})
}
