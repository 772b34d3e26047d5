package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/ld"
	"github.com/urbis-id/urbis/vc/oid4vci"
)

// holderCommand is a minimal holder for trying presentations: a did:key
// whose Ed25519 seed is kept in a file, and Data Integrity presentations
// signed with it. It is no wallet.
func (p *program) holderCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "holder",
		Short: "A test holder: a did:key in a key file, and presentations signed with it",
	}
	var keyFile string
	cmd.PersistentFlags().StringVar(&keyFile, "key", "holder.key", "file with the holder's Ed25519 seed (hex); created when absent")

	didCmd := &cobra.Command{
		Use:   "did",
		Short: "Print the holder's did:key, creating the key file when absent",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			h, err := loadHolder(keyFile)
			if err != nil {
				return err
			}
			fmt.Fprintln(p.stdout, h.did)
			return nil
		},
	}
	var challenge, domain string
	present := &cobra.Command{
		Use:   "present FILE...",
		Short: "Print a /presentations/verify request: the credentials in FILEs in a presentation signed by the holder",
		Long: `Each FILE holds a credential, or an issue answer {"verifiableCredential": ...}.
The presentation carries a Data Integrity proof (eddsa-rdfc-2022, purpose
authentication) with the given challenge and domain, which also go in options.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			h, err := loadHolder(keyFile)
			if err != nil {
				return err
			}
			var creds []any
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					return err
				}
				var m map[string]any
				if err := json.Unmarshal(b, &m); err != nil {
					return fmt.Errorf("%s: %w", f, err)
				}
				if c, ok := m["verifiableCredential"]; ok {
					creds = append(creds, c)
				} else {
					creds = append(creds, m)
				}
			}
			vp := map[string]any{
				"@context": []any{"https://www.w3.org/ns/credentials/v2"}, "type": []any{"VerifiablePresentation"},
				"holder": h.did, "verifiableCredential": creds,
			}
			signed, err := dataintegrity.Sign(cmd.Context(), vp, dataintegrity.ProofOptions{
				VerificationMethod: h.vm, ProofPurpose: "authentication",
				Challenge: challenge, Domain: domain, Created: time.Now(),
			}, h.key, ld.Default())
			if err != nil {
				return err
			}
			req := map[string]any{"verifiablePresentation": signed}
			opts := map[string]any{}
			if challenge != "" {
				opts["challenge"] = challenge
			}
			if domain != "" {
				opts["domain"] = domain
			}
			if len(opts) > 0 {
				req["options"] = opts
			}
			return json.NewEncoder(p.stdout).Encode(req)
		},
	}
	present.Flags().StringVar(&challenge, "challenge", "", "the verifier's challenge")
	present.Flags().StringVar(&domain, "domain", "", "the verifier's domain")
	var nonce, aud string
	var withJWK bool
	proof := &cobra.Command{
		Use:   "proof --nonce C_NONCE --aud ISSUER",
		Short: "Print an OpenID4VCI proof of possession JWT signed by the holder",
		Long: `The proof (typ openid4vci-proof+jwt, EdDSA) has aud ISSUER (the credential
issuer identifier, the server's --public-url), iat now and the c_nonce from the
nonce endpoint. The key is named by its did:key URL in kid, or with --jwk put in
a jwk header (the credential is then bound to that key: cnf.jwk, or its did:jwk).`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if nonce == "" || aud == "" {
				return fmt.Errorf("--nonce and --aud are required")
			}
			h, err := loadHolder(keyFile)
			if err != nil {
				return err
			}
			tok, err := h.proof(nonce, aud, withJWK, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintln(p.stdout, tok)
			return nil
		},
	}
	proof.Flags().StringVar(&nonce, "nonce", "", "the c_nonce from POST /oid4vci/nonce")
	proof.Flags().StringVar(&aud, "aud", "", "the credential issuer identifier (credential_issuer of the offer)")
	proof.Flags().BoolVar(&withJWK, "jwk", false, "put the public key in a jwk header instead of a did:key kid")
	cmd.AddCommand(didCmd, present, proof, p.holderOID4VPCommand(&keyFile))
	return cmd
}

// proof signs an OpenID4VCI proof of possession JWT.
func (h *holder) proof(nonce, aud string, withJWK bool, now time.Time) (string, error) {
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, oid4vci.ProofType); err != nil {
		return "", err
	}
	if withJWK {
		k, err := jwk.FromRaw(h.key.Public())
		if err != nil {
			return "", err
		}
		if err := hdr.Set(jws.JWKKey, k); err != nil {
			return "", err
		}
	} else if err := hdr.Set(jws.KeyIDKey, h.vm); err != nil {
		return "", err
	}
	payload, err := json.Marshal(map[string]any{"aud": aud, "iat": now.Unix(), "nonce": nonce})
	if err != nil {
		return "", err
	}
	b, err := jws.Sign(payload, jws.WithKey(jwa.EdDSA, h.key, jws.WithProtectedHeaders(hdr)))
	return string(b), err
}

type holder struct {
	did, vm string
	key     ed25519.PrivateKey
}

// loadHolder reads the seed in file, or writes a new one there.
func loadHolder(file string) (*holder, error) {
	var seed []byte
	b, err := os.ReadFile(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		seed = make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return nil, err
		}
		if err := os.WriteFile(file, []byte(hex.EncodeToString(seed)+"\n"), 0o600); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		seed, err = hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("%s: want a hex Ed25519 seed of %d bytes", file, ed25519.SeedSize)
		}
	}
	key := ed25519.NewKeyFromSeed(seed)
	id, err := did.NewKey(key.Public())
	if err != nil {
		return nil, err
	}
	s := id.String()
	return &holder{did: s, vm: s + "#" + strings.TrimPrefix(s, "did:key:"), key: key}, nil
}
