package statuslist

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// memStore is an in-memory Store for unit tests.
type memStore struct {
	mu    sync.Mutex
	lists map[string]*List
	open  map[[2]string]string // (purpose, issuer) -> list id
	next  int
	clock func() time.Time
}

var _ Store = (*memStore)(nil)

func newMemStore(clock func() time.Time) *memStore {
	return &memStore{lists: map[string]*List{}, open: map[[2]string]string{}, clock: clock}
}

func copyList(l *List) List {
	c := *l
	c.Bits, c.Used = l.Bits.Clone(), l.Used.Clone()
	return c
}

func (s *memStore) OpenList(_ context.Context, purpose, issuer string, size int) (List, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.open[[2]string{purpose, issuer}]; ok {
		return copyList(s.lists[id]), nil
	}
	bits, err := NewBitstring(size)
	if err != nil {
		return List{}, err
	}
	s.next++
	l := &List{ID: fmt.Sprintf("list-%d", s.next), Purpose: purpose, Issuer: issuer, Size: size,
		Bits: bits, Used: bits.Clone(), Updated: s.clock()}
	s.lists[l.ID] = l
	s.open[[2]string{purpose, issuer}] = l.ID
	return copyList(l), nil
}

func (s *memStore) CloseList(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.lists[id]
	if !ok {
		return errkind.New(errkind.NotFound, "no list %q", id)
	}
	l.Closed = true
	if s.open[[2]string{l.Purpose, l.Issuer}] == id {
		delete(s.open, [2]string{l.Purpose, l.Issuer})
	}
	return nil
}

func (s *memStore) Allocate(_ context.Context, id string, index int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.lists[id]
	if !ok {
		return errkind.New(errkind.NotFound, "no list %q", id)
	}
	if l.Closed {
		return errkind.New(errkind.Conflict, "list %q is closed", id)
	}
	used, err := l.Used.Get(index)
	if err != nil {
		return err
	}
	if used {
		return errkind.New(errkind.Conflict, "index %d of %q is taken", index, id)
	}
	return l.Used.Set(index, true)
}

func (s *memStore) SetStatus(_ context.Context, id string, index int, value bool, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.lists[id]
	if !ok {
		return errkind.New(errkind.NotFound, "no list %q", id)
	}
	if used, err := l.Used.Get(index); err != nil || !used {
		return errkind.New(errkind.NotFound, "index %d of %q was never handed out", index, id)
	}
	if old, _ := l.Bits.Get(index); old == value {
		return nil
	}
	l.Version++
	l.Updated = at
	return l.Bits.Set(index, value)
}

func (s *memStore) List(_ context.Context, id string) (List, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.lists[id]
	if !ok {
		return List{}, errkind.New(errkind.NotFound, "no list %q", id)
	}
	return copyList(l), nil
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
