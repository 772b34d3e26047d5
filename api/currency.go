package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/urbis-id/urbis/civic/currency"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
	"github.com/urbis-id/urbis/vc"
	"github.com/urbis-id/urbis/vc/issuer"
)

// Currencies is what the API needs of the city currency.
type Currencies interface {
	Currency(ctx context.Context, code string) (currency.Currency, error)
	Account(ctx context.Context, code, account string) (currency.Account, error)
	History(ctx context.Context, code, account, after string, limit int) ([]currency.Entry, string, error)
	Define(ctx context.Context, agencyID, did string, d currency.Define) (currency.Currency, registry.OpStatus, error)
	Mint(ctx context.Context, agencyID, did string, m currency.Mint) (registry.OpStatus, error)
	Burn(ctx context.Context, agencyID, did string, b currency.Burn) (registry.OpStatus, error)
	BalanceCredential(ctx context.Context, agencyID, issuerID, code, account string) (issuer.Issued, currency.Account, error)
}

// currencies returns the currency service, or answers 501.
func (s *Server) currencies(c *gin.Context) (Currencies, bool) {
	if s.currency == nil {
		s.abortWithError(c, errkind.New(errkind.Unsupported, "this server runs no city currency"))
		return nil, false
	}
	return s.currency, true
}

// DefineCurrency defines a currency signed by the agency's treasury DID.
func (s *Server) DefineCurrency(c *gin.Context) {
	svc, ok := s.currencies(c)
	if !ok {
		return
	}
	a, ok := s.caller(c)
	if !ok {
		return
	}
	var req DefineCurrencyRequest
	if err := decodeJSON(c, &req); err != nil {
		s.abortWithError(c, err)
		return
	}
	cur, _, err := svc.Define(c.Request.Context(), a.ID, req.Did, currency.Define{Code: req.Code, Name: req.Name, Decimals: req.Decimals})
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.JSON(http.StatusCreated, currencyBody(cur))
}

// GetCurrency answers a defined currency.
func (s *Server) GetCurrency(c *gin.Context, code string) {
	svc, ok := s.currencies(c)
	if !ok {
		return
	}
	cur, err := svc.Currency(c.Request.Context(), code)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.JSON(http.StatusOK, currencyBody(cur))
}

// MintCurrency mints to an account, signed by the currency's issuer.
func (s *Server) MintCurrency(c *gin.Context, code string) {
	svc, ok := s.currencies(c)
	if !ok {
		return
	}
	a, ok := s.caller(c)
	if !ok {
		return
	}
	var req MintRequest
	if err := decodeJSON(c, &req); err != nil {
		s.abortWithError(c, err)
		return
	}
	st, err := svc.Mint(c.Request.Context(), a.ID, req.Did, currency.Mint{Code: code, To: req.To, Amount: req.Amount})
	s.currencyOperation(c, svc, code, req.To, st, err)
}

// BurnCurrency burns from the account of one of the agency's DIDs.
func (s *Server) BurnCurrency(c *gin.Context, code string) {
	svc, ok := s.currencies(c)
	if !ok {
		return
	}
	a, ok := s.caller(c)
	if !ok {
		return
	}
	var req BurnRequest
	if err := decodeJSON(c, &req); err != nil {
		s.abortWithError(c, err)
		return
	}
	st, err := svc.Burn(c.Request.Context(), a.ID, req.Did, currency.Burn{Code: code, Amount: req.Amount})
	s.currencyOperation(c, svc, code, req.Did, st, err)
}

// currencyOperation renders a committed operation with the account it
// changed.
func (s *Server) currencyOperation(c *gin.Context, svc Currencies, code, account string, st registry.OpStatus, err error) {
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	acc, err := svc.Account(c.Request.Context(), code, account)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.JSON(http.StatusCreated, CurrencyOperation{Operation: st.Hash, Height: int64(st.Height), Account: accountBody(acc)})
}

// GetCurrencyAccount answers an account's balance and sequence number.
func (s *Server) GetCurrencyAccount(c *gin.Context, code string, did string) {
	svc, ok := s.currencies(c)
	if !ok {
		return
	}
	acc, err := svc.Account(c.Request.Context(), code, did)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.JSON(http.StatusOK, accountBody(acc))
}

// GetCurrencyHistory answers a page of an account's history.
func (s *Server) GetCurrencyHistory(c *gin.Context, code string, did string, params GetCurrencyHistoryParams) {
	svc, ok := s.currencies(c)
	if !ok {
		return
	}
	after, limit := "", 0
	if params.After != nil {
		after = *params.After
	}
	if params.Limit != nil {
		limit = *params.Limit
	}
	entries, next, err := svc.History(c.Request.Context(), code, did, after, limit)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	out := CurrencyHistory{Entries: make([]CurrencyEntry, len(entries))}
	for i, e := range entries {
		t, _ := time.Parse(time.RFC3339Nano, e.Time)
		out.Entries[i] = CurrencyEntry{Operation: e.Op, Kind: e.Kind, Height: int64(e.Height), Time: t,
			Amount: e.Amount, Balance: e.Balance, Counterparty: optional(e.Counterparty), Memo: optional(e.Memo)}
	}
	out.Next = optional(next)
	c.JSON(http.StatusOK, out)
}

// IssueBalanceCredential issues a short-lived BalanceCredential.
func (s *Server) IssueBalanceCredential(c *gin.Context, code string) {
	svc, ok := s.currencies(c)
	if !ok {
		return
	}
	a, ok := s.caller(c)
	if !ok {
		return
	}
	var req BalanceCredentialRequest
	if err := decodeJSON(c, &req); err != nil {
		s.abortWithError(c, err)
		return
	}
	if req.IssuerId == "" {
		s.abortWithError(c, errkind.Field(errkind.Invalid, "/issuerId", "is required: the agency's issuer instance that issues BalanceCredential"))
		return
	}
	out, acc, err := svc.BalanceCredential(c.Request.Context(), a.ID, req.IssuerId, code, req.Account)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	body := out.Credential
	if out.Token != "" {
		body = map[string]any{"@context": []any{vc.ContextV2}, "type": "EnvelopedVerifiableCredential",
			"id": "data:" + envelopeMediaType[out.Instance.Format] + "," + out.Token}
	}
	c.JSON(http.StatusCreated, BalanceCredentialResponse{VerifiableCredential: body, Account: accountBody(acc)})
}

func currencyBody(cur currency.Currency) Currency {
	return Currency{Code: cur.Code, Name: cur.Name, Decimals: cur.Decimals, Issuer: cur.Issuer,
		Supply: cur.Supply, Height: int64(cur.Height), Operation: cur.OpHash}
}

func accountBody(a currency.Account) CurrencyAccount {
	return CurrencyAccount{Currency: a.Currency, Did: a.DID, Balance: a.Balance, Sequence: int64(a.Sequence), Height: int64(a.Height)}
}

// optional returns nil for "", else a pointer to s.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
