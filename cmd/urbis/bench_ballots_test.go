package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
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

// TestBenchBallotsPrepared: a run with --prepared keeps the chain and the
// ballots; a second run casts the same ballots on a copy of that chain
// without preparing them, and may do so again; a run asking for another
// number of ballots is told what the directory holds.
func TestBenchBallotsPrepared(t *testing.T) {
	if testing.Short() {
		t.Skip("prepares RSA-signed tokens and runs the engine")
	}
	kept := t.TempDir()
	run := func() benchBallotsResult {
		t.Helper()
		out, err := runCLI(t, nil, "bench", "ballots", "--ballots", "40", "--blind", "3", "--clients", "8",
			"--block-interval", "20ms", "--prepared", kept, "--output", "json")
		if err != nil {
			t.Fatal(err)
		}
		var got benchBallotsResult
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		if got.Committed != 40 || got.Failed != 0 || got.Blind != 3 {
			t.Errorf("got %+v; want 40 committed, none failed, 3 through the blind protocol", got)
		}
		return got
	}
	first := run()
	before, err := os.Stat(filepath.Join(kept, "ballots.jws"))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		again := run()
		if again.PrepSeconds != first.PrepSeconds {
			t.Errorf("a run on the prepared directory reports preparation %.3f s; want the first run's %.3f s", again.PrepSeconds, first.PrepSeconds)
		}
	}
	if after, err := os.Stat(filepath.Join(kept, "ballots.jws")); err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("the prepared ballots changed (%v); want them read, not written again", err)
	}
	if _, err := runCLI(t, nil, "bench", "ballots", "--ballots", "41", "--prepared", kept); err == nil || !strings.Contains(err.Error(), "--ballots 40") {
		t.Errorf("a run for 41 ballots on a directory prepared for 40: got %v; want an error naming --ballots 40", err)
	}
}
