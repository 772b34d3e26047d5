package energy_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/urbis-id/urbis/civic/currency"
	"github.com/urbis-id/urbis/civic/currency/currencytest"
	"github.com/urbis-id/urbis/civic/energy"
	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/registry"
)

// BenchmarkTrade measures committed energy trades through the solo
// engine over SQLite: 200 buyers each buy their share of b.N readings of
// one meter, in sequence order, all buyers at once. Each trade verifies
// three signatures (the buyer's operation, the meter's reading, the
// seller's consent). Signing is done before the timer starts.
func BenchmarkTrade(b *testing.B) {
	const n = 200
	c := currencytest.Start(b, storetest.Open(b)[0], programs()...)
	tr, op := currencytest.NewAccount(b, "treasury"), currencytest.NewAccount(b, "grid")
	seller, meter := currencytest.NewAccount(b, "seller"), currencytest.NewAccount(b, "meter")
	c.Accredit(b, tr.DID, currency.IssuerType)
	c.Accredit(b, op.DID, energy.OperatorType)
	c.Must(b, tr, currency.KindDefine, currency.Define{Code: "BCN", Name: "Barcelona coin", Decimals: 2})
	c.Must(b, op, energy.KindMeter, energy.Meter{Meter: meter.DID, Prosumer: seller.DID, Zone: "Z1", CapacityW: 5000})
	buyers := make([]currencytest.Account, n)
	for i := range buyers {
		buyers[i] = currencytest.NewAccount(b, fmt.Sprint("buyer-", i))
		c.Must(b, tr, currency.KindMint, currency.Mint{Code: "BCN", To: buyers[i].DID, Amount: 1 << 40})
	}
	epoch := time.Now().UTC().Add(-time.Duration(b.N+60) * time.Minute).Truncate(time.Minute)
	groups := make([][]registry.SignedOp, n)
	for k := range b.N {
		i := k % n
		from := epoch.Add(time.Duration(k) * time.Minute)
		rb, _ := json.Marshal(energy.Reading{Meter: meter.DID, From: from.Format(time.RFC3339), Until: from.Add(time.Minute).Format(time.RFC3339), ExportWh: 50})
		cb, _ := json.Marshal(energy.Consent{Buyer: buyers[i].DID, Currency: "BCN", Wh: 50, Price: 10, Reading: energy.ReadingHash(rb)})
		t := energy.Trade{Seller: seller.DID, Currency: "BCN", Wh: 50, Price: 10, Reading: meter.SignJWS(b, rb), Consent: seller.SignJWS(b, cb)}
		groups[i] = append(groups[i], c.Sign(b, buyers[i], energy.KindTrade, uint64(len(groups[i])+1), t))
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	for _, ops := range groups {
		wg.Go(func() {
			for _, op := range ops {
				if _, err := c.Engine.Submit(b.Context(), op.JWS); err != nil {
					b.Error(err)
					return
				}
			}
			for _, op := range ops {
				if st, err := c.Engine.Wait(b.Context(), op.Hash); err != nil || st.Status != registry.StatusCommitted {
					b.Errorf("got %+v, %v; want committed", st, err)
				}
			}
		})
	}
	wg.Wait()
}
