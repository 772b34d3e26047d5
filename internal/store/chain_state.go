package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

var _ registry.StateReader = state{}

// state reads chain state on a connection: the database (what is
// committed) or a block's transaction (which sees its own writes).
type state struct {
	db   *DB
	conn sqlConn
}

var (
	qLatestDIDVersion     = newQuery("SELECT " + didVersionCols + " FROM did_versions WHERE did = ? ORDER BY version DESC LIMIT 1")
	qDIDVersion           = newQuery("SELECT " + didVersionCols + " FROM did_versions WHERE did = ? AND version = ?")
	qDIDVersionAtMost     = newQuery("SELECT " + didVersionCols + " FROM did_versions WHERE did = ? AND version <= ? ORDER BY version DESC LIMIT 1")
	qNonce                = newQuery("SELECT nonce FROM nonces WHERE signer = ?")
	qAccreditation        = newQuery("SELECT " + accreditationCols + " FROM accreditations WHERE id = ?")
	qAccreditations       = newQuery("SELECT " + accreditationCols + " FROM accreditations WHERE issuer = ? ORDER BY seq")
	qAccreditationExists  = newQuery("SELECT 1 FROM accreditations WHERE id = ?")
	qAccreditationHistory = newQuery("SELECT " + accreditationEventCols + " FROM accreditation_events WHERE accreditation = ? ORDER BY id")
	qSchema               = newQuery("SELECT " + schemaCols + " FROM schemas WHERE id = ?")
	qAnchor               = newQuery("SELECT " + anchorCols + " FROM anchors WHERE root = ?")
)

func (s state) row(ctx context.Context, q query, args ...any) *sql.Row {
	return s.conn.QueryRowContext(ctx, s.db.text(q), args...)
}

func (s state) didVersion(ctx context.Context, what string, q query, args ...any) (registry.DIDVersion, error) {
	var m dbDIDVersion
	if err := m.scan(s.row(ctx, q, args...)); err != nil {
		return registry.DIDVersion{}, s.db.chainFail(err, what)
	}
	return m.domain()
}

// LatestDIDVersion implements registry.StateReader.
func (s state) LatestDIDVersion(ctx context.Context, did string) (registry.DIDVersion, error) {
	if r := s.db.replay; r != nil {
		return r.latestDIDVersion(ctx, did)
	}
	return s.didVersion(ctx, did, qLatestDIDVersion, did)
}

// DIDVersion implements registry.StateReader.
func (s state) DIDVersion(ctx context.Context, did string, v uint64) (registry.DIDVersion, error) {
	if r := s.db.replay; r != nil {
		return r.didVersion(ctx, did, v)
	}
	what := did + " version " + strconv.FormatUint(v, 10)
	n, err := toInt64(v, "version")
	if err != nil {
		return registry.DIDVersion{}, errkind.New(errkind.NotFound, "%s not found", what)
	}
	return s.didVersion(ctx, what, qDIDVersion, did, n)
}

// DIDVersionAt implements registry.StateReader: the highest version whose
// block time is at or before t. Block times never go back, so a DID's
// versions are in time order, and a binary search over its versions
// finds it, one primary-key lookup per step (there is no index on time
// for the sequencer to keep up).
func (s state) DIDVersionAt(ctx context.Context, did string, t time.Time) (registry.DIDVersion, error) {
	if r := s.db.replay; r != nil {
		return r.didVersionAt(ctx, did, t)
	}
	what := did + " at " + t.UTC().Format(time.RFC3339Nano)
	limit := dbTime(t)
	latest, err := s.didVersion(ctx, what, qLatestDIDVersion, did)
	if err != nil || !latest.Time.After(limit) {
		return latest, err
	}
	var (
		found registry.DIDVersion
		ok    bool
	)
	// The answer is below latest: search versions lo..hi.
	for lo, hi := uint64(1), latest.Version-1; lo <= hi && hi > 0; {
		mid := lo + (hi-lo)/2
		n, err := toInt64(mid, "version")
		if err != nil {
			return registry.DIDVersion{}, err
		}
		v, err := s.didVersion(ctx, what, qDIDVersionAtMost, did, n) // the highest version up to mid
		switch {
		case errors.Is(err, errkind.NotFound):
			lo = mid + 1
		case err != nil:
			return registry.DIDVersion{}, err
		case v.Time.After(limit):
			hi = v.Version - 1
		default:
			found, ok, lo = v, true, mid+1
		}
	}
	if !ok {
		return registry.DIDVersion{}, s.db.chainFail(sql.ErrNoRows, what)
	}
	return found, nil
}

// Nonce implements registry.StateReader: 0 for a signer that has none.
func (s state) Nonce(ctx context.Context, signerDID string) (uint64, error) {
	if r := s.db.replay; r != nil {
		return r.nonce(signerDID), nil
	}
	var n int64
	err := s.row(ctx, qNonce, signerDID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, s.db.chainFail(err, "nonce of "+signerDID)
	}
	return uint64(n), nil
}

// Accreditation implements registry.StateReader.
func (s state) Accreditation(ctx context.Context, id string) (registry.Accreditation, error) {
	var m dbAccreditation
	if err := m.scan(s.row(ctx, qAccreditation, id)); err != nil {
		return registry.Accreditation{}, s.db.chainFail(err, "accreditation "+id)
	}
	return m.domain()
}

// Accreditations implements registry.StateReader: oldest first (in the
// order they were first put), and empty, not NotFound, for an issuer
// that has none.
func (s state) Accreditations(ctx context.Context, issuer string) ([]registry.Accreditation, error) {
	what := "accreditations of " + issuer
	rows, err := s.conn.QueryContext(ctx, s.db.text(qAccreditations), issuer)
	if err != nil {
		return nil, s.db.chainFail(err, what)
	}
	defer rows.Close()
	out := []registry.Accreditation{}
	for rows.Next() {
		var m dbAccreditation
		if err := m.scan(rows); err != nil {
			return nil, s.db.chainFail(err, what)
		}
		a, err := m.domain()
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, s.db.chainFail(err, what)
	}
	return out, nil
}

// AccreditationHistory implements registry.StateReader: the events in
// the order they were added; NotFound if there are none and no such
// accreditation.
func (s state) AccreditationHistory(ctx context.Context, id string) ([]registry.AccreditationEvent, error) {
	what := "history of accreditation " + id
	rows, err := s.conn.QueryContext(ctx, s.db.text(qAccreditationHistory), id)
	if err != nil {
		return nil, s.db.chainFail(err, what)
	}
	defer rows.Close()
	out := []registry.AccreditationEvent{}
	for rows.Next() {
		var m dbAccreditationEvent
		if err := m.scan(rows); err != nil {
			return nil, s.db.chainFail(err, what)
		}
		out = append(out, m.domain())
	}
	if err := rows.Err(); err != nil {
		return nil, s.db.chainFail(err, what)
	}
	if len(out) == 0 {
		var one int
		if err := s.row(ctx, qAccreditationExists, id).Scan(&one); err != nil {
			return nil, s.db.chainFail(err, "accreditation "+id)
		}
	}
	return out, nil
}

// Schema implements registry.StateReader.
func (s state) Schema(ctx context.Context, id string) (registry.Schema, error) {
	var m dbSchema
	if err := m.scan(s.row(ctx, qSchema, id)); err != nil {
		return registry.Schema{}, s.db.chainFail(err, "schema "+id)
	}
	return m.domain(), nil
}

// Anchor implements registry.StateReader.
func (s state) Anchor(ctx context.Context, root string) (registry.Anchor, error) {
	var m dbAnchor
	if err := m.scan(s.row(ctx, qAnchor, root)); err != nil {
		return registry.Anchor{}, s.db.chainFail(err, "anchor "+root)
	}
	return m.domain(), nil
}
