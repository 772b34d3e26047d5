package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/urbis-id/urbis/registry"
)

// statusUpdateCols are the columns of status_updates, without seq.
const statusUpdateCols = "list, idx, purpose, value, issuer, height, time, op_hash"

var (
	qStatusListIssuer = newQuery("SELECT issuer FROM status_updates WHERE list = ? ORDER BY seq LIMIT 1")
	qStatusAt         = newQuery("SELECT value, height FROM status_updates " +
		"WHERE list = ? AND idx = ? AND purpose = ? AND time <= ? ORDER BY seq DESC LIMIT 1")
	// An update takes the next seq: its place in the chain's order.
	qAddStatusUpdate = newQuery("INSERT INTO status_updates (" + statusUpdateCols + ", seq) " +
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM status_updates))")
)

// StatusListIssuer implements registry.StateReader.
func (s state) StatusListIssuer(ctx context.Context, list string) (string, error) {
	var issuer string
	if err := s.row(ctx, qStatusListIssuer, list).Scan(&issuer); err != nil {
		return "", s.db.chainFail(err, "status list "+list)
	}
	return issuer, nil
}

// StatusAt implements registry.StateReader.
func (s state) StatusAt(ctx context.Context, list string, index int, purpose string, t time.Time) (bool, uint64, bool, error) {
	var (
		value  bool
		height int64
	)
	err := s.row(ctx, qStatusAt, list, int64(index), purpose, dbTime(t)).Scan(&value, &height)
	if errors.Is(err, sql.ErrNoRows) {
		return false, 0, false, nil
	}
	if err != nil {
		return false, 0, false, s.db.chainFail(err, "status of "+list+" index "+strconv.Itoa(index))
	}
	return value, uint64(height), true, nil
}

// AddStatusUpdate implements registry.StateTx: Conflict if the operation
// is already recorded.
func (t *chainTx) AddStatusUpdate(ctx context.Context, u registry.StatusUpdate) error {
	h, err := toInt64(u.Height, "height")
	if err != nil {
		return err
	}
	return t.exec(ctx, "status update "+u.OpHash, qAddStatusUpdate,
		u.List, int64(u.Index), u.Purpose, u.Value, u.Issuer, h, dbTime(u.Time), u.OpHash)
}

// StatusListIssuer implements registry.StateReader.
func (db *DB) StatusListIssuer(ctx context.Context, list string) (string, error) {
	return db.state().StatusListIssuer(ctx, list)
}

// StatusAt implements registry.StateReader: the value of the last
// status.update of the bit at or before t.
func (db *DB) StatusAt(ctx context.Context, list string, index int, purpose string, t time.Time) (bool, uint64, bool, error) {
	return db.state().StatusAt(ctx, list, index, purpose, t)
}

var qStatusUpdateAt = newQuery("SELECT " + statusUpdateCols + " FROM status_updates " +
	"WHERE list = ? AND idx = ? AND purpose = ? AND time <= ? ORDER BY seq DESC LIMIT 1")

// StatusUpdateAt returns the status.update of the bit (list, index,
// purpose) in force at t: the last one whose block time is at or before
// t. found is false (and err nil) when there is none.
func (db *DB) StatusUpdateAt(ctx context.Context, list string, index int, purpose string, t time.Time) (registry.StatusUpdate, bool, error) {
	var (
		u           registry.StatusUpdate
		idx, height int64
		at          time.Time
	)
	err := db.state().row(ctx, qStatusUpdateAt, list, int64(index), purpose, dbTime(t)).
		Scan(&u.List, &idx, &u.Purpose, &u.Value, &u.Issuer, &height, &at, &u.OpHash)
	if errors.Is(err, sql.ErrNoRows) {
		return registry.StatusUpdate{}, false, nil
	}
	if err != nil {
		return registry.StatusUpdate{}, false, db.chainFail(err, "status of "+list+" index "+strconv.Itoa(index))
	}
	u.Index, u.Height, u.Time = int(idx), uint64(height), at.UTC()
	return u, true, nil
}
