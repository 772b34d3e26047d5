package statuslist

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"math/bits"
	"sync"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// DefaultFillRatio is the share of a list's indexes handed out before a
// new list is opened. Stopping at half keeps random picks cheap and
// leaves every list with many unused indexes to hide among.
const DefaultFillRatio = 0.5

// maxAllocateAttempts bounds the retries when another allocator takes the
// picked index first or the open list fills up.
const maxAllocateAttempts = 8

// Config configures an Allocator. The zero value is usable.
type Config struct {
	Size      int              // bits in each new list; MinSize if 0
	FillRatio float64          // in (0, 1]; DefaultFillRatio if 0
	Clock     func() time.Time // time.Now if nil
	Rand      io.Reader        // crypto/rand.Reader if nil
}

// Allocator hands out status list indexes at random, so that an index
// says nothing about when or in what order credentials were issued, and
// changes the statuses behind them.
type Allocator struct {
	store Store
	size  int
	fill  float64
	clock func() time.Time
	rand  io.Reader

	mu   sync.Mutex
	open map[[2]string]*openState // by purpose and issuer; with a BatchStore only
}

// NewAllocator returns an Allocator over store.
func NewAllocator(store Store, cfg Config) (*Allocator, error) {
	if store == nil {
		return nil, errkind.New(errkind.Internal, "statuslist: NewAllocator needs a store")
	}
	if cfg.Size == 0 {
		cfg.Size = MinSize
	}
	if err := checkSize(cfg.Size); err != nil {
		return nil, err
	}
	if cfg.FillRatio == 0 {
		cfg.FillRatio = DefaultFillRatio
	}
	if !(cfg.FillRatio > 0 && cfg.FillRatio <= 1) {
		return nil, errkind.Field(errkind.Invalid, "fillRatio", "%v is not in (0, 1]", cfg.FillRatio)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Allocator{store: store, size: cfg.Size, fill: cfg.FillRatio, clock: cfg.Clock, rand: cfg.Rand,
		open: map[[2]string]*openState{}}, nil
}

// Allocation is an index handed out for one credential.
type Allocation struct {
	ListID  string
	Index   int
	Purpose string
}

// Capacity returns how many indexes of a list of size bits are handed
// out before it counts as full.
func (a *Allocator) Capacity(size int) int {
	return max(1, int(a.fill*float64(size)))
}

// Allocate hands out an unused index, chosen uniformly at random, from
// the open purpose list of issuer. A list that has reached its capacity
// is closed and a new one opened. Over a BatchStore, concurrent callers
// for the same list share one store call.
func (a *Allocator) Allocate(ctx context.Context, purpose, issuer string) (Allocation, error) {
	if err := CheckPurpose(purpose); err != nil {
		return Allocation{}, err
	}
	if issuer == "" {
		return Allocation{}, errkind.Field(errkind.Invalid, "issuer", "missing")
	}
	if bs, ok := a.store.(BatchStore); ok {
		return a.allocateBatched(ctx, bs, purpose, issuer)
	}
	for range maxAllocateAttempts {
		l, err := a.store.OpenList(ctx, purpose, issuer, a.size)
		if err != nil {
			return Allocation{}, err
		}
		if l.Purpose != purpose || l.Issuer != issuer || l.Used == nil || l.Used.Len() != l.Size {
			return Allocation{}, errkind.New(errkind.Internal, "statuslist: store returned list %q (%s, %s, %d bits) for %s, %s", l.ID, l.Purpose, l.Issuer, l.Size, purpose, issuer)
		}
		if l.Used.Count() >= a.Capacity(l.Size) {
			if err := a.store.CloseList(ctx, l.ID); err != nil {
				return Allocation{}, err
			}
			continue
		}
		i, err := pick(l.Used, a.rand)
		if err != nil {
			return Allocation{}, err
		}
		switch err := a.store.Allocate(ctx, l.ID, i); {
		case errors.Is(err, errkind.Conflict):
			continue // taken meanwhile, or the list was closed: look again
		case err != nil:
			return Allocation{}, err
		}
		return Allocation{ListID: l.ID, Index: i, Purpose: purpose}, nil
	}
	return Allocation{}, errkind.New(errkind.Unavailable, "statuslist: no index allocated after %d attempts; too much contention", maxAllocateAttempts)
}

// SetStatus sets the status of index in list listID: true revokes or
// suspends, false lifts a suspension. Revocation cannot be undone.
func (a *Allocator) SetStatus(ctx context.Context, listID string, index int, value bool) error {
	l, err := a.store.List(ctx, listID)
	if err != nil {
		return err
	}
	if l.Used == nil {
		return errkind.New(errkind.Internal, "statuslist: store returned list %q without its used set", listID)
	}
	if l.Purpose == PurposeRevocation && !value {
		return errkind.Field(errkind.Invalid, "status", "revocation cannot be undone")
	}
	used, err := l.Used.Get(index)
	if err != nil {
		return errkind.Field(errkind.Invalid, "index", "%d is outside list %s of %d entries", index, listID, l.Used.Len()).WithCode(CodeRange)
	}
	if !used {
		return errkind.Field(errkind.NotFound, "index", "%d of list %s was never handed out", index, listID)
	}
	return a.store.SetStatus(ctx, listID, index, value, a.clock().UTC().Truncate(time.Microsecond))
}

// Credential returns the unsigned status list credential of list listID
// as published at listURL, valid from the list's last change, so every
// version of a list has one credential.
func (a *Allocator) Credential(ctx context.Context, listID, listURL string) (map[string]any, error) {
	l, err := a.store.List(ctx, listID)
	if err != nil {
		return nil, err
	}
	from := l.Updated
	if from.IsZero() {
		from = a.clock()
	}
	return ListCredential(listURL, l.Issuer, l.Purpose, l.Bits, from)
}

// pickTries is how many random indexes pick draws before it counts the
// free ones; at a fill of one half, all of them are taken with
// probability 2^-32.
const pickTries = 32

// pick returns an index whose bit in used is clear, uniformly at random
// among them: it draws indexes until one is free, and after pickTries
// misses draws a rank among the free indexes and finds it. Either way
// every free index is equally likely.
func pick(used *Bitstring, r io.Reader) (int, error) {
	n := used.Len()
	for range pickTries {
		i, err := uniform(r, uint64(n))
		if err != nil {
			return 0, err
		}
		if v, _ := used.Get(int(i)); !v {
			return int(i), nil
		}
	}
	free := n - used.Count()
	if free == 0 {
		return 0, errkind.New(errkind.Conflict, "statuslist: list is full")
	}
	k64, err := uniform(r, uint64(free))
	if err != nil {
		return 0, err
	}
	k := int(k64)
	for j, c := range used.b {
		z := 8 - bits.OnesCount8(c)
		if k >= z {
			k -= z
			continue
		}
		for bit := 0; bit < 8; bit++ {
			if c&(0x80>>bit) == 0 {
				if k == 0 {
					return j*8 + bit, nil
				}
				k--
			}
		}
	}
	return 0, errkind.New(errkind.Internal, "statuslist: free index not found")
}

// uniform returns a uniformly random integer in [0, n), n > 0, rejecting
// the low 2^64 mod n values so the remainder carries no bias.
func uniform(r io.Reader, n uint64) (uint64, error) {
	thresh := -n % n
	var b [8]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, errkind.Wrap(errkind.Internal, err, "statuslist: random source")
		}
		if x := binary.BigEndian.Uint64(b[:]); x >= thresh {
			return x % n, nil
		}
	}
}
