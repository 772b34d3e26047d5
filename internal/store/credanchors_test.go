package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/vc/issuer"
)

func leafHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestCredentialAnchors(t *testing.T) {
	ctx := context.Background()
	for _, db := range storetest.Open(t) {
		t.Run(db.Dialect(), func(t *testing.T) {
			w := newWorld(db)
			a, _, err := w.agencies.Create(ctx, "Civil Registry")
			if err != nil {
				t.Fatal(err)
			}
			b, _, err := w.agencies.Create(ctx, "Land Registry")
			if err != nil {
				t.Fatal(err)
			}
			rec, err := w.agencies.CreateDID(ctx, a.ID, "key", "Ed25519")
			if err != nil {
				t.Fatal(err)
			}
			in := issuer.Instance{ID: "iss_1", AgencyID: a.ID, DID: rec.DID, Format: issuer.FormatJWT, Cryptosuite: "EdDSA",
				Types: []string{"ResidentCredential"}, StatusPurposes: []string{"revocation"}, CreatedAt: clock}
			if err := db.CreateIssuer(ctx, in); err != nil {
				t.Fatal(err)
			}
			l, err := db.OpenList(ctx, "revocation", rec.DID, 131072)
			if err != nil {
				t.Fatal(err)
			}
			leaf := func(i int) issuer.IssuedLeaf {
				id := fmt.Sprint("urn:uuid:", i)
				if i == 2 {
					id = "" // a credential without id
				}
				return issuer.IssuedLeaf{AgencyID: a.ID, IssuerID: in.ID, IssuerDID: rec.DID, CredentialID: id, Leaf: leafHex(fmt.Sprint(i)), CreatedAt: clock}
			}
			status := issuer.StatusRecord{CredentialID: "urn:uuid:0", Purpose: "revocation", ListID: l.ID, Index: 1, AgencyID: a.ID, IssuerID: in.ID, CreatedAt: clock}
			if err := db.AddIssued(ctx, []issuer.StatusRecord{status}, []issuer.IssuedLeaf{leaf(0), leaf(1)}); err != nil {
				t.Fatal(err)
			}
			if err := db.AddIssued(ctx, nil, []issuer.IssuedLeaf{leaf(2), leaf(3), leaf(4)}); err != nil {
				t.Fatal(err)
			}
			// A status conflict writes no leaf either.
			if err := db.AddIssued(ctx, []issuer.StatusRecord{status}, []issuer.IssuedLeaf{leaf(5)}); errkind.KindOf(err) != errkind.Conflict {
				t.Fatalf("AddIssued with an existing status: got %v; want Conflict", err)
			}
			if _, err := db.IssuedByLeaf(ctx, a.ID, leaf(5).Leaf); errkind.KindOf(err) != errkind.NotFound {
				t.Errorf("leaf of the failed AddIssued: got %v; want NotFound (rolled back)", err)
			}
			// Before filing: found, pending, but not yet offered for anchoring.
			if got, err := db.IssuedByCredential(ctx, a.ID, "urn:uuid:1"); err != nil || got.Leaf != leaf(1).Leaf || got.Root != "" {
				t.Errorf("IssuedByCredential before filing = %+v, %v; want leaf 1, pending", got, err)
			}
			if signers, err := db.PendingSigners(ctx); err != nil || len(signers) != 0 {
				t.Errorf("PendingSigners before filing = %+v, %v; want none", signers, err)
			}
			if n, err := db.FileIssued(ctx); err != nil || n != 5 {
				t.Fatalf("FileIssued = %d, %v; want 5", n, err)
			}
			if n, err := db.FileIssued(ctx); err != nil || n != 0 {
				t.Errorf("FileIssued again = %d, %v; want 0", n, err)
			}
			signers, err := db.PendingSigners(ctx)
			if err != nil || len(signers) != 1 || signers[0] != (issuer.AnchorSigner{AgencyID: a.ID, IssuerDID: rec.DID}) {
				t.Fatalf("PendingSigners = %+v, %v; want %s of %s", signers, err, rec.DID, a.ID)
			}
			pending, err := db.PendingLeaves(ctx, signers[0], 3)
			if err != nil || len(pending) != 3 {
				t.Fatalf("PendingLeaves = %+v, %v; want 3", pending, err)
			}
			var seqs []int64
			for i, p := range pending {
				if p.Leaf != leaf(i).Leaf || p.Root != "" || p.CredentialID != leaf(i).CredentialID || !p.CreatedAt.Equal(clock) {
					t.Errorf("pending %d = %+v; want %+v, not anchored", i, p, leaf(i))
				}
				seqs = append(seqs, p.Seq)
			}
			if !slices.IsSorted(seqs) {
				t.Errorf("seqs %v; want ascending", seqs)
			}
			root := leafHex("root")
			if err := db.MarkAnchored(ctx, issuer.AnchorBatch{Root: root, OpHash: leafHex("op"), Seqs: seqs}); err != nil {
				t.Fatal(err)
			}
			if err := db.MarkAnchored(ctx, issuer.AnchorBatch{Root: leafHex("root2"), OpHash: leafHex("op2"), Seqs: seqs[2:]}); errkind.KindOf(err) != errkind.Conflict {
				t.Errorf("MarkAnchored twice: got %v; want Conflict", err)
			}
			got, err := db.IssuedByCredential(ctx, a.ID, "urn:uuid:1")
			if err != nil || got.Root != root || got.Index != 1 || got.Size != 3 || got.OpHash != leafHex("op") {
				t.Errorf("IssuedByCredential = %+v, %v; want index 1 of 3 under %s", got, err, root)
			}
			got, err = db.IssuedByLeaf(ctx, a.ID, leaf(2).Leaf)
			if err != nil || got.Index != 2 || got.CredentialID != "" {
				t.Errorf("IssuedByLeaf = %+v, %v; want index 2, no credential id", got, err)
			}
			if got, err := db.IssuedByLeaf(ctx, a.ID, leaf(3).Leaf); err != nil || got.Root != "" {
				t.Errorf("IssuedByLeaf(3) = %+v, %v; want pending", got, err)
			}
			leaves, err := db.BatchLeaves(ctx, root)
			if want := []string{leaf(0).Leaf, leaf(1).Leaf, leaf(2).Leaf}; err != nil || !slices.Equal(leaves, want) {
				t.Errorf("BatchLeaves = %v, %v; want %v", leaves, err, want)
			}
			if err := db.AddIssued(ctx, nil, []issuer.IssuedLeaf{leaf(6)}); err != nil {
				t.Fatal(err)
			}
			if rest, err := db.PendingLeaves(ctx, signers[0], 10); err != nil || len(rest) != 2 || rest[0].Leaf != leaf(3).Leaf {
				t.Errorf("PendingLeaves after the batch = %+v, %v; want leaves 3 and 4 (6 is not filed)", rest, err)
			}
			if got, err := db.IssuedByLeaf(ctx, a.ID, leaf(6).Leaf); err != nil || got.CredentialID != "urn:uuid:6" {
				t.Errorf("IssuedByLeaf of an unfiled leaf = %+v, %v; want it", got, err)
			}
			for _, q := range []struct{ agency, id string }{{b.ID, "urn:uuid:1"}, {a.ID, "urn:uuid:9"}} {
				if _, err := db.IssuedByCredential(ctx, q.agency, q.id); errkind.KindOf(err) != errkind.NotFound {
					t.Errorf("IssuedByCredential(%s, %s): got %v; want NotFound", q.agency, q.id, err)
				}
			}
			if _, err := db.IssuedByLeaf(ctx, b.ID, leaf(0).Leaf); errkind.KindOf(err) != errkind.NotFound {
				t.Errorf("IssuedByLeaf of another agency: got %v; want NotFound", err)
			}
		})
	}
}
