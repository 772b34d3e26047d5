// Package migrations holds the versioned SQL schema of Urbis, one set of
// goose migrations per database dialect, embedded in the binary. The schema
// lives here and nowhere else: nothing calls gorm's AutoMigrate.
package migrations

import (
	"embed"
	"io/fs"

	"github.com/urbis-id/urbis/internal/errkind"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// Dialects lists the dialects FS knows.
var Dialects = []string{"sqlite", "postgres"}

// FS returns the migrations of dialect ("sqlite" or "postgres") as a file
// system whose root holds the goose .sql files.
func FS(dialect string) (fs.FS, error) {
	switch dialect {
	case "sqlite", "postgres":
		return fs.Sub(files, dialect)
	default:
		return nil, errkind.New(errkind.Invalid, "migrations: unknown dialect %q; want sqlite or postgres", dialect)
	}
}
