package storetest

import (
	"testing"

	"github.com/urbis-id/urbis/internal/store"
)

// Exec runs a statement on db below the store's API, with ? placeholders
// on both dialects, fails t if it errs, and returns the number of rows it
// affected. It is for tests that must tamper with stored rows, such as
// editing a state row to check that a verification notices.
func Exec(t testing.TB, db *store.DB, query string, args ...any) int64 {
	t.Helper()
	n, err := db.ExecRaw(t.Context(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
