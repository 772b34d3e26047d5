package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/civic/currency"
	"github.com/urbis-id/urbis/registry"
	"github.com/urbis-id/urbis/wallet"
)

// civicFlags are the flags of the commands a citizen runs with the
// wallet's key: paying, burning, selling and buying energy.
type civicFlags struct {
	dir, passFile, server string
}

// bind adds the flags to cmd (as persistent flags) and reads URBIS_*
// variables for those not given.
func (f *civicFlags) bind(p *program, cmd *cobra.Command) {
	home := p.getenv("HOME")
	if home == "" {
		home = "."
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.dir, "wallet-dir", filepath.Join(home, ".urbis", "wallet"), "directory of the wallet file")
	pf.StringVar(&f.server, "server", "http://127.0.0.1:8080", "the urbis serve to submit to")
	pf.StringVar(&f.passFile, "passphrase-file", "", "file whose first line is the wallet passphrase (default: $URBIS_WALLET_PASSPHRASE)")
	cmd.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		return applyEnv(cmd.Flags(), p.getenv)
	}
}

// signer opens the wallet and returns its everyday DID's key.
func (p *program) civicSigner(f *civicFlags) (string, string, *wallet.Wallet, error) {
	pass, err := p.walletPassphrase(f.passFile, "URBIS_WALLET_PASSPHRASE", "--passphrase-file")
	if err != nil {
		return "", "", nil, err
	}
	w, err := wallet.Open(f.dir, pass, wallet.Options{})
	if err != nil {
		return "", "", nil, err
	}
	d, err := w.DefaultDID()
	if err != nil {
		return "", "", nil, err
	}
	_, kid, err := w.Signer(d.DID)
	return d.DID, kid, w, err
}

// civicClient talks to the currency, energy and registry routes.
type civicClient struct{ base string }

func (c civicClient) do(ctx context.Context, method, path string, body any, v any) (int, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.base, "/")+path, r)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s: %w (is urbis serve running there? set --server or URBIS_SERVER)", c.base, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		var prob struct{ Detail string }
		if json.Unmarshal(b, &prob) == nil && prob.Detail != "" {
			return resp.StatusCode, fmt.Errorf("%s", prob.Detail)
		}
		return resp.StatusCode, fmt.Errorf("%s %s: %s %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	return resp.StatusCode, json.Unmarshal(b, v)
}

// civicAccount is GET /currencies/{code}/accounts/{did}.
type civicAccount struct {
	Currency string
	DID      string `json:"did"`
	Balance  int64
	Sequence uint64
	Height   uint64
}

func (c civicClient) account(ctx context.Context, code, did string) (civicAccount, error) {
	var a civicAccount
	_, err := c.do(ctx, http.MethodGet, "/currencies/"+url.PathEscape(code)+"/accounts/"+url.PathEscape(did), nil, &a)
	return a, err
}

// civicSign signs kind with payload as the wallet's DID with sequence
// number seq, or, if seq is 0, the DID's next one read from --server.
func (p *program) civicSign(ctx context.Context, f *civicFlags, code string, kind registry.Kind, payload any, seq uint64) (registry.SignedOp, string, error) {
	id, kid, w, err := p.civicSigner(f)
	if err != nil {
		return registry.SignedOp{}, "", err
	}
	c := civicClient{base: f.server}
	var head struct{ Chain string }
	if _, err := c.do(ctx, http.MethodGet, "/registry/head", nil, &head); err != nil {
		return registry.SignedOp{}, "", err
	}
	if seq == 0 {
		acc, err := c.account(ctx, code, id)
		if err != nil {
			return registry.SignedOp{}, "", err
		}
		seq = acc.Sequence + 1
	}
	key, _, err := w.Signer(id)
	if err != nil {
		return registry.SignedOp{}, "", err
	}
	op, err := registry.NewOperation(head.Chain, kind, kid, seq, payload)
	if err != nil {
		return registry.SignedOp{}, "", err
	}
	signed, err := registry.Sign(op, key)
	return signed, id, err
}

// civicSubmit signs kind with payload as the wallet's DID, with its next
// sequence number, submits it and waits for its block.
func (p *program) civicSubmit(ctx context.Context, f *civicFlags, code string, kind registry.Kind, payload any) (registry.OpStatus, string, error) {
	signed, id, err := p.civicSign(ctx, f, code, kind, payload, 0)
	if err != nil {
		return registry.OpStatus{}, "", err
	}
	var st struct {
		Hash   string
		Height uint64
	}
	if _, err := (civicClient{base: f.server}).do(ctx, http.MethodPost, "/registry/operations?wait=true", map[string]string{"operation": signed.JWS}, &st); err != nil {
		return registry.OpStatus{}, "", err
	}
	return registry.OpStatus{Hash: st.Hash, Height: st.Height, Status: registry.StatusCommitted}, id, nil
}

func (p *program) currencyCommand() *cobra.Command {
	var f civicFlags
	cmd := &cobra.Command{
		Use:   "currency",
		Short: "The city currency, from a citizen's wallet: balances, payments, burns",
		Long: `Amounts are whole minor units of the currency (with 2 decimals, 1050 is 10.50).
Payments and burns are signed by the wallet's DID key (--wallet-dir, passphrase
from $URBIS_WALLET_PASSPHRASE or --passphrase-file) with the account's next
sequence number, and submitted to --server, waiting for the block.`,
	}
	f.bind(p, cmd)

	balance := &cobra.Command{
		Use:   "balance CODE [DID]",
		Short: "An account's balance (the wallet's own without DID)",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := ""
			if len(args) == 2 {
				id = args[1]
			} else {
				var err error
				if id, _, _, err = p.civicSigner(&f); err != nil {
					return err
				}
			}
			a, err := civicClient{base: f.server}.account(cmd.Context(), args[0], id)
			if err != nil {
				return err
			}
			fmt.Fprintf(p.stdout, "%s holds %d minor units of %s at height %d (sequence %d)\n", a.DID, a.Balance, a.Currency, a.Height, a.Sequence)
			return nil
		},
	}

	var (
		to, memo string
		amount   int64
		signOnly bool
		seq      uint64
	)
	pay := &cobra.Command{
		Use:   "pay CODE --to DID --amount N",
		Short: "Pay from the wallet's account (a currency.transfer signed by its key)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t := currency.Transfer{Code: args[0], To: to, Amount: amount, Memo: memo}
			if signOnly {
				signed, _, err := p.civicSign(cmd.Context(), &f, args[0], currency.KindTransfer, t, seq)
				if err != nil {
					return err
				}
				b, _ := json.Marshal(map[string]string{"operation": signed.JWS})
				fmt.Fprintf(p.stdout, "%s\n", b)
				return nil
			}
			if seq != 0 {
				return fmt.Errorf("--sequence is for --sign-only; a payment submitted here takes the next sequence number")
			}
			st, from, err := p.civicSubmit(cmd.Context(), &f, args[0], currency.KindTransfer, t)
			if err != nil {
				return err
			}
			fmt.Fprintf(p.stdout, "paid %d minor units of %s to %s: operation %s committed in block %d\n", amount, args[0], to, st.Hash, st.Height)
			return p.printBalance(cmd.Context(), &f, args[0], from)
		},
	}
	pay.Flags().StringVar(&to, "to", "", "the DID paid (required)")
	pay.Flags().Int64Var(&amount, "amount", 0, "minor units (required)")
	pay.Flags().StringVar(&memo, "memo", "", "a note of up to 140 bytes, public on the chain")
	pay.Flags().BoolVar(&signOnly, "sign-only", false, "print the signed operation as a POST /registry/operations body instead of submitting it")
	pay.Flags().Uint64Var(&seq, "sequence", 0, "with --sign-only, the sequence number to sign with (default: the account's next)")
	_ = pay.MarkFlagRequired("to")
	_ = pay.MarkFlagRequired("amount")

	var burnAmount int64
	burn := &cobra.Command{
		Use:   "burn CODE --amount N",
		Short: "Burn from the wallet's account (a currency.burn signed by its key)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, from, err := p.civicSubmit(cmd.Context(), &f, args[0], currency.KindBurn, currency.Burn{Code: args[0], Amount: burnAmount})
			if err != nil {
				return err
			}
			fmt.Fprintf(p.stdout, "burnt %d minor units of %s: operation %s committed in block %d\n", burnAmount, args[0], st.Hash, st.Height)
			return p.printBalance(cmd.Context(), &f, args[0], from)
		},
	}
	burn.Flags().Int64Var(&burnAmount, "amount", 0, "minor units (required)")
	_ = burn.MarkFlagRequired("amount")
	cmd.AddCommand(balance, pay, burn)
	return cmd
}

func (p *program) printBalance(ctx context.Context, f *civicFlags, code, id string) error {
	a, err := civicClient{base: f.server}.account(ctx, code, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(p.stdout, "%s holds %d minor units of %s at height %d (sequence %d)\n", a.DID, a.Balance, a.Currency, a.Height, a.Sequence)
	return nil
}
