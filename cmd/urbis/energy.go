package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/civic/energy"
	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/registry"
)

func (p *program) energyCommand() *cobra.Command {
	var f civicFlags
	cmd := &cobra.Command{
		Use:   "energy",
		Short: "Peer-to-peer energy: a smart meter's key and readings, a seller's consent, a buyer's trade",
		Long: `A smart meter has its own did:key and signs its readings (meter init, meter
read). The seller signs its consent to sell a reading to a buyer at a price
(consent), with the wallet's key; the buyer signs and submits the energy.trade
(buy), which the chain settles with the payment in one operation. Energy is in
watt-hours, prices in minor units of the currency.`,
	}
	f.bind(p, cmd)

	meter := &cobra.Command{Use: "meter", Short: "A smart meter's key and signed readings"}
	var keyFile string
	meterInit := &cobra.Command{
		Use:   "init --key-file FILE",
		Short: "Make a meter key (Ed25519) in FILE and print the meter's did:key",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, k, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				return err
			}
			if err := registry.WriteKeyFile(keyFile, k); err != nil {
				return err
			}
			d, err := did.NewKey(k.Public())
			if err != nil {
				return err
			}
			fmt.Fprintln(p.stdout, d.String())
			return nil
		},
	}
	var from, until string
	var wh int64
	meterRead := &cobra.Command{
		Use:   "read --key-file FILE --from T --until T --wh N",
		Short: "Sign a reading: the energy exported between two RFC 3339 times; print the JWS",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			k, err := registry.ReadKeyFile(keyFile)
			if err != nil {
				return err
			}
			d, err := did.NewKey(k.Public())
			if err != nil {
				return err
			}
			for _, t := range []struct{ flag, v string }{{"--from", from}, {"--until", until}} {
				if _, err := time.Parse(time.RFC3339, t.v); err != nil {
					return fmt.Errorf("%s %q is not an RFC 3339 time such as 2030-06-01T12:00:00Z", t.flag, t.v)
				}
			}
			s, err := signJWS(k, d.String()+"#"+d.ID, energy.Reading{Meter: d.String(), From: from, Until: until, ExportWh: wh})
			if err != nil {
				return err
			}
			fmt.Fprintln(p.stdout, s)
			return nil
		},
	}
	for _, c := range []*cobra.Command{meterInit, meterRead} {
		c.Flags().StringVar(&keyFile, "key-file", "", "the meter's key file (required)")
		_ = c.MarkFlagRequired("key-file")
	}
	meterRead.Flags().StringVar(&from, "from", "", "start of the period, RFC 3339 (required)")
	meterRead.Flags().StringVar(&until, "until", "", "end of the period, RFC 3339 (required)")
	meterRead.Flags().Int64Var(&wh, "wh", 0, "energy exported, in Wh (required)")
	meter.AddCommand(meterInit, meterRead)

	var (
		buyer, seller, code, reading, consent string
		price                                 int64
	)
	consentCmd := &cobra.Command{
		Use:   "consent --buyer DID --currency CODE --wh N --price P --reading JWS",
		Short: "As the seller, sign consent to sell a reading to a buyer at a price; print the JWS",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			msg, err := jws.ParseString(reading)
			if err != nil {
				return fmt.Errorf("--reading is not a compact JWS: %v", err)
			}
			id, kid, w, err := p.civicSigner(&f)
			if err != nil {
				return err
			}
			key, _, err := w.Signer(id)
			if err != nil {
				return err
			}
			ek, ok := key.(ed25519.PrivateKey)
			if !ok {
				return fmt.Errorf("the wallet's key of %s is not Ed25519", id)
			}
			s, err := signJWS(ek, kid, energy.Consent{Buyer: buyer, Currency: code, Wh: wh, Price: price, Reading: energy.ReadingHash(msg.Payload())})
			if err != nil {
				return err
			}
			fmt.Fprintln(p.stdout, s)
			return nil
		},
	}
	consentCmd.Flags().StringVar(&buyer, "buyer", "", "the buyer's DID (required)")
	buy := &cobra.Command{
		Use:   "buy --seller DID --currency CODE --wh N --price P --reading JWS --consent JWS",
		Short: "As the buyer, sign and submit the energy.trade: the energy and its payment settle together",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, id, err := p.civicSubmit(cmd.Context(), &f, code, energy.KindTrade,
				energy.Trade{Seller: seller, Currency: code, Wh: wh, Price: price, Reading: reading, Consent: consent})
			if err != nil {
				return err
			}
			fmt.Fprintf(p.stdout, "bought %d Wh from %s for %d minor units of %s: operation %s committed in block %d\n", wh, seller, price, code, st.Hash, st.Height)
			return p.printBalance(cmd.Context(), &f, code, id)
		},
	}
	buy.Flags().StringVar(&seller, "seller", "", "the seller's DID (required)")
	buy.Flags().StringVar(&consent, "consent", "", "the seller's consent JWS (required)")
	for _, c := range []*cobra.Command{consentCmd, buy} {
		c.Flags().StringVar(&code, "currency", "", "the currency code (required)")
		c.Flags().Int64Var(&wh, "wh", 0, "energy, in Wh: the reading's (required)")
		c.Flags().Int64Var(&price, "price", 0, "the price, in minor units (required)")
		c.Flags().StringVar(&reading, "reading", "", "the meter's signed reading (required)")
		for _, n := range []string{"currency", "wh", "price", "reading"} {
			_ = c.MarkFlagRequired(n)
		}
	}
	for _, n := range []string{"seller", "consent"} {
		_ = buy.MarkFlagRequired(n)
	}
	_ = consentCmd.MarkFlagRequired("buyer")
	cmd.AddCommand(meter, consentCmd, buy)
	return cmd
}

// signJWS signs v, as JSON, in a compact JWS whose kid is the DID URL of key.
func signJWS(key ed25519.PrivateKey, kid string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.KeyIDKey, kid); err != nil {
		return "", err
	}
	s, err := jws.Sign(b, jws.WithKey(jwa.EdDSA, key, jws.WithProtectedHeaders(hdr)))
	return string(s), err
}
