package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/registry"
)

func (p *program) benchScaleCommand() *cobra.Command {
	var (
		dids, small      int
		rounds           int
		duration, warmup time.Duration
		binary, dir      string
	)
	cmd := &cobra.Command{
		Use:   "scale",
		Short: "Resolve did:urbis with a million DIDs in state against a thousand, and time registry verify",
		Long: `Builds two chains on SQLite with an in-process solo engine: one with --small
did:urbis DIDs and one with --dids (each a signed did.create, committed in
blocks). For each it starts urbis serve as a child process, runs the load
unmeasured for --warmup (the server loads its signer filter in the
background after it is ready, and its caches fill), then measures did:urbis
resolution throughput over HTTP for --duration with 16 clients on randomly
chosen DIDs of a sample of 1,000 (the first in key order). It alternates
small and large for --rounds rounds, so that the machine's noise hits both
alike, and reports the ratio of the large chain's mean to the small's.
Then it runs urbis registry verify on the large chain as a child process and
reports operations replayed per second and its peak resident memory.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if binary == "" {
				exe, err := os.Executable()
				if err != nil {
					return err
				}
				binary = exe
			}
			if dir == "" {
				d, err := os.MkdirTemp("", "urbis-bench-scale-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(d)
				dir = d
			}
			if rounds < 1 {
				return errkind.New(errkind.Invalid, "--rounds %d: want at least 1", rounds)
			}
			return p.benchScale(cmd.Context(), binary, dir, small, dids, rounds, warmup, duration)
		},
	}
	cmd.Flags().IntVar(&dids, "dids", 1_000_000, "DIDs in the large chain")
	cmd.Flags().IntVar(&small, "small", 1_000, "DIDs in the small chain")
	cmd.Flags().DurationVar(&duration, "duration", 5*time.Second, "how long each resolution phase is measured")
	cmd.Flags().IntVar(&rounds, "rounds", 2, "resolution rounds, each measuring the small chain then the large")
	cmd.Flags().DurationVar(&warmup, "warmup", 3*time.Second, "how long each resolution phase runs before it is measured")
	cmd.Flags().StringVar(&binary, "binary", "", "urbis binary to start (default: this one)")
	cmd.Flags().StringVar(&dir, "dir", "", "where to build the chains (default: a temporary directory, removed after)")
	return cmd
}

func (p *program) benchScale(ctx context.Context, binary, dir string, small, large, rounds int, warmup, d time.Duration) error {
	type result struct {
		dids      int
		perSecond []float64
		p99       []float64
	}
	res := []*result{{dids: small}, {dids: large}}
	samples := make([][]string, 2)
	dirs := make([]string, 2)
	for i, r := range res {
		dirs[i] = filepath.Join(dir, fmt.Sprintf("chain-%d", r.dids))
		sample, err := p.chainFor(ctx, dirs[i], r.dids)
		if err != nil {
			return err
		}
		samples[i] = sample
	}
	// Small, large, small, large: the machine's noise hits both alike.
	for round := range rounds {
		for i, r := range res {
			lr, err := p.resolveLoad(ctx, binary, dirs[i], samples[i], warmup, d)
			if err != nil {
				return err
			}
			r.perSecond = append(r.perSecond, lr.PerSecond)
			r.p99 = append(r.p99, lr.P99Millis)
			fmt.Fprintf(p.stderr, "  round %d, %d DIDs: %.0f resolutions/s, p99 %.2f ms\n", round+1, r.dids, lr.PerSecond, lr.P99Millis)
		}
	}
	largeDir := dirs[1]
	mean := func(v []float64) float64 {
		t := 0.0
		for _, x := range v {
			t += x
		}
		return t / float64(len(v))
	}
	fmt.Fprintf(p.stderr, "running urbis registry verify on the chain of %d ...\n", large)
	vcmd := exec.CommandContext(ctx, binary, "registry", "verify", "--data-dir", largeDir, "--log-level", "error")
	vcmd.Stdout, vcmd.Stderr = io.Discard, io.Discard
	vstart := time.Now()
	if err := vcmd.Start(); err != nil {
		return fmt.Errorf("start registry verify: %w", err)
	}
	peak := peakRSS(vcmd.Process.Pid)
	err := vcmd.Wait()
	vtime := time.Since(vstart)
	if err != nil {
		return fmt.Errorf("registry verify failed on the benchmark chain: %w", err)
	}
	fmt.Fprintf(p.stdout, "| DIDs in state | did:urbis resolutions/s (mean of %d rounds) | rounds | p99 ms | ratio to %d DIDs |\n|---|---|---|---|---|\n", rounds, small)
	for _, r := range res {
		each := make([]string, len(r.perSecond))
		for i, v := range r.perSecond {
			each[i] = strconv.FormatFloat(v, 'f', 0, 64)
		}
		fmt.Fprintf(p.stdout, "| %d | %.0f | %s | %.2f | %.2f |\n", r.dids, mean(r.perSecond), strings.Join(each, ", "), mean(r.p99), mean(r.perSecond)/mean(res[0].perSecond))
	}
	fmt.Fprintf(p.stdout, "\nregistry verify: %d operations replayed in %s = %.0f ops/s, peak RSS %.1f MiB\n",
		large, vtime.Round(time.Millisecond), float64(large)/vtime.Seconds(), peak())
	return nil
}

// peakRSS watches the high-water mark of pid's resident memory (VmHWM)
// until the process is gone, and returns a function giving the last
// reading (call it after waiting for the process). The kernel's own
// peak for a child (rusage maxrss) is no use here: it counts the memory
// of this process, which the child shared until it exec'd. The first
// reading is taken before it returns (right after exec.Cmd.Start, which
// returns once the child has exec'd), so that a short child on a busy
// machine, gone before the watcher's goroutine first ran, still has one.
func peakRSS(pid int) func() float64 {
	peak, _ := rssMiB(pid, "VmHWM") // read only after done is closed
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			v, err := rssMiB(pid, "VmHWM")
			if err != nil {
				return // exited (or a zombie, which has no memory)
			}
			peak = max(peak, v)
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return func() float64 {
		<-done
		return peak
	}
}

// chainFor reuses the chain in dataDir if there is one, or builds it, and
// returns up to 1,000 of its DIDs.
func (p *program) chainFor(ctx context.Context, dataDir string, n int) ([]string, error) {
	if _, err := os.Stat(filesIn(dataDir).Genesis); err == nil {
		fmt.Fprintf(p.stderr, "reusing the chain in %s\n", dataDir)
		db, err := store.Open(ctx, filepath.Join(dataDir, "urbis.db"))
		if err != nil {
			return nil, err
		}
		defer db.Close()
		return db.SampleDIDs(ctx, 1000)
	}
	fmt.Fprintf(p.stderr, "building a chain of %d did:urbis DIDs in %s ...\n", n, dataDir)
	start := time.Now()
	sample, err := p.buildChain(ctx, dataDir, n)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(p.stderr, "  built in %s (%.0f ops/s)\n", time.Since(start).Round(time.Second), float64(n)/time.Since(start).Seconds())
	return sample, nil
}

// buildChain initialises dataDir and commits n did.create operations with
// an in-process solo engine; it returns up to 1,000 of the DIDs.
func (p *program) buildChain(ctx context.Context, dataDir string, n int) ([]string, error) {
	g, err := initChain(dataDir, "urbis-bench", time.Now().UTC())
	if err != nil {
		return nil, err
	}
	val, err := registry.ReadKeyFile(filesIn(dataDir).ValidatorKey)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, filepath.Join(dataDir, "urbis.db"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if _, err := db.MigrateUp(ctx); err != nil {
		return nil, err
	}
	eng, err := registry.NewSolo(registry.SoloConfig{Store: db, Genesis: g, ValidatorID: g.Validators[0].ID, ValidatorKey: val,
		Interval: 50 * time.Millisecond, MaxOps: g.Params.MaxBlockOps, Clock: time.Now})
	if err != nil {
		return nil, err
	}
	ectx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- eng.Run(ectx) }()
	defer func() { stop(); <-done }()

	// Many concurrent submitters, as a bulk loader should be: on a ZIP 215
	// chain the engine checks concurrent submissions' signatures in
	// batches, and a check waits up to 2 ms for others to join it.
	const workers, batch = 32, 250
	var (
		mu     sync.Mutex
		sample []string
		next   int
		wg     sync.WaitGroup
		errc   = make(chan error, workers)
		last   = time.Now()
		made   int
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				k := min(batch, n-next)
				next += k
				mu.Unlock()
				if k <= 0 {
					return
				}
				hashes := make([]string, 0, k)
				for range k {
					id, signed, err := signedDIDCreate(g.ChainID)
					if err != nil {
						errc <- err
						return
					}
					for {
						_, err = eng.Submit(ctx, signed.JWS)
						if !errors.Is(err, errkind.Unavailable) {
							break
						}
						time.Sleep(10 * time.Millisecond)
					}
					if err != nil {
						errc <- err
						return
					}
					hashes = append(hashes, signed.Hash)
					mu.Lock()
					if len(sample) < 1000 {
						sample = append(sample, id)
					}
					mu.Unlock()
				}
				for _, h := range hashes {
					st, err := eng.Wait(ctx, h)
					if err != nil || st.Status != registry.StatusCommitted {
						errc <- fmt.Errorf("operation %s: %+v %v", h, st, err)
						return
					}
				}
				mu.Lock()
				made += k
				if time.Since(last) > 5*time.Second {
					last = time.Now()
					fmt.Fprintf(p.stderr, "  %d of %d committed\n", made, n)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return nil, err
	}
	return sample, nil
}

func signedDIDCreate(chain string) (string, registry.SignedOp, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", registry.SignedOp{}, err
	}
	spec, err := benchDocument(pub, 0)
	if err != nil {
		return "", registry.SignedOp{}, err
	}
	id, payload, err := registry.NewDIDCreate(spec)
	if err != nil {
		return "", registry.SignedOp{}, err
	}
	op, err := registry.NewOperation(chain, registry.KindDIDCreate, id+"#key-1", 1, payload)
	if err != nil {
		return "", registry.SignedOp{}, err
	}
	signed, err := registry.Sign(op, priv)
	return id, signed, err
}

// resolveLoad serves dataDir with a child urbis serve and resolves
// random DIDs of sample for warmup, then for d, measured.
func (p *program) resolveLoad(ctx context.Context, binary, dataDir string, sample []string, warmup, d time.Duration) (benchResult, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}
	srv, err := p.startServeChild(ctx, binary, dataDir, client)
	if err != nil {
		return benchResult{}, err
	}
	defer srv.stop()
	base := srv.base
	urls := make([]string, len(sample))
	for i, id := range sample {
		urls[i] = base + "/1.0/identifiers/" + id
	}
	pick := func(int) string {
		k, _ := rand.Int(rand.Reader, big.NewInt(int64(len(urls))))
		return urls[k.Int64()]
	}
	if warmup > 0 {
		if w := loadPhase(ctx, client, pick, warmup, 16); w.Errors > 0 {
			return w, fmt.Errorf("warm-up: %d of %d resolutions failed", w.Errors, w.Requests)
		}
	}
	r := loadPhase(ctx, client, pick, d, 16)
	if r.Errors > 0 {
		return r, fmt.Errorf("%d of %d resolutions failed", r.Errors, r.Requests)
	}
	return r, nil
}
