package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/registry"
	"github.com/urbis-id/urbis/vc/issuer"
)

func (p *program) credentialCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "credential",
		Short: "Work with issued credentials offline",
	}
	cmd.AddCommand(p.checkAnchorCommand())
	return cmd
}

func (p *program) checkAnchorCommand() *cobra.Command {
	var genesis, credential string
	cmd := &cobra.Command{
		Use:   "check-anchor FILE --genesis GENESIS [--credential CREDENTIAL]",
		Short: "Check offline when a credential was issued: its anchor proof against the genesis",
		Long: `Check an anchor proof (the JSON of GET /credentials/{id}/anchor once its
status is "anchored"; FILE "-" reads standard input) with nothing but the
genesis file: the leaf's Merkle path to the batch root, the anchor operation
that holds the root, its Merkle path to the block's operations root, and the
validators' signatures over the block header. It prints the DID that signed
the anchor and the block's height and time: the credential existed then.

With --credential, it first recomputes the leaf from the credential as issued
(a file holding the compact JWT or SD-JWT token, the ldp_vc JSON object, or
the issue answer {"verifiableCredential": …} as POST /credentials/issue
returned it) and checks that it is the proof's leaf.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := registry.LoadGenesis(genesis)
			if err != nil {
				return err
			}
			r, err := p.openInput(args[0])
			if err != nil {
				return err
			}
			defer r.Close()
			var proof struct {
				registry.AnchorProof
				Status string `json:"status"`
			}
			if err := json.NewDecoder(io.LimitReader(r, 16<<20)).Decode(&proof); err != nil {
				return fmt.Errorf("%s is not an anchor proof: %v", args[0], err)
			}
			if proof.Status != "" && proof.Status != "anchored" {
				return fmt.Errorf("%s is %s, not anchored yet: ask GET /credentials/{id}/anchor again after the next batch", args[0], proof.Status)
			}
			if credential != "" {
				leaf, err := leafOfFile(credential)
				if err != nil {
					return err
				}
				if leaf != proof.Leaf {
					fmt.Fprintf(p.stdout, "INVALID: the credential in %s hashes to %s; the proof is of leaf %s\n", credential, leaf, proof.Leaf)
					return errReported
				}
			}
			a, err := registry.CheckAnchorProof(proof.AnchorProof, g)
			if err != nil {
				fmt.Fprintf(p.stdout, "INVALID: %v\n", err)
				return errReported
			}
			fmt.Fprintf(p.stdout, "OK: leaf %s (%d of %d) is under root %s, anchored by %s in block %d of chain %s at %s\n",
				proof.Leaf, proof.LeafIndex+1, proof.BatchSize, proof.Root, a.Issuer, a.Height, g.ChainID, a.Time.Format("2006-01-02T15:04:05.000Z07:00"))
			return nil
		},
	}
	cmd.Flags().StringVar(&genesis, "genesis", "./data/genesis.json", "the genesis file")
	cmd.Flags().StringVar(&credential, "credential", "", "the credential as issued, to check that it is the proof's leaf")
	return cmd
}

// leafOfFile computes the leaf of the credential in file: a JSON object
// (ldp_vc), or a compact token (surrounding whitespace ignored).
func leafOfFile(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	l, err := leafOfFileBytes(b)
	if err != nil {
		return "", fmt.Errorf("%s: %v", file, err)
	}
	return l, nil
}

// leafOfFileBytes computes the leaf of b: a compact token, a credential
// object, or an issue answer ({"verifiableCredential": …}) whose
// credential is an object or an EnvelopedVerifiableCredential (whose
// data: URL holds the token).
func leafOfFileBytes(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	if !bytes.HasPrefix(b, []byte("{")) {
		return issuer.LeafOf(issuer.Issued{Token: string(b)})
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		return "", fmt.Errorf("not a JSON credential: %v", err)
	}
	if inner, ok := c["verifiableCredential"].(map[string]any); ok && len(c) == 1 {
		c = inner
	}
	if id, _ := c["id"].(string); strings.HasPrefix(id, "data:") && c["type"] == "EnvelopedVerifiableCredential" {
		_, tok, _ := strings.Cut(id, ",")
		return issuer.LeafOf(issuer.Issued{Token: tok})
	}
	return issuer.LeafOf(issuer.Issued{Credential: c})
}
