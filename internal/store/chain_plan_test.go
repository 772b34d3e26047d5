package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestChainQueriesUseIndexes checks that every lookup on the chain's
// path is answered from an index, in the order the query wants, so that a
// million DIDs resolve as fast as a thousand: no scan of a table, no
// sort. On PostgreSQL, which plans empty tables by guesswork, scans and
// sorts are priced out first: a plan that still has one has no index to
// use instead.
func TestChainQueriesUseIndexes(t *testing.T) {
	queries := []struct {
		name string
		q    query
		args []any
		// first: the query reads the first entry of an index in its order
		// (ORDER BY ... LIMIT 1, MAX), so it may scan the index without a
		// condition; it stops at once.
		first bool
	}{
		{"LatestDIDVersion", qLatestDIDVersion, []any{"did:urbis:x"}, false},
		{"DIDVersion", qDIDVersion, []any{"did:urbis:x", 1}, false},
		{"DIDVersionAt's step", qDIDVersionAtMost, []any{"did:urbis:x", 5}, false},
		{"Nonce", qNonce, []any{"did:urbis:x"}, false},
		{"Accreditation", qAccreditation, []any{"x"}, false},
		{"Accreditations", qAccreditations, []any{"did:urbis:x"}, false},
		{"AccreditationHistory", qAccreditationHistory, []any{"x"}, false},
		{"Schema", qSchema, []any{"x"}, false},
		{"Anchor", qAnchor, []any{"x"}, false},
		{"Head", qHead, nil, true},
		{"Block", qBlock, []any{1}, false},
		{"BlockOps", qBlockOps, []any{1}, false},
		{"OpStatus committed", qOpCommitted, []any{"x"}, false},
		{"OpStatus", qOpStatus, []any{"x"}, false},
		{"next accreditation seq", newQuery("SELECT COALESCE(MAX(seq), 0) + 1 FROM accreditations"), nil, true},
	}
	urls := []string{filepath.Join(t.TempDir(), "plan.db")}
	// storetest.EnvPostgresURL; storetest imports this package.
	if u := os.Getenv("URBIS_TEST_POSTGRES_URL"); u != "" {
		urls = append(urls, u)
	}
	for _, u := range urls {
		db, err := Open(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		t.Run(db.dialect, func(t *testing.T) {
			if db.dialect == Postgres {
				// Plan in a schema of our own on the server's database,
				// created in a transaction that is rolled back.
				tx, err := db.sql.BeginTx(t.Context(), nil)
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				schema := fmt.Sprintf("plan_test_%d", time.Now().UnixNano())
				for _, s := range []string{"CREATE SCHEMA " + schema, "SET LOCAL search_path TO " + schema,
					"SET LOCAL enable_seqscan TO off", "SET LOCAL enable_bitmapscan TO off", "SET LOCAL enable_sort TO off"} {
					if _, err := tx.ExecContext(t.Context(), s); err != nil {
						t.Fatalf("%s: %v", s, err)
					}
				}
				if err := migrateForPlan(t, db, tx.ExecContext); err != nil {
					t.Fatal(err)
				}
				for _, qq := range queries {
					t.Run(qq.name, func(t *testing.T) {
						rows, err := tx.QueryContext(t.Context(), "EXPLAIN "+qq.q.postgres, qq.args...)
						if err != nil {
							t.Fatal(err)
						}
						plan := collect(t, rows, 1)
						// An index scan with no Index Cond reads the whole index.
						scans := strings.Count(plan, "Index Scan") + strings.Count(plan, "Index Only Scan")
						whole := scans > strings.Count(plan, "Index Cond") && !qq.first
						if strings.Contains(plan, "Seq Scan") || strings.Contains(plan, "Sort") || whole {
							t.Errorf("plan of %s:\n%s\nwant an index scan with a condition, and no sort", qq.q.postgres, plan)
						}
					})
				}
				return
			}
			if _, err := db.MigrateUp(t.Context()); err != nil {
				t.Fatal(err)
			}
			for _, qq := range queries {
				t.Run(qq.name, func(t *testing.T) {
					rows, err := db.sql.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+qq.q.sqlite, qq.args...)
					if err != nil {
						t.Fatal(err)
					}
					plan := collect(t, rows, 4)
					for _, line := range strings.Split(plan, "\n") {
						// SCAN, with or without an index, reads all; SEARCH looks up.
						scan := strings.HasPrefix(line, "SCAN ") && !qq.first
						sort := strings.Contains(line, "TEMP B-TREE")
						if scan || sort {
							t.Errorf("plan of %s:\n%s\nwant an index search and no sort", qq.q.sqlite, plan)
						}
					}
				})
			}
		})
	}
}

// migrateForPlan applies the PostgreSQL migrations' Up sections with
// exec, in the current search path.
func migrateForPlan(t *testing.T, db *DB, exec func(ctx context.Context, q string, args ...any) (sql.Result, error)) error {
	t.Helper()
	for _, f := range []string{"00001_init.sql", "00002_registry.sql", "00014_ops_stored_once.sql", "00015_did_versions_time_index.sql"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "migrations", "postgres", f))
		if err != nil {
			return err
		}
		up, _, _ := strings.Cut(string(b), "-- +goose Down")
		if _, err := exec(t.Context(), up); err != nil {
			return err
		}
	}
	return nil
}

// collect returns the last of the ncols columns of each row, one a line.
func collect(t *testing.T, rows *sql.Rows, ncols int) string {
	t.Helper()
	defer rows.Close()
	var lines []string
	for rows.Next() {
		dest := make([]any, ncols)
		for i := range dest {
			dest[i] = new(any)
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		v := *(dest[ncols-1].(*any))
		switch v := v.(type) {
		case string:
			lines = append(lines, v)
		case []byte:
			lines = append(lines, string(v))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
