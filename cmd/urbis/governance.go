package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/registry"
)

func (p *program) governanceCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "governance",
		Short: "Act as the governance authority: accredit agencies for credential types",
	}
	cmd.AddCommand(p.accreditCommand())
	return cmd
}

func (p *program) accreditCommand() *cobra.Command {
	var (
		cfg                      config
		issuer, types, districts string
		from, until, server      string
		mayDelegate              bool
	)
	cmd := &cobra.Command{
		Use:   "accredit --issuer DID --types T1,T2",
		Short: "Accredit an issuer DID for credential types (a signed trust.accredit)",
		Long: `Sign a trust.accredit operation with the governance key of the data directory
(governance.key) and submit it to the running urbis serve (--server), waiting
for its block. The issuer may then issue the listed credential types
(optionally only in --districts) from --from until --until.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := p.loadConfig(cmd, &cfg, false); err != nil {
				return err
			}
			if _, err := did.Parse(issuer); err != nil {
				return fmt.Errorf("--issuer: %v", err)
			}
			payload := registry.TrustAccredit{Issuer: issuer, Types: splitList(types), Districts: splitList(districts), MayDelegate: mayDelegate}
			if len(payload.Types) == 0 {
				return fmt.Errorf("--types needs at least one credential type, e.g. --types LandTitle,ResidentCredential")
			}
			for _, t := range []struct {
				flag string
				v    string
				out  *string
			}{{"--from", from, &payload.ValidFrom}, {"--until", until, &payload.ValidUntil}} {
				if t.v == "" {
					continue
				}
				ts, err := time.Parse(time.RFC3339, t.v)
				if err != nil {
					return fmt.Errorf("%s %q is not an RFC 3339 time such as 2030-12-31T23:59:59Z", t.flag, t.v)
				}
				*t.out = ts.UTC().Format(time.RFC3339)
			}
			st, err := p.signAndSubmit(cmd.Context(), &cfg, server, registry.KindTrustAccredit, payload)
			if err != nil {
				return err
			}
			fmt.Fprintf(p.stdout, "accredited %s for %s: operation %s committed in block %d\naccreditation id: %s\n",
				issuer, strings.Join(payload.Types, ", "), st.Hash, st.Height, st.Hash)
			return nil
		},
	}
	cfg.bindStorage(cmd.Flags())
	cmd.Flags().StringVar(&issuer, "issuer", "", "the issuer DID to accredit (required)")
	cmd.Flags().StringVar(&types, "types", "", "comma-separated credential types (required)")
	cmd.Flags().StringVar(&districts, "districts", "", "comma-separated districts the accreditation is limited to")
	cmd.Flags().StringVar(&from, "from", "", "start of validity, RFC 3339 (default: the block time)")
	cmd.Flags().StringVar(&until, "until", "", "end of validity, RFC 3339 (default: open-ended)")
	cmd.Flags().BoolVar(&mayDelegate, "may-delegate", false, "let the issuer accredit others one level down")
	cmd.Flags().StringVar(&server, "server", "http://127.0.0.1:8080", "the urbis serve to submit to")
	_ = cmd.MarkFlagRequired("issuer")
	_ = cmd.MarkFlagRequired("types")
	return cmd
}

// signAndSubmit signs an operation with the governance key and submits it,
// waiting for its block. The nonce is read from the database, as the
// agency commands do, so run it on the host of urbis serve.
func (p *program) signAndSubmit(ctx context.Context, cfg *config, server string, kind registry.Kind, payload any) (registry.OpStatus, error) {
	f := filesIn(cfg.DataDir)
	g, err := registry.LoadGenesis(f.Genesis)
	if err != nil {
		return registry.OpStatus{}, err
	}
	key, err := registry.ReadKeyFile(f.GovernanceKey)
	if err != nil {
		return registry.OpStatus{}, fmt.Errorf("governance key: %w", err)
	}
	govDID, err := did.NewKey(key.Public())
	if err != nil {
		return registry.OpStatus{}, err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return registry.OpStatus{}, fmt.Errorf("open database: %w", err)
	}
	nonce, err := db.Nonce(ctx, govDID.String())
	db.Close()
	if err != nil {
		return registry.OpStatus{}, err
	}
	signer := govDID.String() + "#" + govDID.ID
	op, err := registry.NewOperation(g.ChainID, kind, signer, nonce+1, payload)
	if err != nil {
		return registry.OpStatus{}, err
	}
	signed, err := registry.Sign(op, key)
	if err != nil {
		return registry.OpStatus{}, err
	}
	return submitOp(ctx, server, signed.JWS)
}

// submitOp posts a signed operation with wait=true and decodes the answer.
func submitOp(ctx context.Context, server, jws string) (registry.OpStatus, error) {
	body, _ := json.Marshal(map[string]string{"operation": jws})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(server, "/")+"/registry/operations?wait=true", bytes.NewReader(body))
	if err != nil {
		return registry.OpStatus{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return registry.OpStatus{}, fmt.Errorf("submit to %s: %w (is urbis serve running? set --server)", server, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated {
		return registry.OpStatus{}, fmt.Errorf("the registry answered %s: %s", resp.Status, b)
	}
	var st struct {
		Hash   string `json:"hash"`
		Status string `json:"status"`
		Height uint64 `json:"height"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return registry.OpStatus{}, fmt.Errorf("the registry answered %s", b)
	}
	return registry.OpStatus{Hash: st.Hash, Status: st.Status, Height: st.Height}, nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
