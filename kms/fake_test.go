package kms

import (
	"context"
	"slices"
	"sync"

	"github.com/urbis-id/urbis/internal/errkind"
)

// memStore is an in-memory Store for the unit tests of this package only;
// the real Store is tested in internal/store.
type memStore struct {
	mu   sync.Mutex
	keys []Record
}

func (m *memStore) CreateKey(_ context.Context, r Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range m.keys {
		if k.ID == r.ID {
			return errkind.New(errkind.Conflict, "key %s exists", r.ID)
		}
	}
	m.keys = append(m.keys, clone(r))
	return nil
}

func (m *memStore) Key(_ context.Context, agencyID, id string) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range m.keys {
		if k.ID == id && k.AgencyID == agencyID {
			return clone(k), nil
		}
	}
	return Record{}, errkind.New(errkind.NotFound, "key %s not found", id)
}

func (m *memStore) ListKeys(_ context.Context, agencyID string) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Record
	for _, k := range m.keys {
		if k.AgencyID == agencyID {
			out = append(out, clone(k))
		}
	}
	return out, nil
}

func (m *memStore) RotateKey(_ context.Context, agencyID, oldID string, next Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, k := range m.keys {
		if k.ID == oldID && k.AgencyID == agencyID {
			if k.Status != StatusActive {
				return errkind.New(errkind.Conflict, "key %s is not active", oldID)
			}
			m.keys[i].Status, m.keys[i].ReplacedBy = StatusRotated, next.ID
			m.keys = append(m.keys, clone(next))
			return nil
		}
	}
	return errkind.New(errkind.NotFound, "key %s not found", oldID)
}

// set replaces the stored record with r's id, for tampering tests.
func (m *memStore) set(r Record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, k := range m.keys {
		if k.ID == r.ID {
			m.keys[i] = clone(r)
		}
	}
}

func clone(r Record) Record {
	r.Public, r.WrappedDEK, r.Sealed = slices.Clone(r.Public), slices.Clone(r.WrappedDEK), slices.Clone(r.Sealed)
	return r
}
