package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/civic/land"
	"github.com/urbis-id/urbis/registry"
)

func (p *program) landCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "land",
		Short: "Land titles: an owner's consent to a transfer, and a parcel's history checked offline",
	}
	cmd.AddCommand(p.landConsentCommand(), p.landCheckHistoryCommand())
	return cmd
}

func (p *program) landConsentCommand() *cobra.Command {
	var keyFile, parcel, title, mortgage, lender string
	var buyers []string
	cmd := &cobra.Command{
		Use:   "consent --key FILE --parcel ID --title HASH (--buyer DID[=SHARE]... | --mortgage ID --lender DID)",
		Short: "Print an owner's consent to a transfer or a mortgage, signed with the owner's key",
		Long: `Print the consent of the owner whose Ed25519 seed is in FILE (a did:key, as
"urbis holder did --key FILE" prints; created when absent) about parcel ID
under its current title HASH (from GET /land/parcels/{id}): a compact JWS
whose kid is the owner's key.

With --buyer, the consent to transfer the parcel to the buyers, over
{"parcel","title","buyers"}; the land registry puts one per current owner in
its POST /land/parcels/{id}/transfers, and the chain checks that it names
this parcel, this title and exactly these buyers, in this order. A buyer's
share is 1 unless given.

With --mortgage and --lender, the consent to the lender's mortgage of that
id, over {"parcel","title","encumbrance","lender"}, for the lender's
POST /land/parcels/{id}/encumbrances.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if parcel == "" || title == "" {
				return fmt.Errorf("--parcel and --title are required")
			}
			var body any
			switch {
			case len(buyers) > 0 && mortgage == "" && lender == "":
				c := land.Consent{Parcel: parcel, Title: title}
				for _, b := range buyers {
					id, share, ok := strings.Cut(b, "=")
					n := 1
					if ok {
						var err error
						if n, err = strconv.Atoi(share); err != nil {
							return fmt.Errorf("--buyer %s: the share after = must be an integer", b)
						}
					}
					c.Buyers = append(c.Buyers, land.Owner{DID: id, Share: n})
				}
				if err := land.CheckOwners("--buyer", c.Buyers); err != nil {
					return err
				}
				body = c
			case len(buyers) == 0 && mortgage != "" && lender != "":
				body = land.MortgageConsent{Parcel: parcel, Title: title, Encumbrance: mortgage, Lender: lender}
			default:
				return fmt.Errorf("give either --buyer (a transfer) or --mortgage and --lender (a mortgage)")
			}
			h, err := loadHolder(keyFile)
			if err != nil {
				return err
			}
			b, err := json.Marshal(body)
			if err != nil {
				return err
			}
			hdr := jws.NewHeaders()
			if err := hdr.Set(jws.KeyIDKey, h.vm); err != nil {
				return err
			}
			tok, err := jws.Sign(b, jws.WithKey(jwa.EdDSA, h.key, jws.WithProtectedHeaders(hdr)))
			if err != nil {
				return err
			}
			fmt.Fprintln(p.stdout, string(tok))
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "key", "holder.key", "file with the owner's Ed25519 seed (hex); created when absent")
	cmd.Flags().StringVar(&parcel, "parcel", "", "the parcel's id")
	cmd.Flags().StringVar(&title, "title", "", "the hash of the parcel's current title")
	cmd.Flags().StringArrayVar(&buyers, "buyer", nil, "a buyer's DID, with =SHARE for a share other than 1; repeat for each buyer, in order")
	cmd.Flags().StringVar(&mortgage, "mortgage", "", "the id of the lender's mortgage")
	cmd.Flags().StringVar(&lender, "lender", "", "the lender's DID")
	return cmd
}

func (p *program) landCheckHistoryCommand() *cobra.Command {
	var genesis string
	cmd := &cobra.Command{
		Use:   "check-history FILE --genesis GENESIS",
		Short: "Check a parcel's history offline: every step's inclusion proof against the genesis",
		Long: `Check the history of a parcel (the JSON of GET /land/parcels/{id}/history;
FILE "-" reads standard input) with nothing but the genesis file: for each
step, that the inclusion proof is of the step's operation, that the operation
is a land operation about this parcel, and that the proof checks (Merkle path
to the block's operations root, validators' signatures over the header). It
prints one line per step.`,
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
			var h struct {
				Parcel string `json:"parcel"`
				Events []struct {
					Kind      string         `json:"kind"`
					Operation string         `json:"operation"`
					Height    uint64         `json:"height"`
					Owners    []land.Owner   `json:"owners"`
					Proof     registry.Proof `json:"proof"`
				} `json:"events"`
			}
			if err := json.NewDecoder(io.LimitReader(r, 64<<20)).Decode(&h); err != nil {
				return fmt.Errorf("%s is not a parcel history: %v", args[0], err)
			}
			bad := false
			for _, ev := range h.Events {
				err := registry.CheckProof(ev.Proof, g)
				if err == nil {
					err = proofIsOf(ev.Proof, ev.Operation, ev.Kind, h.Parcel)
				}
				if err != nil {
					fmt.Fprintf(p.stdout, "INVALID: %s in block %d: %v\n", ev.Kind, ev.Height, err)
					bad = true
					continue
				}
				var owners []string
				for _, o := range ev.Owners {
					owners = append(owners, o.DID+"="+strconv.Itoa(o.Share))
				}
				fmt.Fprintf(p.stdout, "OK: %s of %s in block %d (operation %s); owners %s\n", ev.Kind, h.Parcel, ev.Proof.Header.Height, ev.Operation, strings.Join(owners, ", "))
			}
			if bad {
				return errReported
			}
			fmt.Fprintf(p.stdout, "%d steps of parcel %s checked against chain %s\n", len(h.Events), h.Parcel, g.ChainID)
			return nil
		},
	}
	cmd.Flags().StringVar(&genesis, "genesis", "./data/genesis.json", "the genesis file")
	return cmd
}

// proofIsOf checks that the proof's operation is op, of kind, about parcel.
func proofIsOf(pr registry.Proof, op, kind, parcel string) error {
	if pr.Hash != op {
		return fmt.Errorf("the proof is of operation %s, not %s", pr.Hash, op)
	}
	signed, err := registry.ParseSigned(pr.Operation)
	if err != nil {
		return err
	}
	if string(signed.Op.Kind) != kind {
		return fmt.Errorf("the operation is a %s, not a %s", signed.Op.Kind, kind)
	}
	var body struct {
		Parcel string `json:"parcel"`
	}
	if err := json.Unmarshal(signed.Op.Payload, &body); err != nil || body.Parcel != parcel {
		return fmt.Errorf("the operation is about parcel %q, not %s", body.Parcel, parcel)
	}
	return nil
}
