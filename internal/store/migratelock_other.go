//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package store

import "os"

// lockDir has no lock to take on this platform: migrations run unlocked.
func lockDir(*os.File) (bool, error) { return true, nil }
