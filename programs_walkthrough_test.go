package urbis_test

import "testing"

// TestLandWalkthrough runs docs/programs/land.md as a new user would (see
// runPage): a parcel registered, sold with its owners' consents, two
// sales of one title at once of which exactly one wins, a mortgage that
// blocks a sale until released, and the history checked offline.
func TestLandWalkthrough(t *testing.T) {
	runPage(t, "docs/programs/land.md", 10)
}

// TestProvenanceWalkthrough runs docs/programs/provenance.md: a farm's,
// a mill's and a certifier's attestations verify as a chain, and a
// missing parent, an unaccredited attester, a later parent and a revoked
// attestation each fail on the link they break.
func TestProvenanceWalkthrough(t *testing.T) {
	runPage(t, "docs/programs/provenance.md", 9)
}
