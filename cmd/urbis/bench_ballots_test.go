package main

import (
	"encoding/json"
	"testing"
)

// TestBenchBallots casts a few ballots through the bench: every ballot
// is committed, and the recount agrees (the bench fails otherwise).
func TestBenchBallots(t *testing.T) {
	if testing.Short() {
		t.Skip("prepares RSA-signed tokens and runs the engine")
	}
	out, err := runCLI(t, nil, "bench", "ballots", "--ballots", "60", "--blind", "5", "--clients", "8",
		"--block-interval", "20ms", "--dir", t.TempDir(), "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	var got benchBallotsResult
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if got.Committed != 60 || got.Failed != 0 || got.Blind != 5 || got.PerSecond <= 0 || got.Blocks == 0 || got.Baseline <= 0 {
		t.Errorf("got %+v; want 60 committed, none failed, 5 through the blind protocol, a rate, blocks and a baseline", got)
	}
}
