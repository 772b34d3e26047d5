package currency_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/urbis-id/urbis/civic/currency"
	"github.com/urbis-id/urbis/civic/currency/currencytest"
	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/registry"
)

// BenchmarkTransfer measures committed transfers through the solo engine
// over SQLite: 500 accounts, each sending its share of b.N transfers in
// sequence order to the next account, all accounts at once. Signing is
// done before the timer starts.
func BenchmarkTransfer(b *testing.B) {
	const n = 500
	c := currencytest.Start(b, storetest.Open(b)[0], currency.Program{})
	tr := currencytest.NewAccount(b, "treasury")
	c.Accredit(b, tr.DID, currency.IssuerType)
	c.Must(b, tr, currency.KindDefine, currency.Define{Code: "BCN", Name: "Barcelona coin", Decimals: 2})
	accts := make([]currencytest.Account, n)
	for i := range accts {
		accts[i] = currencytest.NewAccount(b, fmt.Sprint("bench-", i))
		c.Must(b, tr, currency.KindMint, currency.Mint{Code: "BCN", To: accts[i].DID, Amount: 1 << 40})
	}
	groups := make([][]registry.SignedOp, n)
	for k := range b.N {
		i := k % n
		groups[i] = append(groups[i], c.Sign(b, accts[i], currency.KindTransfer, uint64(len(groups[i])+1),
			currency.Transfer{Code: "BCN", To: accts[(i+1)%n].DID, Amount: 1}))
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
