package urbis_test

import "testing"

// TestCurrencyWalkthrough runs docs/programs/currency.md (see runPage):
// a treasury defines and mints BCN, Alice pays Bob with her wallet's key,
// an overspend and a replay are refused, Bob burns and gets a balance
// credential that verifies.
func TestCurrencyWalkthrough(t *testing.T) {
	runPage(t, "docs/programs/currency.md", 8)
}

// TestEnergyWalkthrough runs docs/programs/energy.md (see runPage): a grid
// operator registers a prosumer's meter, the meter signs a reading, the
// seller consents, the buyer's trade settles energy and payment at once,
// and the trades that must fail change nothing.
func TestEnergyWalkthrough(t *testing.T) {
	runPage(t, "docs/programs/energy.md", 7)
}
