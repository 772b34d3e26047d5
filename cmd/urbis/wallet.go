package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/wallet"
)

// walletFlags are the flags every wallet command shares.
type walletFlags struct {
	dir, passFile, backupPassFile string
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
	var label string
	didCreate := &cobra.Command{
		Use:   "create",
		Short: "Create a did:key (with --label, a pairwise DID for one verifier)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			w, err := open()
			if err != nil {
				return err
			}
			d, err := w.NewDIDKey(label)
			if err != nil {
				return err
			}
			fmt.Fprintln(p.stdout, d.DID)
			return nil
		},
	}
	didCreate.Flags().StringVar(&label, "label", "", "what the DID is for, e.g. the verifier of a pairwise DID")
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
	didCmd.AddCommand(didCreate, didList)

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
	cmd.AddCommand(initCmd, didCmd, add, list, show, export, imp)
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
