package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/vc/issuer"
	"github.com/urbis-id/urbis/vc/oid4vci"
)

func TestOID4VCIOffers(t *testing.T) {
	ctx := context.Background()
	for _, db := range storetest.Open(t) {
		t.Run(db.Dialect(), func(t *testing.T) {
			w := newWorld(db)
			a, _, err := w.agencies.Create(ctx, "Civil Registry")
			if err != nil {
				t.Fatal(err)
			}
			rec, err := w.agencies.CreateDID(ctx, a.ID, "key", "Ed25519")
			if err != nil {
				t.Fatal(err)
			}
			in := issuer.Instance{ID: "iss_oid", AgencyID: a.ID, DID: rec.DID, Format: issuer.FormatSDJWT, Cryptosuite: "EdDSA",
				Types: []string{"ResidentCredential"}, StatusPurposes: []string{}, CreatedAt: clock}
			if err := db.CreateIssuer(ctx, in); err != nil {
				t.Fatal(err)
			}
			all, err := db.AllIssuers(ctx)
			if err != nil || len(all) != 1 || all[0].ID != in.ID {
				t.Fatalf("AllIssuers = %+v, %v; want [%s]", all, err, in.ID)
			}
			o := oid4vci.Offer{ID: "offer1", AgencyID: a.ID, IssuerID: in.ID, Format: string(in.Format),
				ConfigurationIDs: []string{"iss_oid:ResidentCredential"}, Claims: map[string]any{"name": "Alice"},
				CodeHash: "code1", TxCodeHash: "tx1", TxCodeLength: 6, ExpiresAt: clock.Add(time.Minute),
				PurgeAt: clock.Add(time.Minute), CreatedAt: clock, Issued: []string{}}
			if err := db.CreateOffer(ctx, o); err != nil {
				t.Fatal(err)
			}
			got, err := db.OfferByCode(ctx, "code1")
			if err != nil || got.Claims["name"] != "Alice" || got.TxCodeLength != 6 || got.Redeemed || !got.ExpiresAt.Equal(o.ExpiresAt) {
				t.Fatalf("OfferByCode = %+v, %v; want the offer", got, err)
			}
			if _, err := db.OfferByToken(ctx, "nope"); errkind.KindOf(err) != errkind.NotFound {
				t.Errorf("OfferByToken(unknown): got %v; want NotFound", err)
			}
			if n, err := db.FailTxCode(ctx, o.ID, 5); err != nil || n != 1 {
				t.Errorf("FailTxCode = %d, %v; want 1", n, err)
			}
			// Ten concurrent redemptions: exactly one wins.
			var wins atomic.Int32
			var wg sync.WaitGroup
			for range 10 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := db.Redeem(ctx, o.ID, "tok1", clock.Add(2*time.Minute), clock.Add(2*time.Minute), 5)
					if err != nil {
						t.Error(err)
					}
					if ok {
						wins.Add(1)
					}
				}()
			}
			wg.Wait()
			if wins.Load() != 1 {
				t.Errorf("concurrent Redeem: %d succeeded; want 1", wins.Load())
			}
			got, err = db.OfferByToken(ctx, "tok1")
			if err != nil || !got.Redeemed || !got.TokenExpiresAt.Equal(clock.Add(2*time.Minute)) {
				t.Fatalf("OfferByToken = %+v, %v; want the redeemed offer", got, err)
			}
			if n, err := db.FailTxCode(ctx, o.ID, 5); err != nil || n != 5 {
				t.Errorf("FailTxCode after redemption = %d, %v; want 5 (dead)", n, err)
			}
			if ok, err := db.MarkIssued(ctx, o.ID, []string{"x"}, []string{"x", "y"}, false); err != nil || ok {
				t.Errorf("MarkIssued with a stale issued list = %v, %v; want false", ok, err)
			}
			if ok, err := db.MarkIssued(ctx, o.ID, nil, o.ConfigurationIDs, true); err != nil || !ok {
				t.Errorf("MarkIssued = %v, %v; want true", ok, err)
			}
			got, _ = db.Offer(ctx, o.ID)
			if got.Claims != nil || len(got.Issued) != 1 {
				t.Errorf("after the last issuance: claims %v, issued %v; want nil claims, one issued", got.Claims, got.Issued)
			}
			for i, want := range []bool{true, false} {
				if ok, err := db.UseNonce(ctx, "n1", clock.Add(time.Minute)); err != nil || ok != want {
					t.Errorf("UseNonce #%d = %v, %v; want %v", i+1, ok, err, want)
				}
			}
			if err := db.Sweep(ctx, clock.Add(3*time.Minute)); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Offer(ctx, o.ID); errkind.KindOf(err) != errkind.NotFound {
				t.Errorf("Offer after the sweep: got %v; want NotFound", err)
			}
			if ok, err := db.UseNonce(ctx, "n1", clock.Add(time.Hour)); err != nil || !ok {
				t.Errorf("UseNonce after the sweep = %v, %v; want true (the expired row was deleted)", ok, err)
			}
		})
	}
}

func TestOID4VCIApply(t *testing.T) {
	ctx := context.Background()
	for _, db := range storetest.Open(t) {
		t.Run(db.Dialect(), func(t *testing.T) {
			w := newWorld(db)
			a, _, err := w.agencies.Create(ctx, "Civil Registry")
			if err != nil {
				t.Fatal(err)
			}
			rec, err := w.agencies.CreateDID(ctx, a.ID, "key", "Ed25519")
			if err != nil {
				t.Fatal(err)
			}
			in := issuer.Instance{ID: "iss_apply", AgencyID: a.ID, DID: rec.DID, Format: issuer.FormatSDJWT, Cryptosuite: "EdDSA",
				Types: []string{"ResidentCredential"}, StatusPurposes: []string{}, CreatedAt: clock}
			if err := db.CreateIssuer(ctx, in); err != nil {
				t.Fatal(err)
			}
			offer := func(id string) oid4vci.Offer {
				return oid4vci.Offer{ID: id, AgencyID: a.ID, IssuerID: in.ID, Format: string(in.Format),
					ConfigurationIDs: []string{"iss_apply:ResidentCredential"}, Claims: map[string]any{"name": "Alice"},
					CodeHash: "code-" + id, ExpiresAt: clock.Add(time.Minute), PurgeAt: clock.Add(time.Minute), CreatedAt: clock, Issued: []string{}}
			}
			redeem := func(id, tok string) oid4vci.Write {
				return oid4vci.Write{Kind: oid4vci.WriteRedeem, ID: id, TokenHash: tok, TokenExpires: clock.Add(time.Minute), PurgeAt: clock.Add(time.Minute), Max: 5}
			}
			nonce := func(h string) oid4vci.Write {
				return oid4vci.Write{Kind: oid4vci.WriteUseNonce, NonceHash: h, NonceExpires: clock.Add(time.Minute)}
			}
			mark := func(id string) oid4vci.Write {
				return oid4vci.Write{Kind: oid4vci.WriteMarkIssued, ID: id, Old: []string{}, New: []string{"iss_apply:ResidentCredential"}, ClearClaims: true}
			}
			res, err := db.Apply(ctx, [][]oid4vci.Write{
				{{Kind: oid4vci.WriteCreateOffer, Offer: offer("a1")}},
				{{Kind: oid4vci.WriteCreateOffer, Offer: offer("a2")}},
				{redeem("a1", "t1")},
				{redeem("a1", "t2")},                   // the code was redeemed by the group before
				{nonce("n1"), mark("a1")},              // applies
				{nonce("n2"), nonce("n1"), mark("a2")}, // n1 is spent: n2 and the mark roll back
				{nonce("n2")},                          // n2 was rolled back above, so it is unspent
			})
			if err != nil {
				t.Fatal(err)
			}
			want := []int{-1, -1, -1, 0, -1, 1, -1}
			if len(res) != len(want) {
				t.Fatalf("Apply returned %d results; want %d", len(res), len(want))
			}
			for i, r := range res {
				if r.Failed != want[i] {
					t.Errorf("group %d: got Failed %d; want %d", i, r.Failed, want[i])
				}
			}
			if got, err := db.OfferByToken(ctx, "t1"); err != nil || got.ID != "a1" || len(got.Issued) != 1 || got.Claims != nil {
				t.Errorf("OfferByToken(t1) = %+v, %v; want a1, issued, claims deleted", got, err)
			}
			if got, err := db.Offer(ctx, "a2"); err != nil || len(got.Issued) != 0 || got.Claims["name"] != "Alice" {
				t.Errorf("Offer(a2) = %+v, %v; want it unissued with its claims (its group rolled back)", got, err)
			}
			for h, want := range map[string]bool{"n1": false, "n2": false} {
				if ok, err := db.UseNonce(ctx, h, clock.Add(time.Minute)); err != nil || ok != want {
					t.Errorf("UseNonce(%s) = %v, %v; want %v (spent by Apply)", h, ok, err, want)
				}
			}
			// A write that fails fails the call: nothing of it is committed.
			if _, err := db.Apply(ctx, [][]oid4vci.Write{{nonce("n3")}, {{Kind: oid4vci.WriteCreateOffer, Offer: offer("a1")}}}); err == nil {
				t.Errorf("Apply with a duplicate offer id: got no error; want one")
			}
			if ok, err := db.UseNonce(ctx, "n3", clock.Add(time.Minute)); err != nil || !ok {
				t.Errorf("UseNonce(n3) after the failed call = %v, %v; want true (not committed)", ok, err)
			}
		})
	}
}
