package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestBenchScale runs the scale bench on two small chains against real
// urbis serve and registry verify children (the test binary acting as
// urbis): three rounds of each chain, a ratio, and the replay's rate and
// peak memory, read while it ran.
func TestBenchScale(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two chains and starts urbis serve six times")
	}
	t.Setenv("URBIS_TEST_AS_MAIN", "1") // the children run main()
	out, err := runCLI(t, nil, "bench", "scale", "--dids", "120", "--small", "30", "--rounds", "3",
		"--warmup", "100ms", "--duration", "300ms", "--dir", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, dids := range []string{"30", "120"} {
		row := regexp.MustCompile(`(?m)^\| ` + dids + ` \| (\d+) \| ([\d, ]+) \| [\d.]+ \| ([\d.]+) \|$`).FindStringSubmatch(out)
		if row == nil {
			t.Fatalf("output:\n%s\nwant a row for %s DIDs", out, dids)
		}
		if rounds := strings.Split(row[2], ", "); len(rounds) != 3 || row[1] == "0" {
			t.Errorf("row for %s DIDs: mean %s, rounds %q; want a mean and 3 rounds", dids, row[1], row[2])
		}
	}
	m := regexp.MustCompile(`registry verify: 120 operations replayed in \S+ = \d+ ops/s, peak RSS ([\d.]+) MiB`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("output:\n%s\nwant the registry verify line", out)
	}
	if rss, _ := strconv.ParseFloat(m[1], 64); rss <= 0 {
		t.Errorf("peak RSS %s MiB; want the child's high-water mark", m[1])
	}
}
