package store_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/internal/store/storetest"
)

// each runs f once per test database: SQLite, and PostgreSQL when
// URBIS_TEST_POSTGRES_URL is set.
func each(t *testing.T, f func(t *testing.T, db *store.DB)) {
	for _, db := range storetest.Open(t) {
		t.Run(db.Dialect(), func(t *testing.T) { f(t, db) })
	}
}

func wantKind(t *testing.T, what string, err error, k errkind.Kind) {
	t.Helper()
	if !errors.Is(err, k) {
		t.Errorf("%s: error = %v (kind %s); want %s", what, err, errkind.KindOf(err), k)
	}
}

func TestMigrateUpDownStatus(t *testing.T) {
	all := []string{"00001_init.sql", "00002_registry.sql", "00003_status_lists.sql", "00004_issuers.sql", "00005_issuer_status.sql", "00006_status_updates.sql", "00007_credential_anchors.sql", "00008_bbs.sql", "00010_oid4vci.sql", "00011_oid4vp.sql", "00012_program_state.sql", "00013_credential_status_reason.sql", "00014_ops_stored_once.sql", "00015_did_versions_time_index.sql"}
	for _, db := range storetest.OpenUnmigrated(t) {
		t.Run(db.Dialect(), func(t *testing.T) {
			ctx := t.Context()
			wantPending := func(want int) {
				t.Helper()
				n, err := db.Pending(ctx)
				if err != nil || n != want {
					t.Fatalf("Pending = %d, %v; want %d", n, err, want)
				}
			}
			// registryTables reports whether the tables of 00002 are there.
			registryTables := func() bool {
				_, err := db.Head(ctx)
				return errors.Is(err, errkind.NotFound)
			}
			// statusListTables reports whether the table of 00003 is there.
			statusListTables := func() bool {
				_, err := db.List(ctx, "sl_none")
				return errors.Is(err, errkind.NotFound)
			}
			// issuerTables reports whether the table of 00004 is there.
			// It selects no columns: pgx caches the plan of Issuers'
			// SELECT *, which fails once 00005 drops a column.
			issuerTables := func() bool {
				return db.Exec(ctx, "SELECT 1 FROM issuer_instances WHERE 1 = 0") == nil
			}
			wantPending(len(all))
			st, err := db.MigrateStatus(ctx)
			if err != nil || len(st) != len(all) {
				t.Fatalf("MigrateStatus = %+v, %v; want %d pending", st, err, len(all))
			}
			for i, s := range st {
				if v, _ := strconv.ParseInt(all[i][:5], 10, 64); s.State != "pending" || s.Source != all[i] || s.Version != v {
					t.Errorf("MigrateStatus[%d] = %+v; want %s pending", i, s, all[i])
				}
			}

			applied, err := db.MigrateUp(ctx)
			if err != nil || !slices.Equal(applied, all) {
				t.Fatalf("MigrateUp = %v, %v; want %v", applied, err, all)
			}
			wantPending(0)
			st, err = db.MigrateStatus(ctx)
			if err != nil || st[0].State != "applied" || st[0].AppliedAt.IsZero() || st[1].State != "applied" {
				t.Fatalf("MigrateStatus after up = %+v, %v; want applied", st, err)
			}
			if applied, err := db.MigrateUp(ctx); err != nil || len(applied) != 0 {
				t.Errorf("second MigrateUp = %v, %v; want nothing applied", applied, err)
			}
			if _, err := db.ListAgencies(ctx); err != nil {
				t.Errorf("ListAgencies after up: %v", err)
			}
			if !registryTables() {
				t.Errorf("Head after up: not NotFound; want the registry tables there and empty")
			}
			if !statusListTables() {
				t.Errorf("List after up: not NotFound; want the status list table there and empty")
			}

			for i := len(all) - 1; i >= 0; i-- {
				down, err := db.MigrateDown(ctx)
				if err != nil || down != all[i] {
					t.Fatalf("MigrateDown = %q, %v; want %s", down, err, all[i])
				}
				wantPending(len(all) - i)
				if registryTables() != (i > 1) {
					t.Errorf("Head after rolling back %s: NotFound %v; want the registry tables there only while 00002 is applied", down, !(i > 1))
				}
				if statusListTables() != (i > 2) {
					t.Errorf("List after rolling back %s: NotFound %v; want the status list table there only while 00003 is applied", down, !(i > 2))
				}
				if issuerTables() != (i > 3) {
					t.Errorf("Issuers after rolling back %s: table there %v; want it there only while 00004 is applied", down, !(i > 3))
				}
				if _, err := db.ListAgencies(ctx); (err == nil) != (i > 0) {
					t.Errorf("ListAgencies after rolling back %s: error %v; want the agencies table there only while 00001 is applied", down, err)
				}
			}
			_, err = db.MigrateDown(ctx)
			wantKind(t, "MigrateDown with nothing applied", err, errkind.Conflict)

			if applied, err := db.MigrateUp(ctx); err != nil || !slices.Equal(applied, all) {
				t.Fatalf("MigrateUp after down = %v, %v; want %v", applied, err, all)
			}
			wantPending(0)
			if !registryTables() || !statusListTables() || !issuerTables() {
				t.Errorf("after up again: registry tables %v, status list table %v; want both back", registryTables(), statusListTables())
			}
		})
	}
}

func TestSQLiteWAL(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "nested", "dir", "urbis.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"synchronous", "2"}, // FULL
		{"busy_timeout", "5000"},
	}
	for _, tt := range tests {
		t.Run(tt.pragma, func(t *testing.T) {
			got, err := db.Pragma(ctx, tt.pragma)
			if err != nil || got != tt.want {
				t.Errorf("PRAGMA %s = %q, %v; want %q", tt.pragma, got, err, tt.want)
			}
		})
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Errorf("no write-ahead log next to the database: %v", err)
	}
	// WAL is a property of the file: a plain second connection sees it too.
	other, err := store.Open(ctx, "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if got, _ := other.Pragma(ctx, "journal_mode"); got != "wal" {
		t.Errorf("journal_mode through a file: DSN = %q; want wal", got)
	}
}

func TestOpen(t *testing.T) {
	ctx := t.Context()
	tests := []struct {
		name    string
		url     string
		dialect string
		kind    errkind.Kind
	}{
		{"sqlite path", filepath.Join(t.TempDir(), "a.db"), store.SQLite, ""},
		{"sqlite file URI with query", "file:" + filepath.Join(t.TempDir(), "b.db") + "?_pragma=cache_size(-4000)", store.SQLite, ""},
		{"empty", "", "", errkind.Invalid},
		{"postgres down", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", "", errkind.Unavailable},
		{"postgresql scheme down", "postgresql://nobody:s3cret@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", "", errkind.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := store.Open(ctx, tt.url)
			if tt.kind != "" {
				wantKind(t, "Open", err, tt.kind)
				if err != nil && strings.Contains(err.Error(), "s3cret") {
					t.Errorf("Open error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q) error = %v", tt.url, err)
			}
			defer db.Close()
			if db.Dialect() != tt.dialect {
				t.Errorf("Dialect() = %q; want %q", db.Dialect(), tt.dialect)
			}
			if err := db.Ping(ctx); err != nil {
				t.Errorf("Ping: %v", err)
			}
		})
	}
}

func TestPostgresDialect(t *testing.T) {
	if os.Getenv(storetest.EnvPostgresURL) == "" {
		t.Skipf("%s is not set", storetest.EnvPostgresURL)
	}
	dbs := storetest.Open(t)
	if len(dbs) != 2 || dbs[1].Dialect() != store.Postgres {
		t.Fatalf("storetest.Open gave %d databases; want SQLite and PostgreSQL", len(dbs))
	}
}

// clock is a fixed time with nanoseconds and a zone, to check that what
// goes in comes out the same (in UTC, to the microsecond).
var clock = time.Date(2031, 3, 4, 5, 6, 7, 891234000, time.FixedZone("X", -5*3600))

// TestMigrateUpTogether has two handles of one process migrate one fresh
// SQLite file at the same time: the second waits for the first's lock on
// the directory (a lock of each open file, so two handles exclude each
// other as two processes do), both succeed, and every migration is
// applied once. cmd/urbis's TestMigrateTogether does it with processes.
func TestMigrateUpTogether(t *testing.T) {
	for round := range 3 {
		path := filepath.Join(t.TempDir(), "urbis.db")
		dbs := make([]*store.DB, 2)
		for i := range dbs {
			db, err := store.Open(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			dbs[i] = db
		}
		applied := make([][]string, len(dbs))
		errs := make([]error, len(dbs))
		var wg sync.WaitGroup
		for i, db := range dbs {
			wg.Go(func() { applied[i], errs[i] = db.MigrateUp(t.Context()) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: handle %d: MigrateUp: %v", round, i, err)
			}
		}
		st, err := dbs[0].MigrateStatus(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got := len(applied[0]) + len(applied[1]); got != len(st) {
			t.Errorf("round %d: the two handles applied %d and %d migrations; want %d in all", round, len(applied[0]), len(applied[1]), len(st))
		}
		if n, err := dbs[1].Pending(t.Context()); err != nil || n != 0 {
			t.Errorf("round %d: %d pending after both (%v); want 0", round, n, err)
		}
	}
}
