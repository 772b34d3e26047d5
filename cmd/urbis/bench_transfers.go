package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"

	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/civic"
	"github.com/urbis-id/urbis/civic/currency"
	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/registry"
)

func (p *program) benchTransfersCommand() *cobra.Command {
	var (
		accounts, perAccount, maxOps int
		interval                     time.Duration
		dbURL, output                string
		oneAtATime                   bool
	)
	cmd := &cobra.Command{
		Use:   "transfers",
		Short: "Measure committed city-currency transfers per second through the chain engine",
		Long: `Runs the solo registry engine in this process, with the programs urbis serve
runs, on a fresh SQLite database in a temporary directory (or --database-url,
which must be an empty, migrated PostgreSQL database). A treasury is
accredited, defines BCN and mints to --accounts did:key accounts; then each
account signs --per-account currency.transfer operations (successive
sequence numbers, each to another random account). The signed operations
are submitted all at once, each account's in order (or, with --one-at-a-time,
each once the account's previous one is committed), and the run ends when
the last is decided. Every check of a transfer runs as in urbis serve: parsing,
the signature against the signer's key, the nonce, the balance. Signing is
done before the clock starts; HTTP is not measured (see bench ops for that).
It reports committed transfers per second and checks that the balances
still add up to the supply.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "text", "json"); err != nil {
				return err
			}
			if accounts < 2 || perAccount < 1 {
				return fmt.Errorf("--accounts must be at least 2 and --per-account at least 1")
			}
			return p.benchTransfers(cmd.Context(), dbURL, accounts, perAccount, interval, maxOps, !oneAtATime, output)
		},
	}
	cmd.Flags().IntVar(&accounts, "accounts", 2000, "accounts that send transfers")
	cmd.Flags().IntVar(&perAccount, "per-account", 25, "transfers each account sends")
	cmd.Flags().DurationVar(&interval, "block-interval", 250*time.Millisecond, "as urbis serve --block-interval")
	cmd.Flags().IntVar(&maxOps, "max-block-ops", 5000, "as urbis serve --max-block-ops")
	cmd.Flags().BoolVar(&oneAtATime, "one-at-a-time", false, "submit each account's next transfer only once the previous one is committed, as a wallet does (default: all at once, in order)")
	cmd.Flags().StringVar(&dbURL, "database-url", "", "an empty, migrated database (default: SQLite in a temporary directory)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// benchAccount is a did:key account of the load.
type benchAccount struct {
	did, kid string
	key      ed25519.PrivateKey
}

func newBenchAccount() (benchAccount, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return benchAccount{}, err
	}
	d, err := did.NewKey(pub)
	if err != nil {
		return benchAccount{}, err
	}
	return benchAccount{did: d.String(), kid: d.String() + "#" + d.ID, key: priv}, nil
}

func (p *program) benchTransfers(ctx context.Context, dbURL string, n, per int, interval time.Duration, maxOps int, pipelined bool, output string) error {
	if dbURL == "" {
		dir, err := os.MkdirTemp("", "urbis-bench-transfers-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dbURL = filepath.Join(dir, "urbis.db")
	}
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.MigrateUp(ctx); err != nil {
		return err
	}
	if head, err := db.Head(ctx); err == nil && head.Height > 0 {
		return fmt.Errorf("--database-url holds a chain (height %d); give an empty database", head.Height)
	}
	g, govKey, val, err := registry.NewDevGenesis("bench-transfers", time.Now().UTC().Add(-time.Minute))
	if err != nil {
		return err
	}
	eng, err := registry.NewSolo(registry.SoloConfig{Store: db, Genesis: g, ValidatorID: g.Validators[0].ID,
		ValidatorKey: val, Interval: interval, MaxOps: maxOps, Clock: time.Now, Programs: civic.Programs()})
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- eng.Run(runCtx) }()
	defer func() { stop(); <-done }()

	sign := func(a benchAccount, kind registry.Kind, nonce uint64, payload any) (registry.SignedOp, error) {
		op, err := registry.NewOperation(g.ChainID, kind, a.kid, nonce, payload)
		if err != nil {
			return registry.SignedOp{}, err
		}
		return registry.Sign(op, a.key)
	}
	// submitAll submits each group's operations in order: all at once
	// (pipelined), or each once the previous one is committed, as a
	// wallet does; it returns how many committed and the first rejection.
	submitAll := func(groups [][]registry.SignedOp, pipelined bool) (int, string, error) {
		var (
			wg        sync.WaitGroup
			mu        sync.Mutex
			committed int
			reason    string
			firstErr  error
		)
		decide := func(st registry.OpStatus, err error) bool {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				firstErr = cmpOr(firstErr, err)
			case st.Status == registry.StatusCommitted:
				committed++
				return true
			case reason == "":
				reason = st.Reason
			}
			return false
		}
		for _, ops := range groups {
			wg.Go(func() {
				for _, op := range ops {
					_, err := eng.Submit(ctx, op.JWS)
					if err == nil && pipelined {
						continue
					}
					if err == nil {
						var st registry.OpStatus
						st, err = eng.Wait(ctx, op.Hash)
						if decide(st, err) {
							continue
						}
					}
					decide(registry.OpStatus{}, err)
					return
				}
				if pipelined {
					for _, op := range ops {
						decide(eng.Wait(ctx, op.Hash))
					}
				}
			})
		}
		wg.Wait()
		return committed, reason, firstErr
	}

	gov, err := benchAccountOf(govKey)
	if err != nil {
		return err
	}
	tr, err := newBenchAccount()
	if err != nil {
		return err
	}
	accts := make([]benchAccount, n)
	for i := range accts {
		if accts[i], err = newBenchAccount(); err != nil {
			return err
		}
	}
	fmt.Fprintf(p.stderr, "accrediting a treasury, defining BCN, minting to %d accounts ...\n", n)
	acc, err := sign(gov, registry.KindTrustAccredit, 1, registry.TrustAccredit{Issuer: tr.did, Types: []string{currency.IssuerType}})
	if err != nil {
		return err
	}
	setup := []registry.SignedOp{acc}
	if _, reason, err := submitAll([][]registry.SignedOp{setup}, true); err != nil || reason != "" {
		return fmt.Errorf("accredit: %v %s", err, reason)
	}
	const grant = 1_000_000
	mints := make([]registry.SignedOp, 0, n+1)
	def, err := sign(tr, currency.KindDefine, 1, currency.Define{Code: "BCN", Name: "Barcelona coin", Decimals: 2})
	if err != nil {
		return err
	}
	mints = append(mints, def)
	for i, a := range accts {
		op, err := sign(tr, currency.KindMint, uint64(2+i), currency.Mint{Code: "BCN", To: a.did, Amount: grant})
		if err != nil {
			return err
		}
		mints = append(mints, op)
	}
	if c, reason, err := submitAll([][]registry.SignedOp{mints}, true); err != nil || c != len(mints) {
		return fmt.Errorf("minting: %d of %d committed: %v %s", c, len(mints), err, reason)
	}

	fmt.Fprintf(p.stderr, "signing %d transfers ...\n", n*per)
	groups := make([][]registry.SignedOp, n)
	for i, a := range accts {
		for k := range per {
			j, err := rand.Int(rand.Reader, big.NewInt(int64(n-1)))
			if err != nil {
				return err
			}
			to := accts[(i+1+int(j.Int64()))%n]
			op, err := sign(a, currency.KindTransfer, uint64(1+k), currency.Transfer{Code: "BCN", To: to.did, Amount: int64(1 + k)})
			if err != nil {
				return err
			}
			groups[i] = append(groups[i], op)
		}
	}
	head0, err := db.Head(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(p.stderr, "submitting them ...\n")
	start := time.Now()
	committed, reason, err := submitAll(groups, pipelined)
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	head1, err := db.Head(ctx)
	if err != nil {
		return err
	}
	supply, sum, err := benchConserved(ctx, db, "BCN")
	if err != nil {
		return err
	}
	res := struct {
		Accounts   int     `json:"accounts"`
		Transfers  int     `json:"transfers"`
		Committed  int     `json:"committed"`
		Seconds    float64 `json:"seconds"`
		PerSecond  float64 `json:"committed_per_second"`
		Blocks     uint64  `json:"blocks"`
		Supply     int64   `json:"supply"`
		SumOfBals  int64   `json:"sum_of_balances"`
		Dialect    string  `json:"database"`
		FirstError string  `json:"first_rejection,omitempty"`
	}{Accounts: n, Transfers: n * per, Committed: committed, Seconds: elapsed.Seconds(),
		PerSecond: float64(committed) / elapsed.Seconds(), Blocks: head1.Height - head0.Height,
		Supply: supply, SumOfBals: sum, Dialect: db.Dialect(), FirstError: reason}
	if output == "json" {
		if err := json.NewEncoder(p.stdout).Encode(res); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(p.stdout, "| database | accounts | transfers | committed | seconds | committed transfers/s | blocks | supply = sum of balances |\n|---|---|---|---|---|---|---|---|\n")
		fmt.Fprintf(p.stdout, "| %s | %d | %d | %d | %.2f | %.0f | %d | %v |\n", res.Dialect, n, n*per, committed, res.Seconds, res.PerSecond, res.Blocks, supply == sum)
	}
	if committed != n*per || supply != sum {
		return fmt.Errorf("%d of %d transfers committed (first rejection: %s); supply %d, sum of balances %d", committed, n*per, reason, supply, sum)
	}
	return nil
}

func benchAccountOf(key ed25519.PrivateKey) (benchAccount, error) {
	d, err := did.NewKey(key.Public())
	if err != nil {
		return benchAccount{}, err
	}
	return benchAccount{did: d.String(), kid: d.String() + "#" + d.ID, key: key}, nil
}

// benchConserved returns the supply of code and the sum of its balances.
func benchConserved(ctx context.Context, db *store.DB, code string) (int64, int64, error) {
	cur, err := currency.NewService(db, nil, nil, nil).Currency(ctx, code)
	if err != nil {
		return 0, 0, err
	}
	var sum int64
	after, prefix := "", "currency/"+code+"/balance/"
	for {
		rows, err := db.ProgramScan(ctx, prefix, after, 5000)
		if err != nil {
			return 0, 0, err
		}
		for _, r := range rows {
			var b int64
			if err := json.Unmarshal(r.Value, &b); err != nil {
				return 0, 0, err
			}
			sum += b
			after = r.Key
		}
		if len(rows) < 5000 {
			return cur.Supply, sum, nil
		}
	}
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
