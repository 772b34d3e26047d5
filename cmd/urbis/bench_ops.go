package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/registry"
)

func (p *program) benchOpsCommand() *cobra.Command {
	var (
		duration time.Duration
		dids     int
		output   string
		binary   string
		nb       nodeBenchFlags
	)
	cmd := &cobra.Command{
		Use:   "ops",
		Short: "Measure committed registry operations per second against raw Ed25519 verification",
		Long: `Measures, in one run, the raw Ed25519 verification rate of this machine on all
its cores (the baseline), then starts urbis serve as a child process on a
fresh SQLite data directory, creates --dids did:urbis DIDs, and has one
client per DID submit signed did.update operations over HTTP with
wait=true for --duration. It reports committed operations per second, their
ratio to the baseline, and p50/p99 latency from submission to commit.`,
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
			if nb.targets != "" {
				return p.benchNodeOps(cmd.Context(), &nb, binary, duration, dids, output)
			}
			return p.benchOps(cmd.Context(), binary, duration, dids, output)
		},
	}
	nb.bind(cmd.Flags())
	cmd.Flags().DurationVar(&duration, "duration", 10*time.Second, "how long the load runs")
	cmd.Flags().IntVar(&dids, "dids", 2000, "DIDs updated concurrently (one client each)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&binary, "binary", "", "urbis binary to start (default: this one)")
	return cmd
}

// verifyRate measures Ed25519 verifications per second on every core.
func verifyRate(d time.Duration) float64 {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := []byte("urbis registry operation")
	sig := ed25519.Sign(priv, msg)
	var n atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	start := time.Now()
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				for range 100 {
					ed25519.Verify(pub, msg, sig)
				}
				n.Add(100)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

// benchDID is one did:urbis the load updates.
type benchDID struct {
	id      string
	key     ed25519.PrivateKey
	nonce   uint64
	version uint64
}

func (p *program) benchOps(ctx context.Context, binary string, duration time.Duration, n int, output string) error {
	fmt.Fprintf(p.stderr, "measuring raw Ed25519 verification on %d cores ...\n", runtime.NumCPU())
	baseline := verifyRate(3 * time.Second)
	fmt.Fprintf(p.stderr, "  %.0f verifications/s\n", baseline)

	dir, err := os.MkdirTemp("", "urbis-bench-ops-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dataDir := filepath.Join(dir, "data")
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: n + 10, MaxIdleConnsPerHost: n + 10}, Timeout: 30 * time.Second}
	srv, err := p.startServeChild(ctx, binary, dataDir, client)
	if err != nil {
		return err
	}
	defer srv.stop()
	base := srv.base
	g, err := registry.LoadGenesis(filesIn(dataDir).Genesis)
	if err != nil {
		return err
	}

	fmt.Fprintf(p.stderr, "creating %d did:urbis DIDs ...\n", n)
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
			d, err := benchCreate(ctx, client, base, g.ChainID)
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

	// Sign the updates before the clock starts, as many as the clients
	// could commit at 15,000/s (a wallet signs its own operations: the
	// benchmark measures the server); a client that runs out signs more
	// as it goes.
	perDID := max(1, int(duration.Seconds()*15000)/n)
	fmt.Fprintf(p.stderr, "signing %d did.update operations ...\n", perDID*n)
	signed := make([][][]byte, n)
	for i, d := range ds {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			next := *d
			for range perDID {
				body, err := benchSignUpdate(g.ChainID, &next)
				if err != nil {
					panic(err) // a fixed document and a fresh key cannot fail to sign
				}
				signed[i] = append(signed[i], body)
			}
		}()
	}
	wg.Wait()

	fmt.Fprintf(p.stderr, "submitting did.update operations for %s ...\n", duration)
	var (
		mu        sync.Mutex
		latencies []time.Duration
		failures  atomic.Int64
		firstErr  atomic.Value
	)
	cpu0, cpuErr := cpuSeconds(srv.cmd.Process.Pid)
	self0, selfErr := cpuSeconds(os.Getpid())
	deadline := time.Now().Add(duration)
	start := time.Now()
	for i, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t := time.Now()
				var err error
				if len(signed[i]) > 0 {
					if err = benchPost(ctx, client, base, registry.KindDIDUpdate, signed[i][0]); err == nil {
						signed[i] = signed[i][1:]
						d.nonce++
						d.version++
					}
				} else {
					err = benchUpdate(ctx, client, base, g.ChainID, d)
				}
				if err != nil {
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
	cpu1, err := cpuSeconds(srv.cmd.Process.Pid)
	cpuErr = errors.Join(cpuErr, err)
	self1, err := cpuSeconds(os.Getpid())
	selfErr = errors.Join(selfErr, err)
	slices.Sort(latencies)
	res := struct {
		Baseline  float64 `json:"ed25519_verify_per_second"`
		Committed int     `json:"committed"`
		Failed    int64   `json:"failed"`
		PerSecond float64 `json:"committed_per_second"`
		Ratio     float64 `json:"ratio_to_baseline"`
		P50       float64 `json:"p50_ms"`
		P99       float64 `json:"p99_ms"`
		PeakRSS   float64 `json:"peak_rss_mib"`
		// ServerCPU is the server's CPU time (user and system) per
		// committed operation, in microseconds: what an operation costs
		// the server, however loaded the machine is.
		ServerCPU float64 `json:"server_cpu_us_per_op"`
		// ClientCPU is the same for this process, the load generator,
		// which shares the machine's cores with the server.
		ClientCPU float64 `json:"client_cpu_us_per_op"`
		DIDs      int     `json:"dids"`
	}{Baseline: baseline, Committed: len(latencies), Failed: failures.Load(), DIDs: n}
	res.PerSecond = float64(len(latencies)) / elapsed.Seconds()
	res.Ratio = res.PerSecond / baseline
	if k := len(latencies); k > 0 {
		res.P50 = float64(latencies[k/2].Microseconds()) / 1000
		res.P99 = float64(latencies[min(k-1, k*99/100)].Microseconds()) / 1000
	}
	res.PeakRSS, _ = rssMiB(srv.cmd.Process.Pid, "VmHWM")
	if cpuErr == nil && len(latencies) > 0 {
		res.ServerCPU = (cpu1 - cpu0) * 1e6 / float64(len(latencies))
	}
	if selfErr == nil && len(latencies) > 0 {
		res.ClientCPU = (self1 - self0) * 1e6 / float64(len(latencies))
	}
	if output == "json" {
		return json.NewEncoder(p.stdout).Encode(res)
	}
	fmt.Fprintf(p.stdout, "| Ed25519 verify/s (baseline) | committed ops | failed | committed ops/s | ratio to baseline | p50 submit→commit ms | p99 ms | peak RSS MiB | server CPU µs/op | client CPU µs/op |\n|---|---|---|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(p.stdout, "| %.0f | %d | %d | %.0f | %.3f | %.1f | %.1f | %.1f | %.0f | %.0f |\n", res.Baseline, res.Committed, res.Failed, res.PerSecond, res.Ratio, res.P50, res.P99, res.PeakRSS, res.ServerCPU, res.ClientCPU)
	if res.Failed > 0 {
		return fmt.Errorf("%d operations failed; first: %v", res.Failed, firstErr.Load())
	}
	return nil
}

// benchDocument is a one-key did:urbis document; serial varies the service
// so that each update changes the document.
func benchDocument(pub ed25519.PublicKey, serial uint64) (registry.DocumentSpec, error) {
	mk, err := did.EncodeMultikey(pub)
	if err != nil {
		return registry.DocumentSpec{}, err
	}
	return registry.DocumentSpec{
		VerificationMethod:   []registry.MethodSpec{{ID: "#key-1", Type: did.TypeMultikey, PublicKeyMultibase: mk}},
		Authentication:       []string{"#key-1"},
		CapabilityInvocation: []string{"#key-1"},
		Service:              []registry.ServiceSpec{{ID: "#home", Type: "LinkedDomains", ServiceEndpoint: fmt.Sprintf("https://example.org/%d", serial)}},
	}, nil
}

func benchCreate(ctx context.Context, client *http.Client, base, chain string) (*benchDID, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	spec, err := benchDocument(pub, 0)
	if err != nil {
		return nil, err
	}
	id, payload, err := registry.NewDIDCreate(spec)
	if err != nil {
		return nil, err
	}
	d := &benchDID{id: id, key: priv}
	if err := benchSubmit(ctx, client, base, chain, d, registry.KindDIDCreate, payload); err != nil {
		return nil, err
	}
	return d, nil
}

// benchUpdate signs and submits d's next did.update with wait=true; d
// counts it only once it is committed, so a failed one is signed again.
func benchUpdate(ctx context.Context, client *http.Client, base, chain string, d *benchDID) error {
	next := *d
	body, err := benchSignUpdate(chain, &next)
	if err != nil {
		return err
	}
	if err := benchPost(ctx, client, base, registry.KindDIDUpdate, body); err != nil {
		return err
	}
	*d = next
	return nil
}

// benchSignUpdate signs d's next did.update and returns the request body.
// It counts the update as made: the caller posts the bodies in order.
func benchSignUpdate(chain string, d *benchDID) ([]byte, error) {
	spec, err := benchDocument(d.key.Public().(ed25519.PublicKey), d.version+1)
	if err != nil {
		return nil, err
	}
	return benchSign(chain, d, registry.KindDIDUpdate, registry.DIDUpdate{DID: d.id, PreviousVersion: d.version, Document: spec})
}

// benchSubmit signs and submits one operation of d with wait=true; d
// counts it only once it is committed.
func benchSubmit(ctx context.Context, client *http.Client, base, chain string, d *benchDID, kind registry.Kind, payload any) error {
	next := *d
	body, err := benchSign(chain, &next, kind, payload)
	if err != nil {
		return err
	}
	if err := benchPost(ctx, client, base, kind, body); err != nil {
		return err
	}
	*d = next
	return nil
}

// benchSign signs d's next operation and returns the request body.
func benchSign(chain string, d *benchDID, kind registry.Kind, payload any) ([]byte, error) {
	op, err := registry.NewOperation(chain, kind, d.id+"#key-1", d.nonce+1, payload)
	if err != nil {
		return nil, err
	}
	signed, err := registry.Sign(op, d.key)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(map[string]string{"operation": signed.JWS})
	if err != nil {
		return nil, err
	}
	d.nonce++
	d.version++ // a did.create makes version 1, each did.update the next
	return body, nil
}

// benchPost submits a signed operation with wait=true and wants 201.
func benchPost(ctx context.Context, client *http.Client, base string, kind registry.Kind, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/registry/operations?wait=true", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("%s: %s %s", kind, resp.Status, b)
	}
	return nil
}

// cpuSeconds reads the CPU time (user and system) a process has used
// from /proc/PID/stat, counted in clock ticks of 1/100 s (Linux's
// USER_HZ on every common architecture).
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses and
	// may hold spaces: state is the first; utime and stime the 12th and 13th.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	var ticks float64
	for _, s := range f[11:13] {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += float64(n)
	}
	return ticks / 100, nil
}
