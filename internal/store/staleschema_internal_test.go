package store

import (
	"context"
	"path/filepath"
	"testing"

	"gorm.io/gorm"
)

type widget struct {
	ID    string `gorm:"column:id;primaryKey"`
	Name  string `gorm:"column:name"`
	Color string `gorm:"column:color"`
}

func (widget) TableName() string { return "widgets" }

// TestReadAfterMigration: a model read gets every column of a row when
// the pool hands it a connection that it opened for another query while
// a migration ran, which cached the schema from before the migration
// added a column. The SQLite driver names a query's columns when it
// prepares it, from that cached schema, and SQLite prepares the query
// again with the new schema only when it runs: a "SELECT *" read one
// column too few. Issuance once answered 500 that way, on an issuer
// instance read without its status purposes.
func TestReadAfterMigration(t *testing.T) {
	tests := []struct {
		name string
		read func(tx *gorm.DB) (widget, error)
	}{
		{"take", func(tx *gorm.DB) (widget, error) {
			var w widget
			return w, tx.Where("id = ?", "w1").Take(&w).Error
		}},
		{"first", func(tx *gorm.DB) (widget, error) {
			var w widget
			return w, tx.First(&w, "id = ?", "w1").Error
		}},
		{"find", func(tx *gorm.DB) (widget, error) {
			var ws []widget
			if err := tx.Find(&ws).Error; err != nil || len(ws) != 1 {
				return widget{}, err
			}
			return ws[0], nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := migratedWhileCheckpointing(t)
			got, err := tt.read(db.gorm.WithContext(t.Context()))
			if err != nil {
				t.Fatal(err)
			}
			if want := (widget{ID: "w1", Name: "gear", Color: "red"}); got != want {
				t.Errorf("got %+v; want %+v", got, want)
			}
		})
	}
}

// migratedWhileCheckpointing returns a database with a table widgets of
// one row whose pool has one idle connection: the one it opened for a
// query while another connection, still held, added the column color.
func migratedWhileCheckpointing(t *testing.T) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "stale.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	migrator, err := db.sql.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { migrator.Close() })
	exec := func(q string) {
		t.Helper()
		if _, err := migrator.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	exec("CREATE TABLE widgets (id TEXT PRIMARY KEY, name TEXT NOT NULL)")
	// Another query meanwhile: the pool opens a second connection, which
	// loads the schema.
	var one int
	if err := db.sql.QueryRowContext(ctx, "SELECT COUNT(*) FROM widgets").Scan(&one); err != nil {
		t.Fatal(err)
	}
	exec("ALTER TABLE widgets ADD COLUMN color TEXT NOT NULL DEFAULT 'red'")
	exec("INSERT INTO widgets (id, name) VALUES ('w1', 'gear')")
	if n := db.sql.Stats().Idle; n != 1 {
		t.Fatalf("got %d idle connections; want the one the query opened", n)
	}
	return db
}
