package store

import (
	"context"
	"database/sql"
	"os"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// dirLock is an exclusive lock on the directory that holds a SQLite
// database file, so that two processes started at once on a fresh data
// directory (urbis serve and urbis agency create) take turns: Open holds
// it while it sets the first connection up, and it is the goose Locker
// of migrations, which would otherwise both apply the same migration and
// fail the second with "table ... already exists" (PostgreSQL takes an
// advisory lock instead). Where the platform has no such lock
// (lockDir), both run unlocked.
type dirLock struct {
	dir  string
	held *os.File
}

// newDirLock returns the lock of directory dir, nil if dir is "" (an
// in-memory database).
func newDirLock(dir string) *dirLock {
	if dir == "" {
		return nil
	}
	return &dirLock{dir: dir}
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
