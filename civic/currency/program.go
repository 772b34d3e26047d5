package currency

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// Program applies the currency's operation kinds on the chain.
type Program struct{}

var _ registry.Program = Program{}

// Kinds implements registry.Program. The Apply functions decode the
// payload with plain json.Unmarshal: the machine runs Check, which decodes
// it strictly, just before.
func (Program) Kinds() []registry.ProgramKind {
	return []registry.ProgramKind{
		{Kind: KindDefine, Check: checkDefine, Apply: applyDefine},
		{Kind: KindMint, Check: checkMint, Apply: applyMint},
		{Kind: KindTransfer, Check: checkTransfer, Apply: applyTransfer},
		{Kind: KindBurn, Check: checkBurn, Apply: applyBurn},
	}
}

func applyDefine(ctx context.Context, c *registry.Call) (any, error) {
	var p Define
	if err := json.Unmarshal(c.Payload(), &p); err != nil {
		return nil, err
	}
	ok, err := c.Accredited(ctx, c.Signer(), IssuerType)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errkind.New(errkind.Forbidden, "%s holds no accreditation for %s; the governance authority accredits a treasury with `urbis governance accredit --types %s`", c.Signer(), IssuerType, IssuerType)
	}
	if has, err := c.Has(ctx, defKey(p.Code)); err != nil || has {
		if err == nil {
			err = errkind.Field(errkind.Conflict, "code", "currency %s is already defined", p.Code)
		}
		return nil, err
	}
	cur := Currency{Code: p.Code, Name: p.Name, Decimals: p.Decimals, Issuer: c.Signer(), Height: c.Height(), OpHash: c.OpHash()}
	if err := c.Put(ctx, defKey(p.Code), cur); err != nil {
		return nil, err
	}
	return map[string]any{"code": p.Code, "issuer": cur.Issuer}, nil
}

// currency reads a defined currency; NotFound (field code) if there is none.
func currency(ctx context.Context, c *registry.Call, code string) (Currency, error) {
	var cur Currency
	err := c.Get(ctx, defKey(code), &cur)
	if errors.Is(err, errkind.NotFound) {
		return cur, errkind.Field(errkind.NotFound, "code", "no currency %s is defined on this chain", code)
	}
	return cur, err
}

// issuerOf checks that the signer issues cur and is still accredited.
func issuerOf(ctx context.Context, c *registry.Call, cur Currency) error {
	if c.Signer() != cur.Issuer {
		return errkind.New(errkind.Forbidden, "only %s, the issuer of %s, may mint it", cur.Issuer, cur.Code)
	}
	ok, err := c.Accredited(ctx, cur.Issuer, IssuerType)
	if err != nil {
		return err
	}
	if !ok {
		return errkind.New(errkind.Forbidden, "%s no longer holds an accreditation for %s", cur.Issuer, IssuerType)
	}
	return nil
}

func applyMint(ctx context.Context, c *registry.Call) (any, error) {
	var p Mint
	if err := json.Unmarshal(c.Payload(), &p); err != nil {
		return nil, err
	}
	cur, err := currency(ctx, c, p.Code)
	if err != nil {
		return nil, err
	}
	if err := issuerOf(ctx, c, cur); err != nil {
		return nil, err
	}
	if cur.Supply > MaxAmount-p.Amount {
		return nil, errkind.Field(errkind.Conflict, "amount", "the supply of %s would exceed %d minor units", p.Code, int64(MaxAmount))
	}
	bal, err := credit(ctx, c, p.Code, p.To, cur.Issuer, p.Amount, "")
	if err != nil {
		return nil, err
	}
	cur.Supply += p.Amount
	if err := c.Put(ctx, defKey(p.Code), cur); err != nil {
		return nil, err
	}
	return map[string]any{"to": p.To, "amount": p.Amount, "balance": bal, "supply": cur.Supply}, nil
}

func applyTransfer(ctx context.Context, c *registry.Call) (any, error) {
	var p Transfer
	if err := json.Unmarshal(c.Payload(), &p); err != nil {
		return nil, err
	}
	from, to, err := Move(ctx, c, p.Code, c.Signer(), p.To, p.Amount, p.Memo)
	if err != nil {
		return nil, err
	}
	return map[string]any{"from": c.Signer(), "to": p.To, "amount": p.Amount, "fromBalance": from, "toBalance": to}, nil
}

func applyBurn(ctx context.Context, c *registry.Call) (any, error) {
	var p Burn
	if err := json.Unmarshal(c.Payload(), &p); err != nil {
		return nil, err
	}
	cur, err := currency(ctx, c, p.Code)
	if err != nil {
		return nil, err
	}
	bal, err := debit(ctx, c, p.Code, c.Signer(), "", p.Amount, "")
	if err != nil {
		return nil, err
	}
	cur.Supply -= p.Amount
	if err := c.Put(ctx, defKey(p.Code), cur); err != nil {
		return nil, err
	}
	return map[string]any{"amount": p.Amount, "balance": bal, "supply": cur.Supply}, nil
}

// Move pays amount minor units of code from one account to another
// inside the operation c applies, recording the change in both
// accounts' histories under c's operation: Conflict (field amount) if
// from holds less, Invalid if from and to are the same account. Other
// programs (energy trades) call it to settle in the city currency in
// the same operation; a refused operation undoes its writes.
func Move(ctx context.Context, c *registry.Call, code, from, to string, amount int64, memo string) (fromBalance, toBalance int64, err error) {
	if from == to {
		return 0, 0, errkind.Field(errkind.Invalid, "to", "is the paying account itself; a transfer moves money between two accounts")
	}
	if err := CheckAmount("amount", amount); err != nil {
		return 0, 0, err
	}
	switch ok, err := c.Has(ctx, defKey(code)); {
	case err != nil:
		return 0, 0, err
	case !ok:
		return 0, 0, errkind.Field(errkind.NotFound, "code", "no currency %s is defined on this chain", code)
	}
	if fromBalance, err = debit(ctx, c, code, from, to, amount, memo); err != nil {
		return 0, 0, err
	}
	if toBalance, err = credit(ctx, c, code, to, from, amount, memo); err != nil {
		return 0, 0, err
	}
	return fromBalance, toBalance, nil
}

// balance reads an account's balance (0 if it has none).
func balance(ctx context.Context, c *registry.Call, code, account string) (int64, error) {
	var b int64
	if err := c.Get(ctx, balanceKey(code, account), &b); err != nil && !errors.Is(err, errkind.NotFound) {
		return 0, err
	}
	return b, nil
}

func debit(ctx context.Context, c *registry.Call, code, account, counterparty string, amount int64, memo string) (int64, error) {
	b, err := balance(ctx, c, code, account)
	if err != nil {
		return 0, err
	}
	if b < amount {
		return 0, errkind.Field(errkind.Conflict, "amount", "insufficient funds: %s holds %d minor units of %s; %d asked", account, b, code, amount)
	}
	return b - amount, record(ctx, c, code, account, counterparty, -amount, b-amount, memo)
}

func credit(ctx context.Context, c *registry.Call, code, account, counterparty string, amount int64, memo string) (int64, error) {
	b, err := balance(ctx, c, code, account)
	if err != nil {
		return 0, err
	}
	if b > MaxAmount-amount {
		return 0, errkind.Field(errkind.Conflict, "amount", "%s's balance of %s would exceed %d minor units", account, code, int64(MaxAmount))
	}
	return b + amount, record(ctx, c, code, account, counterparty, amount, b+amount, memo)
}

// record sets an account's balance and adds the change to its history.
func record(ctx context.Context, c *registry.Call, code, account, counterparty string, delta, bal int64, memo string) error {
	if bal == 0 {
		if err := c.Delete(ctx, balanceKey(code, account)); err != nil {
			return err
		}
	} else if err := c.Put(ctx, balanceKey(code, account), bal); err != nil {
		return err
	}
	e := Entry{Op: c.OpHash(), Kind: string(c.Kind()), Height: c.Height(), Time: c.Time().Format(time.RFC3339Nano),
		Counterparty: counterparty, Amount: delta, Balance: bal, Memo: memo}
	return c.Put(ctx, histKey(code, account, c.Height(), c.OpHash()), e)
}
