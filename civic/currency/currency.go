// Package currency is the city currency: a treasury accredited on the
// trust registry for CurrencyIssuer defines a currency and mints it to
// DID accounts; account holders transfer and burn what they hold, each
// operation signed by their own DID key. Balances are integer minor
// units kept in the chain's program state, so every node agrees on
// them; a balance never goes negative and the chain's per-DID nonce is
// each account's sequence number, so a transfer spends once.
package currency

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// IssuerType is the credential type of the trust registry that a DID
// must be accredited for to define and mint a currency.
const IssuerType = "CurrencyIssuer"

// Operation kinds of the currency program.
const (
	KindDefine   registry.Kind = "currency.define"
	KindMint     registry.Kind = "currency.mint"
	KindTransfer registry.Kind = "currency.transfer"
	KindBurn     registry.Kind = "currency.burn"
)

// MaxAmount is the largest amount, balance or supply, in minor units:
// 2^53-1, which every JSON reader holds exactly.
const MaxAmount = 1<<53 - 1

// MaxDecimals is the most decimals a currency may have.
const MaxDecimals = 8

var codeRE = regexp.MustCompile(`^[A-Z][A-Z0-9]{2,11}$`)

// Define is the payload of currency.define.
type Define struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Decimals int    `json:"decimals"`
}

// Mint is the payload of currency.mint: Amount minor units of Code,
// created and credited to To.
type Mint struct {
	Code   string `json:"code"`
	To     string `json:"to"`
	Amount int64  `json:"amount"`
}

// Transfer is the payload of currency.transfer: the signer pays Amount
// minor units of Code to To.
type Transfer struct {
	Code   string `json:"code"`
	To     string `json:"to"`
	Amount int64  `json:"amount"`
	Memo   string `json:"memo,omitempty"`
}

// Burn is the payload of currency.burn: Amount minor units of Code
// leave the signer's account and the supply.
type Burn struct {
	Code   string `json:"code"`
	Amount int64  `json:"amount"`
}

// Currency is a defined currency.
type Currency struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Decimals int    `json:"decimals"`
	Issuer   string `json:"issuer"`
	Supply   int64  `json:"supply"`
	Height   uint64 `json:"height"`
	OpHash   string `json:"op"`
}

// Entry is one change of an account's balance.
type Entry struct {
	Op           string `json:"op"`
	Kind         string `json:"kind"`
	Height       uint64 `json:"height"`
	Time         string `json:"time"`
	Counterparty string `json:"counterparty,omitempty"`
	// Amount is the change: positive credits, negative debits.
	Amount  int64  `json:"amount"`
	Balance int64  `json:"balance"`
	Memo    string `json:"memo,omitempty"`
}

// Keys of the currency's state.
func defKey(code string) string              { return "currency/" + code + "/def" }
func balanceKey(code, account string) string { return "currency/" + code + "/balance/" + account }
func histPrefix(code, account string) string { return "currency/" + code + "/hist/" + account + "/" }
func histKey(code, account string, height uint64, op string) string {
	return fmt.Sprintf("%s%012d/%s", histPrefix(code, account), height, op[:min(len(op), 16)])
}

// decodeStrict decodes one JSON value into v, refusing unknown fields.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errkind.New(errkind.Invalid, "payload: %v", err)
	}
	if dec.More() {
		return errkind.New(errkind.Invalid, "payload holds more than one JSON value")
	}
	return nil
}

// CheckCode checks a currency code: 3 to 12 capital letters and digits,
// starting with a letter.
func CheckCode(code string) error {
	if !codeRE.MatchString(code) {
		return errkind.Field(errkind.Invalid, "code", "%q is not a currency code: want 3 to 12 capital letters or digits, starting with a letter, such as BCN", code)
	}
	return nil
}

// CheckAmount checks an amount of minor units.
func CheckAmount(field string, a int64) error {
	if a <= 0 || a > MaxAmount {
		return errkind.Field(errkind.Invalid, field, "must be a whole number of minor units from 1 to %d; got %d", int64(MaxAmount), a)
	}
	return nil
}

// CheckAccount checks that account is a DID.
func CheckAccount(field, account string) error {
	if _, err := did.Parse(account); err != nil {
		return errkind.Field(errkind.Invalid, field, "must be the DID of an account: %v", err)
	}
	if len(account) > 300 {
		return errkind.Field(errkind.Invalid, field, "a DID of at most 300 characters")
	}
	return nil
}

func checkDefine(raw json.RawMessage) error {
	var p Define
	if err := decodeStrict(raw, &p); err != nil {
		return err
	}
	if err := CheckCode(p.Code); err != nil {
		return err
	}
	if p.Name == "" || len(p.Name) > 100 {
		return errkind.Field(errkind.Invalid, "name", "must name the currency in 1 to 100 bytes")
	}
	if p.Decimals < 0 || p.Decimals > MaxDecimals {
		return errkind.Field(errkind.Invalid, "decimals", "must be from 0 to %d; got %d", MaxDecimals, p.Decimals)
	}
	return nil
}

func checkMint(raw json.RawMessage) error {
	var p Mint
	if err := decodeStrict(raw, &p); err != nil {
		return err
	}
	if err := CheckCode(p.Code); err != nil {
		return err
	}
	if err := CheckAccount("to", p.To); err != nil {
		return err
	}
	return CheckAmount("amount", p.Amount)
}

func checkTransfer(raw json.RawMessage) error {
	var p Transfer
	if err := decodeStrict(raw, &p); err != nil {
		return err
	}
	if err := CheckCode(p.Code); err != nil {
		return err
	}
	if err := CheckAccount("to", p.To); err != nil {
		return err
	}
	if len(p.Memo) > 140 {
		return errkind.Field(errkind.Invalid, "memo", "at most 140 bytes; got %d", len(p.Memo))
	}
	return CheckAmount("amount", p.Amount)
}

func checkBurn(raw json.RawMessage) error {
	var p Burn
	if err := decodeStrict(raw, &p); err != nil {
		return err
	}
	if err := CheckCode(p.Code); err != nil {
		return err
	}
	return CheckAmount("amount", p.Amount)
}
