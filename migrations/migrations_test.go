package migrations

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
)

func TestFS(t *testing.T) {
	var names [][]string
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) {
			fsys, err := FS(d)
			if err != nil {
				t.Fatalf("FS(%q) error = %v; want nil", d, err)
			}
			files, err := fs.Glob(fsys, "*.sql")
			if err != nil || len(files) == 0 {
				t.Fatalf("Glob = %v, %v; want some .sql files", files, err)
			}
			for _, f := range files {
				b, err := fs.ReadFile(fsys, f)
				if err != nil {
					t.Fatal(err)
				}
				for _, marker := range []string{"-- +goose Up", "-- +goose Down"} {
					if !strings.Contains(string(b), marker) {
						t.Errorf("%s/%s has no %q", d, f, marker)
					}
				}
			}
			names = append(names, files)
		})
	}
	if len(names) == 2 && !slices.Equal(names[0], names[1]) {
		t.Errorf("sqlite migrations %v; postgres migrations %v; want the same versions", names[0], names[1])
	}
}

func TestFSUnknownDialect(t *testing.T) {
	_, err := FS("mysql")
	if !errors.Is(err, errkind.Invalid) {
		t.Errorf("FS(mysql) error = %v; want Invalid", err)
	}
}
