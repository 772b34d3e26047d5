package vote

import (
	"context"
	"errors"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/jwtvc"
)

// Tally is an election's count: live while it is open, final once
// election.close recorded the result.
type Tally struct {
	Election string
	Options  []string
	Counts   []uint64
	Ballots  uint64
	Tokens   uint64
	Closed   bool
	Result   *Result
}

// Tally reads the count of an election from the chain's state.
func (s *Service) Tally(ctx context.Context, id string) (Tally, error) {
	e, err := s.Election(ctx, id)
	if err != nil {
		return Tally{}, err
	}
	t := Tally{Election: e.ID, Options: e.Options}
	if err := s.get(ctx, countsKey(id), &t.Counts); err != nil {
		return Tally{}, err
	}
	for _, n := range t.Counts {
		t.Ballots += n
	}
	if err := s.get(ctx, tokensKey(id), &t.Tokens); err != nil && !errors.Is(err, errkind.NotFound) {
		return Tally{}, err
	}
	var r Result
	switch err := s.get(ctx, resultKey(id), &r); {
	case err == nil:
		t.Closed, t.Result = true, &r
	case !errors.Is(err, errkind.NotFound):
		return Tally{}, err
	}
	return t, nil
}

// Receipt returns what the chain recorded of the ballot with nullifier
// n: NotFound if no such ballot was counted.
func (s *Service) Receipt(ctx context.Context, id, n string) (Receipt, error) {
	var r Receipt
	if err := s.get(ctx, nullifierKey(id, n), &r); err != nil {
		if errors.Is(err, errkind.NotFound) {
			return r, errkind.New(errkind.NotFound, "no ballot with nullifier %s is counted in %s", n, id)
		}
		return r, err
	}
	return r, nil
}

// Close records the final tally of an election once its window has
// passed (election.close, signed by the authority), and returns it with
// the ElectionResult credential.
func (s *Service) Close(ctx context.Context, agencyID, id string) (Tally, string, error) {
	e, err := s.Election(ctx, id)
	if err != nil {
		return Tally{}, "", err
	}
	rec, err := s.cfg.Keys.ElectionKey(ctx, id)
	if err != nil {
		return Tally{}, "", err
	}
	if rec.AgencyID != agencyID {
		return Tally{}, "", errkind.New(errkind.NotFound, "election %s is not this agency's", id)
	}
	_, closes, _ := e.Check()
	if s.cfg.Clock().Before(closes) {
		return Tally{}, "", errkind.New(errkind.Conflict, "election %s is open until %s", id, e.Closes)
	}
	signer, kid, err := s.cfg.Custody.ChainSigner(ctx, agencyID, rec.DID)
	if err != nil {
		return Tally{}, "", err
	}
	if t, err := s.Tally(ctx, id); err != nil || !t.Closed {
		if err != nil {
			return Tally{}, "", err
		}
		if _, err := s.submit(ctx, signer, rec.DID, kid, KindClose, ClosePayload{Election: id}); err != nil {
			return Tally{}, "", err
		}
	}
	return s.ResultCredential(ctx, id)
}

// ResultCredential returns the final tally of a closed election and its
// ElectionResult credential: a JWT-VC signed by the authority's DID
// whose subject is the result (options, counts, ballots, tokens, and the
// block that closed it), so anyone can check it against the chain.
func (s *Service) ResultCredential(ctx context.Context, id string) (Tally, string, error) {
	t, err := s.Tally(ctx, id)
	if err != nil {
		return Tally{}, "", err
	}
	if !t.Closed {
		return t, "", nil
	}
	rec, err := s.cfg.Keys.ElectionKey(ctx, id)
	if errors.Is(err, errkind.NotFound) {
		return t, "", nil // another server's election: the tally without the credential
	} else if err != nil {
		return Tally{}, "", err
	}
	signer, kid, err := s.cfg.Custody.ChainSigner(ctx, rec.AgencyID, rec.DID)
	if err != nil {
		return Tally{}, "", err
	}
	counts := map[string]any{}
	for i, o := range t.Options {
		counts[o] = t.Result.Counts[i]
	}
	closed, _ := time.Parse(time.RFC3339, t.Result.ClosedAt)
	cred := map[string]any{
		"@context":     []any{"https://www.w3.org/2018/credentials/v1"},
		"id":           "urn:urbis:election:" + id + ":result",
		"type":         []any{"VerifiableCredential", ResultType},
		"issuer":       rec.DID,
		"issuanceDate": closed.UTC().Format(time.RFC3339),
		"credentialSubject": map[string]any{
			"id": "urn:urbis:election:" + id, "counts": counts, "ballots": t.Result.Ballots,
			"tokens": t.Result.Tokens, "closedInBlock": t.Result.Height,
		},
	}
	jwt, err := jwtvc.Sign(cred, signer, kid)
	if err != nil {
		return Tally{}, "", err
	}
	return t, jwt, nil
}
