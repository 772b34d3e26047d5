package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/civic/vote"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/registry"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/issuer"
	"github.com/urbis-id/urbis/vc/ld"
	"github.com/urbis-id/urbis/verifiers"
)

// newElections is the elections service of urbis serve: elections' sealed
// RSA keys are kept in DATA_DIR/elections.
func newElections(cfg *config, a *app, chain chainAccess, verifier *verifiers.Verifier, trust *verifiers.Trust, locks *issuer.Service) *vote.Service {
	return vote.NewService(vote.Config{
		Chain: chain, State: a.db, Custody: vote.AgencyCustody{Signers: a.agencies},
		Keys: vote.DirKeys{Dir: filepath.Join(cfg.DataDir, "elections")}, Presentations: verifier, Trust: trust,
		Locks: locks, Clock: time.Now,
	})
}

func (p *program) electionCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "election",
		Short: "Elections and city polls: create, get a ballot token, cast, check, recount",
	}
	cmd.AddCommand(p.electionCreateCommand(), p.electionTokenCommand(), p.electionCastCommand(),
		p.electionCheckCommand(), p.electionRecountCommand())
	return cmd
}

// call sends a JSON request to an urbis server and decodes a 2xx answer
// into out; a problem+json answer becomes an error with its detail.
func call(ctx context.Context, method, url, apiKey string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+apiKey)
	}
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w (is urbis serve running? set --server)", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode >= 300 {
		var prob struct {
			Detail string `json:"detail"`
		}
		if json.Unmarshal(b, &prob) == nil && prob.Detail != "" {
			return fmt.Errorf("the server answered %s: %s", resp.Status, prob.Detail)
		}
		return fmt.Errorf("the server answered %s: %s", resp.Status, b)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

func (p *program) electionCreateCommand() *cobra.Command {
	var server, apiKey, didFlag, id, title, options, credType, districts, opens, closes string
	var minAge int
	cmd := &cobra.Command{
		Use:   "create --agency-key KEY --did DID --id ID --title TITLE --options A,B --opens TIME --closes TIME",
		Short: "Create an election signed by one of the agency's DIDs (accredited for ElectionAuthority)",
		Long: `Create an election through POST /elections: the server makes its RSA
blind-signature key, keeps the private key sealed, and records the election on
the chain. Times are RFC 3339; --opens defaults to now.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), p.getenv); err != nil {
				return err
			}
			if opens == "" {
				opens = time.Now().UTC().Format(time.RFC3339)
			}
			rule := map[string]any{"credentialType": credType}
			if ds := splitList(districts); len(ds) > 0 {
				rule["districts"] = ds
			}
			if minAge > 0 {
				rule["minAge"] = minAge
			}
			var e vote.Election
			err := call(cmd.Context(), http.MethodPost, strings.TrimRight(server, "/")+"/elections", apiKey, map[string]any{
				"did": didFlag, "id": id, "title": title, "options": splitList(options), "eligibility": rule, "opens": opens, "closes": closes,
			}, &e)
			if err != nil {
				return err
			}
			fmt.Fprintf(p.stdout, "created election %s (%s): operation %s committed in block %d\nopen from %s to %s; options: %s\n",
				e.ID, e.Title, e.Operation, e.Height, e.Opens, e.Closes, strings.Join(e.Options, ", "))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&server, "server", "http://127.0.0.1:8080", "the urbis serve to talk to")
	f.StringVar(&apiKey, "agency-key", "", "the election authority's agency API key (required)")
	f.StringVar(&didFlag, "did", "", "the agency's DID that signs, accredited for ElectionAuthority (required)")
	f.StringVar(&id, "id", "", "the election id: lowercase letters, digits and hyphens (required)")
	f.StringVar(&title, "title", "", "the question or title (required)")
	f.StringVar(&options, "options", "", "comma-separated options (required)")
	f.StringVar(&credType, "credential-type", "ResidentCredential", "the credential type that proves residence")
	f.StringVar(&districts, "districts", "", "comma-separated districts whose residents may vote (default: any)")
	f.IntVar(&minAge, "min-age", 0, "the minimum age on the opening day")
	f.StringVar(&opens, "opens", "", "opening time, RFC 3339 (default: now)")
	f.StringVar(&closes, "closes", "", "closing time, RFC 3339 (required)")
	for _, n := range []string{"agency-key", "did", "id", "title", "options", "closes"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

// tokenFile is a voter's ballot token, kept secret until the ballot is
// cast: whoever holds it can cast the ballot.
type tokenFile struct {
	Election  string `json:"election"`
	Token     string `json:"token"`
	Signature string `json:"signature"`
	Nullifier string `json:"nullifier"`
	Operation string `json:"operation,omitempty"` // the ballot.cast, once cast
}

func (p *program) electionTokenCommand() *cobra.Command {
	var server, keyFile, out string
	cmd := &cobra.Command{
		Use:   "token ELECTION CREDENTIAL --key HOLDER_KEY --out TOKEN_FILE",
		Short: "Prove eligibility with a credential and get a blind-signed ballot token",
		Long: `Make a random ballot token, blind it with the election's public key (RFC 9474),
present CREDENTIAL (a file with a credential about the holder, or an issue
answer {"verifiableCredential": ...}) in a Data Integrity presentation signed by
the holder's key (urbis holder's key file) and bound to the blinded token, and
ask the server for the blind signature. The unblinded token and its signature
are written to TOKEN_FILE (mode 0600); the server never sees them.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := applyEnv(cmd.Flags(), p.getenv); err != nil {
				return err
			}
			ctx, base := cmd.Context(), strings.TrimRight(server, "/")
			h, err := loadHolder(keyFile)
			if err != nil {
				return err
			}
			cred, err := readCredential(args[1])
			if err != nil {
				return err
			}
			var e vote.Election
			if err := call(ctx, http.MethodGet, base+"/elections/"+args[0], "", nil, &e); err != nil {
				return err
			}
			pub, err := vote.ParsePublicKey(e.PublicKey)
			if err != nil {
				return err
			}
			bl, err := vote.Blind(pub)
			if err != nil {
				return err
			}
			vp, err := dataintegrity.Sign(ctx, map[string]any{
				"@context": []any{"https://www.w3.org/ns/credentials/v2"}, "type": []any{"VerifiablePresentation"},
				"holder": h.did, "verifiableCredential": []any{cred},
			}, dataintegrity.ProofOptions{
				VerificationMethod: h.vm, ProofPurpose: "authentication",
				Challenge: vote.Challenge(bl.Blinded), Domain: vote.Domain(e.ID), Created: time.Now(),
			}, h.key, ld.Default())
			if err != nil {
				return err
			}
			var ans struct {
				BlindSignature string `json:"blindSignature"`
			}
			b64 := base64.RawURLEncoding
			if err := call(ctx, http.MethodPost, base+"/elections/"+e.ID+"/tokens", "", map[string]any{
				"presentation": vp, "blindedMessage": b64.EncodeToString(bl.Blinded),
			}, &ans); err != nil {
				return err
			}
			bs, err := b64.DecodeString(ans.BlindSignature)
			if err != nil {
				return fmt.Errorf("the server's blind signature is not base64url: %v", err)
			}
			sig, err := bl.Finalize(bs)
			if err != nil {
				return err
			}
			tf := tokenFile{Election: e.ID, Token: b64.EncodeToString(bl.Token), Signature: b64.EncodeToString(sig), Nullifier: vote.Nullifier(bl.Token)}
			if err := writeTokenFile(out, tf); err != nil {
				return err
			}
			fmt.Fprintf(p.stdout, "got a ballot token for %s, kept in %s\nnullifier: %s\n", e.ID, out, tf.Nullifier)
			return nil
		},
	}
	cmd.Flags().StringVar(&server, "server", "http://127.0.0.1:8080", "the urbis serve to talk to")
	cmd.Flags().StringVar(&keyFile, "key", "holder.key", "the holder's key file (see urbis holder)")
	cmd.Flags().StringVar(&out, "out", "ballot-token.json", "where to write the token")
	return cmd
}

func readCredential(file string) (any, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if c, ok := m["verifiableCredential"]; ok {
		return c, nil
	}
	return m, nil
}

func writeTokenFile(file string, tf tokenFile) error {
	b, err := json.MarshalIndent(tf, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(b, '\n'), 0o600)
}

func readTokenFile(file string) (tokenFile, error) {
	var tf tokenFile
	b, err := os.ReadFile(file)
	if err != nil {
		return tf, err
	}
	if err := json.Unmarshal(b, &tf); err != nil {
		return tf, fmt.Errorf("%s is not a ballot token file: %v", file, err)
	}
	return tf, nil
}

func (p *program) electionCastCommand() *cobra.Command {
	var server, choice string
	cmd := &cobra.Command{
		Use:   "cast TOKEN_FILE --choice OPTION",
		Short: "Cast a ballot with a token, signed by a throwaway key that signs nothing else",
		Long: `Submit a ballot.cast operation with the token, its signature and the choice to
POST /registry/operations and wait for its block. The operation is signed by a
fresh did:key made for this ballot alone, so nothing links it to the voter.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := applyEnv(cmd.Flags(), p.getenv); err != nil {
				return err
			}
			tf, err := readTokenFile(args[0])
			if err != nil {
				return err
			}
			var head struct {
				Chain string `json:"chain"`
			}
			if err := call(cmd.Context(), http.MethodGet, strings.TrimRight(server, "/")+"/registry/head", "", nil, &head); err != nil {
				return err
			}
			op, err := vote.CastOp(head.Chain, vote.CastPayload{Election: tf.Election, Token: tf.Token, Signature: tf.Signature, Choice: choice})
			if err != nil {
				return err
			}
			var st struct {
				Hash   string `json:"hash"`
				Height uint64 `json:"height"`
			}
			if err := call(cmd.Context(), http.MethodPost, strings.TrimRight(server, "/")+"/registry/operations?wait=true", "",
				map[string]string{"operation": op.JWS}, &st); err != nil {
				return err
			}
			signer, _, _ := strings.Cut(op.Op.Signer, "#")
			tf.Operation = st.Hash
			if err := writeTokenFile(args[0], tf); err != nil {
				return err
			}
			fmt.Fprintf(p.stdout, "ballot cast in %s: operation %s committed in block %d\nsigned by a key made for this ballot: %s\nnullifier: %s\n",
				tf.Election, st.Hash, st.Height, signer, tf.Nullifier)
			return nil
		},
	}
	cmd.Flags().StringVar(&server, "server", "http://127.0.0.1:8080", "the urbis serve to submit to")
	cmd.Flags().StringVar(&choice, "choice", "", "the option to vote for (required)")
	_ = cmd.MarkFlagRequired("choice")
	return cmd
}

func (p *program) electionCheckCommand() *cobra.Command {
	var server, genesis string
	cmd := &cobra.Command{
		Use:   "check TOKEN_FILE --genesis GENESIS",
		Short: "Check that a ballot is counted, with its inclusion proof checked offline",
		Long: `Ask the server which operation counted the ballot of TOKEN_FILE (by its
nullifier), fetch that operation's inclusion proof, and check it against the
genesis validator keys alone. The token and the choice are compared with
what the chain recorded.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := applyEnv(cmd.Flags(), p.getenv); err != nil {
				return err
			}
			tf, err := readTokenFile(args[0])
			if err != nil {
				return err
			}
			g, err := registry.LoadGenesis(genesis)
			if err != nil {
				return err
			}
			base := strings.TrimRight(server, "/")
			var rc struct {
				Operation string `json:"operation"`
				Height    uint64 `json:"height"`
				Choice    string `json:"choice"`
			}
			if err := call(cmd.Context(), http.MethodGet, base+"/elections/"+tf.Election+"/ballots/"+tf.Nullifier, "", nil, &rc); err != nil {
				return err
			}
			var proof registry.Proof
			if err := call(cmd.Context(), http.MethodGet, base+"/registry/operations/"+rc.Operation+"/proof", "", nil, &proof); err != nil {
				return err
			}
			if err := registry.CheckProof(proof, g); err != nil {
				fmt.Fprintf(p.stdout, "INVALID: %v\n", err)
				return errReported
			}
			op, err := registry.ParseSigned(proof.Operation)
			var cast vote.CastPayload
			if err == nil {
				err = json.Unmarshal(op.Op.Payload, &cast)
			}
			if err != nil || op.Op.Kind != vote.KindCast || cast.Token != tf.Token || cast.Election != tf.Election || cast.Choice != rc.Choice {
				fmt.Fprintf(p.stdout, "INVALID: operation %s is not this ballot\n", rc.Operation)
				return errReported
			}
			fmt.Fprintf(p.stdout, "OK: the ballot with nullifier %s is counted in %s (choice %q): operation %s in block %d; inclusion proof checked against %s\n",
				tf.Nullifier, tf.Election, rc.Choice, rc.Operation, rc.Height, genesis)
			return nil
		},
	}
	cmd.Flags().StringVar(&server, "server", "http://127.0.0.1:8080", "the urbis serve to ask")
	cmd.Flags().StringVar(&genesis, "genesis", "./data/genesis.json", "the genesis file")
	return cmd
}

func (p *program) electionRecountCommand() *cobra.Command {
	var cfg config
	cmd := &cobra.Command{
		Use:   "recount ELECTION",
		Short: "Recount an election from the chain's blocks and compare with the tally",
		Long: `Read every block from the database, check every ballot of the election again
(token signature, window, option, nullifier seen once) and count them, then
compare with the live count in the chain's state and, once closed, the
recorded result. Run it on the host of urbis serve, with the same --data-dir
or --database-url (or on any node's copy of the chain).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := p.loadConfig(cmd, &cfg, false); err != nil {
				return err
			}
			ctx := cmd.Context()
			db, err := store.Open(ctx, cfg.DatabaseURL)
			if err != nil {
				return fmt.Errorf("open database: %w", err)
			}
			defer db.Close()
			start := time.Now()
			rc, err := vote.RecountFromBlocks(ctx, db, args[0], nil)
			if err != nil {
				return err
			}
			took := time.Since(start)
			tally, err := vote.NewService(vote.Config{State: db}).Tally(ctx, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(p.stdout, "recounted %s from %d blocks in %s: %d ballots, %d tokens\n", rc.Election, rc.Blocks, took.Round(time.Millisecond), rc.Ballots, rc.Tokens)
			for i, o := range rc.Options {
				fmt.Fprintf(p.stdout, "  %s: %d\n", o, rc.Counts[i])
			}
			want := tally.Counts
			what := "the live count"
			if tally.Result != nil {
				want, what = tally.Result.Counts, fmt.Sprintf("the result recorded in block %d", tally.Result.Height)
			}
			for i := range want {
				if i >= len(rc.Counts) || want[i] != rc.Counts[i] {
					fmt.Fprintf(p.stdout, "MISMATCH: %s says %v\n", what, want)
					return errReported
				}
			}
			fmt.Fprintf(p.stdout, "OK: the recount matches %s\n", what)
			return nil
		},
	}
	cfg.bindStorage(cmd.Flags())
	return cmd
}
