package currency_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/urbis-id/urbis/civic/currency"
	"github.com/urbis-id/urbis/civic/currency/currencytest"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// balances reads every balance of code from committed state, and its supply.
func balances(t *testing.T, c *currencytest.Chain, code string) (map[string]int64, int64) {
	t.Helper()
	ctx := context.Background()
	out := map[string]int64{}
	prefix := "currency/" + code + "/balance/"
	after := ""
	for {
		rows, err := c.DB.ProgramScan(ctx, prefix, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			var b int64
			if err := json.Unmarshal(r.Value, &b); err != nil {
				t.Fatal(err)
			}
			out[strings.TrimPrefix(r.Key, prefix)] = b
			after = r.Key
		}
		if len(rows) < 1000 {
			break
		}
	}
	cur, err := currency.NewService(c.DB, nil, nil, nil).Currency(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	return out, cur.Supply
}

// conserved fails the test unless every balance is positive and they add
// up to the supply.
func conserved(t *testing.T, c *currencytest.Chain, code string, supply int64) map[string]int64 {
	t.Helper()
	bals, got := balances(t, c, code)
	var sum int64
	for acc, b := range bals {
		if b <= 0 {
			t.Errorf("%s holds %d; want a positive balance (zero balances are not stored)", acc, b)
		}
		sum += b
	}
	if sum != supply || got != supply {
		t.Errorf("got balances adding up to %d and supply %d; want both %d", sum, got, supply)
	}
	return bals
}

// newTreasury starts a chain with the currency program, accredits a
// treasury and defines BCN.
func newTreasury(t *testing.T, c *currencytest.Chain) currencytest.Account {
	t.Helper()
	tr := currencytest.NewAccount(t, "treasury")
	c.Accredit(t, tr.DID, currency.IssuerType)
	c.Must(t, tr, currency.KindDefine, currency.Define{Code: "BCN", Name: "Barcelona coin", Decimals: 2})
	return tr
}

func TestCurrencyRules(t *testing.T) {
	for _, c := range currencytest.Chains(t, currency.Program{}) {
		t.Run(c.Name, func(t *testing.T) {
			alice, bob, mallory := currencytest.NewAccount(t, "alice"), currencytest.NewAccount(t, "bob"), currencytest.NewAccount(t, "mallory")
			// Before accreditation, no define.
			st, err := c.Do(t, mallory, currency.KindDefine, currency.Define{Code: "EVIL", Name: "Evil", Decimals: 0})
			if err != nil || st.Status != registry.StatusRejected || !strings.Contains(st.Reason, "holds no accreditation for CurrencyIssuer") {
				t.Errorf("define by an unaccredited DID: got %+v, %v; want rejected for lack of accreditation", st, err)
			}
			tr := newTreasury(t, c)
			c.Must(t, tr, currency.KindMint, currency.Mint{Code: "BCN", To: alice.DID, Amount: 10_000})
			c.Must(t, alice, currency.KindTransfer, currency.Transfer{Code: "BCN", To: bob.DID, Amount: 2_500, Memo: "rent"})
			c.Must(t, bob, currency.KindBurn, currency.Burn{Code: "BCN", Amount: 500})

			for _, tc := range []struct {
				name   string
				by     currencytest.Account
				kind   registry.Kind
				body   any
				submit errkind.Kind // refused at submission
				reason string       // else rejected in the block with this reason
			}{
				{"define again", tr, currency.KindDefine, currency.Define{Code: "BCN", Name: "Again", Decimals: 2}, "", "currency BCN is already defined"},
				{"mint by another DID", mallory, currency.KindMint, currency.Mint{Code: "BCN", To: mallory.DID, Amount: 1}, "", "only " + tr.DID + ", the issuer of BCN, may mint it"},
				{"mint of an undefined currency", tr, currency.KindMint, currency.Mint{Code: "XYZ", To: alice.DID, Amount: 1}, "", "no currency XYZ is defined"},
				{"overspend", alice, currency.KindTransfer, currency.Transfer{Code: "BCN", To: bob.DID, Amount: 7_501}, "", "insufficient funds: " + alice.DID + " holds 7500"},
				{"transfer to oneself", alice, currency.KindTransfer, currency.Transfer{Code: "BCN", To: alice.DID, Amount: 1}, "", "is the paying account itself"},
				{"burn more than held", bob, currency.KindBurn, currency.Burn{Code: "BCN", Amount: 2_001}, "", "insufficient funds"},
				{"spend from an empty account", mallory, currency.KindTransfer, currency.Transfer{Code: "BCN", To: bob.DID, Amount: 1}, "", "holds 0 minor units"},
				{"zero amount", alice, currency.KindTransfer, currency.Transfer{Code: "BCN", To: bob.DID, Amount: 0}, errkind.Invalid, "amount"},
				{"negative amount", alice, currency.KindTransfer, currency.Transfer{Code: "BCN", To: bob.DID, Amount: -5}, errkind.Invalid, "amount"},
				{"amount beyond 2^53", tr, currency.KindMint, currency.Mint{Code: "BCN", To: alice.DID, Amount: 1 << 53}, errkind.Invalid, "amount"},
				{"recipient not a DID", alice, currency.KindTransfer, currency.Transfer{Code: "BCN", To: "bob", Amount: 1}, errkind.Invalid, "DID"},
				{"bad code", alice, currency.KindTransfer, currency.Transfer{Code: "bcn", To: bob.DID, Amount: 1}, errkind.Invalid, "not a currency code"},
				{"unknown field", alice, currency.KindTransfer, map[string]any{"code": "BCN", "to": bob.DID, "amount": 1, "from": bob.DID}, errkind.Invalid, "unknown field"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					st, err := c.Do(t, tc.by, tc.kind, tc.body)
					if tc.submit != "" {
						if !errors.Is(err, tc.submit) || !strings.Contains(err.Error(), tc.reason) {
							t.Errorf("got %+v, %v; want a %s refusal mentioning %q", st, err, tc.submit, tc.reason)
						}
						return
					}
					if err != nil || st.Status != registry.StatusRejected || !strings.Contains(st.Reason, tc.reason) {
						t.Errorf("got %+v, %v; want rejected: %q", st, err, tc.reason)
					}
				})
			}
			// A treasury that lost its accreditation mints no more.
			tr2 := currencytest.NewAccount(t, "treasury 2")
			acc := c.Accredit(t, tr2.DID, currency.IssuerType)
			c.Must(t, tr2, currency.KindDefine, currency.Define{Code: "GIR", Name: "Girona coin", Decimals: 0})
			c.Revoke(t, acc)
			if st, err := c.Do(t, tr2, currency.KindMint, currency.Mint{Code: "GIR", To: alice.DID, Amount: 1}); err != nil || !strings.Contains(st.Reason, "no longer holds an accreditation for CurrencyIssuer") {
				t.Errorf("mint by a revoked treasury: got %+v, %v; want rejected", st, err)
			}

			bals := conserved(t, c, "BCN", 9_500)
			if bals[alice.DID] != 7_500 || bals[bob.DID] != 2_000 {
				t.Errorf("got alice %d, bob %d; want 7500 and 2000", bals[alice.DID], bals[bob.DID])
			}
			svc := currency.NewService(c.DB, nil, nil, nil)
			hist, next, err := svc.History(context.Background(), "BCN", bob.DID, "", 0)
			if err != nil || next != "" || len(hist) != 2 {
				t.Fatalf("bob's history: got %+v, %q, %v; want 2 entries", hist, next, err)
			}
			if h := hist[0]; h.Kind != "currency.transfer" || h.Amount != 2_500 || h.Counterparty != alice.DID || h.Memo != "rent" || h.Balance != 2_500 {
				t.Errorf("bob's first entry: got %+v; want +2500 from alice, memo rent", h)
			}
			if h := hist[1]; h.Kind != "currency.burn" || h.Amount != -500 || h.Balance != 2_000 {
				t.Errorf("bob's second entry: got %+v; want -500 burnt", h)
			}
			page, next, err := svc.History(context.Background(), "BCN", bob.DID, "", 1)
			if err != nil || len(page) != 1 || next == "" {
				t.Fatalf("first page of 1: got %v, %q, %v", page, next, err)
			}
			if page, next, err = svc.History(context.Background(), "BCN", bob.DID, next, 1); err != nil || len(page) != 1 || page[0].Op != hist[1].Op || next != "" {
				t.Errorf("second page: got %v, %q, %v; want the burn and no next", page, next, err)
			}
			account, err := svc.Account(context.Background(), "BCN", alice.DID)
			if err != nil || account.Balance != 7_500 || account.Sequence != 1 || account.Height == 0 {
				t.Errorf("alice's account: got %+v, %v; want 7500 at sequence 1", account, err)
			}
		})
	}
}

// TestNoDoubleSpend attacks the no-double-spend invariant: 1,000
// transfers from one account, all with the same sequence number and each
// worth more than half its balance, fired at once at the engine; then
// 1,000 more with successive sequence numbers that together ask for more
// than the account holds. At most one of the first can commit, the
// account never goes negative, and the balances always add up to the
// supply.
func TestNoDoubleSpend(t *testing.T) {
	const n = 1000
	for _, c := range currencytest.Chains(t, currency.Program{}) {
		t.Run(c.Name, func(t *testing.T) {
			tr := newTreasury(t, c)
			alice := currencytest.NewAccount(t, "alice")
			c.Must(t, tr, currency.KindMint, currency.Mint{Code: "BCN", To: alice.DID, Amount: 1_000})

			fire := func(ops []registry.SignedOp) (committed []int) {
				var (
					mu sync.Mutex
					wg sync.WaitGroup
				)
				start := make(chan struct{})
				for i, op := range ops {
					wg.Go(func() {
						<-start
						st, err := c.Submit(op)
						if err == nil && st.Status == registry.StatusCommitted {
							mu.Lock()
							committed = append(committed, i)
							mu.Unlock()
						}
					})
				}
				close(start)
				wg.Wait()
				return committed
			}

			// The same sequence number, 1,000 recipients, 600 each.
			ops := make([]registry.SignedOp, n)
			for i := range ops {
				to := currencytest.NewAccount(t, fmt.Sprint("payee-", i))
				ops[i] = c.Sign(t, alice, currency.KindTransfer, 1, currency.Transfer{Code: "BCN", To: to.DID, Amount: 600})
			}
			if got := fire(ops); len(got) != 1 {
				t.Fatalf("got %d of %d conflicting transfers committed; want exactly 1", len(got), n)
			}
			bals := conserved(t, c, "BCN", 1_000)
			if bals[alice.DID] != 400 {
				t.Errorf("alice: got %d; want 400", bals[alice.DID])
			}

			// Successive sequence numbers, submitted in order without
			// waiting, 1 and 7 alternately: 4,000 asked, 400 held.
			for i := range ops {
				to := currencytest.NewAccount(t, fmt.Sprint("payee-", i%10))
				ops[i] = c.Sign(t, alice, currency.KindTransfer, uint64(2+i), currency.Transfer{Code: "BCN", To: to.DID, Amount: int64(1 + 6*(i%2))})
			}
			ctx := context.Background()
			for _, op := range ops {
				if _, err := c.Engine.Submit(ctx, op.JWS); err != nil {
					t.Fatalf("submit: %v", err)
				}
			}
			var got []int
			unfunded := 0
			for i, op := range ops {
				st, err := c.Engine.Wait(ctx, op.Hash)
				switch {
				case err != nil:
					t.Fatal(err)
				case st.Status == registry.StatusCommitted:
					got = append(got, i)
				case strings.Contains(st.Reason, "insufficient funds"):
					unfunded++
				}
			}
			var spent int64
			for _, i := range got {
				spent += int64(1 + 6*(i%2))
			}
			bals = conserved(t, c, "BCN", 1_000)
			if spent > 400 || bals[alice.DID] != 400-spent || unfunded == 0 {
				t.Errorf("got %d committed spending %d, alice left with %d, %d refused for funds; want at most 400 spent, the rest left, and a refusal", len(got), spent, bals[alice.DID], unfunded)
			}
			if seq := c.Nonce(t, alice); seq != uint64(1+len(got)) {
				t.Errorf("alice's sequence: got %d; want %d (one per committed transfer)", seq, 1+len(got))
			}
			t.Logf("%s: %d of %d successive transfers committed, %d spent, %d refused for funds", c.Name, len(got), n, spent, unfunded)
		})
	}
}
