package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/verifiers/oid4vp"
	"github.com/urbis-id/urbis/wallet"
)

// holderOID4VPCommand answers an OpenID4VP request with one credential:
// a test wallet for trying the verifier, not the wallet.
func (p *program) holderOID4VPCommand(keyFile *string) *cobra.Command {
	var query string
	var print bool
	cmd := &cobra.Command{
		Use:   "oid4vp URI FILE",
		Short: "Answer an openid4vp:// request with the credential in FILE (a test wallet)",
		Long: `Fetches the request object of URI (request_uri, GET), checks its signature
against the verifier's DID (as urbis wallet present does), presents the
credential in FILE for the DCQL credential query of its format (or --query)
and posts vp_token and state to the response_uri (direct_post).

FILE holds an issue answer {"verifiableCredential": ...} or a credential: a
dc+sd-jwt is presented with only the requested claims disclosed and a Key
Binding JWT (nonce, aud = client_id); an ldp_vc in a Data Integrity
presentation (challenge = nonce, domain = client_id); a jwt_vc_json in a
JWT-VP (nonce, aud = client_id). With --print the form is printed, not posted.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := loadHolder(*keyFile)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			req, err := wallet.FetchRequest(ctx, http.DefaultClient, args[0], "", time.Now())
			if err != nil {
				return err
			}
			ro := req.Object
			cred, err := readPresentable(args[1])
			if err != nil {
				return err
			}
			q, err := oid4vp.ParseQuery(ro.DCQLQuery)
			if err != nil {
				return fmt.Errorf("the request's dcql_query: %w", err)
			}
			var cq *oid4vp.CredentialQuery
			for i := range q.Credentials {
				c := &q.Credentials[i]
				if (query != "" && c.ID == query) || (query == "" && c.Format == cred.Format) {
					cq = c
					break
				}
			}
			if cq == nil {
				return fmt.Errorf("the request has no credential query for %s (use --query to name one)", cred.Format)
			}
			var reveal [][]any
			for _, c := range cq.Claims {
				reveal = append(reveal, c.Path)
			}
			pres, err := wallet.Presentation(ctx, cred, reveal, wallet.Holder{DID: h.did, VerificationMethod: h.vm, Signer: h.key}, ro, time.Now())
			if err != nil {
				return err
			}
			tok, _ := json.Marshal(map[string]any{cq.ID: []any{pres}})
			form := url.Values{"vp_token": {string(tok)}, "state": {ro.State}}
			if print {
				fmt.Fprintln(p.stdout, form.Encode())
				return nil
			}
			resp, err := http.PostForm(ro.ResponseURI, form)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			fmt.Fprintf(p.stdout, "%d %s\n", resp.StatusCode, strings.TrimSpace(string(b)))
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("the verifier refused the presentation (%d)", resp.StatusCode)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&query, "query", "", "the DCQL credential query id to answer (default: the first of the credential's format)")
	cmd.Flags().BoolVar(&print, "print", false, "print the form (vp_token and state) instead of posting it")
	return cmd
}

// readPresentable reads a credential file: an issue answer
// {"verifiableCredential": ...}, a credential object, or a compact token.
func readPresentable(file string) (wallet.Credential, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return wallet.Credential{}, err
	}
	if s := strings.TrimSpace(string(b)); !strings.HasPrefix(s, "{") && !strings.HasPrefix(s, `"`) {
		b, _ = json.Marshal(s)
	}
	c, err := wallet.ParseCredential(b)
	if err != nil {
		return wallet.Credential{}, fmt.Errorf("%s: %w", file, err)
	}
	return c, nil
}
