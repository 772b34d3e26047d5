package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"hash"
	"time"
)

// col is how StateDigest reads and writes one column.
type col int

const (
	colText col = iota
	colInt
	colBool
	colTime
	colNullTime
)

// digestTable is one table of chain state as StateDigest reads it: its
// columns, without surrogate keys, in an order fixed by its natural key.
// Text keys sort bytewise on both dialects (BINARY on SQLite, COLLATE
// "C" on PostgreSQL).
type digestTable struct {
	name string
	q    query
	cols []col
}

// digestTables are the state's tables in digest order. A store replaying
// over another (ReplayOver) reads the first two, DID versions and
// nonces, from the live store.
var digestTables = []digestTable{
	{"did_versions", newQuery("SELECT " + didVersionCols + " FROM did_versions ORDER BY did, version"),
		[]col{colText, colInt, colText, colBool, colInt, colTime, colText}},
	{"nonces", newQuery("SELECT signer, nonce FROM nonces ORDER BY signer"),
		[]col{colText, colInt}},
	// seq is state: it orders Accreditations, and two replays of the
	// same blocks give the same seqs.
	{"accreditations", newQuery("SELECT " + accreditationCols + ", seq FROM accreditations ORDER BY id"),
		[]col{colText, colText, colText, colText, colText, colTime, colNullTime, colBool, colBool, colText, colInt, colTime, colInt}},
	// id is not: PostgreSQL's identity skips the values of rolled back
	// inserts, SQLite's rowid does not. Its order is the history's.
	{"accreditation_events", newQuery("SELECT " + accreditationEventCols + " FROM accreditation_events ORDER BY accreditation, id"),
		[]col{colText, colText, colText, colText, colInt, colTime, colText}},
	{"schemas", newQuery("SELECT " + schemaCols + " FROM schemas ORDER BY id"),
		[]col{colText, colText, colText, colText, colInt, colTime, colText}},
	{"anchors", newQuery("SELECT " + anchorCols + " FROM anchors ORDER BY root"),
		[]col{colText, colText, colInt, colText, colInt, colTime, colText}},
	// seq is state, as in accreditations: it orders a bit's history.
	{"status_updates", newQuery("SELECT seq, " + statusUpdateCols + " FROM status_updates ORDER BY seq"),
		[]col{colInt, colText, colInt, colText, colBool, colText, colInt, colTime, colText}},
	{"program_state", newQuery("SELECT key, value FROM program_state ORDER BY key"),
		[]col{colText, colText}},
}

// StateDigest implements registry.ChainStore. It hashes, table by table,
// the table's name and then each row as a JSON array of its column values
// (text as stored, JSON columns included; times in UTC, RFC 3339 with
// nanoseconds; NULL as null), one per line, all read in one snapshot.
// Blocks and operation statuses are not state and are left out.
func (db *DB) StateDigest(ctx context.Context) (string, error) {
	opts := &sql.TxOptions{ReadOnly: true} // on SQLite, a deferred transaction: no write lock
	if db.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead // one snapshot for all tables
	}
	tx, err := db.sql.BeginTx(ctx, opts)
	if err != nil {
		return "", db.chainFail(err, "state digest")
	}
	defer tx.Rollback()
	if db.replay != nil {
		return db.replay.stateDigest(ctx, db, tx)
	}
	h := sha256.New()
	for _, t := range digestTables {
		if err := db.digestTable(ctx, tx, t, h, nil); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// digestTable writes to h the table's name and its rows, one JSON line
// each; each, if not nil, is given every row's values and line (without
// its newline) first.
func (db *DB) digestTable(ctx context.Context, tx *sql.Tx, t digestTable, h hash.Hash, each func(vals []any, line []byte) error) error {
	h.Write([]byte(t.name + "\n"))
	rows, err := tx.QueryContext(ctx, db.text(t.q))
	if err != nil {
		return db.chainFail(err, "state digest of "+t.name)
	}
	defer rows.Close()
	dest := make([]any, len(t.cols))
	for i, c := range t.cols {
		switch c {
		case colText:
			dest[i] = new(string)
		case colInt:
			dest[i] = new(int64)
		case colBool:
			dest[i] = new(bool)
		case colTime:
			dest[i] = new(time.Time)
		case colNullTime:
			dest[i] = new(sql.Null[time.Time])
		}
	}
	vals := make([]any, len(t.cols))
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return db.chainFail(err, "state digest of "+t.name)
		}
		for i, d := range dest {
			switch d := d.(type) {
			case *string:
				vals[i] = *d
			case *int64:
				vals[i] = *d
			case *bool:
				vals[i] = *d
			case *time.Time:
				vals[i] = d.UTC().Format(time.RFC3339Nano)
			case *sql.Null[time.Time]:
				vals[i] = nil
				if d.Valid {
					vals[i] = d.V.UTC().Format(time.RFC3339Nano)
				}
			}
		}
		line, err := json.Marshal(vals)
		if err != nil {
			return corrupt(err, "row of "+t.name)
		}
		if each != nil {
			if err := each(vals, line); err != nil {
				return err
			}
		}
		h.Write(append(line, '\n'))
	}
	if err := rows.Err(); err != nil {
		return db.chainFail(err, "state digest of "+t.name)
	}
	return nil
}
