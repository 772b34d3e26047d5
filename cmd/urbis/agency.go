package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func (p *program) agencyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agency",
		Short: "Manage agencies (tenants) and their API keys",
		Long: `Manage agencies: the city bodies that create DIDs and issue credentials.
Each agency authenticates to the REST API with its own API key, shown once.
These commands work on the database directly, so run them on the host that
runs urbis serve (with the same --data-dir or --database-url).`,
	}
	cmd.AddCommand(p.agencyCreateCommand(), p.agencyListCommand(), p.agencyRevokeKeyCommand(), p.agencyNewKeyCommand())
	return cmd
}

func (p *program) agencyCreateCommand() *cobra.Command {
	var cfg config
	var name, output string
	cmd := &cobra.Command{
		Use:   "create --name NAME",
		Short: "Create an agency and print its API key (shown only once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "text", "json", "key"); err != nil {
				return err
			}
			a, err := p.openConfigured(cmd, &cfg)
			if err != nil {
				return err
			}
			defer a.Close()
			ag, key, err := a.agencies.Create(cmd.Context(), name)
			if err != nil {
				return err
			}
			switch output {
			case "json":
				return json.NewEncoder(p.stdout).Encode(map[string]string{"id": ag.ID, "name": ag.Name, "api_key": key})
			case "key":
				fmt.Fprintln(p.stdout, key)
			default:
				fmt.Fprintf(p.stdout, "created agency %s (%s)\nAPI key (shown only once; store it now): %s\n", ag.ID, ag.Name, key)
			}
			return nil
		},
	}
	cfg.bindStorage(cmd.Flags())
	cmd.Flags().StringVar(&name, "name", "", "the agency's name, e.g. \"Land Registry\" (required)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, json, or key (the API key alone)")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func (p *program) agencyListCommand() *cobra.Command {
	var cfg config
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List agencies",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "text", "json"); err != nil {
				return err
			}
			a, err := p.openConfigured(cmd, &cfg)
			if err != nil {
				return err
			}
			defer a.Close()
			list, err := a.agencies.List(cmd.Context())
			if err != nil {
				return err
			}
			if output == "json" {
				type row struct {
					ID        string    `json:"id"`
					Name      string    `json:"name"`
					CreatedAt time.Time `json:"created_at"`
				}
				rows := make([]row, 0, len(list))
				for _, ag := range list {
					rows = append(rows, row{ag.ID, ag.Name, ag.CreatedAt.UTC()})
				}
				return json.NewEncoder(p.stdout).Encode(rows)
			}
			tw := tabwriter.NewWriter(p.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tCREATED")
			for _, ag := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", ag.ID, ag.Name, ag.CreatedAt.UTC().Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	cfg.bindStorage(cmd.Flags())
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func (p *program) agencyRevokeKeyCommand() *cobra.Command {
	var cfg config
	cmd := &cobra.Command{
		Use:   "revoke-key AGENCY_ID",
		Short: "Revoke every API key of an agency (issue a new one with new-key)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := p.openConfigured(cmd, &cfg)
			if err != nil {
				return err
			}
			defer a.Close()
			n, err := a.agencies.RevokeKeys(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(p.stdout, "revoked %d API key(s) of %s; requests with them get 401 (a running service stops accepting them within 2 s)\n", n, args[0])
			return nil
		},
	}
	cfg.bindStorage(cmd.Flags())
	return cmd
}

func (p *program) agencyNewKeyCommand() *cobra.Command {
	var cfg config
	var output string
	cmd := &cobra.Command{
		Use:   "new-key AGENCY_ID",
		Short: "Issue a new API key for an agency (shown only once)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, "text", "json", "key"); err != nil {
				return err
			}
			a, err := p.openConfigured(cmd, &cfg)
			if err != nil {
				return err
			}
			defer a.Close()
			key, err := a.agencies.IssueKey(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			switch output {
			case "json":
				return json.NewEncoder(p.stdout).Encode(map[string]string{"id": args[0], "api_key": key})
			case "key":
				fmt.Fprintln(p.stdout, key)
			default:
				fmt.Fprintf(p.stdout, "new API key for %s (shown only once; store it now): %s\n", args[0], key)
			}
			return nil
		},
	}
	cfg.bindStorage(cmd.Flags())
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, json, or key")
	return cmd
}

func checkOutput(got string, allowed ...string) error {
	for _, a := range allowed {
		if got == a {
			return nil
		}
	}
	return fmt.Errorf("--output %q: want one of %v", got, allowed)
}
