package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/statuslist"
)

// Bitstring Status Lists. A list is one row holding its status bits and
// its used set as blobs. An allocation or a status change rewrites one
// blob of one row: on PostgreSQL in a single UPDATE with set_bit, under
// the row's lock; on SQLite, which has no bit functions, by reading and
// writing the blob in an immediate (write-locked) transaction. The
// allocator reads the used set on every allocation anyway (OpenList
// returns it), so a blob costs no more than a row per index would, and
// reads back in one piece.

var _ statuslist.BatchStore = (*DB)(nil)

// openListAttempts bounds OpenList's rounds of "find the open list, else
// create one", which repeat only when the list found or created is
// closed in between.
const openListAttempts = 8

type dbStatusList struct {
	ID      string    `gorm:"column:id;primaryKey"`
	Purpose string    `gorm:"column:purpose"`
	Issuer  string    `gorm:"column:issuer"`
	Size    int       `gorm:"column:size"`
	Bits    []byte    `gorm:"column:bits"`
	Used    []byte    `gorm:"column:used"`
	Closed  bool      `gorm:"column:closed"`
	Version int64     `gorm:"column:version"`
	Updated time.Time `gorm:"column:updated;autoUpdateTime:false"`
}

func (dbStatusList) TableName() string { return "status_lists" }

func (m dbStatusList) domain() (statuslist.List, error) {
	bits, err := statuslist.FromBytes(m.Bits)
	if err != nil {
		return statuslist.List{}, errkind.Wrap(errkind.Internal, err, "status list %s: bits", m.ID)
	}
	used, err := statuslist.FromBytes(m.Used)
	if err != nil {
		return statuslist.List{}, errkind.Wrap(errkind.Internal, err, "status list %s: used set", m.ID)
	}
	if bits.Len() != m.Size || used.Len() != m.Size || m.Version < 0 {
		return statuslist.List{}, errkind.New(errkind.Internal, "status list %s: %d bits, %d used, size %d, version %d",
			m.ID, bits.Len(), used.Len(), m.Size, m.Version)
	}
	return statuslist.List{
		ID:      m.ID,
		Purpose: m.Purpose,
		Issuer:  m.Issuer,
		Size:    m.Size,
		Bits:    bits,
		Used:    used,
		Closed:  m.Closed,
		Version: uint64(m.Version),
		Updated: m.Updated.UTC(),
	}, nil
}

// newListID returns a random status list ID, "sl_" and 26 base32
// characters.
func newListID() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails
	return "sl_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// pgBit returns the PostgreSQL get_bit/set_bit number of status list
// index i: PostgreSQL numbers the bits of a byte from the least
// significant, the specification from the most.
func pgBit(i int) int { return i ^ 7 }

func listWhat(id string) string { return "status list " + id }

// OpenList implements statuslist.Store. The partial unique index on open
// lists makes creation race-free: of concurrent inserts one wins, and the
// others find the winner's list.
func (db *DB) OpenList(ctx context.Context, purpose, issuer string, size int) (statuslist.List, error) {
	blank, err := statuslist.NewBitstring(size)
	if err != nil {
		return statuslist.List{}, err
	}
	g := db.gorm.WithContext(ctx)
	for range openListAttempts {
		var m dbStatusList
		err := g.Where("issuer = ? AND purpose = ? AND NOT closed", issuer, purpose).Take(&m).Error
		if err == nil {
			return m.domain()
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return statuslist.List{}, fail(err, "open "+purpose+" status list of "+issuer)
		}
		m = dbStatusList{ID: newListID(), Purpose: purpose, Issuer: issuer, Size: size,
			Bits: blank.Bytes(), Used: blank.Bytes(), Updated: db.gorm.NowFunc()}
		res := g.Exec("INSERT INTO status_lists (id, purpose, issuer, size, bits, used, closed, version, updated) "+
			"VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?) ON CONFLICT (issuer, purpose) WHERE NOT closed DO NOTHING",
			m.ID, m.Purpose, m.Issuer, m.Size, m.Bits, m.Used, false, m.Updated)
		if res.Error != nil {
			return statuslist.List{}, fail(res.Error, listWhat(m.ID))
		}
		if res.RowsAffected == 1 {
			return m.domain()
		}
		// Another caller created the open list first: read it.
	}
	return statuslist.List{}, errkind.New(errkind.Unavailable, "no open %s status list of %s after %d attempts; too much contention",
		purpose, issuer, openListAttempts)
}

// CloseList implements statuslist.Store.
func (db *DB) CloseList(ctx context.Context, listID string) error {
	defer db.cache.lists.bump(listID) // after the write commits
	g := db.gorm.WithContext(ctx)
	res := g.Exec("UPDATE status_lists SET closed = ? WHERE id = ? AND NOT closed", true, listID)
	if res.Error != nil {
		return fail(res.Error, listWhat(listID))
	}
	if res.RowsAffected == 1 {
		return nil
	}
	var m dbStatusList
	return fail(g.Select("id").Where("id = ?", listID).Take(&m).Error, listWhat(listID))
}

// Allocate implements statuslist.Store.
func (db *DB) Allocate(ctx context.Context, listID string, index int) error {
	defer db.cache.lists.bump(listID) // after the write commits
	if db.dialect != Postgres {
		return db.sqliteAllocate(ctx, listID, index)
	}
	g := db.gorm.WithContext(ctx)
	// The CASE keeps get_bit from seeing an index outside the list. When
	// another transaction holds the row, PostgreSQL waits for it and
	// evaluates the condition again on the row it left.
	res := g.Exec("UPDATE status_lists SET used = set_bit(used, ?, 1) "+
		"WHERE id = ? AND NOT closed AND CASE WHEN CAST(? AS BIGINT) BETWEEN 0 AND size - 1 THEN get_bit(used, ?) = 0 ELSE false END",
		pgBit(index), listID, index, pgBit(index))
	if res.Error != nil {
		return fail(res.Error, listWhat(listID))
	}
	if res.RowsAffected == 1 {
		return nil
	}
	// Nothing changed: say why. Lists never reopen and indexes are never
	// given back, so what this reads still explains the failed update.
	var m dbStatusList
	if err := g.Select("id, size, closed").Where("id = ?", listID).Take(&m).Error; err != nil {
		return fail(err, listWhat(listID))
	}
	return allocateError(m, index)
}

// sqliteAllocate is Allocate for SQLite.
func (db *DB) sqliteAllocate(ctx context.Context, listID string, index int) error {
	return db.writeTx(ctx, func(tx *gorm.DB) error {
		var m dbStatusList
		if err := tx.Select("id, size, closed, used").Where("id = ?", listID).Take(&m).Error; err != nil {
			return fail(err, listWhat(listID))
		}
		if m.Closed || index < 0 || index >= m.Size {
			return allocateError(m, index)
		}
		used, err := statuslist.FromBytes(m.Used)
		if err != nil {
			return errkind.Wrap(errkind.Internal, err, "status list %s: used set", listID)
		}
		if taken, err := used.Get(index); err != nil || taken {
			return allocateError(m, index)
		}
		used.Set(index, true)
		res := tx.Exec("UPDATE status_lists SET used = ? WHERE id = ?", used.Bytes(), listID)
		return fail(res.Error, listWhat(listID))
	})
}

// AllocateMany implements statuslist.BatchStore: it reads the used set
// under the row's write lock (SELECT ... FOR UPDATE on PostgreSQL, an
// immediate transaction on SQLite), marks the free indexes and writes the
// blob back once, so one commit serves a whole batch of allocations.
func (db *DB) AllocateMany(ctx context.Context, listID string, indexes []int, limit int) ([]int, *statuslist.Bitstring, error) {
	defer db.cache.lists.bump(listID) // after the write commits
	var (
		claimed []int
		used    *statuslist.Bitstring
	)
	err := db.writeTx(ctx, func(tx *gorm.DB) error {
		claimed, used = nil, nil
		q := tx.Select("id, size, closed, used").Where("id = ?", listID)
		if db.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var m dbStatusList
		if err := q.Take(&m).Error; err != nil {
			return fail(err, listWhat(listID))
		}
		if m.Closed {
			return allocateError(m, 0)
		}
		for _, i := range indexes {
			if i < 0 || i >= m.Size {
				return allocateError(m, i)
			}
		}
		u, err := statuslist.FromBytes(m.Used)
		if err != nil || u.Len() != m.Size {
			return errkind.New(errkind.Internal, "status list %s: used set of %d bytes for %d entries", listID, len(m.Used), m.Size)
		}
		count := u.Count()
		for _, i := range indexes {
			if count >= limit {
				break
			}
			if taken, _ := u.Get(i); taken {
				continue
			}
			u.Set(i, true)
			claimed = append(claimed, i)
			count++
		}
		used = u
		if len(claimed) == 0 {
			return nil
		}
		res := tx.Exec("UPDATE status_lists SET used = ? WHERE id = ?", u.Bytes(), listID)
		return fail(res.Error, listWhat(listID))
	})
	if err != nil {
		return nil, nil, err
	}
	return claimed, used, nil
}

// allocateError returns why index of m cannot be allocated, in the
// order the memory store checks: Conflict if the list is closed, Invalid
// if index lies outside it, and otherwise Conflict, the index being
// taken.
func allocateError(m dbStatusList, index int) error {
	switch {
	case m.Closed:
		return errkind.New(errkind.Conflict, "status list %s is closed", m.ID)
	case index < 0 || index >= m.Size:
		return errkind.Field(errkind.Invalid, "index", "%d is outside status list %s of %d entries", index, m.ID, m.Size).
			WithCode(statuslist.CodeRange)
	default:
		return errkind.New(errkind.Conflict, "index %d of status list %s is taken", index, m.ID)
	}
}

// SetStatus implements statuslist.Store.
func (db *DB) SetStatus(ctx context.Context, listID string, index int, value bool, at time.Time) error {
	defer db.cache.lists.bump(listID) // after the write commits
	if db.dialect != Postgres {
		return db.sqliteSetStatus(ctx, listID, index, value, at)
	}
	v := 0
	if value {
		v = 1
	}
	g := db.gorm.WithContext(ctx)
	res := g.Exec("UPDATE status_lists SET bits = set_bit(bits, ?, ?), version = version + 1, updated = ? "+
		"WHERE id = ? AND CASE WHEN CAST(? AS BIGINT) BETWEEN 0 AND size - 1 THEN get_bit(used, ?) = 1 AND get_bit(bits, ?) <> ? ELSE false END",
		pgBit(index), v, dbTime(at), listID, index, pgBit(index), pgBit(index), v)
	if res.Error != nil {
		return fail(res.Error, listWhat(listID))
	}
	if res.RowsAffected == 1 {
		return nil
	}
	// Nothing changed: either the bit already had the value, or there is
	// no such list or allocated index. Indexes are never given back, so
	// what this reads still explains the update.
	var used int
	err := g.Raw("SELECT CASE WHEN CAST(? AS BIGINT) BETWEEN 0 AND size - 1 THEN get_bit(used, ?) ELSE 0 END FROM status_lists WHERE id = ?",
		index, pgBit(index), listID).Row().Scan(&used)
	if errors.Is(err, sql.ErrNoRows) {
		return errkind.New(errkind.NotFound, "%s not found", listWhat(listID))
	}
	if err != nil {
		return fail(err, listWhat(listID))
	}
	if used != 1 {
		return neverAllocated(listID, index)
	}
	return nil
}

// sqliteSetStatus is SetStatus for SQLite.
func (db *DB) sqliteSetStatus(ctx context.Context, listID string, index int, value bool, at time.Time) error {
	return db.writeTx(ctx, func(tx *gorm.DB) error {
		var m dbStatusList
		if err := tx.Select("id, size, bits, used").Where("id = ?", listID).Take(&m).Error; err != nil {
			return fail(err, listWhat(listID))
		}
		bits, err := statuslist.FromBytes(m.Bits)
		if err != nil {
			return errkind.Wrap(errkind.Internal, err, "status list %s: bits", listID)
		}
		used, err := statuslist.FromBytes(m.Used)
		if err != nil {
			return errkind.Wrap(errkind.Internal, err, "status list %s: used set", listID)
		}
		if u, err := used.Get(index); err != nil || !u {
			return neverAllocated(listID, index)
		}
		if old, _ := bits.Get(index); old == value {
			return nil
		}
		bits.Set(index, value)
		res := tx.Exec("UPDATE status_lists SET bits = ?, version = version + 1, updated = ? WHERE id = ?",
			bits.Bytes(), dbTime(at), listID)
		return fail(res.Error, listWhat(listID))
	})
}

func neverAllocated(listID string, index int) error {
	return errkind.Field(errkind.NotFound, "index", "%d of status list %s was never handed out", index, listID)
}

// List implements statuslist.Store.
func (db *DB) List(ctx context.Context, listID string) (statuslist.List, error) {
	if l, ok := db.cache.lists.get(listID); ok {
		return cloneList(l), nil
	}
	gen := db.cache.lists.generation(listID)
	l, err := db.list(ctx, listID)
	if err == nil {
		db.cache.lists.put(listID, gen, cloneList(l))
	}
	return l, err
}

// ListVersion implements issuer.ListVersions: the list's version and
// last change, from the read cache when it is current (without copying
// the bits).
func (db *DB) ListVersion(ctx context.Context, listID string) (uint64, time.Time, error) {
	if l, ok := db.cache.lists.get(listID); ok {
		return l.Version, l.Updated, nil
	}
	l, err := db.List(ctx, listID)
	return l.Version, l.Updated, err
}

func (db *DB) list(ctx context.Context, listID string) (statuslist.List, error) {
	var m dbStatusList
	if err := db.gorm.WithContext(ctx).Where("id = ?", listID).Take(&m).Error; err != nil {
		return statuslist.List{}, fail(err, listWhat(listID))
	}
	return m.domain()
}
