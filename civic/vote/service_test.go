package vote_test

import (
	"context"
	"crypto"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urbis-id/urbis/civic/vote"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
	"github.com/urbis-id/urbis/vc/jwtvc"
	"github.com/urbis-id/urbis/verifiers"
)

// custody holds the authority's key, as key custody would.
type custody struct{ a actor }

func (c custody) ChainSigner(_ context.Context, agencyID, d string) (crypto.Signer, string, error) {
	if agencyID != "agency-1" || d != c.a.did {
		return nil, "", errkind.New(errkind.NotFound, "no DID %s for agency %s", d, agencyID)
	}
	return c.a.key, c.a.kid, nil
}

// keyStore keeps sealed keys in memory.
type keyStore struct {
	mu sync.Mutex
	m  map[string]vote.KeyRecord
}

func (k *keyStore) PutElectionKey(_ context.Context, r vote.KeyRecord) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]vote.KeyRecord{}
	}
	k.m[r.Election] = r
	return nil
}

func (k *keyStore) ElectionKey(_ context.Context, id string) (vote.KeyRecord, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	r, ok := k.m[id]
	if !ok {
		return r, errkind.New(errkind.NotFound, "no key for %s", id)
	}
	return r, nil
}

// presentations stands in for the presentation verifier (tested in
// verifiers/): it accepts a presentation bound to the expected challenge
// and domain, and reports the credentials' accreditation as the
// presentation's "accredited" member says. The walk-through test runs
// the real verifier.
type presentations struct{}

func (presentations) VerifyPresentation(_ context.Context, in any, opts verifiers.PresentationOptions) (*verifiers.PresentationResult, error) {
	m := in.(map[string]any)
	r := &verifiers.PresentationResult{}
	if m["challenge"] != opts.Challenge || m["domain"] != opts.Domain {
		r.Errors = append(r.Errors, verifiers.Finding{Check: verifiers.CheckChallenge, Message: "bound to another challenge"})
		return r, nil
	}
	r.Verified = true
	r.Checks = []string{verifiers.CheckProof, verifiers.CheckHolder, verifiers.CheckCredentials, verifiers.CheckHolderBinding}
	cr := &verifiers.Result{Verified: true, Checks: []string{verifiers.CheckProof}}
	if m["accredited"] == true {
		cr.Checks = append(cr.Checks, verifiers.CheckAccreditation)
	}
	r.Credentials = []*verifiers.Result{cr}
	return r, nil
}

func presentation(subject string, claims map[string]any, b *vote.Blinding, election string, accredited bool) map[string]any {
	s := map[string]any{"id": subject}
	for k, v := range claims {
		s[k] = v
	}
	return map[string]any{
		"challenge": vote.Challenge(b.Blinded), "domain": vote.Domain(election), "accredited": accredited,
		"verifiableCredential": []any{map[string]any{"type": []any{"VerifiableCredential", "ResidentCredential"}, "credentialSubject": s}},
	}
}

func newService(t *testing.T, c *chain, auth actor) *vote.Service {
	return vote.NewService(vote.Config{
		Chain: testChain{c}, State: c.db, Custody: custody{auth}, Keys: &keyStore{},
		Presentations: presentations{}, Trust: verifiers.NewTrust(c.db, c.db), Clock: c.clock.at(),
	})
}

type testChain struct{ c *chain }

func (t testChain) ChainID() string { return t.c.g.ChainID }
func (t testChain) Submit(ctx context.Context, s string) (registry.OpStatus, error) {
	return t.c.engine.Submit(ctx, s)
}
func (t testChain) Wait(ctx context.Context, h string) (registry.OpStatus, error) {
	return t.c.engine.Wait(ctx, h)
}
func (t testChain) Nonce(ctx context.Context, d string) (uint64, error) { return t.c.db.Nonce(ctx, d) }

func createElection(t *testing.T, c *chain, s *vote.Service, auth actor, id string) vote.Election {
	t.Helper()
	now := c.clock.now()
	e, err := s.Create(context.Background(), "agency-1", vote.CreateRequest{
		DID: auth.did, ID: id, Title: "City poll", Options: []string{"yes", "no"},
		Eligibility: vote.Rule{CredentialType: "ResidentCredential", Districts: []string{"Eixample", "Gràcia"}, MinAge: 16},
		Opens:       now.Format(time.RFC3339), Closes: now.Add(time.Hour).Format(time.RFC3339),
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestOneTokenPerResidentConcurrently has one resident ask for a token
// from many goroutines at once: exactly one is issued.
func TestOneTokenPerResidentConcurrently(t *testing.T) {
	eachDB(t, time.Now().UTC().Truncate(time.Second), func(t *testing.T, c *chain) {
		auth := c.authority(t)
		s := newService(t, c, auth)
		e := createElection(t, c, s, auth, "poll-concurrent")
		pub, _ := vote.ParsePublicKey(e.PublicKey)
		const n = 12
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			b, err := vote.Blind(pub)
			if err != nil {
				t.Fatal(err)
			}
			p := presentation("did:example:alice", map[string]any{"district": "Eixample", "birthDate": "1990-04-01"}, b, e.ID, true)
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.IssueToken(context.Background(), e.ID, vote.TokenRequest{Presentation: p, Blinded: b.Blinded})
			}()
		}
		wg.Wait()
		issued := 0
		for _, err := range errs {
			switch {
			case err == nil:
				issued++
			case !isKind(err, errkind.Conflict) || !strings.Contains(err.Error(), "already received"):
				t.Errorf("a second request: got %v; want Conflict, already received", err)
			}
		}
		if issued != 1 {
			t.Errorf("tokens issued to one resident: got %d; want 1", issued)
		}
		tally, err := s.Tally(context.Background(), e.ID)
		if err != nil || tally.Tokens != 1 {
			t.Errorf("tokens on chain: got %d, %v; want 1", tally.Tokens, err)
		}
	})
}

// TestTokenCastTallyClose runs an election through the service: tokens
// for eligible residents only, ballots, the live count, the close and the
// ElectionResult credential.
func TestTokenCastTallyClose(t *testing.T) {
	eachDB(t, time.Now().UTC().Truncate(time.Second), func(t *testing.T, c *chain) {
		ctx := context.Background()
		auth := c.authority(t)
		s := newService(t, c, auth)
		e := createElection(t, c, s, auth, "poll-flow")
		pub, _ := vote.ParsePublicKey(e.PublicKey)

		refused := []struct {
			name     string
			claims   map[string]any
			accr     bool
			bind     bool // bound to the request's blinded message
			kind     errkind.Kind
			contains string
		}{
			{"district not in the rule", map[string]any{"district": "Sants", "birthDate": "1990-01-01"}, true, true, errkind.Forbidden, `district "Sants" is not one of`},
			{"too young", map[string]any{"district": "Gràcia", "birthDate": time.Now().AddDate(-15, 0, 0).Format(time.DateOnly)}, true, true, errkind.Forbidden, "under 16"},
			{"age_equal_or_over false", map[string]any{"district": "Gràcia", "age_equal_or_over": map[string]any{"16": false}}, true, true, errkind.Forbidden, "under 16"},
			{"no age", map[string]any{"district": "Gràcia"}, true, true, errkind.Forbidden, "neither birthDate nor age_equal_or_over.16"},
			{"unaccredited issuer", map[string]any{"district": "Gràcia", "birthDate": "1990-01-01"}, false, true, errkind.Forbidden, "not accredited"},
			{"another challenge", map[string]any{"district": "Gràcia", "birthDate": "1990-01-01"}, true, false, errkind.Forbidden, "does not verify"},
		}
		for _, tc := range refused {
			b, _ := vote.Blind(pub)
			bound := b
			if !tc.bind {
				bound, _ = vote.Blind(pub)
			}
			_, err := s.IssueToken(ctx, e.ID, vote.TokenRequest{Presentation: presentation("did:example:x", tc.claims, bound, e.ID, tc.accr), Blinded: b.Blinded})
			if !isKind(err, tc.kind) || !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("%s: got %v; want %s containing %q", tc.name, err, tc.kind, tc.contains)
			}
		}
		b, _ := vote.Blind(pub)
		claims := map[string]any{"district": "Gràcia", "birthDate": "1990-01-01"}
		if _, err := s.IssueToken(ctx, e.ID, vote.TokenRequest{Presentation: presentation("urn:example:x", claims, b, e.ID, true), Blinded: b.Blinded}); !isKind(err, errkind.Forbidden) || !strings.Contains(err.Error(), "must be the holder's DID") {
			t.Errorf("a subject that is no DID: got %v; want Forbidden, must be the holder's DID", err)
		}
		if _, err := s.IssueToken(ctx, e.ID, vote.TokenRequest{Presentation: map[string]any{}, Blinded: []byte("short")}); !isKind(err, errkind.Invalid) {
			t.Errorf("short blinded message: got %v; want Invalid", err)
		}

		choices := []string{"yes", "no", "yes"}
		var nullifiers []string
		for i, ch := range choices {
			b, _ := vote.Blind(pub)
			claims := map[string]any{"district": "Eixample", "age_equal_or_over": map[string]any{"16": true}}
			bs, err := s.IssueToken(ctx, e.ID, vote.TokenRequest{Presentation: presentation(fmt.Sprintf("did:example:v%d", i), claims, b, e.ID, true), Blinded: b.Blinded})
			if err != nil {
				t.Fatalf("token %d: %v", i, err)
			}
			sig, err := b.Finalize(bs)
			if err != nil {
				t.Fatal(err)
			}
			c.must(t, c.cast(t, vote.NewCast(e.ID, b.Token, sig, ch)))
			nullifiers = append(nullifiers, vote.Nullifier(b.Token))
		}
		tally, err := s.Tally(ctx, e.ID)
		if err != nil || tally.Counts[0] != 2 || tally.Counts[1] != 1 || tally.Ballots != 3 || tally.Tokens != 3 || tally.Closed {
			t.Errorf("live tally: got %+v, %v; want [2 1], 3 ballots, 3 tokens, open", tally, err)
		}
		if r, err := s.Receipt(ctx, e.ID, nullifiers[1]); err != nil || r.Choice != "no" {
			t.Errorf("receipt: got %+v, %v; want choice no", r, err)
		}
		if _, err := s.Receipt(ctx, e.ID, strings.Repeat("0", 64)); !isKind(err, errkind.NotFound) {
			t.Errorf("receipt of an unknown nullifier: got %v; want NotFound", err)
		}
		if _, _, err := s.Close(ctx, "agency-1", e.ID); !isKind(err, errkind.Conflict) {
			t.Errorf("close while open: got %v; want Conflict", err)
		}
		c.clock.add(61 * time.Minute)
		tally, jwt, err := s.Close(ctx, "agency-1", e.ID)
		if err != nil || !tally.Closed || tally.Result.Ballots != 3 {
			t.Fatalf("close: got %+v, %v; want closed with 3 ballots", tally, err)
		}
		v, err := jwtvc.Verify(jwt, func(kid string) (crypto.PublicKey, error) {
			d, _, _ := strings.Cut(kid, "#")
			if d != auth.did {
				return nil, fmt.Errorf("unexpected kid %s", kid)
			}
			return auth.key.Public(), nil
		}, c.clock.now())
		if err != nil {
			t.Fatalf("ElectionResult credential: %v", err)
		}
		subj, _ := v.Credential["credentialSubject"].(map[string]any)
		counts, _ := subj["counts"].(map[string]any)
		if counts["yes"] != float64(2) || counts["no"] != float64(1) {
			t.Errorf("ElectionResult counts: got %v; want yes 2, no 1", counts)
		}
	})
}
