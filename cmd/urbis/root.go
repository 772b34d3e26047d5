package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

// program is the urbis command line. Its fields are the outside world, so
// tests can run the real commands in-process.
type program struct {
	stdout, stderr io.Writer
	// stdin answers prompts (urbis wallet present); nil reads nothing.
	stdin  io.Reader
	getenv func(string) string
	// onListen, when set, is told the address `urbis serve` listens on.
	onListen func(net.Addr)
}

// run executes one command line and reports failures on stderr.
func (p *program) run(ctx context.Context, args []string) error {
	root := p.rootCommand()
	root.SetArgs(args)
	root.SetOut(p.stdout)
	root.SetErr(p.stderr)
	err := root.ExecuteContext(ctx)
	if err != nil && !errors.Is(err, errReported) {
		fmt.Fprintf(p.stderr, "urbis: %v\n", err)
	}
	return err
}

// errReported is returned by commands that already told the user.
var errReported = errors.New("reported")

func (p *program) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "urbis",
		Short: "Self-sovereign identity for a city: DIDs, verifiable credentials and a shared registry",
		Long: `Urbis lets city agencies create DIDs and issue verifiable credentials, citizens
hold them in their own wallets, and any service verify them over REST.

Start the service on its embedded defaults (SQLite in ./data, 127.0.0.1:8080):

  urbis serve

Every flag can also be set with an URBIS_* environment variable:
--database-url is URBIS_DATABASE_URL, --data-dir is URBIS_DATA_DIR, and so on.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(p.serveCommand(), p.migrateCommand(), p.agencyCommand(), p.versionCommand(), p.benchCommand(),
		p.initCommand(), p.nodeCommand(), p.governanceCommand(), p.schemaCommand(), p.registryCommand(), p.holderCommand(), p.walletCommand(), p.credentialCommand(),
		p.landCommand(), p.provenanceCommand(), p.currencyCommand(), p.energyCommand(), p.electionCommand())
	return root
}

func (p *program) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of urbis",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := version
			if info, ok := debug.ReadBuildInfo(); ok && v == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
				v = info.Main.Version
			}
			fmt.Fprintf(p.stdout, "urbis %s\n", v)
			return nil
		},
	}
}

// logger returns the JSON logger at the configured level, on stderr.
func (p *program) logger(cfg *config) *slog.Logger {
	l, _ := cfg.level()
	return slog.New(slog.NewJSONHandler(p.stderr, &slog.HandlerOptions{Level: l}))
}

// loadConfig applies the environment to the command's flags and validates.
func (p *program) loadConfig(cmd *cobra.Command, cfg *config, serving bool) error {
	if err := applyEnv(cmd.Flags(), p.getenv); err != nil {
		return err
	}
	return cfg.finish(serving)
}
