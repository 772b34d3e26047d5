package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/urbis-id/urbis/internal/node"
)

// nodeBenchFlags are the flags of `urbis bench ops` against running validators.
type nodeBenchFlags struct {
	targets       string
	kvValidators  int
	blockInterval time.Duration
	kvBasePort    int
}

func (f *nodeBenchFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.targets, "target", "", "comma-separated base URLs of running validators (urbis node start) to load instead of starting urbis serve; the load goes round-robin")
	fs.IntVar(&f.kvValidators, "kvstore-validators", -1, "with --target: validators of the CometBFT kvstore baseline network run in the same bench (default: one per target; 0: none)")
	fs.DurationVar(&f.blockInterval, "kvstore-block-interval", 500*time.Millisecond, "with --target: the kvstore network's block interval (use the validators' own)")
	fs.IntVar(&f.kvBasePort, "kvstore-base-port", 27656, "with --target: P2P port of the kvstore network's node0 (node i: +10*i, RPC one more)")
}

// kvstoreCommand runs CometBFT's kvstore example on a validator home:
// the baseline of urbis bench ops --target. Hidden: for the bench only.
func (p *program) nodeKVStoreCommand() *cobra.Command {
	var home, level string
	cmd := &cobra.Command{
		Use:    "kvstore --home DIR",
		Short:  "Run CometBFT's kvstore example application on a validator home (the bench baseline)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := config{LogLevel: level}
			return node.RunKVStore(cmd.Context(), home, p.logger(&cfg))
		},
	}
	cmd.Flags().StringVar(&home, "home", "", "the validator home")
	cmd.Flags().StringVar(&level, "log-level", "warn", "log level")
	return cmd
}

// nodeBenchResult is what bench ops --target reports.
type nodeBenchResult struct {
	Validators    int     `json:"validators"`
	Committed     int     `json:"committed"`
	Failed        int64   `json:"failed"`
	PerSecond     float64 `json:"committed_per_second"`
	P50           float64 `json:"p50_ms"`
	P99           float64 `json:"p99_ms"`
	Blocks        int     `json:"blocks"`
	OpsPerBlock   float64 `json:"mean_ops_per_block"`
	MaxOpsBlock   int     `json:"max_ops_per_block"`
	BlockInterval float64 `json:"mean_block_interval_ms"`
	MaxRSS        float64 `json:"max_validator_rss_mib"`
	KVStore       float64 `json:"kvstore_committed_tx_per_second"`
	Ratio         float64 `json:"ratio_to_kvstore"`
	DIDs          int     `json:"dids"`
}

// benchNodeOps loads running validators as benchOps loads urbis serve,
// and measures CometBFT's kvstore example on the same layout.
func (p *program) benchNodeOps(ctx context.Context, f *nodeBenchFlags, binary string, duration time.Duration, n int, output string) error {
	targets := splitList(f.targets)
	for i, t := range targets {
		targets[i] = strings.TrimRight(t, "/")
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: n + 10, MaxIdleConnsPerHost: n + 10}, Timeout: 30 * time.Second}
	var head struct {
		Chain  string `json:"chain"`
		Height uint64 `json:"height"`
	}
	if err := getJSON(ctx, client, targets[0]+"/registry/head", &head); err != nil {
		return fmt.Errorf("--target %s: %w", targets[0], err)
	}
	fmt.Fprintf(p.stderr, "creating %d did:urbis DIDs on chain %s ...\n", n, head.Chain)
	ds := make([]*benchDID, n)
	var wg sync.WaitGroup
	errc := make(chan error, n)
	sem := make(chan struct{}, 64)
	for i := range ds {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			d, err := benchCreate(ctx, client, targets[i%len(targets)], head.Chain)
			if err != nil {
				errc <- err
				return
			}
			ds[i] = d
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return fmt.Errorf("creating DIDs: %w", err)
	}
	if err := getJSON(ctx, client, targets[0]+"/registry/head", &head); err != nil {
		return err
	}
	h0 := head.Height
	fmt.Fprintf(p.stderr, "submitting did.update operations for %s through %d validator(s) ...\n", duration, len(targets))
	var (
		mu        sync.Mutex
		latencies []time.Duration
		failures  atomic.Int64
		firstErr  atomic.Value
	)
	deadline := time.Now().Add(duration)
	start := time.Now()
	for i, d := range ds {
		base := targets[i%len(targets)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t := time.Now()
				if err := benchUpdate(ctx, client, base, head.Chain, d); err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	res := nodeBenchResult{Validators: len(targets), Committed: len(latencies), Failed: failures.Load(), DIDs: n}
	res.PerSecond = float64(len(latencies)) / elapsed.Seconds()
	slices.Sort(latencies)
	if k := len(latencies); k > 0 {
		res.P50 = float64(latencies[k/2].Microseconds()) / 1000
		res.P99 = float64(latencies[min(k-1, k*99/100)].Microseconds()) / 1000
	}
	if err := getJSON(ctx, client, targets[0]+"/registry/head", &head); err != nil {
		return err
	}
	if err := blockStats(ctx, client, targets[0], h0, head.Height, &res); err != nil {
		return err
	}
	for _, t := range targets {
		if rss, err := scrapeRSS(ctx, client, t); err == nil {
			res.MaxRSS = max(res.MaxRSS, rss)
		}
	}
	kv := f.kvValidators
	if kv < 0 {
		kv = len(targets)
	}
	if kv > 0 {
		fmt.Fprintf(p.stderr, "measuring CometBFT's kvstore example on %d validators for %s ...\n", kv, duration)
		rate, err := p.benchKVStore(ctx, binary, kv, f, duration, n)
		if err != nil {
			return fmt.Errorf("kvstore baseline: %w", err)
		}
		res.KVStore = rate
		if rate > 0 {
			res.Ratio = res.PerSecond / rate
		}
	}
	if output == "json" {
		return json.NewEncoder(p.stdout).Encode(res)
	}
	fmt.Fprintf(p.stdout, "| validators | committed ops | failed | committed ops/s | p50 submit→commit ms | p99 ms | blocks | mean ops/block | max ops/block | mean block interval ms | max validator RSS MiB | kvstore tx/s (baseline) | ratio to kvstore |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(p.stdout, "| %d | %d | %d | %.0f | %.1f | %.1f | %d | %.0f | %d | %.0f | %.0f | %.0f | %.2f |\n", res.Validators, res.Committed, res.Failed, res.PerSecond,
		res.P50, res.P99, res.Blocks, res.OpsPerBlock, res.MaxOpsBlock, res.BlockInterval, res.MaxRSS, res.KVStore, res.Ratio)
	if res.Failed > 0 {
		return fmt.Errorf("%d operations failed; first: %v", res.Failed, firstErr.Load())
	}
	return nil
}

func getJSON(ctx context.Context, client *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s %s", u, resp.Status, b)
	}
	return json.Unmarshal(b, v)
}

// blockStats reads the registry blocks after h0 up to h1.
func blockStats(ctx context.Context, client *http.Client, base string, h0, h1 uint64, res *nodeBenchResult) error {
	var first, last time.Time
	for h := h0 + 1; h <= h1; h++ {
		var b struct {
			Header struct {
				OpCount int       `json:"opCount"`
				Time    time.Time `json:"time"`
			} `json:"header"`
		}
		if err := getJSON(ctx, client, fmt.Sprintf("%s/registry/blocks/%d", base, h), &b); err != nil {
			return err
		}
		res.Blocks++
		res.MaxOpsBlock = max(res.MaxOpsBlock, b.Header.OpCount)
		if h == h0+1 {
			first = b.Header.Time
		}
		last = b.Header.Time
	}
	if res.Blocks > 0 {
		res.OpsPerBlock = float64(res.Committed) / float64(res.Blocks)
	}
	if res.Blocks > 1 {
		res.BlockInterval = float64(last.Sub(first).Milliseconds()) / float64(res.Blocks-1)
	}
	return nil
}

// scrapeRSS reads process_resident_memory_bytes from a validator's /metrics.
func scrapeRSS(ctx context.Context, client *http.Client, base string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "process_resident_memory_bytes "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f / (1 << 20), err
		}
	}
	return 0, fmt.Errorf("%s/metrics has no process_resident_memory_bytes", base)
}

// benchKVStore runs CometBFT's kvstore example on a fresh network of
// validators (child processes, the same consensus settings as urbis node
// localnet), loads it with clients clients sending key=value
// transactions (broadcast_tx_sync) for d, and returns the transactions
// committed per second, counted from the blocks.
func (p *program) benchKVStore(ctx context.Context, binary string, validators int, f *nodeBenchFlags, d time.Duration, clients int) (float64, error) {
	dir, err := os.MkdirTemp("", "urbis-bench-kvstore-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	dirs := make([]string, validators)
	for i := range dirs {
		dirs[i] = filepath.Join(dir, fmt.Sprintf("node%d", i))
	}
	net, err := node.CreateNet(dirs, filepath.Join(dir, "governance.key"), node.NetOptions{ChainID: "kvstore-bench", Validators: validators,
		Host: "127.0.0.1", BasePort: f.kvBasePort, APIBasePort: 1, BlockInterval: f.blockInterval, Now: time.Now()})
	if err != nil {
		return 0, err
	}
	var procs []*exec.Cmd
	defer func() {
		for _, c := range procs {
			_ = c.Process.Signal(os.Interrupt)
			_ = c.Wait()
		}
	}()
	for _, h := range net.Homes {
		c := exec.CommandContext(ctx, binary, "node", "kvstore", "--home", h.Dir, "--log-level", "error")
		c.Env = append(os.Environ(), "URBIS_TEST_AS_MAIN=1")
		c.Stderr = p.stderr
		if err := c.Start(); err != nil {
			return 0, err
		}
		procs = append(procs, c)
	}
	rpc := "http://" + net.Homes[0].RPC
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: clients + 10, MaxIdleConnsPerHost: clients + 10}, Timeout: 30 * time.Second}
	height := func() (int64, error) {
		var st struct {
			Result struct {
				SyncInfo struct {
					Height string `json:"latest_block_height"`
				} `json:"sync_info"`
			} `json:"result"`
		}
		if err := getJSON(ctx, client, rpc+"/status", &st); err != nil {
			return 0, err
		}
		return strconv.ParseInt(st.Result.SyncInfo.Height, 10, 64)
	}
	// The network is up once it has made its first block.
	for wait := time.Now().Add(60 * time.Second); ; {
		if h, err := height(); err == nil && h >= 1 {
			break
		}
		if time.Now().After(wait) {
			return 0, fmt.Errorf("the kvstore network made no block in 60s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	h0, err := height()
	if err != nil {
		return 0, err
	}
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for c := range clients {
		rpcOf := "http://" + net.Homes[c%validators].RPC
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; time.Now().Before(deadline) && ctx.Err() == nil; k++ {
				tx := fmt.Sprintf("\"bench-%d-%d=%d\"", c, k, time.Now().UnixNano())
				var out json.RawMessage
				if getJSON(ctx, client, rpcOf+"/broadcast_tx_sync?tx="+url.QueryEscape(tx), &out) != nil {
					time.Sleep(10 * time.Millisecond) // mempool full: back off
				}
			}
		}()
	}
	wg.Wait()
	h1, err := height()
	if err != nil {
		return 0, err
	}
	// Count the transactions of the blocks made during the load.
	var txs int
	var first, last time.Time
	for h := h0 + 1; h <= h1; h++ {
		var b struct {
			Result struct {
				Block struct {
					Header struct {
						Time time.Time `json:"time"`
					} `json:"header"`
					Data struct {
						Txs []string `json:"txs"`
					} `json:"data"`
				} `json:"block"`
			} `json:"result"`
		}
		if err := getJSON(ctx, client, fmt.Sprintf("%s/block?height=%d", rpc, h), &b); err != nil {
			return 0, err
		}
		txs += len(b.Result.Block.Data.Txs)
		if h == h0+1 {
			first = b.Result.Block.Header.Time
		}
		last = b.Result.Block.Header.Time
	}
	span := last.Sub(first)
	if span <= 0 {
		span = d
	}
	fmt.Fprintf(p.stderr, "  kvstore: %d transactions in %d blocks over %s\n", txs, h1-h0, span.Round(time.Millisecond))
	return float64(txs) / max(span.Seconds(), d.Seconds()), nil
}
