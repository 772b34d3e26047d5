package statuslist

import (
	"bytes"
	"context"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

const issuer = "did:urbis:land-registry"

func newTestAllocator(t *testing.T, cfg Config) (*Allocator, *memStore, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	store := newMemStore(clock.Now)
	if cfg.Clock == nil {
		cfg.Clock = clock.Now
	}
	a, err := NewAllocator(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a, store, clock
}

func TestNewAllocatorConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		kind errkind.Kind
	}{
		{"zero value", Config{}, ""},
		{"full fill", Config{FillRatio: 1}, ""},
		{"small list", Config{Size: 1024}, errkind.Invalid},
		{"odd size", Config{Size: MinSize + 1}, errkind.Invalid},
		{"negative fill", Config{FillRatio: -0.5}, errkind.Invalid},
		{"fill above one", Config{FillRatio: 1.5}, errkind.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewAllocator(newMemStore(time.Now), tt.cfg)
			if tt.kind == "" && err != nil {
				t.Errorf("got %v; want no error", err)
			}
			if tt.kind != "" && errkind.KindOf(err) != tt.kind {
				t.Errorf("got %v; want kind %s", err, tt.kind)
			}
		})
	}
}

func TestAllocateNeverReusesAndSpreads(t *testing.T) {
	a, store, _ := newTestAllocator(t, Config{})
	ctx := context.Background()
	const n = 1000
	seen := map[int]bool{}
	low, listID := 0, ""
	for range n {
		got, err := a.Allocate(ctx, PurposeRevocation, issuer)
		if err != nil {
			t.Fatal(err)
		}
		if seen[got.Index] {
			t.Fatalf("got index %d twice; want every index once", got.Index)
		}
		seen[got.Index] = true
		if listID == "" {
			listID = got.ListID
		}
		if got.ListID != listID || got.Purpose != PurposeRevocation {
			t.Fatalf("got allocation %+v; want list %s, purpose revocation", got, listID)
		}
		if got.Index < MinSize/10 {
			low++
		}
	}
	// Each allocation lands in the first tenth with probability at most
	// (MinSize/10)/(MinSize-n) < 0.101, so all n do with probability
	// below 0.101^1000 < 1e-990: this cannot flake. A sequential
	// allocator fails it.
	if low == n {
		t.Errorf("got all %d indexes in the first 10%% of the list; want them spread", n)
	}
	l, _ := store.List(ctx, listID)
	if l.Used.Count() != n {
		t.Errorf("got %d indexes marked used; want %d", l.Used.Count(), n)
	}
}

func TestAllocateOpensNewListWhenFull(t *testing.T) {
	// Capacity 3 of 131072.
	a, store, _ := newTestAllocator(t, Config{FillRatio: 3.5 / MinSize})
	if got := a.Capacity(MinSize); got != 3 {
		t.Fatalf("Capacity(%d) = %d; want 3", MinSize, got)
	}
	ctx := context.Background()
	var lists []string
	for range 7 {
		got, err := a.Allocate(ctx, PurposeSuspension, issuer)
		if err != nil {
			t.Fatal(err)
		}
		lists = append(lists, got.ListID)
	}
	want := []string{"list-1", "list-1", "list-1", "list-2", "list-2", "list-2", "list-3"}
	for i := range want {
		if lists[i] != want[i] {
			t.Fatalf("got lists %v; want %v", lists, want)
		}
	}
	if l, _ := store.List(ctx, "list-1"); !l.Closed {
		t.Errorf("list-1 Closed = false; want true once full")
	}
	// Another issuer and another purpose get lists of their own.
	other, _ := a.Allocate(ctx, PurposeSuspension, "did:urbis:other")
	rev, _ := a.Allocate(ctx, PurposeRevocation, issuer)
	if other.ListID == "list-3" || rev.ListID == "list-3" || other.ListID == rev.ListID {
		t.Errorf("got lists %s and %s; want new, distinct lists per issuer and purpose", other.ListID, rev.ListID)
	}
}

// conflictStore answers Conflict to the first n Allocate calls, as if
// another allocator had taken the index.
type conflictStore struct {
	*memStore
	n int
}

func (s *conflictStore) Allocate(ctx context.Context, id string, i int) error {
	if s.n > 0 {
		s.n--
		return errkind.New(errkind.Conflict, "taken")
	}
	return s.memStore.Allocate(ctx, id, i)
}

func TestAllocateRetriesOnConflict(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		conflicts int
		kind      errkind.Kind
	}{{1, ""}, {maxAllocateAttempts - 1, ""}, {maxAllocateAttempts, errkind.Unavailable}}
	for _, tt := range tests {
		a, err := NewAllocator(&conflictStore{newMemStore(time.Now), tt.conflicts}, Config{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = a.Allocate(ctx, PurposeRevocation, issuer)
		if tt.kind == "" && err != nil || tt.kind != "" && errkind.KindOf(err) != tt.kind {
			t.Errorf("%d conflicts: got %v; want kind %q", tt.conflicts, err, tt.kind)
		}
	}
}

func TestAllocateRejectsBadInput(t *testing.T) {
	a, _, _ := newTestAllocator(t, Config{})
	ctx := context.Background()
	for _, tt := range []struct{ purpose, issuer string }{{"", issuer}, {"refresh", issuer}, {"bogus", issuer}, {PurposeRevocation, ""}} {
		if _, err := a.Allocate(ctx, tt.purpose, tt.issuer); err == nil {
			t.Errorf("Allocate(%q, %q) = nil error; want one", tt.purpose, tt.issuer)
		}
	}
}

func TestAllocateConcurrently(t *testing.T) {
	a, _, _ := newTestAllocator(t, Config{})
	ctx := context.Background()
	var mu sync.Mutex
	seen := map[int]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				got, err := a.Allocate(ctx, PurposeRevocation, issuer)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[got.Index] {
					t.Errorf("got index %d twice; want each once", got.Index)
				}
				seen[got.Index] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 800 {
		t.Errorf("got %d distinct indexes; want 800", len(seen))
	}
}

func TestPickNearlyFull(t *testing.T) {
	used, _ := NewBitstring(MinSize)
	for i := range MinSize {
		_ = used.Set(i, true)
	}
	free := []int{5, 77777, MinSize - 1}
	for _, i := range free {
		_ = used.Set(i, false)
	}
	// With 3 of 131072 free the draws almost always miss, so this
	// exercises the counting path.
	got := map[int]int{}
	for range 300 {
		i, err := pick(used, randReader)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := used.Get(i); v {
			t.Fatalf("pick returned used index %d; want a free one", i)
		}
		got[i]++
	}
	// Each free index is picked with probability 1/3; missing one in 300
	// picks has probability below 3*(2/3)^300 < 1e-52.
	if len(got) != len(free) {
		t.Errorf("got picks %v; want all of %v", got, free)
	}
	for _, i := range free {
		_ = used.Set(i, true)
	}
	_, err := pick(used, randReader)
	wantErr(t, err, errkind.Conflict, "")
}

func TestUniform(t *testing.T) {
	// 2^64 mod 10 = 6, so draws below 6 are redrawn: 5 is, 7 is kept.
	r := bytes.NewReader([]byte{0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 7})
	if got, err := uniform(r, 10); err != nil || got != 7 {
		t.Errorf("uniform() = %d, %v; want 7 (5 is in the biased low range and redrawn)", got, err)
	}
	_, err := uniform(bytes.NewReader(nil), 10)
	wantErr(t, err, errkind.Internal, "")
}

func TestSetStatus(t *testing.T) {
	a, store, clock := newTestAllocator(t, Config{})
	ctx := context.Background()
	rev, _ := a.Allocate(ctx, PurposeRevocation, issuer)
	sus, _ := a.Allocate(ctx, PurposeSuspension, issuer)

	clock.Advance(time.Hour)
	if err := a.SetStatus(ctx, rev.ListID, rev.Index, true); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	l, _ := store.List(ctx, rev.ListID)
	if v, _ := l.Bits.Get(rev.Index); !v || l.Version != 1 || !l.Updated.Equal(clock.Now()) {
		t.Errorf("after revoke: got bit %v, version %d, updated %v; want true, 1, %v", v, l.Version, l.Updated, clock.Now())
	}
	wantErr(t, a.SetStatus(ctx, rev.ListID, rev.Index, false), errkind.Invalid, "")

	for _, v := range []bool{true, false} {
		if err := a.SetStatus(ctx, sus.ListID, sus.Index, v); err != nil {
			t.Fatalf("suspend %v: %v", v, err)
		}
	}
	if l, _ := store.List(ctx, sus.ListID); l.Version != 2 || l.Bits.Count() != 0 {
		t.Errorf("after suspend and lift: got version %d, %d bits set; want 2, 0", l.Version, l.Bits.Count())
	}

	unused := (rev.Index + 1) % MinSize
	wantErr(t, a.SetStatus(ctx, rev.ListID, unused, true), errkind.NotFound, "")
	wantErr(t, a.SetStatus(ctx, rev.ListID, MinSize, true), errkind.Invalid, CodeRange)
	wantErr(t, a.SetStatus(ctx, "no-such-list", 0, true), errkind.NotFound, "")
}

func TestCredentialChecksEndToEnd(t *testing.T) {
	a, _, clock := newTestAllocator(t, Config{})
	ctx := context.Background()
	url := "https://urbis.example/status/"
	revoked, _ := a.Allocate(ctx, PurposeRevocation, issuer)
	kept, _ := a.Allocate(ctx, PurposeRevocation, issuer)
	clock.Advance(time.Minute)
	if err := a.SetStatus(ctx, revoked.ListID, revoked.Index, true); err != nil {
		t.Fatal(err)
	}
	cred, err := a.Credential(ctx, revoked.ListID, url+revoked.ListID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cred["validFrom"], clock.Now().Format(time.RFC3339); got != want {
		t.Errorf("got validFrom %v; want %v, the time of the last change", got, want)
	}
	if cred["issuer"] != issuer {
		t.Errorf("got issuer %v; want %s", cred["issuer"], issuer)
	}
	cred = viaJSON(t, cred)
	for _, tt := range []struct {
		al   Allocation
		want bool
	}{{revoked, true}, {kept, false}} {
		got, err := Check(viaJSON(t, Entry(url+tt.al.ListID, tt.al.Index, tt.al.Purpose)), cred)
		if err != nil || got != tt.want {
			t.Errorf("Check(index %d) = %v, %v; want %v", tt.al.Index, got, err, tt.want)
		}
	}
}

var randReader = rand.Reader
