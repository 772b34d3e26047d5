package main

import (
	"bufio"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/civic"
	"github.com/urbis-id/urbis/civic/vote"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/registry"
)

func (p *program) benchBallotsCommand() *cobra.Command {
	var (
		n, clients, blind, maxOps int
		interval                  time.Duration
		dir, output, profile      string
		prepared                  string
		keep                      bool
	)
	cmd := &cobra.Command{
		Use:   "ballots",
		Short: "Cast blind-signed ballots through the registry engine on SQLite and recount them",
		Long: `Measures how many ballots per second the chain commits with every check, and
how long a recount from the blocks takes.

Setup (not timed): a fresh SQLite database in WAL mode with synchronous=FULL
(as urbis serve), a development chain running the solo engine in this
process with the civic programs, an ElectionAuthority accredited by the
governance key, and an election with a 2048-bit RSA key.

Token preparation (not timed): --ballots tokens, each 64 random bytes with a
valid RSABSSA-SHA384-PSS-Randomized signature; the first --blind go through the
whole blind protocol (Blind, BlindSign, Finalize), the others are signed
directly with the election's key, which gives the same signature an
unblinded blind signature is (RFC 9474 section 4.5). Each ballot.cast
operation is then signed by its own fresh did:key (nonce 1) and written to a
file, one per line, so that nothing is held in memory. With --prepared DIR,
the chain as it is before the first ballot and the ballots are kept in DIR,
and a later run with the same DIR and --ballots casts them again on a copy
of that chain without preparing anything.

Timed phase: --clients goroutines read the file and Submit and Wait each
operation on the engine in this process (no HTTP): the engine parses it,
verifies its Ed25519 signature and, through the program's Precheck, the
token's RSA signature (in the submitter's goroutine, remembered for the
block); the state machine checks the nonce of its new signer, the token's
RSA signature (again unless remembered), the window by block time, the
option and the nullifier, writes the nullifier, the count and the signer's
nonce, and commits one database transaction per block.

Then RecountFromBlocks reads every block back and recounts (RSA signatures
on every core) and must agree with the chain's count. It reports ballots
per second, peak RSS of this process (VmHWM) and the recount time.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "text", "json"); err != nil {
				return err
			}
			if n < 1 || clients < 1 || maxOps < 1 || interval <= 0 {
				return fmt.Errorf("--ballots, --clients and --max-block-ops must be positive, --block-interval too")
			}
			return p.benchBallots(cmd.Context(), benchBallotsConfig{n: n, clients: clients, blind: blind, maxOps: maxOps, interval: interval, dir: dir, keep: keep, output: output, profile: profile, prepared: prepared})
		},
	}
	f := cmd.Flags()
	f.IntVar(&n, "ballots", 100_000, "ballots to cast")
	f.IntVar(&clients, "clients", 2000, "concurrent submitters")
	f.IntVar(&blind, "blind", 1000, "tokens made through the whole blind protocol (the rest are signed directly)")
	f.IntVar(&maxOps, "max-block-ops", 5000, "as urbis serve --max-block-ops: most operations in one block; a tenth of this many pending start a block at once")
	f.DurationVar(&interval, "block-interval", 250*time.Millisecond, "the engine makes a block this often")
	f.StringVar(&dir, "dir", "", "directory for the database and the prepared ballots (default: a temporary one)")
	f.BoolVar(&keep, "keep", false, "keep the directory")
	f.StringVarP(&output, "output", "o", "text", "output format: text or json")
	f.StringVar(&prepared, "prepared", "", "keep the prepared chain and ballots in this directory, or cast those kept there by an earlier run (same --ballots; the poll closes 24 h after its preparation)")
	f.StringVar(&profile, "cpuprofile", "", "write a CPU profile of the timed phase to this file, and a heap profile after it to FILE.heap")
	return cmd
}

type benchBallotsConfig struct {
	n, clients, blind, maxOps      int
	interval                       time.Duration
	dir, output, profile, prepared string
	keep                           bool
}

type benchBallotsResult struct {
	Ballots     int     `json:"ballots"`
	Committed   int64   `json:"committed"`
	Failed      int64   `json:"failed"`
	Blind       int     `json:"blind_protocol_tokens"`
	PrepSeconds float64 `json:"prepare_seconds"`
	Seconds     float64 `json:"cast_seconds"`
	PerSecond   float64 `json:"ballots_per_second"`
	Recount     float64 `json:"recount_seconds"`
	Blocks      uint64  `json:"blocks"`
	CastRSS     float64 `json:"peak_rss_cast_mib"` // VmHWM after the cast phase
	PeakRSS     float64 `json:"peak_rss_mib"`      // VmHWM after the recount
	Cores       int     `json:"cores"`
	// Baseline is how many (Ed25519 verify + RSA-PSS verify) pairs all
	// cores do per second, measured in the same run: the signature
	// checks of a ballot, and nothing else.
	Baseline float64 `json:"baseline_checks_per_second"`
	Ratio    float64 `json:"ratio_to_baseline"`
}

func (p *program) benchBallots(ctx context.Context, cfg benchBallotsConfig) error {
	dir := cfg.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "urbis-bench-ballots-")
		if err != nil {
			return err
		}
		dir = d
	}
	if !cfg.keep {
		defer os.RemoveAll(dir)
	}
	var kept *preparedPoll
	if cfg.prepared != "" {
		k, err := loadPreparedPoll(cfg.prepared, cfg.n)
		if err != nil {
			return err
		}
		kept = k
		if kept != nil {
			if err := copyFile(filepath.Join(cfg.prepared, "chain.db"), filepath.Join(dir, "urbis.db")); err != nil {
				return err
			}
		} else if err := os.MkdirAll(cfg.prepared, 0o755); err != nil {
			return err
		}
	}
	db, err := store.Open(ctx, filepath.Join(dir, "urbis.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.MigrateUp(ctx); err != nil {
		return err
	}
	var (
		g        *registry.Genesis
		gov, val ed25519.PrivateKey
	)
	if kept != nil {
		g, val = kept.genesis, ed25519.NewKeyFromSeed(kept.ValidatorSeed)
	} else if g, gov, val, err = registry.NewDevGenesis("urbis-bench", time.Now().UTC()); err != nil {
		return err
	}
	engine, err := registry.NewSolo(registry.SoloConfig{
		Store: db, Genesis: g, ValidatorID: g.Validators[0].ID, ValidatorKey: val,
		Interval: cfg.interval, MaxOps: cfg.maxOps, Clock: time.Now,
		Logger: slog.New(slog.DiscardHandler), Programs: civic.Programs(),
	})
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- engine.Run(runCtx) }()
	var stopOnce sync.Once
	stopEngine := func() { stopOnce.Do(func() { stop(); <-done }) }
	defer stopEngine()

	res := benchBallotsResult{Ballots: cfg.n, Blind: min(cfg.blind, cfg.n), Cores: runtime.NumCPU()}
	var (
		priv     *rsa.PrivateKey
		election string
		file     = filepath.Join(dir, "ballots.jws")
	)
	if kept != nil {
		priv, election, file = kept.key, kept.Election, filepath.Join(cfg.prepared, "ballots.jws")
		res.Blind, res.PrepSeconds = kept.Blind, kept.PrepSeconds
		fmt.Fprintf(p.stderr, "casting the %d ballots prepared in %s (preparation took %.1f s)\n", cfg.n, cfg.prepared, kept.PrepSeconds)
	} else {
		poll, err := setUpBenchPoll(ctx, db, engine, g, gov)
		if err != nil {
			return err
		}
		priv, election = poll.key, poll.Election
		if cfg.prepared != "" {
			// The chain before the first ballot, for later runs.
			if err := db.Snapshot(ctx, filepath.Join(cfg.prepared, "chain.db")); err != nil {
				return err
			}
			file = filepath.Join(cfg.prepared, "ballots.jws")
		}
		fmt.Fprintf(p.stderr, "preparing %d tokens and signed ballots (%d through the blind protocol) on %d cores ...\n", cfg.n, res.Blind, runtime.NumCPU())
		start := time.Now()
		if err := prepareBallots(file, g.ChainID, election, poll.Options, priv, cfg.n, res.Blind, p.stderr); err != nil {
			return err
		}
		res.PrepSeconds = time.Since(start).Seconds()
		fmt.Fprintf(p.stderr, "  %.1f s\n", res.PrepSeconds)
		if cfg.prepared != "" {
			poll.Ballots, poll.Blind, poll.PrepSeconds, poll.ValidatorSeed = cfg.n, res.Blind, res.PrepSeconds, val.Seed()
			if err := poll.save(cfg.prepared, g); err != nil {
				return err
			}
		}
	}

	res.Baseline = ballotCheckRate(priv, 3*time.Second)
	fmt.Fprintf(p.stderr, "baseline: %.0f ballot signature checks (Ed25519 + RSA-PSS) per second on %d cores\ncasting %d ballots with %d concurrent submitters ...\n",
		res.Baseline, runtime.NumCPU(), cfg.n, cfg.clients)

	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	lines := make(chan string, 4*cfg.clients)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 64<<10)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var committed, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	if cfg.profile != "" {
		pf, err := os.Create(cfg.profile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pf.Close()
	}
	start := time.Now()
	stopProgress := reportProgress(p.stderr, "cast", int64(cfg.n), func() int64 { return committed.Load() + failed.Load() })
	for range cfg.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for jws := range lines {
				err := castOne(ctx, engine, jws)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				committed.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopProgress()
	if cfg.profile != "" {
		pprof.StopCPUProfile()
	}
	res.Committed, res.Failed = committed.Load(), failed.Load()
	res.Seconds = elapsed.Seconds()
	res.PerSecond = float64(res.Committed) / elapsed.Seconds()
	res.Ratio = res.PerSecond / res.Baseline
	res.CastRSS, _ = rssMiB(os.Getpid(), "VmHWM")
	if cfg.profile != "" {
		if hf, err := os.Create(cfg.profile + ".heap"); err == nil {
			_ = pprof.WriteHeapProfile(hf)
			hf.Close()
		}
	}
	fmt.Fprintf(p.stderr, "  %.1f s\nrecounting from the blocks ...\n", res.Seconds)

	// The recount is what any node would run on its copy of the chain
	// (urbis election recount): stop the engine, and give back what the
	// cast phase no longer needs (its caches) first.
	stopEngine()
	engine = nil
	debug.FreeOSMemory()
	start = time.Now()
	rc, err := vote.RecountFromBlocks(ctx, db, election, nil)
	if err != nil {
		return err
	}
	res.Recount = time.Since(start).Seconds()
	res.Blocks = rc.Blocks
	res.PeakRSS, _ = rssMiB(os.Getpid(), "VmHWM")
	tally, err := vote.NewService(vote.Config{State: db}).Tally(ctx, election)
	if err != nil {
		return err
	}
	if rc.Ballots != uint64(res.Committed) || tally.Ballots != rc.Ballots {
		return fmt.Errorf("the recount found %d ballots, the chain counts %d, %d were committed", rc.Ballots, tally.Ballots, res.Committed)
	}
	if cfg.output == "json" {
		return json.NewEncoder(p.stdout).Encode(res)
	}
	fmt.Fprintf(p.stdout, "| ballots | committed | failed | token prep s (untimed) | cast s | ballots/s | baseline checks/s | ratio | blocks | recount s | peak RSS MiB after cast / recount | cores |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(p.stdout, "| %d | %d | %d | %.1f | %.1f | %.0f | %.0f | %.2f | %d | %.1f | %.0f / %.0f | %d |\n",
		res.Ballots, res.Committed, res.Failed, res.PrepSeconds, res.Seconds, res.PerSecond, res.Baseline, res.Ratio, res.Blocks, res.Recount, res.CastRSS, res.PeakRSS, res.Cores)
	if res.Failed > 0 {
		return fmt.Errorf("%d ballots failed; first: %v", res.Failed, firstErr.Load())
	}
	return nil
}

// ballotCheckRate measures, on every core for d, how many pairs of an
// Ed25519 verification and an RSA-PSS verification with priv's public key
// this machine does per second.
func ballotCheckRate(priv *rsa.PrivateKey, d time.Duration) float64 {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	msg := []byte("urbis ballot")
	esig := ed25519.Sign(key, msg)
	tok, rsig, _ := benchToken(priv, false)
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
					ed25519.Verify(pub, msg, esig)
					_ = vote.VerifyToken(&priv.PublicKey, tok, rsig)
				}
				n.Add(20)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

// castOne submits a prepared ballot and waits for its block.
func castOne(ctx context.Context, engine *registry.Solo, jws string) error {
	for {
		st, err := engine.Submit(ctx, jws)
		if errkind.KindOf(err) == errkind.Unavailable {
			time.Sleep(10 * time.Millisecond) // the queue is full: retry
			continue
		}
		if err != nil {
			return err
		}
		if st, err = engine.Wait(ctx, st.Hash); err != nil {
			return err
		}
		if st.Status != registry.StatusCommitted {
			return fmt.Errorf("ballot rejected: %s", st.Reason)
		}
		return nil
	}
}

// prepareBallots writes n signed ballot.cast operations to file, one per
// line, made on every core.
func prepareBallots(file, chain, election string, options []string, priv *rsa.PrivateKey, n, blind int, progress io.Writer) error {
	out, err := os.Create(file)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(out, 1<<20)
	jobs := make(chan int, 1024)
	lines := make(chan string, 1024)
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				tok, sig, err := benchToken(priv, i < blind)
				if err == nil {
					var op registry.SignedOp
					op, err = vote.CastOp(chain, vote.NewCast(election, tok, sig, options[i%len(options)]))
					if err == nil {
						lines <- op.JWS
						continue
					}
				}
				select {
				case errc <- err:
				default:
				}
				lines <- ""
			}
		}()
	}
	go func() {
		for i := range n {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		close(lines)
	}()
	var written atomic.Int64
	defer reportProgress(progress, "prepared", int64(n), written.Load)()
	for l := range lines {
		if l == "" {
			continue
		}
		w.WriteString(l)
		w.WriteByte('\n')
		written.Add(1)
	}
	select {
	case err := <-errc:
		out.Close()
		return err
	default:
	}
	if err := w.Flush(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// benchToken makes a token with its signature: through the blind
// protocol, or signed directly (the same RSASSA-PSS signature).
func benchToken(priv *rsa.PrivateKey, blind bool) (tok, sig []byte, err error) {
	if blind {
		b, err := vote.Blind(&priv.PublicKey)
		if err != nil {
			return nil, nil, err
		}
		bs, err := vote.BlindSign(priv, b.Blinded)
		if err != nil {
			return nil, nil, err
		}
		sig, err = b.Finalize(bs)
		return b.Token, sig, err
	}
	tok = make([]byte, vote.TokenMessageLen)
	rand.Read(tok)
	h := sha512.Sum384(tok)
	sig, err = rsa.SignPSS(rand.Reader, priv, crypto.SHA384, h[:], &rsa.PSSOptions{SaltLength: sha512.Size384})
	return tok, sig, err
}

// reportProgress writes to w, every 10 seconds until the returned stop
// is called, how many of total are done and at what rate since the start.
func reportProgress(w io.Writer, what string, total int64, done func() int64) (stop func()) {
	quit, finished := make(chan struct{}), make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				n := done()
				fmt.Fprintf(w, "  %s %d of %d (%.0f%%), %.0f/s\n", what, n, total, 100*float64(n)/float64(max(total, 1)), float64(n)/time.Since(start).Seconds())
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
	}
}
