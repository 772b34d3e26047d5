package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// The registry chain's blocks and state. The chain's statements go
// through database/sql directly rather than through gorm: they are few
// and fixed, and on the engine's hot path, where gorm's statement
// building and reflective scanning added some 40% to each statement on
// SQLite in a benchmark.

var _ registry.LazyChainStore = (*DB)(nil)

// sqlConn is what chain statements run on: the database, or the
// transaction of one block.
type sqlConn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// query is a statement written with ? placeholders, with its PostgreSQL
// form ($1, $2, ...) made once.
type query struct{ sqlite, postgres string }

func newQuery(q string) query { return query{sqlite: q, postgres: dollars(q)} }

// dollars numbers the ? placeholders of q for PostgreSQL. The chain's
// statements have no ? inside literals.
func dollars(q string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			b.WriteByte(q[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// text returns q in db's dialect.
func (db *DB) text(q query) string {
	if db.dialect == Postgres {
		return q.postgres
	}
	return q.sqlite
}

// SQLite extended result codes for a broken CHECK or NOT NULL constraint.
const (
	sqliteConstraintCheck   = 275
	sqliteConstraintNotNull = 1299
)

// chainFail is fail for errors straight from database/sql, which gorm has
// not translated: no rows is NotFound, and a value that breaks a CHECK or
// NOT NULL constraint is Invalid.
func (db *DB) chainFail(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return errkind.New(errkind.NotFound, "%s not found", what)
	}
	if t, ok := db.gorm.Dialector.(gorm.ErrorTranslator); ok {
		err = t.Translate(err)
	}
	var (
		pgErr   *pgconn.PgError
		liteErr *gosqlite.Error
	)
	switch {
	case errors.Is(err, gorm.ErrCheckConstraintViolated),
		errors.As(err, &pgErr) && pgErr.Code == "23502",
		errors.As(err, &liteErr) && (liteErr.Code() == sqliteConstraintCheck || liteErr.Code() == sqliteConstraintNotNull):
		return errkind.Wrap(errkind.Invalid, err, "%s: a value is out of range", what)
	}
	return fail(err, what)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// state returns the chain state as committed.
func (db *DB) state() state { return state{db: db, conn: db.sql} }

// LatestDIDVersion implements registry.StateReader.
func (db *DB) LatestDIDVersion(ctx context.Context, did string) (registry.DIDVersion, error) {
	return db.state().LatestDIDVersion(ctx, did)
}

// DIDVersion implements registry.StateReader.
func (db *DB) DIDVersion(ctx context.Context, did string, v uint64) (registry.DIDVersion, error) {
	return db.state().DIDVersion(ctx, did, v)
}

// DIDVersionAt implements registry.StateReader.
func (db *DB) DIDVersionAt(ctx context.Context, did string, t time.Time) (registry.DIDVersion, error) {
	return db.state().DIDVersionAt(ctx, did, t)
}

// Nonce implements registry.StateReader.
func (db *DB) Nonce(ctx context.Context, signerDID string) (uint64, error) {
	return db.state().Nonce(ctx, signerDID)
}

// Accreditation implements registry.StateReader.
func (db *DB) Accreditation(ctx context.Context, id string) (registry.Accreditation, error) {
	return db.state().Accreditation(ctx, id)
}

// Accreditations implements registry.StateReader.
func (db *DB) Accreditations(ctx context.Context, issuer string) ([]registry.Accreditation, error) {
	return db.state().Accreditations(ctx, issuer)
}

// AccreditationHistory implements registry.StateReader.
func (db *DB) AccreditationHistory(ctx context.Context, id string) ([]registry.AccreditationEvent, error) {
	return db.state().AccreditationHistory(ctx, id)
}

// Schema implements registry.StateReader.
func (db *DB) Schema(ctx context.Context, id string) (registry.Schema, error) {
	return db.state().Schema(ctx, id)
}

// Anchor implements registry.StateReader.
func (db *DB) Anchor(ctx context.Context, root string) (registry.Anchor, error) {
	return db.state().Anchor(ctx, root)
}

// InBlockTx implements registry.ChainStore: fn runs in one transaction
// (on SQLite, one that holds the write lock from its start), committed if
// fn returns nil and rolled back, whole, if it returns an error (which
// InBlockTx returns as it is) or panics. The BlockTx is not safe for
// concurrent use and not valid after fn returns.
func (db *DB) InBlockTx(ctx context.Context, fn func(tx registry.BlockTx) error) error {
	return db.inBlockTx(ctx, fn, false)
}

// InBlockTxLazy is InBlockTx without waiting for the disk at the commit:
// on SQLite the block is written to the write-ahead log, where readers
// see it, but not yet synced (synchronous=NORMAL for its transaction);
// SyncBlocks makes it durable. A crash of the process loses nothing
// either way (the log's pages are in the kernel's cache); a power
// failure before SyncBlocks may lose the block. The engine acknowledges
// a block's operations only after SyncBlocks, and meanwhile applies the
// next block instead of waiting for the disk. On PostgreSQL it is
// InBlockTx.
func (db *DB) InBlockTxLazy(ctx context.Context, fn func(tx registry.BlockTx) error) error {
	return db.inBlockTx(ctx, fn, db.dialect == SQLite)
}

// SyncBlocks implements registry.LazyChainStore: it makes every block
// committed by InBlockTxLazy so far durable, by syncing SQLite's
// write-ahead log to disk (what a commit with synchronous=FULL does). A
// log that is gone was checkpointed into the database file, which SQLite
// synced then.
func (db *DB) SyncBlocks(context.Context) error {
	if db.walPath == "" {
		return nil
	}
	f, err := os.Open(db.walPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return errkind.Wrap(errkind.Unavailable, err, "sync committed blocks: open the write-ahead log")
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return errkind.Wrap(errkind.Unavailable, err, "sync committed blocks to disk")
	}
	return nil
}

func (db *DB) inBlockTx(ctx context.Context, fn func(tx registry.BlockTx) error, lazy bool) error {
	if db.dialect != SQLite {
		conn, err := db.sql.Conn(ctx)
		if err != nil {
			return db.chainFail(err, "begin block transaction")
		}
		defer conn.Close()
		return db.blockTx(ctx, conn, fn)
	}
	db.block.mu.Lock()
	defer db.block.mu.Unlock()
	conn, err := db.blockConn(ctx, lazy)
	if err != nil {
		return db.chainFail(err, "begin block transaction")
	}
	if err := db.blockTx(ctx, conn, fn); err != nil {
		// Whatever state the connection is in, the next block gets a
		// new one.
		db.dropBlockConn()
		return err
	}
	return nil
}

// blockConn is the SQLite connection that block transactions use, one
// at a time: its page cache (16 MiB) stays warm from one block to the
// next instead of being read again, and it checkpoints the write-ahead
// log only past 10,000 pages (40 MiB), so that a busy chain does not
// sync the log and the database file for every block. It syncs each
// commit (synchronous=FULL, as every connection) unless lazy, then
// leaving that to SyncBlocks. Call with db.block.mu held.
func (db *DB) blockConn(ctx context.Context, lazy bool) (*sql.Conn, error) {
	b := &db.block
	if b.conn == nil {
		conn, err := db.sql.Conn(ctx)
		if err != nil {
			return nil, err
		}
		if _, err := conn.ExecContext(ctx, sqliteBlockPragmas); err != nil {
			discard(conn)
			return nil, err
		}
		b.conn, b.lazy = conn, false
	}
	if b.lazy != lazy {
		mode := "FULL"
		if lazy {
			mode = "NORMAL"
		}
		if _, err := b.conn.ExecContext(ctx, "PRAGMA synchronous = "+mode); err != nil {
			db.dropBlockConn()
			return nil, err
		}
		b.lazy = lazy
	}
	return b.conn, nil
}

// dropBlockConn closes the block connection (not returning it to the
// pool, where other writers would find its pragmas). Call with
// db.block.mu held.
func (db *DB) dropBlockConn() {
	if db.block.conn != nil {
		discard(db.block.conn)
		db.block.conn = nil
	}
}

// discard closes conn for good instead of returning it to the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

// blockTx runs fn in a transaction of conn and commits it.
func (db *DB) blockTx(ctx context.Context, conn *sql.Conn, fn func(tx registry.BlockTx) error) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return db.chainFail(err, "begin block transaction")
	}
	defer tx.Rollback() // after Commit, a no-op
	ct := &chainTx{state: state{db: db, conn: tx}, tx: tx, ov: newOverlay(), prog: newProgOverlay()}
	if err := fn(ct); err != nil {
		return err
	}
	var (
		cacheSet  map[string]stateEntry
		cacheDrop []string
	)
	if db.replay == nil {
		cacheSet, cacheDrop = ct.ov.cacheUpdate()
	}
	if err := ct.flush(ctx); err != nil {
		return err
	}
	if err := ct.flushPrograms(ctx); err != nil {
		return err
	}
	err = tx.Commit()
	if ct.schemas {
		// After the commit (or its failure), so that a schema read that
		// raced it is not kept.
		db.cache.schemas.bumpAll()
	}
	if err != nil {
		if ctx.Err() != nil { // database/sql rolled back and may say only ErrTxDone
			err = ctx.Err()
		}
		db.latest.reset() // the commit may or may not have happened
		return db.chainFail(err, "commit block transaction")
	}
	if ct.replayed != nil {
		db.replay.commit(*ct.replayed)
		return nil
	}
	db.latest.apply(cacheSet, cacheDrop)
	return nil
}

// sqliteBlockPragmas set up the connection of block transactions:
// savepoint journals in memory rather than in a temporary file, a page
// cache large enough to hold a block's writes until the commit instead
// of spilling them to the WAL as it goes, and checkpoints past 10,000
// log pages.
const sqliteBlockPragmas = "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16384; PRAGMA wal_autocheckpoint = 10000"

var (
	qHead     = newQuery("SELECT height, header FROM blocks ORDER BY height DESC LIMIT 1")
	qBlock    = newQuery("SELECT header, signatures, op_count FROM blocks WHERE height = ?")
	qBlockOps = newQuery("SELECT jws FROM block_ops WHERE height = ? ORDER BY idx")
	// An operation's status: its block if it is in one (a commit wins
	// over a rejection), else its rejection.
	qOpCommitted = newQuery("SELECT o.hash, '" + opCommitted + "', o.height, o.idx, o.kind, '', b.time " +
		"FROM block_ops o JOIN blocks b ON b.height = o.height WHERE o.hash = ?")
	qOpStatus     = newQuery("SELECT " + opStatusCols + " FROM op_status WHERE hash = ?")
	errNoBlockYet = errkind.New(errkind.NotFound, "no block yet")
)

// Head implements registry.ChainStore: the header of the highest block,
// as it was stored (and hashed).
func (db *DB) Head(ctx context.Context) (registry.Header, error) {
	var (
		height int64
		header string
	)
	err := db.sql.QueryRowContext(ctx, db.text(qHead)).Scan(&height, &header)
	if errors.Is(err, sql.ErrNoRows) {
		return registry.Header{}, errNoBlockYet
	}
	if err != nil {
		return registry.Header{}, db.chainFail(err, "head block")
	}
	return decodeHeader(header, height)
}

// Block implements registry.ChainStore: NotFound if no block has that
// height.
func (db *DB) Block(ctx context.Context, height uint64) (registry.Block, error) {
	what := "block " + strconv.FormatUint(height, 10)
	h, err := toInt64(height, "height")
	if err != nil {
		return registry.Block{}, errkind.New(errkind.NotFound, "%s not found", what)
	}
	var (
		header, sigs string
		n            int64
	)
	if err := db.sql.QueryRowContext(ctx, db.text(qBlock), h).Scan(&header, &sigs, &n); err != nil {
		return registry.Block{}, db.chainFail(err, what)
	}
	b := registry.Block{Ops: make([]string, 0, n)}
	if b.Header, err = decodeHeader(header, h); err != nil {
		return registry.Block{}, err
	}
	if err := json.Unmarshal([]byte(sigs), &b.Signatures); err != nil {
		return registry.Block{}, corrupt(err, "signatures of "+what)
	}
	rows, err := db.sql.QueryContext(ctx, db.text(qBlockOps), h)
	if err != nil {
		return registry.Block{}, db.chainFail(err, "operations of "+what)
	}
	defer rows.Close()
	for rows.Next() {
		var jws string
		if err := rows.Scan(&jws); err != nil {
			return registry.Block{}, db.chainFail(err, "operations of "+what)
		}
		b.Ops = append(b.Ops, jws)
	}
	if err := rows.Err(); err != nil {
		return registry.Block{}, db.chainFail(err, "operations of "+what)
	}
	return b, nil
}

// OpStatus implements registry.ChainStore: NotFound for an operation that
// was neither committed nor rejected.
func (db *DB) OpStatus(ctx context.Context, hash string) (registry.OpStatus, error) {
	var m dbOpStatus
	err := m.scan(db.sql.QueryRowContext(ctx, db.text(qOpCommitted), hash))
	if errors.Is(err, sql.ErrNoRows) {
		err = m.scan(db.sql.QueryRowContext(ctx, db.text(qOpStatus), hash))
	}
	if err != nil {
		return registry.OpStatus{}, db.chainFail(err, "operation "+hash)
	}
	return m.domain(), nil
}

// ExecRaw runs a statement below the store's API, with ? placeholders on
// both dialects, and returns the number of rows it affected. It exists
// for tests, such as a tamper test that edits a state row and checks that
// StateDigest notices (see storetest.Exec); nothing else may call it.
func (db *DB) ExecRaw(ctx context.Context, query string, args ...any) (int64, error) {
	res := db.gorm.WithContext(ctx).Exec(query, args...)
	return res.RowsAffected, res.Error
}

// SampleDIDs returns up to n did:urbis DIDs in state, spread over the
// identifier space (the identifiers are hashes, so their order is
// arbitrary). Benchmarks use it to pick DIDs to resolve.
func (db *DB) SampleDIDs(ctx context.Context, n int) ([]string, error) {
	rows, err := db.sql.QueryContext(ctx, db.text(newQuery("SELECT did FROM did_versions WHERE version = 1 ORDER BY did LIMIT ?")), n)
	if err != nil {
		return nil, db.chainFail(err, "sample DIDs")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, db.chainFail(err, "sample DIDs")
		}
		out = append(out, d)
	}
	return out, db.chainFail(rows.Err(), "sample DIDs")
}

// CountSigners returns how many DIDs hold a nonce: those that have
// signed a committed operation.
func (db *DB) CountSigners(ctx context.Context) (int, error) {
	var n int
	err := db.sql.QueryRowContext(ctx, db.text(newQuery("SELECT COUNT(*) FROM nonces"))).Scan(&n)
	return n, db.chainFail(err, "count signers")
}

// EachSigner calls fn with every DID that holds a nonce, in no
// particular order, from one snapshot of the committed state.
func (db *DB) EachSigner(ctx context.Context, fn func(did string)) error {
	rows, err := db.sql.QueryContext(ctx, db.text(newQuery("SELECT signer FROM nonces")))
	if err != nil {
		return db.chainFail(err, "list signers")
	}
	defer rows.Close()
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return db.chainFail(err, "list signers")
		}
		fn(d)
	}
	return db.chainFail(rows.Err(), "list signers")
}
