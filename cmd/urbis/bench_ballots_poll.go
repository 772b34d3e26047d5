package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/urbis-id/urbis/civic/vote"
	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/registry"
)

// preparedPoll is the bench's poll: made by setUpBenchPoll, and kept in a
// --prepared directory (poll.json, with genesis.json, chain.db and
// ballots.jws beside it) so that later runs cast the same ballots.
type preparedPoll struct {
	Election      string    `json:"election"`
	Options       []string  `json:"options"`
	Closes        time.Time `json:"closes"`
	Ballots       int       `json:"ballots"`
	Blind         int       `json:"blind"`
	PrepSeconds   float64   `json:"prepareSeconds"`
	ValidatorSeed []byte    `json:"validatorSeed"` // the dev chain's block key: a benchmark's, never a real one
	RSAKey        []byte    `json:"rsaKey"`        // PKCS #1 DER of the poll's key

	key     *rsa.PrivateKey
	genesis *registry.Genesis
}

// setUpBenchPoll accredits an election authority and creates a poll with a
// 2048-bit RSA key that opened a minute ago and closes in 24 hours.
func setUpBenchPoll(ctx context.Context, db *store.DB, engine *registry.Solo, g *registry.Genesis, gov ed25519.PrivateKey) (*preparedPoll, error) {
	commit := func(key ed25519.PrivateKey, kind registry.Kind, payload any) error {
		d, _ := did.NewKey(key.Public())
		n, err := db.Nonce(ctx, d.String())
		if err != nil {
			return err
		}
		op, err := registry.NewOperation(g.ChainID, kind, d.String()+"#"+d.ID, n+1, payload)
		if err != nil {
			return err
		}
		s, err := registry.Sign(op, key)
		if err != nil {
			return err
		}
		if _, err := engine.Submit(ctx, s.JWS); err != nil {
			return err
		}
		st, err := engine.Wait(ctx, s.Hash)
		if err == nil && st.Status != registry.StatusCommitted {
			err = fmt.Errorf("%s rejected: %s", kind, st.Reason)
		}
		return err
	}
	_, authKey, _ := ed25519.GenerateKey(rand.Reader)
	authDID, _ := did.NewKey(authKey.Public())
	if err := commit(gov, registry.KindTrustAccredit, registry.TrustAccredit{Issuer: authDID.String(), Types: []string{vote.AuthorityType}}); err != nil {
		return nil, err
	}
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	pk, err := vote.EncodePublicKey(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	poll := &preparedPoll{Election: "bench-poll", Options: []string{"yes", "no", "blank"}, Closes: now.Add(24 * time.Hour), key: priv}
	e := vote.CreatePayload{
		ID: poll.Election, Title: "Benchmark poll", Options: poll.Options,
		Eligibility: vote.Rule{CredentialType: "ResidentCredential"},
		Opens:       now.Add(-time.Minute).Format(time.RFC3339), Closes: poll.Closes.Format(time.RFC3339), PublicKey: pk,
	}
	if err := commit(authKey, vote.KindCreate, e); err != nil {
		return nil, err
	}
	return poll, nil
}

// save writes g and the poll to dir (poll.json last: it marks the
// preparation complete).
func (pp *preparedPoll) save(dir string, g *registry.Genesis) error {
	if err := g.Write(filepath.Join(dir, "genesis.json")); err != nil {
		return err
	}
	pp.RSAKey = x509.MarshalPKCS1PrivateKey(pp.key)
	b, err := json.MarshalIndent(pp, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "poll.json"), b, 0o600)
}

// loadPreparedPoll reads the poll kept in dir for n ballots; nil if dir
// holds none yet.
func loadPreparedPoll(dir string, n int) (*preparedPoll, error) {
	b, err := os.ReadFile(filepath.Join(dir, "poll.json"))
	if errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(filepath.Join(dir, "chain.db")); err == nil {
			return nil, fmt.Errorf("%s holds an unfinished preparation (chain.db without poll.json); remove the directory and run again", dir)
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var pp preparedPoll
	if err := json.Unmarshal(b, &pp); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "poll.json"), err)
	}
	if pp.Ballots != n {
		return nil, fmt.Errorf("%s holds %d prepared ballots; run with --ballots %d, or another --prepared directory", dir, pp.Ballots, pp.Ballots)
	}
	if time.Until(pp.Closes) < time.Hour {
		return nil, fmt.Errorf("the poll prepared in %s closes at %s, too soon to cast in; remove the directory and prepare again", dir, pp.Closes.Format(time.RFC3339))
	}
	if pp.key, err = x509.ParsePKCS1PrivateKey(pp.RSAKey); err != nil {
		return nil, fmt.Errorf("%s: the poll's key: %w", dir, err)
	}
	if len(pp.ValidatorSeed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%s: the validator seed is %d bytes; want %d", dir, len(pp.ValidatorSeed), ed25519.SeedSize)
	}
	if pp.genesis, err = registry.LoadGenesis(filepath.Join(dir, "genesis.json")); err != nil {
		return nil, err
	}
	return &pp, nil
}

// copyFile copies src to a new file dst.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
