package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/registry"
	"github.com/urbis-id/urbis/wallet"
)

// walletFlags are the flags every wallet command shares.
type walletFlags struct {
	dir, passFile, backupPassFile, server string
}

// walletCommand is the citizen's wallet: an encrypted file of keys, DIDs
// and credentials.
func (p *program) walletCommand() *cobra.Command {
	var f walletFlags
	cmd := &cobra.Command{
		Use:   "wallet",
		Short: "A holder's wallet: keys, DIDs and credentials in an encrypted file",
		Long: `The wallet keeps its keys, DIDs and credentials in one file,
--wallet-dir/wallet.urbis, encrypted with XChaCha20-Poly1305 under a key
derived from the passphrase with argon2id. Every change replaces the file
atomically.

The passphrase is read from the file --passphrase-file or from the
environment variable URBIS_WALLET_PASSPHRASE (at least 8 characters).`,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return applyEnv(cmd.Flags(), p.getenv)
		},
	}
	home := p.getenv("HOME")
	if home == "" {
		home = "."
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.dir, "wallet-dir", filepath.Join(home, ".urbis", "wallet"), "directory of the wallet file")
	pf.StringVar(&f.server, "server", "http://127.0.0.1:8080", "the urbis serve whose registry chain did:urbis DIDs live on")
	pf.StringVar(&f.passFile, "passphrase-file", "", "file whose first line is the wallet passphrase (default: $URBIS_WALLET_PASSPHRASE)")

	open := func() (*wallet.Wallet, error) {
		pass, err := p.walletPassphrase(f.passFile, "URBIS_WALLET_PASSPHRASE", "--passphrase-file")
		if err != nil {
			return nil, err
		}
		return wallet.Open(f.dir, pass, wallet.Options{})
	}

	initCmd := &cobra.Command{
		Use:   "init",
		Short: "Create an empty wallet with a did:key",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			pass, err := p.walletPassphrase(f.passFile, "URBIS_WALLET_PASSPHRASE", "--passphrase-file")
			if err != nil {
				return err
			}
			w, err := wallet.Create(f.dir, pass, wallet.Options{})
			if err != nil {
				return err
			}
			d, err := w.NewDIDKey("")
			if err != nil {
				return err
			}
			fmt.Fprintf(p.stdout, "created wallet %s\nDID: %s\n", wallet.Path(f.dir), d.DID)
			return nil
		},
	}

	didCmd := &cobra.Command{Use: "did", Short: "The wallet's DIDs"}
	var label, method string
	didCreate := &cobra.Command{
		Use:   "create",
		Short: "Create a did:key, or a did:urbis registered on the chain (with --label, a pairwise DID for one verifier)",
		Long: `With --method key (the default) the DID is the key: nothing leaves the
wallet. With --method urbis the wallet signs the did.create of a new
did:urbis with its new key and submits it to --server, waiting for its block;
the DID can later rotate its key (urbis wallet rotate-key).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := open()
			if err != nil {
				return err
			}
			switch method {
			case "key":
				d, err := w.NewDIDKey(label)
				if err != nil {
					return err
				}
				fmt.Fprintln(p.stdout, d.DID)
				return nil
			case "urbis":
				c := registryClient{base: strings.TrimRight(f.server, "/")}
				chain, err := c.chainID(cmd.Context())
				if err != nil {
					return err
				}
				d, op, err := w.CreateDIDURBIS(chain, label)
				if err != nil {
					return err
				}
				if err := p.settle(cmd.Context(), w, c, d.DID, op); err != nil {
					return err
				}
				fmt.Fprintln(p.stdout, d.DID)
				return nil
			}
			return fmt.Errorf("--method %q: want key or urbis", method)
		},
	}
	didCreate.Flags().StringVar(&label, "label", "", "what the DID is for, e.g. the verifier of a pairwise DID")
	didCreate.Flags().StringVar(&method, "method", "key", "key, or urbis (registered on the chain of --server)")
	didCheck := &cobra.Command{
		Use:   "check DID",
		Short: "Ask --server what became of the DID's unconfirmed operation, and record it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := open()
			if err != nil {
				return err
			}
			i := slices.IndexFunc(w.DIDs(), func(d wallet.DID) bool { return d.DID == args[0] })
			if i < 0 || w.DIDs()[i].Pending == nil {
				return fmt.Errorf("%s has no unconfirmed operation", args[0])
			}
			c := registryClient{base: strings.TrimRight(f.server, "/")}
			st, err := c.status(cmd.Context(), w.DIDs()[i].Pending.Hash)
			if err != nil {
				return err
			}
			return p.record(w, args[0], st)
		},
	}
	didList := &cobra.Command{
		Use:   "list",
		Short: "List the wallet's DIDs",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			w, err := open()
			if err != nil {
				return err
			}
			for _, d := range w.DIDs() {
				fmt.Fprintf(p.stdout, "%s\t%s\t%s\n", d.DID, d.Created.Format("2006-01-02T15:04:05Z"), d.Label)
			}
			return nil
		},
	}
	didCmd.AddCommand(didCreate, didList, didCheck)

	var compromised bool
	rotate := &cobra.Command{
		Use:   "rotate-key DID",
		Short: "Replace the key of one of the wallet's did:urbis DIDs (a did.update signed by the current key)",
		Long: `The wallet makes a new key and submits to --server a did.update, signed by
the current key, whose document holds only the new key. With --compromised
the update also declares the old key compromised: verifiers then refuse
everything it ever signed, so use it when the key may have leaked.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := open()
			if err != nil {
				return err
			}
			c := registryClient{base: strings.TrimRight(f.server, "/")}
			chain, err := c.chainID(cmd.Context())
			if err != nil {
				return err
			}
			op, err := w.RotateKey(chain, args[0], compromised)
			if err != nil {
				return err
			}
			if err := p.settle(cmd.Context(), w, c, args[0], op); err != nil {
				return err
			}
			_, vm, err := w.Signer(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(p.stdout, "rotated %s: the key is now %s\n", args[0], vm)
			return nil
		},
	}
	rotate.Flags().BoolVar(&compromised, "compromised", false, "also declare the old key compromised")

	add := &cobra.Command{
		Use:   "add FILE",
		Short: "Store a credential from FILE (an issue answer, an ldp_vc, or a JWT-VC/SD-JWT VC as a JSON string)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			w, err := open()
			if err != nil {
				return err
			}
			c, err := w.AddCredential(b)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			fmt.Fprintf(p.stdout, "stored %s credential %s (%s from %s)\n", c.Format, c.ID, strings.Join(c.Types, ", "), c.Issuer)
			return nil
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the credentials: local id, format, types, issuer, received",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			w, err := open()
			if err != nil {
				return err
			}
			for _, c := range w.Credentials() {
				fmt.Fprintf(p.stdout, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Format, strings.Join(c.Types, ","), c.Issuer, c.Received.Format("2006-01-02T15:04:05Z"))
			}
			return nil
		},
	}
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Print a credential as it was issued (JSON)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			w, err := open()
			if err != nil {
				return err
			}
			c, err := w.Credential(args[0])
			if err != nil {
				return err
			}
			var v any
			if err := json.Unmarshal(c.Raw, &v); err != nil {
				return err
			}
			enc := json.NewEncoder(p.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		},
	}
	export := &cobra.Command{
		Use:   "export FILE",
		Short: "Write an encrypted backup of the whole wallet to FILE",
		Long: `The backup is sealed like the wallet, with the passphrase from
--backup-passphrase-file or URBIS_WALLET_BACKUP_PASSPHRASE, or else the
wallet's own passphrase. FILE must not exist.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			w, err := open()
			if err != nil {
				return err
			}
			bp, err := p.backupPassphrase(f)
			if err != nil {
				return err
			}
			if err := w.Export(args[0], bp); err != nil {
				return err
			}
			fmt.Fprintf(p.stdout, "exported %d DIDs and %d credentials to %s\n", len(w.DIDs()), len(w.Credentials()), args[0])
			return nil
		},
	}
	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Add the keys, DIDs and credentials of a backup written by export",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			w, err := open()
			if err != nil {
				return err
			}
			bp, err := p.backupPassphrase(f)
			if err != nil {
				return err
			}
			n, err := w.Import(args[0], bp)
			if err != nil {
				return err
			}
			fmt.Fprintf(p.stdout, "imported %d credentials from %s\n", n, args[0])
			return nil
		},
	}
	for _, c := range []*cobra.Command{export, imp} {
		c.Flags().StringVar(&f.backupPassFile, "backup-passphrase-file", "", "file whose first line is the backup passphrase (default: $URBIS_WALLET_BACKUP_PASSPHRASE, else the wallet's)")
	}
	cmd.AddCommand(initCmd, didCmd, add, list, show, export, imp, rotate, p.walletReceiveCommand(open), p.walletPresentCommand(open, &f))
	return cmd
}

// backupPassphrase is the passphrase for export and import.
func (p *program) backupPassphrase(f walletFlags) ([]byte, error) {
	if f.backupPassFile != "" || p.getenv("URBIS_WALLET_BACKUP_PASSPHRASE") != "" {
		return p.walletPassphrase(f.backupPassFile, "URBIS_WALLET_BACKUP_PASSPHRASE", "--backup-passphrase-file")
	}
	return p.walletPassphrase(f.passFile, "URBIS_WALLET_PASSPHRASE", "--passphrase-file")
}

// walletPassphrase reads a passphrase from the first line of file, or
// else from the environment variable env.
func (p *program) walletPassphrase(file, env, flag string) ([]byte, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return []byte(strings.TrimRight(line, "\r")), nil
	}
	if v := p.getenv(env); v != "" {
		return []byte(v), nil
	}
	return nil, fmt.Errorf("no passphrase: set %s or pass %s FILE", env, flag)
}

// settle submits the wallet's pending operation for id and records what
// the chain made of it: Confirm when committed, Abandon when rejected.
// If the answer does not come, the operation stays pending and the error
// says how to check it later.
func (p *program) settle(ctx context.Context, w *wallet.Wallet, c registryClient, id string, op wallet.Pending) error {
	st, err := c.submit(ctx, op.Op)
	if err != nil {
		return fmt.Errorf("%w; the operation %s stays pending: `urbis wallet did check %s` records its fate", err, op.Hash, id)
	}
	return p.record(w, id, st)
}

// record applies an operation status to the wallet.
func (p *program) record(w *wallet.Wallet, id string, st registry.OpStatus) error {
	switch st.Status {
	case registry.StatusCommitted:
		return w.Confirm(id)
	case registry.StatusRejected:
		if err := w.Abandon(id); err != nil {
			return err
		}
		return fmt.Errorf("the chain rejected %s's %s: %s", id, st.Kind, st.Reason)
	}
	return fmt.Errorf("operation %s is still pending; run `urbis wallet did check %s` later", st.Hash, id)
}

// registryClient talks to the registry endpoints of an urbis serve.
type registryClient struct{ base string }

func (c registryClient) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	return c.do(req, v, http.StatusOK)
}

func (c registryClient) do(req *http.Request, v any, ok ...int) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w (is urbis serve running there? set --server or URBIS_SERVER)", c.base, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if !slices.Contains(ok, resp.StatusCode) {
		return fmt.Errorf("%s %s: %s %s", req.Method, req.URL.Path, resp.Status, bytes.TrimSpace(b))
	}
	return json.Unmarshal(b, v)
}

// chainID returns the chain's id from its head.
func (c registryClient) chainID(ctx context.Context) (string, error) {
	var head struct{ Chain string }
	if err := c.get(ctx, "/registry/head", &head); err != nil {
		return "", err
	}
	return head.Chain, nil
}

// submit posts a signed operation and waits for its block.
func (c registryClient) submit(ctx context.Context, op string) (registry.OpStatus, error) {
	body, _ := json.Marshal(map[string]string{"operation": op})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/registry/operations?wait=true", bytes.NewReader(body))
	if err != nil {
		return registry.OpStatus{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	var st registry.OpStatus
	return st, c.do(req, &st, http.StatusCreated, http.StatusAccepted, http.StatusUnprocessableEntity)
}

// status returns an operation's status.
func (c registryClient) status(ctx context.Context, hash string) (registry.OpStatus, error) {
	var st registry.OpStatus
	return st, c.get(ctx, "/registry/operations/"+hash, &st)
}
