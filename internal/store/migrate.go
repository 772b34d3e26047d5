package store

import (
	"context"
	"errors"
	"path"
	"path/filepath"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/migrations"
)

// MigrationStatus is the state of one migration.
type MigrationStatus struct {
	Version   int64
	Source    string    // the file name, e.g. "00001_init.sql"
	State     string    // "applied" or "pending"
	AppliedAt time.Time // zero if pending
}

// provider returns a goose provider for db's dialect and migrations. On
// PostgreSQL it takes an advisory lock, so that nodes starting together
// do not migrate at once; on SQLite, a lock on the database file's
// directory (dirLock), for processes started together on one data
// directory.
func (db *DB) provider() (*goose.Provider, error) {
	fsys, err := migrations.FS(db.dialect)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	dialect := goose.DialectSQLite3
	if db.dialect == SQLite && db.walPath != "" { // a file, not in memory
		opts = append(opts, goose.WithLocker(newDirLock(filepath.Dir(db.walPath))))
	}
	if db.dialect == Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, errkind.Wrap(errkind.Internal, err, "migrations: lock")
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, db.sql, fsys, opts...)
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "migrations")
	}
	return p, nil
}

// MigrateUp applies every pending migration and returns the file names of
// those it applied, in order.
func (db *DB) MigrateUp(ctx context.Context) ([]string, error) {
	p, err := db.provider()
	if err != nil {
		return nil, err
	}
	res, err := p.Up(ctx)
	applied := make([]string, 0, len(res))
	for _, r := range res {
		if r.Error == nil {
			applied = append(applied, path.Base(r.Source.Path))
		}
	}
	if err != nil {
		return applied, migrationError(err, "apply migrations")
	}
	return applied, nil
}

// MigrateDown rolls back the most recently applied migration and returns
// its file name; Conflict if none is applied.
func (db *DB) MigrateDown(ctx context.Context) (string, error) {
	p, err := db.provider()
	if err != nil {
		return "", err
	}
	res, err := p.Down(ctx)
	if errors.Is(err, goose.ErrNoNextVersion) {
		return "", errkind.New(errkind.Conflict, "no applied migration to roll back")
	}
	if err != nil {
		return "", migrationError(err, "roll back migration")
	}
	return path.Base(res.Source.Path), nil
}

// MigrateStatus returns the state of every known migration, in version
// order.
func (db *DB) MigrateStatus(ctx context.Context) ([]MigrationStatus, error) {
	p, err := db.provider()
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, migrationError(err, "migration status")
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, s := range st {
		out = append(out, MigrationStatus{
			Version:   s.Source.Version,
			Source:    path.Base(s.Source.Path),
			State:     string(s.State),
			AppliedAt: s.AppliedAt,
		})
	}
	return out, nil
}

// Pending returns how many migrations are not applied yet; a ready server
// has none.
func (db *DB) Pending(ctx context.Context) (int, error) {
	st, err := db.MigrateStatus(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range st {
		if s.State == string(goose.StatePending) {
			n++
		}
	}
	return n, nil
}

func migrationError(err error, what string) error {
	if isUnavailable(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errkind.Wrap(errkind.Unavailable, err, "%s", what)
	}
	return errkind.Wrap(errkind.Internal, err, "%s", what)
}
