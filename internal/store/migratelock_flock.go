//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package store

import (
	"errors"
	"os"
	"syscall"
)

// lockDir takes an exclusive flock on the open directory f without
// waiting: false if another open file holds it. A flock is released when
// f is closed, and it does not touch the POSIX locks SQLite takes on the
// database file.
func lockDir(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}
