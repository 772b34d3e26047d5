package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/verifiers/oid4vp"
)

func TestVPRequests(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a, ka := newAgency("agy_v", clock)
		if err := db.CreateAgency(ctx, a, ka); err != nil {
			t.Fatal(err)
		}
		q := &oid4vp.Query{Credentials: []oid4vp.CredentialQuery{{ID: "pid", Format: oid4vp.FormatSDJWT,
			Meta: oid4vp.Meta{VCTValues: []string{"ResidentCredential"}}, Claims: []oid4vp.ClaimQuery{{Path: []any{"district"}}}}}}
		r := oid4vp.Request{ID: "vpr_1", AgencyID: "agy_v", DID: "did:key:z6Mk", ClientID: "decentralized_identifier:did:key:z6Mk",
			Nonce: "n1", State: "s1", Query: q, Object: "eyJ.x.y", Status: oid4vp.StatusPending,
			CreatedAt: clock, ExpiresAt: clock.Add(5 * time.Minute)}
		if err := db.CreateVPRequest(ctx, r); err != nil {
			t.Fatalf("CreateVPRequest error = %v", err)
		}
		dup := r
		dup.ID = "vpr_2"
		wantKind(t, "CreateVPRequest(same nonce)", db.CreateVPRequest(ctx, dup), errkind.Conflict)

		got, err := db.VPRequest(ctx, "vpr_1")
		if err != nil || got.Nonce != "n1" || got.Status != oid4vp.StatusPending || got.Outcome != nil ||
			len(got.Query.Credentials) != 1 || got.Query.Credentials[0].Claims[0].Path[0] != "district" || !got.ExpiresAt.Equal(r.ExpiresAt) {
			t.Errorf("VPRequest = %+v, %v; want the stored request, pending", got, err)
		}
		_, err = db.VPRequest(ctx, "vpr_nope")
		wantKind(t, "VPRequest(unknown)", err, errkind.NotFound)

		// Concurrent answers: exactly one wins.
		o := oid4vp.Outcome{Status: oid4vp.StatusVerified, Checks: []string{"proof"},
			Claims: map[string][]oid4vp.Presented{"pid": {{Format: "dc+sd-jwt", Claims: []oid4vp.ClaimValue{{Path: []any{"district"}, Value: "Mitte"}}}}}}
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := db.AnswerVPRequests(ctx, []oid4vp.Answer{{ID: "vpr_1", Outcome: o}})
				if err == nil {
					err = res[0]
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case errkind.KindOf(err) != errkind.Conflict:
				t.Errorf("AnswerVPRequest error = %v; want nil or Conflict", err)
			}
		}
		if won != 1 {
			t.Errorf("%d concurrent answers were stored; want exactly 1", won)
		}
		res, err := db.AnswerVPRequests(ctx, []oid4vp.Answer{{ID: "vpr_nope", Outcome: o}, {ID: "vpr_1", Outcome: o}})
		if err != nil || len(res) != 2 {
			t.Fatalf("AnswerVPRequests = %v, %v; want two results", res, err)
		}
		wantKind(t, "AnswerVPRequests(unknown)", res[0], errkind.NotFound)
		wantKind(t, "AnswerVPRequests(answered)", res[1], errkind.Conflict)
		// Two answers to one pending request in one call: the first wins.
		r3 := r
		r3.ID, r3.Nonce, r3.State = "vpr_3", "n3", "s3"
		if err := db.CreateVPRequest(ctx, r3); err != nil {
			t.Fatal(err)
		}
		failed := oid4vp.Outcome{Status: oid4vp.StatusFailed, Checks: []string{}, Errors: []oid4vp.Finding{{Check: "proof", Detail: "x"}}}
		res, err = db.AnswerVPRequests(ctx, []oid4vp.Answer{{ID: "vpr_3", Outcome: failed}, {ID: "vpr_3", Outcome: o}})
		if err != nil || res[0] != nil {
			t.Fatalf("AnswerVPRequests(twice) = %v, %v; want the first stored", res, err)
		}
		wantKind(t, "AnswerVPRequests(second of a call)", res[1], errkind.Conflict)
		if got, _ := db.VPRequest(ctx, "vpr_3"); got.Status != oid4vp.StatusFailed || got.Outcome.Claims != nil || got.Outcome.ClaimsErased {
			t.Errorf("vpr_3 = %+v %+v; want failed without claims", got.Status, got.Outcome)
		}
		got, _ = db.VPRequest(ctx, "vpr_1")
		if got.Status != oid4vp.StatusVerified || got.Outcome == nil || got.Outcome.Claims["pid"][0].Claims[0].Value != "Mitte" {
			t.Errorf("after answer: %+v %+v; want verified with the claim", got.Status, got.Outcome)
		}
		if err := db.SetVPWebhook(ctx, "vpr_1", "failed: 503", false); err != nil {
			t.Fatal(err)
		}
		got, _ = db.VPRequest(ctx, "vpr_1")
		if got.Outcome.Claims == nil || got.Outcome.ClaimsErased || got.Outcome.Webhook != "failed: 503" {
			t.Errorf("after a failed delivery: %+v; want the claims kept and the failure recorded", got.Outcome)
		}
		if err := db.EraseVPClaims(ctx, "vpr_1"); err != nil {
			t.Fatal(err)
		}
		got, _ = db.VPRequest(ctx, "vpr_1")
		if got.Outcome.Claims != nil || !got.Outcome.ClaimsErased || got.Outcome.Webhook != "failed: 503" || got.Outcome.Checks[0] != "proof" {
			t.Errorf("after erasure: %+v; want no claims, the rest kept", got.Outcome)
		}
		wantKind(t, "EraseVPClaims(unknown)", db.EraseVPClaims(ctx, "vpr_nope"), errkind.NotFound)

		n, err := db.PurgeVPRequests(ctx, clock.Add(5*time.Minute))
		if err != nil || n != 0 {
			t.Errorf("PurgeVPRequests(at expiry) = %d, %v; want 0", n, err)
		}
		n, err = db.PurgeVPRequests(ctx, clock.Add(6*time.Minute))
		if err != nil || n != 2 {
			t.Errorf("PurgeVPRequests(after expiry) = %d, %v; want 2", n, err)
		}
		_, err = db.VPRequest(ctx, "vpr_1")
		wantKind(t, "VPRequest(purged)", err, errkind.NotFound)
	})
}
