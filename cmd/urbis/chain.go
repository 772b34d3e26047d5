package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/civic"
	"github.com/urbis-id/urbis/internal/node"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/registry"
)

// chainFiles are the registry files of a data directory.
type chainFiles struct {
	Genesis, GovernanceKey, ValidatorKey string
}

func filesIn(dataDir string) chainFiles {
	return chainFiles{
		Genesis:       filepath.Join(dataDir, "genesis.json"),
		GovernanceKey: filepath.Join(dataDir, "governance.key"),
		ValidatorKey:  filepath.Join(dataDir, "validator.key"),
	}
}

// initChain writes a development genesis with one governance DID and one
// validator, and their keys, into dataDir. It refuses to overwrite.
func initChain(dataDir, chainID string, now time.Time) (*registry.Genesis, error) {
	f := filesIn(dataDir)
	if _, err := os.Stat(f.Genesis); err == nil {
		return nil, fmt.Errorf("%s already exists; a chain is initialised once (remove the data directory to start over)", f.Genesis)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	g, gov, val, err := registry.NewDevGenesis(chainID, now)
	if err != nil {
		return nil, err
	}
	if err := registry.WriteKeyFile(f.GovernanceKey, gov); err != nil {
		return nil, fmt.Errorf("governance key: %w", err)
	}
	if err := registry.WriteKeyFile(f.ValidatorKey, val); err != nil {
		return nil, fmt.Errorf("validator key: %w", err)
	}
	if err := g.Write(f.Genesis); err != nil {
		return nil, err
	}
	return g, nil
}

func (p *program) initCommand() *cobra.Command {
	var dataDir, chainID string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a genesis file and the governance and validator keys",
		Long: `Write a new registry genesis into the data directory: genesis.json (chain id,
the governance DID, the validator key, parameters), governance.key and
validator.key (mode 0600). urbis serve does this by itself on an empty data
directory; run init to choose the chain id, or to prepare the files first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), p.getenv); err != nil {
				return err
			}
			g, err := initChain(dataDir, chainID, time.Now().UTC())
			if err != nil {
				return err
			}
			f := filesIn(dataDir)
			fmt.Fprintf(p.stdout, "initialised chain %s\ngenesis:        %s\ngovernance DID: %s\ngovernance key: %s\nvalidator key:  %s\n",
				g.ChainID, f.Genesis, g.Governance[0], f.GovernanceKey, f.ValidatorKey)
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", "./data", "directory to write genesis.json and the keys into")
	cmd.Flags().StringVar(&chainID, "chain-id", "urbis-dev", "the chain id")
	return cmd
}

// loadChain reads the genesis and the validator key of dataDir, creating
// a development chain first if the directory has none.
func loadChain(dataDir string, log *slog.Logger) (*registry.Genesis, []byte, error) {
	f := filesIn(dataDir)
	if _, err := os.Stat(f.Genesis); errors.Is(err, os.ErrNotExist) {
		g, err := initChain(dataDir, "urbis-dev", time.Now().UTC())
		if err != nil {
			return nil, nil, err
		}
		log.Info("created a development chain; the governance DID accredits agencies",
			"chain", g.ChainID, "genesis", f.Genesis, "governance_did", g.Governance[0], "governance_key", f.GovernanceKey)
	}
	g, err := registry.LoadGenesis(f.Genesis)
	if err != nil {
		return nil, nil, err
	}
	k, err := registry.ReadKeyFile(f.ValidatorKey)
	if err != nil {
		return nil, nil, fmt.Errorf("validator key: %w", err)
	}
	return g, k, nil
}

func (p *program) registryCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Audit the registry chain and check inclusion proofs",
	}
	cmd.AddCommand(p.registryVerifyCommand(), p.checkProofCommand())
	return cmd
}

func (p *program) registryVerifyCommand() *cobra.Command {
	var cfg config
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Replay the whole chain from genesis and check every block",
		Long: `Replay every block from genesis into a fresh state (a temporary SQLite file;
DID versions and nonces stay in memory as hashes, against which the live
database's rows are checked when read and at the end), checking heights,
previous hashes, operation Merkle roots, proposers and validator
signatures (by validators in force at each block: the genesis's, as the
validator.set operations replayed so far change them), every operation
and every state root, then compare the replayed state with the live
state. It names the first block that does not match. Run it on the
host of urbis serve, with the same --data-dir or --database-url, or of a
stopped validator (--data-dir HOME/urbis): there, the authority of each
block is CometBFT's commit in HOME/data, signed by more than two thirds
of the voting power of the validators in force at its height.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := p.loadConfig(cmd, &cfg, false); err != nil {
				return err
			}
			return p.verifyChain(cmd.Context(), &cfg)
		},
	}
	cfg.bindStorage(cmd.Flags())
	return cmd
}

// verifyMemoryLimit is the soft limit on the Go heap of urbis registry
// verify (runtime/debug.SetMemoryLimit).
const verifyMemoryLimit = 160 << 20

func (p *program) verifyChain(ctx context.Context, cfg *config) error {
	g, err := registry.LoadGenesis(filesIn(cfg.DataDir).Genesis)
	if err != nil {
		return err
	}
	live, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer live.Close()
	if n, err := live.Pending(ctx); err != nil || n > 0 {
		return fmt.Errorf("the database is not fully migrated (%d pending, %v); run urbis migrate up", n, err)
	}
	tmp, err := os.MkdirTemp("", "urbis-verify-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// The replay database is scratch: it needs no durability, so it skips
	// the fsync of every block.
	fresh, err := store.Open(ctx, filepath.Join(tmp, "replay.db")+"?_pragma=synchronous(OFF)")
	if err != nil {
		return err
	}
	defer fresh.Close()
	if _, err := fresh.MigrateUp(ctx); err != nil {
		return err
	}
	// DID versions and nonces, most of a chain's state, stay out of it:
	// the replay keeps their hashes and checks live's rows against them.
	if err := fresh.ReplayOver(ctx, live); err != nil {
		return err
	}
	opts := registry.VerifyOptions{}
	// A validator's database (HOME/urbis) has CometBFT's commits beside it.
	home := filepath.Dir(filepath.Clean(cfg.DataDir))
	if _, err := os.Stat(filepath.Join(home, "config", "config.toml")); err == nil && cfg.DataDir != "" && filepath.Clean(cfg.DataDir) == node.DataDir(home) {
		commits, err := node.OpenCommits(home)
		if err != nil {
			return err
		}
		defer commits.Close()
		opts.Consensus = commits
	}
	// The replay's own memory is bounded (it reads ahead a few blocks);
	// what the garbage collector lets grow above it is not needed, so a
	// soft limit keeps the process small on a long chain, unless the
	// user set GOMEMLIMIT.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(verifyMemoryLimit)
	}
	start := time.Now()
	last := time.Now()
	var replayed uint64
	opts.Progress = func(height, head uint64) {
		replayed = height
		if time.Since(last) >= time.Second || height == head {
			last = time.Now()
			fmt.Fprintf(p.stderr, "verified %d of %d blocks (%.0f%%)\n", height, head, 100*float64(height)/float64(max(head, 1)))
		}
	}
	err = registry.VerifyWith(ctx, live, fresh, g, opts, append(civic.Programs(), node.ValidatorProgram(g))...) // validator.set: chains run by urbis node
	if err != nil {
		fmt.Fprintf(p.stdout, "FAILED after %d good blocks: %v\n", replayed, err)
		return errReported
	}
	what := "signatures"
	if opts.Consensus != nil {
		what = "CometBFT commits"
	}
	fmt.Fprintf(p.stdout, "OK: chain %s, %d blocks replayed from genesis in %s; hashes, %s, Merkle roots, state roots and the live state all match\n",
		g.ChainID, replayed, time.Since(start).Round(time.Millisecond), what)
	return nil
}

func (p *program) checkProofCommand() *cobra.Command {
	var genesis string
	cmd := &cobra.Command{
		Use:   "check-proof FILE --genesis GENESIS",
		Short: "Check an inclusion proof offline against the genesis",
		Long: `Check an inclusion proof (the JSON of GET /registry/operations/{hash}/proof;
FILE "-" reads standard input) with nothing but the genesis file: the
operation's hash, its Merkle path to the block's operations root, and
what vouches for the block header: under urbis serve, the validator's
signature (a genesis validator's key); under urbis node, the CometBFT
commit proof the proof carries in "consensus" (as urbis node check-proof
checks it: more than two thirds of the voting power of the validators
in force, reached from the genesis through the validator-set changes it
carries), of the same operation, at the header's consensus height, with
the header's state root as the next block's app hash. GENESIS is the
registry genesis (a validator's urbis/genesis.json: its validators with
the power urbis node gives them) or the CometBFT genesis
(config/genesis.json).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, doc, err := node.LoadGenesis(genesis)
			if err != nil {
				return err
			}
			r, err := p.openInput(args[0])
			if err != nil {
				return err
			}
			defer r.Close()
			var proof registry.Proof
			dec := json.NewDecoder(io.LimitReader(r, 1<<20))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&proof); err != nil {
				return fmt.Errorf("%s is not an inclusion proof: %v", args[0], err)
			}
			if err := registry.CheckProofWith(proof, g, node.ConsensusCheck(doc)); err != nil {
				fmt.Fprintf(p.stdout, "INVALID: %v\n", err)
				return errReported
			}
			by := fmt.Sprintf("signed by %d validator(s)", len(proof.Signatures))
			if len(proof.Consensus) > 0 {
				by = fmt.Sprintf("CometBFT block %d committed by more than two thirds of the voting power", proof.Header.ConsensusHeight)
			}
			fmt.Fprintf(p.stdout, "OK: operation %s is in block %d of chain %s (header %s, %s)\n",
				proof.Hash, proof.Header.Height, proof.Header.Chain, proof.Header.Hash(), by)
			return nil
		},
	}
	cmd.Flags().StringVar(&genesis, "genesis", "./data/genesis.json", "the genesis file")
	return cmd
}

// openInput opens the file a command reads, or standard input for "-"
// (nothing when the program has none).
func (p *program) openInput(name string) (io.ReadCloser, error) {
	if name == "-" {
		if p.stdin == nil {
			return io.NopCloser(strings.NewReader("")), nil
		}
		return io.NopCloser(p.stdin), nil
	}
	return os.Open(name)
}
