package main

import (
	"encoding/json"
	"testing"
)

// TestBenchTransfers runs bench transfers briefly, both ways, on SQLite
// and (when URBIS_TEST_POSTGRES_URL is set) on a fresh PostgreSQL
// database: every transfer must commit and the balances add up to the
// supply.
func TestBenchTransfers(t *testing.T) {
	dbs := []string{"sqlite"}
	if freshPostgresURL(t) != "" {
		dbs = append(dbs, "postgres")
	}
	for _, db := range dbs {
		for _, oneAtATime := range []string{"false", "true"} {
			u := ""
			if db == "postgres" {
				u = freshPostgresURL(t) // the bench needs an empty database
			}
			args := []string{"bench", "transfers", "--accounts", "20", "--per-account", "5", "--block-interval", "20ms",
				"--one-at-a-time=" + oneAtATime, "--output", "json"}
			if u != "" {
				args = append(args, "--database-url", u)
			}
			out, err := runCLI(t, nil, args...)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Transfers, Committed int
				Supply               int64
				Sum                  int64  `json:"sum_of_balances"`
				Database             string `json:"database"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("output %q: %v", out, err)
			}
			if got.Transfers != 100 || got.Committed != 100 || got.Supply == 0 || got.Sum != got.Supply {
				t.Errorf("%s, one at a time %s: got %+v; want 100 committed and the balances adding up to the supply", got.Database, oneAtATime, got)
			}
		}
	}
}
