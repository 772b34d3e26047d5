package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/glebarez/go-sqlite" // database/sql driver "sqlite" for the fsync baseline
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/spf13/cobra"
)

// benchCredCommands are `urbis bench verify` and `urbis bench issue`.
func (p *program) benchCredCommands() []*cobra.Command {
	return []*cobra.Command{p.benchCredCommand("verify"), p.benchCredCommand("issue")}
}

func (p *program) benchCredCommand(kind string) *cobra.Command {
	var (
		duration    time.Duration
		concurrency int
		output      string
		binary      string
	)
	short := "Measure credential verification over HTTP against the raw jws.Verify rate"
	long := `Measures, in one run, the raw EdDSA compact-JWS verification rate of this
machine with github.com/lestrrat-go/jwx/v2/jws on all its cores for 3 s (the
baseline), then starts urbis serve as a child process on a fresh data
directory with --rate-limit 0, creates an agency, an Ed25519 did:key, a
jwt_vc_json and an ldp_vc (eddsa-rdfc-2022) issuer instance with
statusPurposes ["revocation"], issues one credential of each, and has
--concurrency clients POST /credentials/verify with it for --duration each.
It reports verifications per second, their ratio to the baseline, p50/p99
latency and the server's peak resident memory.`
	defConc := 16
	if kind == "issue" {
		short = "Measure credential issuance over HTTP against the single-row fsync commit rate"
		long = `Measures, in one run, how many one-row INSERT transactions per second a
SQLite file with the store's pragmas (WAL, synchronous=FULL) commits
sequentially for 3 s (the baseline), then starts urbis serve as a child
process on a fresh data directory with --rate-limit 0, creates an agency, an
Ed25519 did:key and a jwt_vc_json issuer instance with statusPurposes
["revocation"], and has --concurrency clients POST /credentials/issue for
--duration. It reports credentials per second, their ratio to the baseline,
p50/p99 latency and the server's peak resident memory. Every credential is
recorded for anchoring in the issuance's own transaction, and the server
anchors them (serve's defaults: every 1 s, up to 10,000 per anchor) while the
load runs; after it, one more credential is issued and the time until GET
/credentials/{leaf}/anchor says it is anchored is reported: anchors take the
oldest leaves first, so that is how long the anchorer lags behind the load.`
		defConc = 32
	}
	cmd := &cobra.Command{
		Use:   kind,
		Short: short,
		Long:  long,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "text", "json"); err != nil {
				return err
			}
			if binary == "" {
				exe, err := os.Executable()
				if err != nil {
					return err
				}
				binary = exe
			}
			return p.benchCred(cmd.Context(), kind, binary, duration, concurrency, output)
		},
	}
	cmd.Flags().DurationVar(&duration, "duration", 5*time.Second, "how long each phase runs")
	cmd.Flags().IntVar(&concurrency, "concurrency", defConc, "concurrent clients")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&binary, "binary", "", "urbis binary to start (default: this one)")
	return cmd
}

// jwsVerifyRate measures EdDSA compact-JWS verifications per second with
// jws.Verify on every core.
func jwsVerifyRate(d time.Duration) (float64, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return 0, err
	}
	token, err := jws.Sign([]byte(`{"iss":"did:example:issuer","sub":"did:example:alice","name":"Alice"}`), jws.WithKey(jwa.EdDSA, priv))
	if err != nil {
		return 0, err
	}
	if _, err := jws.Verify(token, jws.WithKey(jwa.EdDSA, pub)); err != nil {
		return 0, err
	}
	var n atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	start := time.Now()
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				for range 20 {
					_, _ = jws.Verify(token, jws.WithKey(jwa.EdDSA, pub))
				}
				n.Add(20)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds(), nil
}

// fsyncCommitRate measures sequential one-row INSERT commits per second
// in a fresh SQLite file with the store's pragmas.
func fsyncCommitRate(ctx context.Context, dir string, d time.Duration) (float64, error) {
	dsn := filepath.Join(dir, "fsync.db") + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(FULL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)`); err != nil {
		return 0, err
	}
	row := make([]byte, 200)
	n := 0
	deadline := time.Now().Add(d)
	start := time.Now()
	for time.Now().Before(deadline) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES (?)`, row); err != nil {
			_ = tx.Rollback()
			return 0, err
		}
		if err := tx.Commit(); err != nil {
			return 0, err
		}
		n++
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// credPhase is one measured load phase of bench verify or bench issue.
type credPhase struct {
	Name       string  `json:"name"`
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	PerSecond  float64 `json:"per_second"`
	Ratio      float64 `json:"ratio_to_baseline"`
	P50Millis  float64 `json:"p50_ms"`
	P99Millis  float64 `json:"p99_ms"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	FirstError string  `json:"first_error,omitempty"`
}

func (p *program) benchCred(ctx context.Context, kind, binary string, duration time.Duration, concurrency int, output string) error {
	dir, err := os.MkdirTemp("", "urbis-bench-cred-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	var baseline float64
	baselineName := "raw jws.Verify/s"
	if kind == "verify" {
		fmt.Fprintf(p.stderr, "measuring raw jws.Verify (EdDSA) on %d cores ...\n", runtime.NumCPU())
		baseline, err = jwsVerifyRate(3 * time.Second)
	} else {
		baselineName = "single-row fsync commits/s"
		fmt.Fprintf(p.stderr, "measuring single-row SQLite commits (WAL, synchronous=FULL) ...\n")
		baseline, err = fsyncCommitRate(ctx, dir, 3*time.Second)
	}
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	fmt.Fprintf(p.stderr, "  %s: %.0f\n", baselineName, baseline)

	dataDir := filepath.Join(dir, "data")
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: concurrency * 2, MaxIdleConnsPerHost: concurrency * 2}, Timeout: 30 * time.Second}
	srv, err := p.startServeChild(ctx, binary, dataDir, client)
	if err != nil {
		return err
	}
	defer srv.stop()
	base := srv.base

	out, err := exec.CommandContext(ctx, binary, "agency", "create", "--name", "Bench Agency", "--output", "key", "--data-dir", dataDir).Output()
	if err != nil {
		return fmt.Errorf("agency create: %w", err)
	}
	key := strings.TrimSpace(string(out))
	auth := map[string]string{"Authorization": "Bearer " + key}

	var didResp struct {
		DID string `json:"did"`
	}
	if err := postJSON(ctx, client, base+"/dids", auth, map[string]any{"method": "key", "keyType": "Ed25519"}, &didResp); err != nil {
		return err
	}
	issuer := didResp.DID
	formats := []string{"jwt_vc_json"}
	if kind == "verify" {
		formats = append(formats, "ldp_vc")
	}
	for _, f := range formats {
		body := map[string]any{"did": issuer, "format": f, "types": []string{"BenchCredential"}, "statusPurposes": []string{"revocation"}}
		if err := postJSON(ctx, client, base+"/issuers", auth, body, nil); err != nil {
			return err
		}
	}
	issueBody := func(format string) []byte {
		contexts := []string{"https://www.w3.org/2018/credentials/v1"}
		if format == "ldp_vc" {
			// VC 2.0 defines neither BenchCredential nor name: the
			// undefined-terms context does, so the proof covers them.
			contexts = []string{"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/undefined-terms/v2"}
		}
		b, _ := json.Marshal(map[string]any{
			"credential": map[string]any{
				"@context":          contexts,
				"type":              []string{"VerifiableCredential", "BenchCredential"},
				"issuer":            issuer,
				"credentialSubject": map[string]any{"id": "did:example:alice", "name": "Alice"},
			},
			"options": map[string]any{"format": format},
		})
		return b
	}

	idle, _ := rssMiB(srv.cmd.Process.Pid, "VmRSS")
	fmt.Fprintf(p.stderr, "server pid %d on %s, idle RSS %.1f MiB; %d clients, %s per phase\n", srv.cmd.Process.Pid, srv.base, idle, concurrency, duration)

	type phase struct {
		name string
		url  string
		hdr  map[string]string
		body []byte
	}
	var phases []phase
	if kind == "verify" {
		for _, f := range formats {
			var issued json.RawMessage
			if err := postJSON(ctx, client, base+"/credentials/issue", auth, json.RawMessage(issueBody(f)), &issued); err != nil {
				return err
			}
			// Verify once: it must pass, and it fills the status list cache.
			var v struct {
				Verified bool     `json:"verified"`
				Checks   []string `json:"checks"`
			}
			if err := postJSON(ctx, client, base+"/credentials/verify", nil, issued, &v); err != nil {
				return err
			}
			if !v.Verified || !slices.Contains(v.Checks, "status") {
				return fmt.Errorf("%s: warm-up verification: verified=%v checks=%v", f, v.Verified, v.Checks)
			}
			name := "verify JWT-VC (EdDSA, did:key, status cached)"
			if f == "ldp_vc" {
				name = "verify ldp_vc (eddsa-rdfc-2022, did:key, status cached)"
			}
			phases = append(phases, phase{name, base + "/credentials/verify", nil, issued})
		}
	} else {
		phases = append(phases, phase{"issue JWT-VC (EdDSA, revocation status, anchoring)", base + "/credentials/issue", auth, issueBody("jwt_vc_json")})
	}

	var results []credPhase
	for _, ph := range phases {
		fmt.Fprintf(p.stderr, "running %s ...\n", ph.name)
		r := postLoad(ctx, client, ph.url, ph.hdr, ph.body, duration, concurrency)
		r.Name = ph.name
		r.Ratio = r.PerSecond / baseline
		r.PeakRSSMiB, _ = rssMiB(srv.cmd.Process.Pid, "VmHWM")
		results = append(results, r)
		fmt.Fprintf(p.stderr, "  %d requests, %.0f/s, p99 %.2f ms, %d errors\n", r.Requests, r.PerSecond, r.P99Millis, r.Errors)
	}
	var anchorLag time.Duration
	if kind == "issue" {
		fmt.Fprintf(p.stderr, "waiting for the anchorer to catch up ...\n")
		if anchorLag, err = anchorCatchUp(ctx, client, base, auth, issueBody("jwt_vc_json")); err != nil {
			return err
		}
		fmt.Fprintf(p.stderr, "  every credential anchored %.2f s after the load\n", anchorLag.Seconds())
	}
	if output == "json" {
		res := map[string]any{
			"baseline": baselineName, "baseline_per_second": baseline, "cores": runtime.NumCPU(),
			"idle_rss_mib": idle, "concurrency": concurrency, "duration": duration.String(), "phases": results,
		}
		if kind == "issue" {
			res["anchored_after_load_seconds"] = anchorLag.Seconds()
		}
		return json.NewEncoder(p.stdout).Encode(res)
	}
	fmt.Fprintf(p.stdout, "| phase | requests | errors | per s | %s (baseline) | ratio | p50 ms | p99 ms | peak RSS MiB |\n|---|---|---|---|---|---|---|---|---|\n", baselineName)
	for _, r := range results {
		fmt.Fprintf(p.stdout, "| %s | %d | %d | %.0f | %.0f | %.3f | %.2f | %.2f | %.1f |\n", r.Name, r.Requests, r.Errors, r.PerSecond, baseline, r.Ratio, r.P50Millis, r.P99Millis, r.PeakRSSMiB)
	}
	fmt.Fprintf(p.stdout, "\n%d cores, %d clients, idle RSS before load %.1f MiB\n", runtime.NumCPU(), concurrency, idle)
	if kind == "issue" {
		fmt.Fprintf(p.stdout, "every credential issued was anchored %.2f s after the load ended (anchor interval 1 s, at most 10,000 per anchor)\n", anchorLag.Seconds())
	}
	for _, r := range results {
		if r.Errors > 0 {
			return fmt.Errorf("%s: %d of %d requests failed; first: %s", r.Name, r.Errors, r.Requests, r.FirstError)
		}
	}
	return nil
}

// anchorCatchUp issues one credential with body and returns how long it
// takes until GET /credentials/{leaf}/anchor answers that it is anchored.
func anchorCatchUp(ctx context.Context, client *http.Client, base string, auth map[string]string, body []byte) (time.Duration, error) {
	start := time.Now()
	var issued struct {
		VerifiableCredential struct {
			ID string `json:"id"`
		} `json:"verifiableCredential"`
	}
	if err := postJSON(ctx, client, base+"/credentials/issue", auth, json.RawMessage(body), &issued); err != nil {
		return 0, err
	}
	_, tok, ok := strings.Cut(issued.VerifiableCredential.ID, ",")
	if !ok {
		return 0, fmt.Errorf("issue answered no enveloped credential: %q", issued.VerifiableCredential.ID)
	}
	sum := sha256.Sum256([]byte(tok))
	url := base + "/credentials/" + hex.EncodeToString(sum[:]) + "/anchor"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		for k, v := range auth {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
			return time.Since(start), nil
		case resp.StatusCode != http.StatusAccepted:
			return 0, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, b)
		case time.Since(start) > 5*time.Minute:
			return 0, fmt.Errorf("the last credential is still not anchored after %s", time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// postLoad runs concurrency clients for d, each POSTing body to url, and
// measures.
func postLoad(ctx context.Context, client *http.Client, url string, hdr map[string]string, body []byte, d time.Duration, concurrency int) credPhase {
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      int
		firstErr  string
		wg        sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			var first error
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t := time.Now()
				if err := postBody(ctx, client, url, hdr, body); err != nil {
					bad++
					if first == nil {
						first = err
					}
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			errs += bad
			if first != nil && firstErr == "" {
				firstErr = first.Error()
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(latencies)
	r := credPhase{Requests: len(latencies) + errs, Errors: errs, FirstError: firstErr, PerSecond: float64(len(latencies)) / elapsed.Seconds()}
	if n := len(latencies); n > 0 {
		r.P50Millis = float64(latencies[n*50/100].Microseconds()) / 1000
		r.P99Millis = float64(latencies[min(n-1, n*99/100)].Microseconds()) / 1000
	}
	return r
}

// postJSON POSTs body as JSON and, on a 2xx answer, decodes it into out
// (when not nil).
func postJSON(ctx context.Context, client *http.Client, url string, hdr map[string]string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return post(ctx, client, url, hdr, b, out)
}

// postBody POSTs body, JSON already encoded, and reads the answer: the
// load phases send the same bytes each time, so the load generator does
// not spend the cores' time re-encoding them.
func postBody(ctx context.Context, client *http.Client, url string, hdr map[string]string, body []byte) error {
	return post(ctx, client, url, hdr, body, nil)
}

func post(ctx context.Context, client *http.Client, url string, hdr map[string]string, b []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s %s", url, resp.Status, bytes.TrimSpace(rb))
	}
	if out != nil {
		return json.Unmarshal(rb, out)
	}
	return nil
}
