package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/internal/store"
)

func (p *program) migrateCommand() *cobra.Command {
	var cfg config
	cmd := &cobra.Command{
		Use:   "migrate up|down|status",
		Short: "Apply, roll back or list the database migrations",
		Long: `Apply (up), roll back one step (down) or list (status) the schema migrations
of the configured database: SQLite by default, PostgreSQL with
--database-url postgres://... . urbis serve applies pending migrations itself.`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"up", "down", "status"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := p.loadConfig(cmd, &cfg, false); err != nil {
				return err
			}
			ctx := cmd.Context()
			db, err := store.Open(ctx, cfg.DatabaseURL)
			if err != nil {
				return fmt.Errorf("open database: %w", err)
			}
			defer db.Close()
			switch args[0] {
			case "up":
				applied, err := db.MigrateUp(ctx)
				if err != nil {
					return err
				}
				if len(applied) == 0 {
					fmt.Fprintln(p.stdout, "no pending migrations; the schema is current")
				}
				for _, m := range applied {
					fmt.Fprintf(p.stdout, "applied %s\n", m)
				}
			case "down":
				m, err := db.MigrateDown(ctx)
				if err != nil {
					return err
				}
				fmt.Fprintf(p.stdout, "rolled back %s\n", m)
			case "status":
				st, err := db.MigrateStatus(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(p.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "VERSION\tSTATE\tFILE")
				for _, s := range st {
					fmt.Fprintf(tw, "%d\t%s\t%s\n", s.Version, s.State, s.Source)
				}
				return tw.Flush()
			default:
				return fmt.Errorf("unknown migrate action %q; use %s", args[0], strings.Join(cmd.ValidArgs, ", "))
			}
			return nil
		},
	}
	cfg.bindStorage(cmd.Flags())
	return cmd
}
