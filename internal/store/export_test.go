package store

import "context"

// Pragma returns the value of a SQLite pragma on one connection of db.
func (db *DB) Pragma(ctx context.Context, name string) (string, error) {
	var v string
	err := db.sql.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v)
	return v, err
}

// Exec runs a statement, for tests that need to reach below the API.
func (db *DB) Exec(ctx context.Context, query string, args ...any) error {
	_, err := db.sql.ExecContext(ctx, query, args...)
	return err
}
