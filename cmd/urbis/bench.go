package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/did"
)

func (p *program) benchCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the service under load",
	}
	cmd.AddCommand(append([]*cobra.Command{p.benchResolveCommand(), p.benchOpsCommand(), p.benchScaleCommand(), p.benchTransfersCommand(), p.benchBallotsCommand()}, append(p.benchCredCommands(), p.benchOID4VCCommands()...)...)...)
	return cmd
}

// benchResult is one measured phase.
type benchResult struct {
	Name        string  `json:"name"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	PerSecond   float64 `json:"per_second"`
	P50Millis   float64 `json:"p50_ms"`
	P99Millis   float64 `json:"p99_ms"`
	RatioHealth float64 `json:"ratio_to_healthz"`
	PeakRSSMiB  float64 `json:"peak_rss_mib"`
}

func (p *program) benchResolveCommand() *cobra.Command {
	var (
		duration    time.Duration
		concurrency int
		output      string
		binary      string
	)
	cmd := &cobra.Command{
		Use:   "resolve",
		Short: "Compare did:key and cached did:web resolution with /healthz through the real HTTP server",
		Long: `Starts urbis serve as a child process on a random loopback port with a fresh
data directory, and a did:web host (HTTPS on loopback, trusted through
--did-web-ca-file). It then loads /healthz, then did:key resolution, then
cached did:web resolution, each for --duration with --concurrency clients,
and reports requests per second, p50 and p99 latency, each phase's ratio
to /healthz measured in the same run, the server's resident memory when idle,
and its peak resident memory after each phase.`,
		Args: cobra.NoArgs,
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
			return p.benchResolve(cmd.Context(), binary, duration, concurrency, output)
		},
	}
	cmd.Flags().DurationVar(&duration, "duration", 5*time.Second, "how long each phase runs")
	cmd.Flags().IntVar(&concurrency, "concurrency", 16, "concurrent clients")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&binary, "binary", "", "urbis binary to start (default: this one)")
	return cmd
}

func (p *program) benchResolve(ctx context.Context, binary string, duration time.Duration, concurrency int, output string) error {
	dir, err := os.MkdirTemp("", "urbis-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	webDID, web, caFile, err := startDIDWebHost(dir)
	if err != nil {
		return err
	}
	defer web.Close()

	client := &http.Client{Transport: &http.Transport{MaxIdleConns: concurrency * 2, MaxIdleConnsPerHost: concurrency * 2}, Timeout: 10 * time.Second}
	srv, err := p.startServeChild(ctx, binary, filepath.Join(dir, "data"), client, "--did-web-allow-private", "--did-web-ca-file", caFile)
	if err != nil {
		return err
	}
	defer srv.stop()
	base := srv.base

	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	keyDID, err := did.NewKey(pub)
	if err != nil {
		return err
	}
	// Warm up: the first did:web resolution fills the cache.
	warm := base + "/1.0/identifiers/" + webDID
	if err := getOK(ctx, client, warm); err != nil {
		return fmt.Errorf("did:web warm-up: %w", err)
	}
	time.Sleep(500 * time.Millisecond)
	idle, _ := rssMiB(srv.cmd.Process.Pid, "VmRSS")
	fmt.Fprintf(p.stderr, "server pid %d on %s, idle RSS %.1f MiB; %d clients, %s per phase\n", srv.cmd.Process.Pid, srv.base, idle, concurrency, duration)

	// Distinct did:keys, more than the resolver cache holds, so that every
	// resolution derives its document afresh.
	distinct := make([]string, 4*did.DefaultCacheSize)
	for i := range distinct {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		d, err := did.NewKey(pub)
		if err != nil {
			return err
		}
		distinct[i] = base + "/1.0/identifiers/" + d.String()
	}
	same := func(u string) func(int) string { return func(int) string { return u } }
	phases := []struct {
		name string
		url  func(i int) string
	}{
		{"healthz", same(base + "/healthz")},
		{"did:key", same(base + "/1.0/identifiers/" + keyDID.String())},
		{"did:web (cached)", same(warm)},
		{"did:key (distinct, uncached)", func(i int) string { return distinct[i%len(distinct)] }},
	}
	var results []benchResult
	for _, ph := range phases {
		fmt.Fprintf(p.stderr, "running %s ...\n", ph.name)
		r := loadPhase(ctx, client, ph.url, duration, concurrency)
		r.Name = ph.name
		r.PeakRSSMiB, _ = rssMiB(srv.cmd.Process.Pid, "VmHWM")
		if len(results) > 0 && results[0].PerSecond > 0 {
			r.RatioHealth = r.PerSecond / results[0].PerSecond
		} else {
			r.RatioHealth = 1
		}
		results = append(results, r)
		fmt.Fprintf(p.stderr, "  %d requests, %.0f/s, p99 %.2f ms, %d errors\n", r.Requests, r.PerSecond, r.P99Millis, r.Errors)
	}
	if output == "json" {
		return json.NewEncoder(p.stdout).Encode(map[string]any{"idle_rss_mib": idle, "concurrency": concurrency, "duration": duration.String(), "phases": results})
	}
	fmt.Fprintf(p.stdout, "| phase | requests | errors | req/s | p50 ms | p99 ms | ratio to /healthz | peak RSS MiB |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		fmt.Fprintf(p.stdout, "| %s | %d | %d | %.0f | %.2f | %.2f | %.2f | %.1f |\n", r.Name, r.Requests, r.Errors, r.PerSecond, r.P50Millis, r.P99Millis, r.RatioHealth, r.PeakRSSMiB)
	}
	fmt.Fprintf(p.stdout, "\nidle RSS before load: %.1f MiB\n", idle)
	for _, r := range results {
		if r.Errors > 0 {
			return fmt.Errorf("%s: %d of %d requests failed", r.Name, r.Errors, r.Requests)
		}
	}
	return nil
}

// serveChild is urbis serve running as a child process of a benchmark.
type serveChild struct {
	cmd  *exec.Cmd
	base string
}

// startServeChild starts binary serve on a free loopback port with dataDir,
// no rate limit and quiet logs (plus extra flags), and waits until it is
// ready.
func (p *program) startServeChild(ctx context.Context, binary, dataDir string, client *http.Client, extra ...string) (*serveChild, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve", "--addr", addr, "--data-dir", dataDir, "--rate-limit", "0", "--log-level", "error"}, extra...)
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, p.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s serve: %w", binary, err)
	}
	c := &serveChild{cmd: cmd, base: "http://" + addr}
	if err := waitReady(ctx, client, c.base+"/readyz", 60*time.Second); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// stop ends the child with SIGTERM and waits for it.
func (c *serveChild) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	_ = c.cmd.Wait()
}

// loadPhase runs concurrency clients for d, each GETting url(n) for its
// n-th request, and measures.
func loadPhase(ctx context.Context, client *http.Client, url func(n int) string, d time.Duration, concurrency int) benchResult {
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      int
		wg        sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for w := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for n := w; time.Now().Before(deadline) && ctx.Err() == nil; n += concurrency {
				t := time.Now()
				if err := getOK(ctx, client, url(n)); err != nil {
					bad++
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(latencies)
	r := benchResult{Requests: len(latencies) + errs, Errors: errs, PerSecond: float64(len(latencies)) / elapsed.Seconds()}
	if n := len(latencies); n > 0 {
		r.P50Millis = float64(latencies[n*50/100].Microseconds()) / 1000
		r.P99Millis = float64(latencies[min(n-1, n*99/100)].Microseconds()) / 1000
	}
	return r
}

func getOK(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

func waitReady(ctx context.Context, client *http.Client, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		if getOK(ctx, client, url) == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server not ready at %s after %s", url, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// startDIDWebHost serves a did:web document over HTTPS on loopback and
// writes its certificate to a CA file the server can trust.
func startDIDWebHost(dir string) (string, *httptest.Server, string, error) {
	mux := http.NewServeMux()
	var doc []byte
	mux.HandleFunc("/.well-known/did.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/did+json")
		_, _ = w.Write(doc)
	})
	ts := httptest.NewTLSServer(mux)
	u, _ := url.Parse(ts.URL)
	id := "did:web:" + strings.ReplaceAll(u.Host, ":", "%3A")
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		ts.Close()
		return "", nil, "", err
	}
	mk, err := did.EncodeMultikey(pub)
	if err != nil {
		ts.Close()
		return "", nil, "", err
	}
	doc, _ = json.Marshal(map[string]any{
		"@context": []string{"https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"},
		"id":       id,
		"verificationMethod": []map[string]string{{
			"id": id + "#key-1", "type": "Multikey", "controller": id, "publicKeyMultibase": mk,
		}},
		"assertionMethod": []string{id + "#key-1"},
	})
	caFile := filepath.Join(dir, "did-web-ca.pem")
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	if err := os.WriteFile(caFile, cert, 0o600); err != nil {
		ts.Close()
		return "", nil, "", err
	}
	return id, ts, caFile, nil
}

func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// rssMiB reads a memory figure (VmRSS, VmHWM) of a process from /proc.
func rssMiB(pid int, field string) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err != nil {
				return 0, err
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}
