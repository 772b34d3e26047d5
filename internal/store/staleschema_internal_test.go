package store

import (
	"context"
	"database/sql"
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

// TestReadOnStaleSchema: a model read on a pooled connection that loaded
// the schema before a migration added a column gets that column. The
// SQLite driver names a query's columns when it prepares it, from the
// connection's cached schema, and SQLite prepares the query again with
// the new schema only when it runs: a "SELECT *" then read one column
// too few, and an issuer instance read that way had no status purposes
// (a 500 at issuance, seen under load, when the checkpointer had opened
// a connection in the middle of the migrations).
func TestReadOnStaleSchema(t *testing.T) {
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
			db, stale := staleConn(t)
			got, err := tt.read(onConn(db, stale))
			if err != nil {
				t.Fatal(err)
			}
			if want := (widget{ID: "w1", Name: "gear", Color: "red"}); got != want {
				t.Errorf("got %+v; want %+v", got, want)
			}
		})
	}
}

// staleConn returns a database with a table widgets of one row, and a
// connection of its pool that loaded the schema before another
// connection added the column color.
func staleConn(t *testing.T) (*DB, *sql.Conn) {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "stale.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.ckpt.close()
	stale, err := db.sql.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stale.Close() })
	if _, err := stale.ExecContext(ctx, "CREATE TABLE widgets (id TEXT PRIMARY KEY, name TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	other, err := db.sql.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for _, q := range []string{
		"ALTER TABLE widgets ADD COLUMN color TEXT NOT NULL DEFAULT 'red'",
		"INSERT INTO widgets (id, name) VALUES ('w1', 'gear')",
	} {
		if _, err := other.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return db, stale
}

// onConn returns db's gorm handle bound to the connection c.
func onConn(db *DB, c *sql.Conn) *gorm.DB {
	tx := db.gorm.Session(&gorm.Session{NewDB: true})
	tx.Statement.ConnPool = c
	return tx
}
