package store

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// pageDB opens a SQLite database with a table of 8 KiB rows whose
// commits never checkpoint (its checkpointer is stopped), and returns a
// function that commits n rows, one per transaction.
func pageDB(t *testing.T) (*DB, string, func(n int)) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "log.db")
	db, err := Open(ctx, path+"?_pragma=synchronous(OFF)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.ckpt.close()
	if _, err := db.sql.ExecContext(ctx, "CREATE TABLE pages (v BLOB)"); err != nil {
		t.Fatal(err)
	}
	row := bytes.Repeat([]byte{7}, 8<<10)
	return db, path, func(n int) {
		t.Helper()
		for range n {
			if _, err := db.sql.ExecContext(ctx, "INSERT INTO pages (v) VALUES (?)", row); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestCheckpointRestartsTheLog checks one pass of the checkpointer: past
// its threshold it has the next writer start the log over, so the log
// file stops growing; without it, the log holds every page written.
func TestCheckpointRestartsTheLog(t *testing.T) {
	for _, tc := range []struct {
		name       string
		checkpoint bool
	}{{"with a checkpoint between", true}, {"without", false}} {
		t.Run(tc.name, func(t *testing.T) {
			db, path, write := pageDB(t)
			write(200) // about 600 pages
			first := fileSize(t, path+"-wal")
			if tc.checkpoint {
				c := &checkpointer{restartFrames: 100}
				c.once(context.Background(), db.sql)
			}
			write(200)
			got := fileSize(t, path+"-wal")
			if grew := got > first+first/2; grew == tc.checkpoint {
				t.Errorf("the log was %d bytes after 200 commits and %d after 200 more; want it to grow: %v", first, got, !tc.checkpoint)
			}
		})
	}
}

// TestCheckpointerRuns checks that a database opened by Open copies its
// log into the database file by itself while it is open.
func TestCheckpointerRuns(t *testing.T) {
	db, path, write := pageDB(t)
	write(200)
	if got := fileSize(t, path); got > 1<<20 {
		t.Fatalf("the database file holds %d bytes before any checkpoint; want the rows in the log only", got)
	}
	db.ckpt = startCheckpointer(db.sql, 5*time.Millisecond, checkpointRestartFrames)
	for deadline := time.Now().Add(10 * time.Second); fileSize(t, path) < 200*8<<10; {
		if time.Now().After(deadline) {
			t.Fatalf("the database file holds %d bytes after 10 s; want the 200 rows of 8 KiB copied from the log", fileSize(t, path))
		}
		time.Sleep(5 * time.Millisecond)
	}
}
