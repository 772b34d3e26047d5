package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// dirLock is the goose Locker of a SQLite database: an exclusive lock on
// the directory that holds the database file, taken before migrating and
// released after, so that two processes started at once on a fresh data
// directory (urbis serve and urbis agency create) do not both apply the
// same migration, which fails the second with "table ... already
// exists". PostgreSQL takes an advisory lock instead. Where the platform
// has no such lock (lockDir), migrations run unlocked as before.
type dirLock struct {
	dir  string
	held *os.File
}

// newDirLock returns the lock for the SQLite database db, nil for an
// in-memory one.
func newDirLock(ctx context.Context, db *sql.DB) (*dirLock, error) {
	wal, err := sqliteWALPath(ctx, db)
	if err != nil || wal == "" {
		return nil, err
	}
	return &dirLock{dir: filepath.Dir(wal)}, nil
}

// Lock implements goose's lock.Locker: it waits, polling, until it holds
// the directory's lock or ctx ends.
func (l *dirLock) Lock(ctx context.Context, _ *sql.DB) error {
	f, err := os.Open(l.dir)
	if err != nil {
		return errkind.Wrap(errkind.Unavailable, err, "migrations: open %s to lock it", l.dir)
	}
	for {
		held, err := lockDir(f)
		if err != nil {
			f.Close()
			return errkind.Wrap(errkind.Unavailable, err, "migrations: lock %s", l.dir)
		}
		if held {
			l.held = f
			return nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return errkind.Wrap(errkind.Unavailable, ctx.Err(), "migrations: wait for another process migrating %s", l.dir)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Unlock implements goose's lock.Locker: closing the directory releases
// its lock.
func (l *dirLock) Unlock(context.Context, *sql.DB) error {
	if l.held == nil {
		return nil
	}
	err := l.held.Close()
	l.held = nil
	return err
}
