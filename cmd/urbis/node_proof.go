package main

import (
	"encoding/json"
	"fmt"
	"os"

	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/internal/node"
)

func (p *program) nodeProofCommand() *cobra.Command {
	var rpc string
	cmd := &cobra.Command{
		Use:   "proof HASH --rpc URL",
		Short: "Print the commit proof of a committed operation (JSON), from a validator's CometBFT RPC",
		Long: `Print the inclusion proof of a committed operation that rests on the
validators' signatures: the operation's Merkle path to its CometBFT block,
that block's header and commit (signatures of more than two thirds of the
voting power), and the operation's result (accepted) with its path to the
next header, with its commit. Check it offline with urbis node check-proof.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pr, err := node.FetchCommitProof(cmd.Context(), rpc, args[0])
			if err != nil {
				return err
			}
			enc := json.NewEncoder(p.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(pr)
		},
	}
	cmd.Flags().StringVar(&rpc, "rpc", "http://127.0.0.1:26657", "a validator's CometBFT RPC")
	return cmd
}

func (p *program) nodeCheckProofCommand() *cobra.Command {
	var genesis string
	cmd := &cobra.Command{
		Use:   "check-proof FILE --genesis GENESIS",
		Short: "Check a commit proof offline against the CometBFT genesis",
		Long: `Check a commit proof (urbis node proof) with nothing but the chain's
CometBFT genesis: the validator-set changes it carries, in order from the
genesis (each change's header signed by more than two thirds of the set
then in force, naming the next set), then the operation's block and the
next one, each signed by more than two thirds of the set in force at its
height; the operation's Merkle path to its block, and its result
(accepted) to the next.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			var pr node.CommitProof
			if err := json.Unmarshal(b, &pr); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			doc, err := cmttypes.GenesisDocFromFile(genesis)
			if err != nil {
				return err
			}
			op, err := node.CheckCommitProof(&pr, doc)
			if err != nil {
				return err
			}
			set := ""
			if n := len(pr.History); n > 0 {
				set = fmt.Sprintf(", of the validator set reached from the genesis through %d change(s), each signed by the set before it", n)
			}
			fmt.Fprintf(p.stdout, "proof checks: operation %s (%s by %s) is in block %d of chain %s, committed and accepted by more than two thirds of the voting power%s\n",
				op.Hash, op.Op.Kind, op.Op.Signer, pr.Height, doc.ChainID, set)
			return nil
		},
	}
	cmd.Flags().StringVar(&genesis, "genesis", "", "the chain's CometBFT genesis (a validator home's config/genesis.json)")
	_ = cmd.MarkFlagRequired("genesis")
	return cmd
}
