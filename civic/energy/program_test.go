package energy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urbis-id/urbis/civic/currency"
	"github.com/urbis-id/urbis/civic/currency/currencytest"
	"github.com/urbis-id/urbis/civic/energy"
	"github.com/urbis-id/urbis/registry"
)

// market is a chain with a treasury, a grid operator, and a seller whose
// meter is registered.
type market struct {
	c             *currencytest.Chain
	treasury, op  currencytest.Account
	seller, meter currencytest.Account
	epoch         time.Time
}

func newMarket(t *testing.T, c *currencytest.Chain) *market {
	t.Helper()
	m := &market{c: c, treasury: currencytest.NewAccount(t, "treasury"), op: currencytest.NewAccount(t, "grid"),
		seller: currencytest.NewAccount(t, "seller"), meter: currencytest.NewAccount(t, "meter"),
		epoch: time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Hour)}
	c.Accredit(t, m.treasury.DID, currency.IssuerType)
	c.Accredit(t, m.op.DID, energy.OperatorType)
	c.Must(t, m.treasury, currency.KindDefine, currency.Define{Code: "BCN", Name: "Barcelona coin", Decimals: 2})
	c.Must(t, m.op, energy.KindMeter, energy.Meter{Meter: m.meter.DID, Prosumer: m.seller.DID, Zone: "Z1", CapacityW: 5000})
	return m
}

// reading is the meter's signed reading number i (one minute each).
func (m *market) reading(t *testing.T, meter currencytest.Account, i int, wh int64) (string, string) {
	t.Helper()
	from := m.epoch.Add(time.Duration(i) * time.Minute)
	b, _ := json.Marshal(energy.Reading{Meter: meter.DID, From: from.Format(time.RFC3339), Until: from.Add(time.Minute).Format(time.RFC3339), ExportWh: wh})
	return meter.SignJWS(t, b), energy.ReadingHash(b)
}

// trade is buyer's trade of a reading, with the seller's consent.
func (m *market) trade(t *testing.T, seller, buyer currencytest.Account, wh, price int64, reading, hash string) energy.Trade {
	t.Helper()
	b, _ := json.Marshal(energy.Consent{Buyer: buyer.DID, Currency: "BCN", Wh: wh, Price: price, Reading: hash})
	return energy.Trade{Seller: seller.DID, Currency: "BCN", Wh: wh, Price: price, Reading: reading, Consent: seller.SignJWS(t, b)}
}

func (m *market) balance(t *testing.T, a currencytest.Account) int64 {
	t.Helper()
	acc, err := currency.NewService(m.c.DB, nil, nil, nil).Account(context.Background(), "BCN", a.DID)
	if err != nil {
		t.Fatal(err)
	}
	return acc.Balance
}

func programs() []registry.Program { return []registry.Program{currency.Program{}, energy.Program{}} }

func TestTradeRules(t *testing.T) {
	for _, c := range currencytest.Chains(t, programs()...) {
		t.Run(c.Name, func(t *testing.T) {
			m := newMarket(t, c)
			buyer, poor, other := currencytest.NewAccount(t, "buyer"), currencytest.NewAccount(t, "poor"), currencytest.NewAccount(t, "other")
			c.Must(t, m.treasury, currency.KindMint, currency.Mint{Code: "BCN", To: buyer.DID, Amount: 1_000})
			c.Must(t, m.treasury, currency.KindMint, currency.Mint{Code: "BCN", To: poor.DID, Amount: 10})

			r1, h1 := m.reading(t, m.meter, 1, 50)
			good := m.trade(t, m.seller, buyer, 50, 120, r1, h1)
			st := c.Must(t, buyer, energy.KindTrade, good)
			svc := energy.NewService(c.DB, nil)
			rec, err := svc.Trade(context.Background(), st.Hash)
			if err != nil || rec.Wh != 50 || rec.Price != 120 || rec.Buyer != buyer.DID || rec.Zone != "Z1" {
				t.Errorf("trade record: got %+v, %v; want 50 Wh for 120 to the buyer in Z1", rec, err)
			}
			if b, s := m.balance(t, buyer), m.balance(t, m.seller); b != 880 || s != 120 {
				t.Errorf("after the trade: buyer %d, seller %d; want 880 and 120", b, s)
			}

			r2, h2 := m.reading(t, m.meter, 2, 40)
			stranger := currencytest.NewAccount(t, "stranger meter")
			r3, h3 := m.reading(t, stranger, 3, 40)
			rHuge, hHuge := m.reading(t, m.meter, 4, 100) // 100 Wh in a minute: 6 kW > 5 kW
			late := m.epoch.Add(72 * time.Hour)
			lb, _ := json.Marshal(energy.Reading{Meter: m.meter.DID, From: late.Format(time.RFC3339), Until: late.Add(time.Minute).Format(time.RFC3339), ExportWh: 40})
			rLate := m.meter.SignJWS(t, lb)
			forged := r2[:len(r2)-4] + "AAAA"
			wrongConsent := m.trade(t, m.seller, other, 40, 100, r2, h2) // consent names another buyer
			wrongConsent.Seller = m.seller.DID
			byOther := m.trade(t, other, buyer, 40, 100, r2, h2) // "consent" signed by someone else
			byOther.Seller = m.seller.DID
			for _, tc := range []struct {
				name   string
				by     currencytest.Account
				trade  energy.Trade
				reason string
			}{
				{"the same reading again", buyer, m.trade(t, m.seller, buyer, 50, 120, r1, h1), "was sold already, in trade " + st.Hash},
				{"wh not the reading's", buyer, m.trade(t, m.seller, buyer, 41, 100, r2, h2), "the trade sells 41 Wh but the reading exported 40 Wh"},
				{"unregistered meter", buyer, m.trade(t, m.seller, buyer, 40, 100, r3, h3), "is not registered by a grid operator"},
				{"another prosumer's meter", buyer, m.trade(t, other, buyer, 40, 100, r2, h2), "not the seller"},
				{"beyond capacity", buyer, m.trade(t, m.seller, buyer, 100, 100, rHuge, hHuge), "exceeds the meter's registered capacity of 5000 W"},
				{"reading from the future", buyer, m.trade(t, m.seller, buyer, 40, 100, rLate, energy.ReadingHash(lb)), "after the block time"},
				{"forged reading", buyer, m.trade(t, m.seller, buyer, 40, 100, forged, h2), "signature does not verify"},
				{"consent for another buyer", buyer, wrongConsent, "is not the seller's consent"},
				{"consent not by the seller", buyer, byOther, "is not the seller's consent"},
				{"buyer cannot pay", poor, m.trade(t, m.seller, poor, 40, 100, r2, h2), "insufficient funds"},
				{"seller buys from itself", m.seller, m.trade(t, m.seller, m.seller, 40, 100, r2, h2), "is the buyer itself"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					st, err := c.Do(t, tc.by, energy.KindTrade, tc.trade)
					if err != nil || st.Status != registry.StatusRejected || !strings.Contains(st.Reason, tc.reason) {
						t.Errorf("got %+v, %v; want rejected: %q", st, err, tc.reason)
					}
				})
			}
			// Nothing changed: the same balances, and reading 2 is still for sale.
			if b, s, p := m.balance(t, buyer), m.balance(t, m.seller), m.balance(t, poor); b != 880 || s != 120 || p != 10 {
				t.Errorf("after the refused trades: buyer %d, seller %d, poor %d; want 880, 120, 10", b, s, p)
			}
			c.Must(t, buyer, energy.KindTrade, m.trade(t, m.seller, buyer, 40, 100, r2, h2))

			// A meter whose operator lost its accreditation counts no more.
			op2, meter2 := currencytest.NewAccount(t, "grid 2"), currencytest.NewAccount(t, "meter 2")
			acc := c.Accredit(t, op2.DID, energy.OperatorType)
			c.Must(t, op2, energy.KindMeter, energy.Meter{Meter: meter2.DID, Prosumer: m.seller.DID, Zone: "Z2", CapacityW: 5000})
			c.Revoke(t, acc)
			r5, h5 := m.reading(t, meter2, 5, 40)
			if st, err := c.Do(t, buyer, energy.KindTrade, m.trade(t, m.seller, buyer, 40, 100, r5, h5)); err != nil || !strings.Contains(st.Reason, "no longer holds an accreditation for ProsumerCredential") {
				t.Errorf("trade on a meter of a revoked operator: got %+v, %v; want rejected", st, err)
			}
			if st, err := c.Do(t, op2, energy.KindMeter, energy.Meter{Meter: currencytest.NewAccount(t, "meter 3").DID, Prosumer: m.seller.DID, Zone: "Z2", CapacityW: 1}); err != nil || !strings.Contains(st.Reason, "holds no accreditation for ProsumerCredential") {
				t.Errorf("meter registered by a revoked operator: got %+v, %v; want rejected", st, err)
			}

			rep, err := svc.Settlement(context.Background(), m.seller.DID, m.epoch, time.Now().Add(time.Hour))
			if err != nil || len(rep.Trades) != 2 || len(rep.Totals) != 1 {
				t.Fatalf("seller's settlement: got %+v, %v; want 2 trades in BCN", rep, err)
			}
			if got := rep.Totals[0]; got != (energy.Total{Currency: "BCN", SoldWh: 90, Received: 220, Net: 220}) {
				t.Errorf("seller's totals: got %+v; want 90 Wh sold for 220", got)
			}
			rep, err = svc.Settlement(context.Background(), buyer.DID, m.epoch, time.Now().Add(time.Hour))
			if err != nil || len(rep.Totals) != 1 || rep.Totals[0] != (energy.Total{Currency: "BCN", BoughtWh: 90, Paid: 220, Net: -220}) {
				t.Errorf("buyer's settlement: got %+v, %v; want 90 Wh bought for 220", rep.Totals, err)
			}
			if rep, err := svc.Settlement(context.Background(), buyer.DID, m.epoch, m.epoch.Add(time.Hour)); err != nil || len(rep.Trades) != 0 {
				t.Errorf("settlement of a period without trades: got %+v, %v; want none", rep, err)
			}
		})
	}
}

// TestAtomicSettlement attacks the atomicity of energy.trade: one reading
// sold at once to 300 funded buyers, and 300 buyers — half of whom cannot
// pay — buying 300 different readings at once. Energy is recorded if and
// only if its payment moved: exactly one buyer gets the first reading and
// pays for it; each funded buyer of the second round gets its reading,
// each unfunded one neither pays nor uses up the reading; and the
// balances always add up to the supply.
func TestAtomicSettlement(t *testing.T) {
	const n = 300
	for _, c := range currencytest.Chains(t, programs()...) {
		t.Run(c.Name, func(t *testing.T) {
			m := newMarket(t, c)
			ctx := context.Background()
			buyers := make([]currencytest.Account, n)
			for i := range buyers {
				buyers[i] = currencytest.NewAccount(t, fmt.Sprint("buyer-", i))
				// Mint to the even buyers only: the odd ones cannot pay.
				if i%2 == 0 {
					c.Must(t, m.treasury, currency.KindMint, currency.Mint{Code: "BCN", To: buyers[i].DID, Amount: 500})
				}
			}
			supply := int64(n / 2 * 500)
			fire := func(ops []registry.SignedOp) []registry.OpStatus {
				out := make([]registry.OpStatus, len(ops))
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i, op := range ops {
					wg.Go(func() {
						<-start
						st, err := c.Submit(op)
						if err != nil {
							st.Reason = err.Error()
						}
						out[i] = st
					})
				}
				close(start)
				wg.Wait()
				return out
			}
			svc := energy.NewService(c.DB, nil)

			// Round 1: one reading, every funded buyer, at once.
			r, h := m.reading(t, m.meter, 0, 60)
			var ops []registry.SignedOp
			var who []int
			for i := 0; i < n; i += 2 {
				ops = append(ops, c.Sign(t, buyers[i], energy.KindTrade, 1, m.trade(t, m.seller, buyers[i], 60, 300, r, h)))
				who = append(who, i)
			}
			winners := 0
			for k, st := range fire(ops) {
				paid := m.balance(t, buyers[who[k]]) == 200
				committed := st.Status == registry.StatusCommitted
				if committed {
					winners++
				}
				if paid != committed {
					t.Errorf("buyer %d: trade %s (%s), balance %d; want a payment if and only if committed", who[k], st.Status, st.Reason, m.balance(t, buyers[who[k]]))
				}
			}
			if winners != 1 || m.balance(t, m.seller) != 300 {
				t.Errorf("got %d buyers of one reading, seller holding %d; want exactly one, and 300", winners, m.balance(t, m.seller))
			}

			// Round 2: every buyer its own reading, at once.
			ops, who = nil, nil
			hashes := make([]string, 0, n)
			for i := range buyers {
				r, h := m.reading(t, m.meter, 1+i, 30)
				nonce := c.Nonce(t, buyers[i]) + 1
				ops = append(ops, c.Sign(t, buyers[i], energy.KindTrade, nonce, m.trade(t, m.seller, buyers[i], 30, 150, r, h)))
				who, hashes = append(who, i), append(hashes, h)
			}
			sold := int64(0)
			for k, st := range fire(ops) {
				i := who[k]
				committed := st.Status == registry.StatusCommitted
				_, recErr := svc.Trade(ctx, ops[k].Hash)
				if committed != (recErr == nil) {
					t.Errorf("buyer %d: trade %s but its record: %v; want a record if and only if committed", i, st.Status, recErr)
				}
				if want := i%2 == 0; committed != want {
					t.Errorf("buyer %d (funded %v): got %s (%s)", i, want, st.Status, st.Reason)
				}
				if !committed && !strings.Contains(st.Reason, "insufficient funds") {
					t.Errorf("buyer %d: rejected for %q; want insufficient funds", i, st.Reason)
				}
				if committed {
					sold += 150
				}
				used, err := c.DB.ProgramGet(ctx, "energy/reading/"+hashes[k])
				if committed != (err == nil) {
					t.Errorf("buyer %d: reading used %s, %v; want used if and only if committed", i, used, err)
				}
			}
			if got := m.balance(t, m.seller); got != 300+sold {
				t.Errorf("seller: got %d; want %d", got, 300+sold)
			}
			var sum int64
			rows, err := c.DB.ProgramScan(ctx, "currency/BCN/balance/", "", 10*n)
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range rows {
				var b int64
				_ = json.Unmarshal(row.Value, &b)
				if b <= 0 {
					t.Errorf("%s holds %d; want a positive balance", row.Key, b)
				}
				sum += b
			}
			if sum != supply {
				t.Errorf("balances add up to %d; want the supply %d", sum, supply)
			}
			rep, err := svc.Settlement(ctx, m.seller.DID, m.epoch, time.Now().Add(time.Hour))
			if err != nil || len(rep.Trades) != 1+n/2 || rep.Totals[0].Received != 300+sold || rep.Totals[0].SoldWh != 60+30*n/2 {
				t.Errorf("seller's settlement: got %d trades, totals %+v, %v; want %d trades receiving %d", len(rep.Trades), rep.Totals, err, 1+n/2, 300+sold)
			}
		})
	}
}
