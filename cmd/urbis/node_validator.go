package main

import (
	"crypto/ed25519"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/node"
)

func (p *program) nodeSetValidatorCommand() *cobra.Command {
	var (
		cfg                   config
		id, publicKey, server string
		validatorHome         string
		power                 int64
	)
	cmd := &cobra.Command{
		Use:   "set-validator --id ID --power N (--public-key MULTIKEY | --validator-home DIR)",
		Short: "Add a validator, change its voting power, or remove it (power 0): a governance operation",
		Long: `Sign a validator.set operation with the governance key of the data directory
(governance.key) and submit it to a validator (--server), waiting for its
block. Once committed, the change reaches CometBFT as a validator update and
takes effect two blocks later. The key is the validator's CometBFT key: give
it as a Multikey, or the validator's home to read it from
(config/priv_validator_key.json; only its public part is used).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := p.loadConfig(cmd, &cfg, false); err != nil {
				return err
			}
			if (publicKey == "") == (validatorHome == "") {
				return fmt.Errorf("give one of --public-key and --validator-home")
			}
			if validatorHome != "" {
				pub, err := node.ValidatorKey(validatorHome)
				if err != nil {
					return err
				}
				if publicKey, err = did.EncodeMultikey(ed25519.PublicKey(pub)); err != nil {
					return err
				}
			}
			st, err := p.signAndSubmit(cmd.Context(), &cfg, server, node.KindValidatorSet, node.ValidatorSet{ID: id, PublicKey: publicKey, Power: power})
			if err != nil {
				return err
			}
			fmt.Fprintf(p.stdout, "validator %s set to power %d: operation %s committed in block %d\n", id, power, st.Hash, st.Height)
			return nil
		},
	}
	cfg.bindStorage(cmd.Flags())
	cmd.Flags().StringVar(&id, "id", "", "the validator id (required)")
	cmd.Flags().Int64Var(&power, "power", 10, "its voting power; 0 removes it")
	cmd.Flags().StringVar(&publicKey, "public-key", "", "its CometBFT Ed25519 key as a Multikey (z6Mk...)")
	cmd.Flags().StringVar(&validatorHome, "validator-home", "", "or its home, to read the key from")
	cmd.Flags().StringVar(&server, "server", "http://127.0.0.1:8080", "a validator's REST API to submit to")
	_ = cmd.MarkFlagRequired("id")
	return cmd
}
