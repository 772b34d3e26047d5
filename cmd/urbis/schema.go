package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func (p *program) schemaCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Register credential schemas on the registry chain, as an agency",
	}
	cmd.AddCommand(p.schemaRegisterCommand())
	return cmd
}

func (p *program) schemaRegisterCommand() *cobra.Command {
	var agencyKey, signer, typ, file, server, output string
	cmd := &cobra.Command{
		Use:   "register --agency-key KEY --did DID --type TYPE --file schema.json",
		Short: "Register a JSON Schema for a credential type, signed by one of the agency's DIDs",
		Long: `Send the JSON Schema in --file to the running urbis serve (--server) as
POST /schemas with the agency's API key. The server signs a schema.register
operation with the custody key of --did (one of the agency's DIDs, accredited
for --type by the governance authority) and answers once its block is
committed. From then on --type is governed: issuing it needs an accreditation
and claims that match the schema.

The key can also come from URBIS_AGENCY_KEY, which keeps it out of the shell
history.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), p.getenv); err != nil {
				return err
			}
			if err := checkOutput(output, "text", "json"); err != nil {
				return err
			}
			if agencyKey == "" {
				return fmt.Errorf("--agency-key (or URBIS_AGENCY_KEY) is required: the API key printed by `urbis agency create`")
			}
			schema, err := readSchemaFile(file)
			if err != nil {
				return err
			}
			body, _ := json.Marshal(map[string]any{"did": signer, "type": typ, "schema": schema})
			b, err := postAsAgency(cmd.Context(), server, "/schemas", agencyKey, body, http.StatusCreated)
			if err != nil {
				return err
			}
			if output == "json" {
				_, err := p.stdout.Write(append(bytes.TrimSpace(b), '\n'))
				return err
			}
			var sc struct {
				ID, Type, Issuer, Operation string
				Height                      uint64
			}
			if err := json.Unmarshal(b, &sc); err != nil {
				return fmt.Errorf("the server answered %s", b)
			}
			fmt.Fprintf(p.stdout, "registered schema %s for %s, signed by %s: operation %s committed in block %d\nserved at %s/schemas/%s\n",
				sc.ID, sc.Type, sc.Issuer, sc.Operation, sc.Height, strings.TrimRight(server, "/"), sc.ID)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&agencyKey, "agency-key", "", "the agency's API key (or URBIS_AGENCY_KEY)")
	f.StringVar(&signer, "did", "", "one of the agency's DIDs, accredited for --type (required)")
	f.StringVar(&typ, "type", "", "the credential type the schema governs, e.g. ResidentCredential (required)")
	f.StringVar(&file, "file", "", "file holding the JSON Schema (required)")
	f.StringVar(&server, "server", "http://127.0.0.1:8080", "the urbis serve to send to")
	f.StringVarP(&output, "output", "o", "text", "output format: text, or json (the server's answer)")
	_ = cmd.MarkFlagRequired("did")
	_ = cmd.MarkFlagRequired("type")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

// maxSchemaFile bounds the schema file read, well above any real schema.
const maxSchemaFile = 1 << 20

// readSchemaFile reads a JSON object from file.
func readSchemaFile(file string) (json.RawMessage, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSchemaFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSchemaFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", file, maxSchemaFile)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, fmt.Errorf("%s does not hold a JSON object: %v", file, err)
	}
	return json.RawMessage(b), nil
}

// postAsAgency posts body to server+path with the agency's API key and
// returns the answer's body when its status is want; otherwise an error
// with the server's problem detail.
func postAsAgency(ctx context.Context, server, path, key string, body []byte, want int) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(server, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("send to %s: %w (is urbis serve running? set --server)", server, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == want {
		return b, nil
	}
	var prob struct {
		Detail string `json:"detail"`
		Field  string `json:"field"`
	}
	if json.Unmarshal(b, &prob) == nil && prob.Detail != "" {
		if prob.Field != "" && !strings.HasPrefix(prob.Detail, prob.Field) {
			return nil, fmt.Errorf("the server answered %s: %s: %s", resp.Status, prob.Field, prob.Detail)
		}
		return nil, fmt.Errorf("the server answered %s: %s", resp.Status, prob.Detail)
	}
	return nil, fmt.Errorf("the server answered %s: %s", resp.Status, b)
}
