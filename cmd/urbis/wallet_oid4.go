package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/verifiers/oid4vp"
	"github.com/urbis-id/urbis/wallet"
)

// walletReceiveCommand redeems an OpenID4VCI credential offer.
func (p *program) walletReceiveCommand(open func() (*wallet.Wallet, error)) *cobra.Command {
	var txCode, holder string
	cmd := &cobra.Command{
		Use:   "receive OFFER_URI",
		Short: "Take the credentials of an openid-credential-offer:// offer (pre-authorized code, with --tx-code PIN)",
		Long: `Redeems the offer's pre-authorized code (with the transaction code the
issuer sent another way, --tx-code), proves possession of the key of --did
(default: the wallet's first DID without a label) for each offered credential, and stores
the credentials, bound to that DID (SD-JWT VCs to its key).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := open()
			if err != nil {
				return err
			}
			got, err := w.Receive(cmd.Context(), args[0], txCode, holder)
			for _, c := range got {
				fmt.Fprintf(p.stdout, "stored %s credential %s (%s from %s)\n", c.Format, c.ID, strings.Join(c.Types, ", "), c.Issuer)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&txCode, "tx-code", "", "the transaction code (PIN) the issuer sent")
	cmd.Flags().StringVar(&holder, "did", "", "the wallet DID to bind the credentials to (default: the first without a label)")
	return cmd
}

// walletPresentCommand answers an OpenID4VP request.
func (p *program) walletPresentCommand(open func() (*wallet.Wallet, error), f *walletFlags) *cobra.Command {
	var yes, pairwise bool
	cmd := &cobra.Command{
		Use:   "present REQUEST_URI",
		Short: "Answer an openid4vp:// request: show the verifier, what it asks and what would be disclosed, then send on y",
		Long: `Fetches the request object, checks its signature against the verifier's DID
(refusing the request if it does not check, has the wrong typ or has
expired), matches its DCQL query against the wallet's credentials and
prints the verifier's DID, what it asks for and exactly which claims of which
credential would be disclosed. Nothing is sent unless the answer to the
prompt is y (or --yes). SD-JWT VCs disclose only the requested claims,
and so do ldp_vc credentials signed with BBS+ (BbsBlsSignature2020: the
wallet derives a BbsBlsSignatureProof2020 that reveals only them); other
ldp_vc and jwt_vc_json credentials cannot hide claims and are shown whole.

With --pairwise the wallet presents as the DID it keeps for this verifier
(a did:key per client_id, made on first use and stored in the wallet)
wherever the credential allows it: credentials bound to no DID or key. A
credential its issuer bound to one of the wallet's DIDs (credentialSubject
id) or keys (an SD-JWT VC's cnf) cannot be re-bound; the plan says which
DID the verifier will see.

A verifier's did:key or did:jwk is resolved in the wallet; a did:urbis or
did:web by the Urbis service of --server (URBIS_SERVER) when it is set,
and otherwise by the host that serves the request, which is then trusted
for the verifier's keys (the output says so).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := open()
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("server") {
				w.SetResolver(f.server)
			}
			plan, err := w.PlanPresentationWith(cmd.Context(), args[0], wallet.PlanOptions{Pairwise: pairwise})
			if plan != nil {
				p.printPlan(plan)
			}
			if err != nil {
				return err
			}
			if !yes {
				fmt.Fprintf(p.stdout, "Send this to %s? [y/N] ", plan.Verifier)
				answer := ""
				if p.stdin != nil {
					answer, _ = bufio.NewReader(p.stdin).ReadString('\n')
				}
				fmt.Fprintln(p.stdout)
				if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
					fmt.Fprintln(p.stdout, "nothing was sent")
					return nil
				}
			}
			out, err := w.Present(cmd.Context(), plan)
			if err != nil {
				return err
			}
			fmt.Fprintf(p.stdout, "sent; the verifier answered %d %s\n", out.Status, out.Body)
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "send without asking")
	cmd.Flags().BoolVar(&pairwise, "pairwise", false, "present as this verifier's own did:key where the credential allows it")
	return cmd
}

// printPlan shows the holder who asks, what, and what would be disclosed.
func (p *program) printPlan(plan *wallet.Plan) {
	o := p.stdout
	name := ""
	if plan.Name != "" {
		name = fmt.Sprintf(" (calls itself %q)", plan.Name)
	}
	fmt.Fprintf(o, "verifier: %s%s\n", plan.Verifier, name)
	fmt.Fprintf(o, "  the request is signed by that DID: signature checked (DID resolved %s)\n", plan.Resolved)
	if plan.ResolvedByRequestHost {
		fmt.Fprintln(o, "  (by the host that served the request, which is trusted for the verifier's keys; set --server to resolve through a service you trust)")
	}
	if !plan.Expires.IsZero() {
		fmt.Fprintf(o, "  the request expires at %s\n", plan.Expires.Format("2006-01-02T15:04:05Z"))
	}
	if plan.Pairwise != "" {
		state := "kept for it"
		if plan.PairwiseNew {
			state = "new, kept for it from now on"
		}
		fmt.Fprintf(o, "pairwise DID for this verifier: %s (%s)\n", plan.Pairwise, state)
	}
	fmt.Fprintln(o, "asks for:")
	if d := plan.Definition; d != nil {
		fmt.Fprintf(o, "  (a Presentation Exchange definition, %s)\n", d.ID)
		for _, in := range d.Descriptors {
			fmt.Fprintf(o, "  %s: a %s\n", in.ID, strings.Join(in.Formats, " or "))
			for _, f := range in.Fields {
				opt := ""
				if f.Optional {
					opt = " (optional)"
				}
				fmt.Fprintf(o, "    %s%s\n", strings.Join(f.RawPaths, " or "), opt)
			}
		}
	}
	for _, q := range planQueries(plan) {
		what := strings.Join(q.Meta.VCTValues, " or ")
		for _, tv := range q.Meta.TypeValues {
			if what != "" {
				what += " or "
			}
			what += strings.Join(tv, "+")
		}
		fmt.Fprintf(o, "  %s: a %s %s\n", q.ID, q.Format, what)
		for _, c := range q.Claims {
			cl := wallet.Claim{Path: c.Path}
			if len(c.Values) > 0 {
				v, _ := json.Marshal(c.Values)
				fmt.Fprintf(o, "    %s, one of %s\n", cl.PathString(), v)
			} else {
				fmt.Fprintf(o, "    %s\n", cl.PathString())
			}
		}
	}
	for _, it := range plan.Items {
		c := it.Credential
		fmt.Fprintf(o, "will disclose, for %s, from credential %s (%s %s from %s):\n", it.Query, c.ID, c.Format, strings.Join(c.Types, ","), c.Issuer)
		switch {
		case !it.Selective:
			fmt.Fprintf(o, "  (a %s credential cannot hide claims: the verifier sees all of them)\n", c.Format)
		case c.Format == wallet.FormatLDP:
			fmt.Fprintln(o, "  (a BBS+ credential: a derived proof reveals only these claims)")
		}
		switch {
		case it.Pairwise:
			fmt.Fprintf(o, "  presented as the pairwise DID %s\n", it.Holder)
		case plan.Pairwise != "" && it.Holder != "":
			fmt.Fprintf(o, "  bound by its issuer to %s, which the verifier sees (it cannot be re-bound to the pairwise DID)\n", it.Holder)
		}
		for _, cl := range it.Disclosed {
			v, _ := json.Marshal(cl.Value)
			fmt.Fprintf(o, "  %s: %s\n", cl.PathString(), v)
		}
		if len(it.Always) > 0 {
			fmt.Fprintf(o, "  and what the credential always shows: %s\n", strings.Join(it.Always, ", "))
		}
	}
	for _, q := range plan.Unanswerable {
		fmt.Fprintf(o, "no credential for %s\n", q)
	}
	if len(plan.Items) > 0 && len(plan.Items) < len(planQueries(plan))-len(plan.Unanswerable) {
		fmt.Fprintln(o, "(the other queries are alternatives the request does not need answered: nothing is disclosed for them)")
	}
}

// planQueries are the DCQL credential queries of plan (none for a
// Presentation Exchange definition).
func planQueries(plan *wallet.Plan) []oid4vp.CredentialQuery {
	if plan.Query == nil {
		return nil
	}
	return plan.Query.Credentials
}
