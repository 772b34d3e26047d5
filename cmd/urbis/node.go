package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/civic"
	"github.com/urbis-id/urbis/internal/node"
)

func (p *program) nodeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run the registry as a CometBFT validator among several authorities",
		Long: `Run the registry on CometBFT: each authority runs one validator; a block
needs the votes of more than two thirds of the voting power, so a network
of four keeps going with one validator down.

  urbis node localnet --validators 4 --dir ./net   # a 4-validator network on 127.0.0.1
  urbis node start --home ./net/node0               # one process per validator

Each validator serves the same REST API as urbis serve.`,
	}
	cmd.AddCommand(p.nodeInitCommand(), p.nodeLocalnetCommand(), p.nodeStartCommand(), p.nodeProofCommand(), p.nodeCheckProofCommand(), p.nodeSetValidatorCommand(), p.nodeKVStoreCommand())
	return cmd
}

func (p *program) nodeInitCommand() *cobra.Command {
	var home, chainID, host, api, join, peers, id string
	var port int
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "init --home DIR",
		Short: "Create a validator home: CometBFT config, node and validator keys, genesis",
		Long: `Create a validator home of a new one-validator chain: config/config.toml,
config/node_key.json, config/priv_validator_key.json, config/genesis.json
(CometBFT's genesis with the registry genesis as its app_state), urbis.json
(the REST API address), and urbis/ (the database, the master key, the
registry genesis and the governance key). To run several validators, see
urbis node localnet and docs/DEPLOYMENT.md.

With --join, the home is that of a validator joining a running network:
new keys, the network's genesis (--join: a validator's config/genesis.json)
and its peers (--peers); it syncs as a full node and becomes a validator
when the governance adds its key (urbis node set-validator --id ID).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if join != "" {
				h, mk, err := node.JoinNet(home, join, splitList(peers), id, node.NetOptions{
					Host: host, BasePort: port, APIBasePort: portOf(api), BlockInterval: interval,
				})
				if err != nil {
					return err
				}
				fmt.Fprintf(p.stdout, "%s: home %s, API http://%s, CometBFT RPC %s, node id %s\nvalidator key: %s\nthe governance adds it with: urbis node set-validator --id %s --public-key %s\n",
					h.Validator, h.Dir, h.API, h.RPC, h.NodeID, mk, h.Validator, mk)
				return nil
			}
			n, err := node.CreateNet([]string{home}, filepath.Join(node.DataDir(home), "governance.key"), node.NetOptions{
				ChainID: chainID, Validators: 1, Host: host, BasePort: port, APIBasePort: portOf(api), BlockInterval: interval, Now: time.Now(),
			})
			if err != nil {
				return err
			}
			p.printNet(n)
			return nil
		},
	}
	cmd.Flags().StringVar(&home, "home", "", "directory of the validator home to create (required)")
	cmd.Flags().StringVar(&chainID, "chain-id", "urbis-net", "the chain id")
	cmd.Flags().StringVar(&host, "host", "127.0.0.1", "address CometBFT listens on and peers dial")
	cmd.Flags().IntVar(&port, "p2p-port", 26656, "CometBFT P2P port (its RPC port is one more)")
	cmd.Flags().StringVar(&api, "api-port", "8080", "REST API port")
	cmd.Flags().DurationVar(&interval, "block-interval", 500*time.Millisecond, "pause after each block (CometBFT timeout_commit)")
	cmd.Flags().StringVar(&join, "join", "", "join a running network: its CometBFT genesis file")
	cmd.Flags().StringVar(&peers, "peers", "", "with --join: comma-separated peers, node-id@host:port")
	cmd.Flags().StringVar(&id, "id", "", "with --join: the validator id the governance will give it")
	_ = cmd.MarkFlagRequired("home")
	return cmd
}

func portOf(s string) int {
	var n int
	fmt.Sscanf(s, "%d", &n)
	return n
}

func (p *program) nodeLocalnetCommand() *cobra.Command {
	var dir, chainID string
	var validators, port, apiPort int
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "localnet --validators 4 --dir DIR",
		Short: "Write a ready network of validators on loopback ports",
		Long: `Write the homes of a network of validators on 127.0.0.1 into DIR/node0,
DIR/node1, ...: one genesis, every node a persistent peer of the others.
Node i listens for peers on --base-port+10*i (CometBFT RPC one more) and
serves the REST API on --api-base-port+i. The governance key is in
DIR/node0/urbis/governance.key. Start each with urbis node start --home
DIR/nodeI.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if validators < 1 || validators > 64 {
				return fmt.Errorf("--validators %d: want 1 to 64", validators)
			}
			dirs := make([]string, validators)
			for i := range dirs {
				dirs[i] = filepath.Join(dir, fmt.Sprintf("node%d", i))
			}
			n, err := node.CreateNet(dirs, filepath.Join(node.DataDir(dirs[0]), "governance.key"), node.NetOptions{
				ChainID: chainID, Validators: validators, Host: "127.0.0.1", BasePort: port, APIBasePort: apiPort, BlockInterval: interval, Now: time.Now(),
			})
			if err != nil {
				return err
			}
			p.printNet(n)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory to write the validator homes into (required)")
	cmd.Flags().IntVar(&validators, "validators", 4, "number of validators")
	cmd.Flags().StringVar(&chainID, "chain-id", "urbis-localnet", "the chain id")
	cmd.Flags().IntVar(&port, "base-port", 26656, "P2P port of node0; node i uses base+10*i, its RPC one more")
	cmd.Flags().IntVar(&apiPort, "api-base-port", 8080, "REST API port of node0; node i uses base+i")
	cmd.Flags().DurationVar(&interval, "block-interval", 500*time.Millisecond, "pause after each block (CometBFT timeout_commit)")
	_ = cmd.MarkFlagRequired("dir")
	return cmd
}

func (p *program) printNet(n *node.Net) {
	fmt.Fprintf(p.stdout, "chain %s: %d validator(s)\ngovernance DID: %s\ngovernance key: %s\n", n.Genesis.ChainID, len(n.Homes), n.Genesis.Governance[0], n.GovernanceKey)
	for _, h := range n.Homes {
		fmt.Fprintf(p.stdout, "%s: home %s, API http://%s, CometBFT RPC %s; start with: urbis node start --home %s\n", h.Validator, h.Dir, h.API, h.RPC, h.Dir)
	}
}

func (p *program) nodeStartCommand() *cobra.Command {
	var cfg config
	var home string
	cmd := &cobra.Command{
		Use:   "start --home DIR",
		Short: "Run a validator: CometBFT consensus and the Urbis REST API in one process",
		Long: `Run the validator of a home made by urbis node init or localnet: CometBFT
consensus with the registry application, and the REST API (the same as urbis
serve's) on the address of DIR/urbis.json. Writes go to the mempool and are
acknowledged once their block is committed here; reads come from the local
database (DIR/urbis/urbis.db unless --database-url).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), p.getenv); err != nil {
				return err
			}
			s, err := node.LoadSettings(home)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("data-dir") && p.getenv("URBIS_DATA_DIR") == "" {
				cfg.DataDir = node.DataDir(home)
			}
			if !cmd.Flags().Changed("addr") && p.getenv("URBIS_ADDR") == "" {
				cfg.Addr = s.APIAddr
			}
			if err := cfg.finish(true); err != nil {
				return err
			}
			return p.startNode(cmd.Context(), &cfg, home)
		},
	}
	cmd.Flags().StringVar(&home, "home", "", "the validator home (required)")
	cfg.bindStorage(cmd.Flags())
	cfg.bindServe(cmd.Flags())
	_ = cmd.MarkFlagRequired("home")
	return cmd
}

// startNode runs a validator and the REST API until ctx ends.
func (p *program) startNode(ctx context.Context, cfg *config, home string) error {
	log := p.logger(cfg)
	a, err := p.openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	n, err := node.Start(ctx, node.Config{Home: home, Store: a.db, Programs: civic.Programs(), Logger: log})
	if err != nil {
		return err
	}
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() { stopErr = n.Stop() })
		return stopErr
	}
	return p.serveAPI(ctx, cfg, log, a, n.Genesis, runningEngine{registryEngine: n.Engine, stopped: n.Quit(), stop: stop})
}
