package store_test

import (
	"fmt"
	"testing"

	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/vc/issuer"
)

// BenchmarkAddIssued is the group commit of 32 issuances: their status
// entries alone (no anchoring), and with their anchoring leaves in the
// same transaction. ns/op is per batch of 32.
func BenchmarkAddIssued(b *testing.B) {
	const batch = 32
	for _, db := range storetest.Open(b) {
		ctx := b.Context()
		w := newWorld(db)
		a, _, err := w.agencies.Create(ctx, "Bench")
		if err != nil {
			b.Fatal(err)
		}
		rec, err := w.agencies.CreateDID(ctx, a.ID, "key", "Ed25519")
		if err != nil {
			b.Fatal(err)
		}
		in := issuer.Instance{ID: "iss_b", AgencyID: a.ID, DID: rec.DID, Format: issuer.FormatJWT, Cryptosuite: "EdDSA",
			Types: []string{"BenchCredential"}, StatusPurposes: []string{"revocation"}, CreatedAt: clock}
		if err := db.CreateIssuer(ctx, in); err != nil {
			b.Fatal(err)
		}
		l, err := db.OpenList(ctx, "revocation", rec.DID, 131072)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		records := func(leaves bool) ([]issuer.StatusRecord, []issuer.IssuedLeaf) {
			var rs []issuer.StatusRecord
			var ls []issuer.IssuedLeaf
			for range batch {
				n++
				id := fmt.Sprintf("urn:uuid:%08x-bench", n*2654435761%(1<<32))
				rs = append(rs, issuer.StatusRecord{CredentialID: id, Purpose: "revocation", ListID: l.ID, Index: n, AgencyID: a.ID, IssuerID: in.ID, CreatedAt: clock})
				if leaves {
					ls = append(ls, issuer.IssuedLeaf{AgencyID: a.ID, IssuerID: in.ID, IssuerDID: rec.DID, CredentialID: id, Leaf: leafHex(id), CreatedAt: clock})
				}
			}
			return rs, ls
		}
		for _, leaves := range []bool{false, true} {
			name := db.Dialect() + "/statuses"
			if leaves {
				name += "+leaves"
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					rs, ls := records(leaves)
					b.StartTimer()
					if err := db.AddIssued(ctx, rs, ls); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
