// Package store is the persistence adapter of Urbis: it keeps the domain's
// records in SQLite (the embedded default, through the pure-Go
// github.com/glebarez/sqlite driver) or PostgreSQL, through gorm. gorm
// models are unexported and converted to and from domain types here; the
// schema lives only in the migrations package, applied with goose.
package store

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/urbis-id/urbis/internal/errkind"
)

// Dialects.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// sqlitePragmas are applied to every SQLite connection: WAL for
// concurrent readers, a busy timeout instead of immediate SQLITE_BUSY,
// enforced foreign keys, and synchronous=FULL so that an acknowledged
// commit survives a crash or kill -9 (and power loss).
var sqlitePragmas = []string{
	"journal_mode(WAL)",
	"busy_timeout(5000)",
	"foreign_keys(ON)",
	"synchronous(FULL)",
}

// poolSize bounds the open database connections, and is how many stay
// open while idle.
const poolSize = 16

// DB is a database holding Urbis records.
type DB struct {
	gorm    *gorm.DB
	sql     *sql.DB
	dialect string
	cache   *readCaches
	latest  *stateCache // the chain state's latest DID versions and nonces
	walPath string      // SQLite: the write-ahead log SyncBlocks syncs ("" in memory)
	block   struct {    // SQLite: the connection of block transactions
		mu   sync.Mutex
		conn *sql.Conn // nil until the first block, or after a failed one
		lazy bool      // conn commits with synchronous=NORMAL
	}
	writes sync.Mutex // SQLite: held by each of writeTx's transactions
	// replay, if set (ReplayOver), holds the DID versions and nonces
	// instead of their tables.
	replay *replayIndex
}

// writeTx runs fn in a transaction that writes. SQLite lets one
// transaction write at a time, and one that finds the write lock taken
// waits in SQLite's busy handler, which sleeps 1, 2, 5, 10 ms and longer
// between tries, so the lock can sit free while every writer sleeps (as
// issuance's batches of status indexes and of issued credentials and the
// anchorer take turns). On SQLite these transactions therefore queue on a
// mutex of this process first, and the next one starts as soon as the
// last commits. (Block transactions, on their own connection, and
// another process's writes still meet the busy handler.) fn must not
// start another writeTx: it would wait for itself.
func (db *DB) writeTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if db.dialect == SQLite {
		db.writes.Lock()
		defer db.writes.Unlock()
	}
	return db.gorm.WithContext(ctx).Transaction(fn)
}

// Open opens the database at url: a postgres:// or postgresql:// URL for
// PostgreSQL, anything else a SQLite file path or file: URI (its
// directory is created if missing). It checks the connection but does
// not migrate; see MigrateUp.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg := &gorm.Config{
		Logger:                 logger.Discard, // gorm's logger would print SQL arguments
		TranslateError:         true,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		// Model reads name their columns instead of "SELECT *". The
		// SQLite driver takes a query's column names when it prepares
		// it, from the connection's cached schema; a connection that
		// loaded the schema before a migration changed a table (one the
		// pool opened for another query in the middle of MigrateUp) had SQLite
		// prepare "*" again, with more columns, only when it ran, and
		// read one column too few: an issuer instance without its
		// status purposes. Named columns prepare the same both times.
		QueryFields: true,
	}
	var (
		dialector gorm.Dialector
		dialect   string
	)
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		dialector, dialect = postgres.Open(url), Postgres
	} else {
		dsn, dir, err := sqliteDSN(url)
		if err != nil {
			return nil, err
		}
		dialector, dialect = sqlite.Open(dsn), SQLite
		// Turning a new file to WAL (the first pragma) takes a lock that
		// two processes opening it at once fight over, and the loser gets
		// SQLITE_BUSY whatever its busy timeout: one opens at a time.
		if l := newDirLock(dir); l != nil {
			if err := l.Lock(ctx, nil); err != nil {
				return nil, err
			}
			defer l.Unlock(ctx, nil)
		}
	}
	g, err := gorm.Open(dialector, cfg)
	if err != nil {
		return nil, errkind.Wrap(errkind.Unavailable, err, "open %s database", dialect)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "open %s database", dialect)
	}
	// Keep connections open: opening a SQLite connection re-runs the
	// pragmas and re-reads the schema, which under load costs more than
	// the queries themselves. SQLite has one writer at a time anyway;
	// readers in WAL mode run beside it.
	sqlDB.SetMaxOpenConns(poolSize)
	sqlDB.SetMaxIdleConns(poolSize)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	db := &DB{gorm: g, sql: sqlDB, dialect: dialect, cache: &readCaches{}, latest: &stateCache{}}
	if err := db.Ping(ctx); err != nil {
		sqlDB.Close()
		return nil, err
	}
	if dialect == SQLite {
		if db.walPath, err = sqliteWALPath(ctx, sqlDB); err != nil {
			sqlDB.Close()
			return nil, err
		}
	}
	return db, nil
}

// sqliteWALPath returns the path of the main database's write-ahead log,
// or "" for an in-memory database.
func sqliteWALPath(ctx context.Context, db *sql.DB) (string, error) {
	var (
		seq        int
		name, file string
	)
	if err := db.QueryRowContext(ctx, "PRAGMA database_list").Scan(&seq, &name, &file); err != nil {
		return "", errkind.Wrap(errkind.Unavailable, err, "sqlite: read the database file name")
	}
	if file == "" {
		return "", nil
	}
	return file + "-wal", nil
}

// sqliteDSN turns a path or file: URI into a DSN for the glebarez driver
// with the pragmas above and immediate write transactions (a deferred
// transaction that reads, then writes, fails with SQLITE_BUSY instead of
// waiting when another connection writes in between), and returns the
// database file's directory ("" in memory).
func sqliteDSN(path string) (dsn, dir string, err error) {
	if path == "" {
		return "", "", errkind.New(errkind.Invalid, "store: empty database URL; want a SQLite file path or a postgres:// URL")
	}
	base, query, _ := strings.Cut(path, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", "", errkind.Wrap(errkind.Invalid, err, "store: SQLite DSN query")
	}
	file := strings.TrimPrefix(base, "file:")
	if q.Get("mode") != "memory" && file != ":memory:" && file != "" {
		dir = filepath.Dir(file)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", "", errkind.Wrap(errkind.Unavailable, err, "store: create database directory")
		}
	}
	// Ours first, so that pragmas given in the DSN win.
	q["_pragma"] = append(append([]string(nil), sqlitePragmas...), q["_pragma"]...)
	if q.Get("_txlock") == "" {
		q.Set("_txlock", "immediate")
	}
	return base + "?" + q.Encode(), dir, nil
}

// Dialect returns "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return errkind.Wrap(errkind.Unavailable, err, "%s database does not answer", db.dialect)
	}
	return nil
}

// Close closes the database.
func (db *DB) Close() error {
	db.block.mu.Lock()
	if db.block.conn != nil {
		_ = db.block.conn.Close()
		db.block.conn = nil
	}
	db.block.mu.Unlock()
	return db.sql.Close()
}

// fail converts a database error into an error of a kind: NotFound for a
// missing row, Conflict for a unique violation, NotFound for a reference
// to a missing row, Unavailable for a database that is down or busy, and
// Internal otherwise. what names the thing, as in "agency agy_x".
func fail(err error, what string) error {
	var k *errkind.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &k):
		return err
	case errors.Is(err, gorm.ErrRecordNotFound):
		return errkind.New(errkind.NotFound, "%s not found", what)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return errkind.New(errkind.Conflict, "%s already exists", what)
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		return errkind.New(errkind.NotFound, "%s refers to something that does not exist", what)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errkind.Wrap(errkind.Unavailable, err, "database: %s", what)
	case isUnavailable(err):
		return errkind.Wrap(errkind.Unavailable, err, "database: %s", what)
	default:
		return errkind.Wrap(errkind.Internal, err, "database: %s", what)
	}
}

// Snapshot writes a consistent copy of a SQLite database to path (a new
// file), while it stays in use. Benchmarks use it to keep a prepared
// chain; PostgreSQL has its own tools (Invalid here).
func (db *DB) Snapshot(ctx context.Context, path string) error {
	if db.dialect != SQLite {
		return errkind.New(errkind.Invalid, "store: Snapshot copies SQLite databases; use pg_dump for PostgreSQL")
	}
	if _, err := db.sql.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return errkind.Wrap(errkind.Unavailable, err, "copy the database to %s", path)
	}
	return nil
}
