// Package storetest gives tests real, migrated databases: always a fresh
// SQLite file, and a fresh PostgreSQL database as well when the
// environment variable URBIS_TEST_POSTGRES_URL is set (for example
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable). Each call
// creates its own PostgreSQL database, urbis_test_<random>, and drops it
// when the test ends, so that runs never collide.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/urbis-id/urbis/internal/store"
)

// EnvPostgresURL names the environment variable with the URL of a
// PostgreSQL server that tests may create databases on.
const EnvPostgresURL = "URBIS_TEST_POSTGRES_URL"

// Open returns migrated databases for t: SQLite, then PostgreSQL if
// EnvPostgresURL is set. Run the test body once per database, named by
// its Dialect.
func Open(t testing.TB) []*store.DB {
	t.Helper()
	dbs := OpenUnmigrated(t)
	for _, db := range dbs {
		if _, err := db.MigrateUp(t.Context()); err != nil {
			t.Fatalf("migrate %s: %v", db.Dialect(), err)
		}
	}
	return dbs
}

// OpenUnmigrated is Open without the migrations.
func OpenUnmigrated(t testing.TB) []*store.DB {
	t.Helper()
	urls := []string{SQLitePath(t)}
	if os.Getenv(EnvPostgresURL) != "" {
		urls = append(urls, PostgresURL(t))
	}
	var dbs []*store.DB
	for _, u := range urls {
		db, err := store.Open(t.Context(), u)
		if err != nil {
			t.Fatalf("open test database: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	return dbs
}

// SQLitePath returns the path of a new SQLite file in t's temporary
// directory.
func SQLitePath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "urbis.db")
}

// PostgresURL creates an empty PostgreSQL database on the server at
// EnvPostgresURL, drops it when t ends, and returns its URL. It skips t
// if EnvPostgresURL is not set.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvPostgresURL)
	if admin == "" {
		t.Skipf("%s is not set", EnvPostgresURL)
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", EnvPostgresURL, err)
	}
	b := make([]byte, 8)
	rand.Read(b)
	name := "urbis_test_" + hex.EncodeToString(b)
	exec(t, admin, "CREATE DATABASE "+name)
	// Registered before the caller's Close, so it runs after it.
	t.Cleanup(func() { exec(t, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u.Path = "/" + name
	return u.String()
}

func exec(t testing.TB, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvPostgresURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
