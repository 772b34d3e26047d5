package main

import (
	"encoding/json"
	"testing"
)

// TestBenchOID4VC runs both benches briefly against a real urbis serve
// child (the test binary acting as urbis): every flow must complete, and
// with --qr fetch every flow's QR code PNG must load.
func TestBenchOID4VC(t *testing.T) {
	if testing.Short() {
		t.Skip("starts urbis serve and runs flows for a second each")
	}
	t.Setenv("URBIS_TEST_AS_MAIN", "1") // the children run main()
	for _, args := range [][]string{
		{"oid4vci", "--concurrency", "3"},
		{"oid4vp", "--concurrency", "3", "--template", "age_over"},
		{"oid4vp", "--concurrency", "3", "--qr", "fetch"}, // each flow also GETs its qrUrl
	} {
		t.Run(args[0]+" "+args[len(args)-1], func(t *testing.T) {
			out, err := runCLI(t, nil, append([]string{"bench"}, append(args, "--duration", "1s", "--output", "json")...)...)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Baseline float64 `json:"baseline_per_second"`
				Result   struct {
					Flows, Errors int
					PerSecond     float64 `json:"per_second"`
					P99           float64 `json:"p99_ms"`
				} `json:"result"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("output %q: %v", out, err)
			}
			if got.Result.Flows == 0 || got.Result.Errors != 0 || got.Result.PerSecond <= 0 || got.Result.P99 <= 0 || got.Baseline <= 0 {
				t.Errorf("got %+v (baseline %.0f); want flows, no errors, a rate, a p99 and a baseline", got.Result, got.Baseline)
			}
		})
	}
}
