package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/jwtvc"
	"github.com/urbis-id/urbis/vc/ld"
	"github.com/urbis-id/urbis/vc/sdjwt"
	"github.com/urbis-id/urbis/verifiers/oid4vp"
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
against the verifier's DID (did:key and did:jwk verifiers), presents the
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
			ro, err := fetchRequestObject(ctx, args[0])
			if err != nil {
				return err
			}
			format, cred, err := readPresentable(args[1])
			if err != nil {
				return err
			}
			var q oid4vp.Query
			if err := json.Unmarshal(ro.DCQLQuery, &q); err != nil {
				return fmt.Errorf("the request's dcql_query: %w", err)
			}
			var cq *oid4vp.CredentialQuery
			for i := range q.Credentials {
				c := &q.Credentials[i]
				if (query != "" && c.ID == query) || (query == "" && c.Format == format) {
					cq = c
					break
				}
			}
			if cq == nil {
				return fmt.Errorf("the request has no credential query for %s (use --query to name one)", format)
			}
			pres, err := presentFor(ctx, h, format, cred, cq, ro)
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

// fetchRequestObject GETs and checks the request object of an
// openid4vp:// URI.
func fetchRequestObject(ctx context.Context, uri string) (*oid4vp.RequestObject, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "openid4vp" {
		return nil, fmt.Errorf("%q is not an openid4vp:// URI", uri)
	}
	q := u.Query()
	if q.Get("request_uri") == "" {
		return nil, fmt.Errorf("the URI has no request_uri")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, q.Get("request_uri"), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET request_uri: %d %s", resp.StatusCode, b)
	}
	resolver := did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}, did.JWKMethod{})
	return oid4vp.VerifyObject(ctx, resolver, strings.TrimSpace(string(b)), q.Get("client_id"))
}

// readPresentable reads a credential file: its format and the credential
// (a compact string for the JWT formats, an object for ldp_vc).
func readPresentable(file string) (string, any, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", nil, err
	}
	s := strings.TrimSpace(string(b))
	if !strings.HasPrefix(s, "{") {
		if strings.Contains(s, "~") {
			return oid4vp.FormatSDJWT, s, nil
		}
		return oid4vp.FormatJWT, s, nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return "", nil, fmt.Errorf("%s: %w", file, err)
	}
	if c, ok := m["verifiableCredential"].(map[string]any); ok {
		m = c
	}
	if id, _ := m["id"].(string); strings.HasPrefix(id, "data:") {
		mt, tok, _ := strings.Cut(strings.TrimPrefix(id, "data:"), ",")
		if strings.Contains(mt, "sd-jwt") {
			return oid4vp.FormatSDJWT, tok, nil
		}
		return oid4vp.FormatJWT, tok, nil
	}
	return oid4vp.FormatLDP, m, nil
}

// presentFor presents cred for the credential query, bound to ro.
func presentFor(ctx context.Context, h *holder, format string, cred any, cq *oid4vp.CredentialQuery, ro *oid4vp.RequestObject) (any, error) {
	switch format {
	case oid4vp.FormatSDJWT:
		var reveal []string
		for _, c := range cq.Claims {
			var seg []string
			for _, s := range c.Path {
				switch v := s.(type) {
				case string:
					seg = append(seg, strings.NewReplacer("~", "~0", "/", "~1").Replace(v))
				case float64:
					seg = append(seg, strconv.Itoa(int(v)))
				default:
					seg = append(seg, "*")
				}
			}
			reveal = append(reveal, "/"+strings.Join(seg, "/"))
		}
		return sdjwt.Present(cred.(string), reveal, &sdjwt.KeyBinding{Signer: h.key, Audience: ro.ClientID, Nonce: ro.Nonce})
	case oid4vp.FormatLDP:
		vp := map[string]any{
			"@context": []any{"https://www.w3.org/ns/credentials/v2"}, "type": []any{"VerifiablePresentation"},
			"holder": h.did, "verifiableCredential": []any{cred},
		}
		return dataintegrity.Sign(ctx, vp, dataintegrity.ProofOptions{
			VerificationMethod: h.vm, ProofPurpose: "authentication", Challenge: ro.Nonce, Domain: ro.ClientID, Created: time.Now(),
		}, h.key, ld.Default())
	default:
		vp := map[string]any{
			"@context": []any{"https://www.w3.org/2018/credentials/v1"}, "type": []any{"VerifiablePresentation"},
			"verifiableCredential": []any{cred},
		}
		return jwtvc.SignPresentation(vp, h.key, h.vm, ro.ClientID, ro.Nonce, time.Now())
	}
}
