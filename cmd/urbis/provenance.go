package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (p *program) provenanceCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "provenance",
		Short: "Provenance attestations",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "hash FILE...",
		Short: "Print the hash by which an attestation names the credential in FILE as its parent",
		Long: `Print the hex SHA-256 of each credential as issued (the hash its anchor uses,
and the one a ProvenanceAttestation lists in credentialSubject.parents): of the
compact token of a JWT-VC, or of the JSON Canonicalization Scheme form of a
credential object. FILE holds the token, the object, or the issue answer
{"verifiableCredential": …} as POST /credentials/issue returned it.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, files []string) error {
			for _, f := range files {
				h, err := leafOfFile(f)
				if err != nil {
					return err
				}
				fmt.Fprintln(p.stdout, h)
			}
			return nil
		},
	})
	return cmd
}
