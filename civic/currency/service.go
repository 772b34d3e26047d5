package currency

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
	"github.com/urbis-id/urbis/vc"
	"github.com/urbis-id/urbis/vc/issuer"
	"github.com/urbis-id/urbis/vc/ld"
)

// State is the chain state the service reads: the programs' state, the
// nonces and the head.
type State interface {
	registry.StateReader
	Head(ctx context.Context) (registry.Header, error)
}

// Issuers issues credentials with an agency's issuer instances.
type Issuers interface {
	Get(ctx context.Context, agencyID, id string) (issuer.Instance, error)
	Issue(ctx context.Context, agencyID, issuerID string, cred map[string]any, opts issuer.IssueOptions) (issuer.Issued, error)
}

// BalanceCredentialType is the type of the credential that attests an
// account's balance at a chain height.
const BalanceCredentialType = "BalanceCredential"

// BalanceCredentialTTL is how long a balance credential is valid: long
// enough to show it, too short to pass for spending power later.
const BalanceCredentialTTL = 5 * time.Minute

// Service reads the currency's state and signs the treasury's
// operations (define, mint, burn) with its DID in custody.
type Service struct {
	state   State
	custody *Custody
	issuers Issuers
	clock   func() time.Time
}

// NewService returns a Service over st. custody and issuers may be nil:
// then only reads work.
func NewService(st State, custody *Custody, issuers Issuers, clock func() time.Time) *Service {
	if clock == nil {
		clock = time.Now
	}
	return &Service{state: st, custody: custody, issuers: issuers, clock: clock}
}

// Account is an account's balance at a chain height.
type Account struct {
	Currency string
	DID      string
	Balance  int64
	// Sequence is the last nonce of the account's DID on the chain: its
	// next operation (a transfer) carries Sequence+1.
	Sequence uint64
	// Height is the chain height at which Balance was read.
	Height uint64
}

// Currency returns the currency code; NotFound if it is not defined.
func (s *Service) Currency(ctx context.Context, code string) (Currency, error) {
	if err := CheckCode(code); err != nil {
		return Currency{}, err
	}
	var cur Currency
	b, err := s.state.ProgramGet(ctx, defKey(code))
	if errors.Is(err, errkind.NotFound) {
		return cur, errkind.New(errkind.NotFound, "no currency %s is defined on this chain", code)
	}
	if err != nil {
		return cur, err
	}
	return cur, json.Unmarshal(b, &cur)
}

// Account returns the balance of account in code at the chain's head.
func (s *Service) Account(ctx context.Context, code, account string) (Account, error) {
	if _, err := s.Currency(ctx, code); err != nil {
		return Account{}, err
	}
	if err := CheckAccount("did", account); err != nil {
		return Account{}, err
	}
	// The programs' state changes with the head in one transaction: a
	// head that did not move around the read dates the balance.
	for range 10 {
		h1, err := s.head(ctx)
		if err != nil {
			return Account{}, err
		}
		acc := Account{Currency: code, DID: account, Height: h1}
		b, err := s.state.ProgramGet(ctx, balanceKey(code, account))
		switch {
		case err == nil:
			if err := json.Unmarshal(b, &acc.Balance); err != nil {
				return Account{}, errkind.Wrap(errkind.Internal, err, "balance of %s", account)
			}
		case !errors.Is(err, errkind.NotFound):
			return Account{}, err
		}
		if acc.Sequence, err = s.state.Nonce(ctx, account); err != nil {
			return Account{}, err
		}
		if h2, err := s.head(ctx); err != nil || h2 == h1 {
			return acc, err
		}
	}
	return Account{}, errkind.New(errkind.Unavailable, "the chain moved on during every read of the balance; retry")
}

func (s *Service) head(ctx context.Context) (uint64, error) {
	h, err := s.state.Head(ctx)
	if errors.Is(err, errkind.NotFound) {
		return 0, nil
	}
	return h.Height, err
}

// MaxHistory is the most history entries one page holds.
const MaxHistory = 500

// History returns up to limit changes of account's balance, oldest
// first, after the cursor after (from the first if empty), and the
// cursor of the next page ("" if this is the last).
func (s *Service) History(ctx context.Context, code, account, after string, limit int) ([]Entry, string, error) {
	if _, err := s.Currency(ctx, code); err != nil {
		return nil, "", err
	}
	if err := CheckAccount("did", account); err != nil {
		return nil, "", err
	}
	if limit <= 0 || limit > MaxHistory {
		limit = MaxHistory
	}
	prefix := histPrefix(code, account)
	if after != "" && (strings.ContainsAny(after, " /") || len(after) > 40) {
		return nil, "", errkind.Field(errkind.Invalid, "after", "is not a cursor this service returned")
	}
	if after != "" {
		after = prefix + strings.Replace(after, ".", "/", 1)
	}
	rows, err := s.state.ProgramScan(ctx, prefix, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = strings.Replace(strings.TrimPrefix(rows[limit-1].Key, prefix), "/", ".", 1)
	}
	out := make([]Entry, len(rows))
	for i, r := range rows {
		if err := json.Unmarshal(r.Value, &out[i]); err != nil {
			return nil, "", errkind.Wrap(errkind.Internal, err, "history entry %s", r.Key)
		}
	}
	return out, next, nil
}

// Define defines a currency, signed by signerDID, a DID of agencyID
// accredited for CurrencyIssuer.
func (s *Service) Define(ctx context.Context, agencyID, signerDID string, d Define) (Currency, registry.OpStatus, error) {
	if err := checkDefine(mustJSON(d)); err != nil {
		return Currency{}, registry.OpStatus{}, bodyField(err)
	}
	st, err := s.custody.Submit(ctx, agencyID, signerDID, KindDefine, d)
	if err != nil {
		return Currency{}, st, bodyField(err)
	}
	cur, err := s.Currency(ctx, d.Code)
	return cur, st, err
}

// Mint mints m.Amount of m.Code to m.To, signed by the currency's issuer
// signerDID, one of agencyID's DIDs.
func (s *Service) Mint(ctx context.Context, agencyID, signerDID string, m Mint) (registry.OpStatus, error) {
	if err := checkMint(mustJSON(m)); err != nil {
		return registry.OpStatus{}, bodyField(err)
	}
	st, err := s.custody.Submit(ctx, agencyID, signerDID, KindMint, m)
	return st, bodyField(err)
}

// Burn burns b.Amount of b.Code from the account of signerDID, one of
// agencyID's DIDs.
func (s *Service) Burn(ctx context.Context, agencyID, signerDID string, b Burn) (registry.OpStatus, error) {
	if err := checkBurn(mustJSON(b)); err != nil {
		return registry.OpStatus{}, bodyField(err)
	}
	st, err := s.custody.Submit(ctx, agencyID, signerDID, KindBurn, b)
	return st, bodyField(err)
}

// Transfer pays t.Amount of t.Code from signerDID, one of agencyID's
// DIDs (the treasury paying out), to t.To.
func (s *Service) Transfer(ctx context.Context, agencyID, signerDID string, t Transfer) (registry.OpStatus, error) {
	if err := checkTransfer(mustJSON(t)); err != nil {
		return registry.OpStatus{}, bodyField(err)
	}
	st, err := s.custody.Submit(ctx, agencyID, signerDID, KindTransfer, t)
	return st, bodyField(err)
}

// BalanceCredential issues, with agencyID's issuer instance issuerID,
// a BalanceCredential attesting account's balance of code at the
// chain's head, valid for BalanceCredentialTTL. The instance's DID must
// be the currency's issuer, and the instance must issue
// BalanceCredential.
func (s *Service) BalanceCredential(ctx context.Context, agencyID, issuerID, code, account string) (issuer.Issued, Account, error) {
	if s.issuers == nil {
		return issuer.Issued{}, Account{}, errkind.New(errkind.Unsupported, "this server issues no credentials")
	}
	cur, err := s.Currency(ctx, code)
	if err != nil {
		return issuer.Issued{}, Account{}, err
	}
	if err := CheckAccount("/account", account); err != nil {
		return issuer.Issued{}, Account{}, err
	}
	in, err := s.issuers.Get(ctx, agencyID, issuerID)
	if err != nil {
		return issuer.Issued{}, Account{}, err
	}
	if in.DID != cur.Issuer {
		return issuer.Issued{}, Account{}, errkind.Field(errkind.Forbidden, "/issuerId", "issuer instance %s issues as %s; balances of %s are attested by its issuer %s", in.ID, in.DID, code, cur.Issuer)
	}
	acc, err := s.Account(ctx, code, account)
	if err != nil {
		return issuer.Issued{}, Account{}, err
	}
	now := s.clock().UTC().Truncate(time.Second)
	subject := map[string]any{"id": account, "currency": code, "balance": acc.Balance,
		"decimals": cur.Decimals, "height": acc.Height}
	cred := map[string]any{"type": []any{"VerifiableCredential", BalanceCredentialType}, "credentialSubject": subject}
	until := now.Add(BalanceCredentialTTL).Format(time.RFC3339)
	if in.Format == issuer.FormatJWT || in.Format == issuer.FormatBBS || in.Cryptosuite == issuer.SuiteEd25519Signature2020 {
		cred["@context"] = []any{vc.ContextV1}
		cred["issuanceDate"], cred["expirationDate"] = now.Format(time.RFC3339), until
	} else {
		cred["@context"] = []any{vc.ContextV2}
		cred["validFrom"], cred["validUntil"] = now.Format(time.RFC3339), until
	}
	if in.Format == issuer.FormatLDP || in.Format == issuer.FormatBBS {
		// The proof covers only terms a context defines.
		cred["@context"] = append(cred["@context"].([]any), ld.UndefinedTermsV2)
	}
	out, err := s.issuers.Issue(ctx, agencyID, issuerID, cred, issuer.IssueOptions{})
	return out, acc, err
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// bodyField turns the field of a payload error into a JSON pointer into
// the request body.
func bodyField(err error) error {
	var e *errkind.Error
	if err == nil || !errors.As(err, &e) || e.Field == "" || strings.HasPrefix(e.Field, "/") {
		return err
	}
	c := *e
	c.Field = "/" + c.Field
	return &c
}
