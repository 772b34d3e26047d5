package oid4vp_test

import (
	"context"
	"crypto"
	"encoding/json"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/agency"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/vc/sdjwt"
	"github.com/urbis-id/urbis/verifiers"
	"github.com/urbis-id/urbis/verifiers/oid4vp"
)

// countingStore counts the reads of requests by id of the real store.
type countingStore struct {
	oid4vp.Store
	reads atomic.Int64
}

func (c *countingStore) VPRequest(ctx context.Context, id string) (oid4vp.Request, error) {
	c.reads.Add(1)
	return c.Store.VPRequest(ctx, id)
}

// oneDID is the agency's DID records: the verifier's did:key only.
type oneDID struct{ id string }

func (o oneDID) DID(_ context.Context, agencyID, id string) (agency.DIDRecord, error) {
	if id != o.id {
		return agency.DIDRecord{}, errkind.New(errkind.NotFound, "no DID %s", id)
	}
	return agency.DIDRecord{DID: id, AgencyID: agencyID, KeyID: "k1", Status: agency.StatusActive}, nil
}

// TestPendingCache: two Services share one database, as two processes
// would. The one that created a request serves its object and reads it
// for the answer from memory; an answer taken by the other is still
// refused by the first ("already answered"), which then forgets the
// request, so its object is gone.
func TestPendingCache(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)[0]
	now := time.Now().UTC()
	if err := db.CreateAgency(ctx, agency.Agency{ID: "agy_c", Name: "Cache", CreatedAt: now},
		agency.APIKey{ID: "apk_c", AgencyID: "agy_c", Hash: agency.HashAPIKey("urbis_c"), Prefix: "urbis_", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	resolver := did.NewResolver(did.ResolverConfig{}, did.KeyMethod{})
	iss, holder, verifier := newDIDKey(t), newDIDKey(t), newDIDKey(t)
	service := func(st oid4vp.Store) *oid4vp.Service {
		return oid4vp.NewService(oid4vp.Config{Store: st, Resolver: resolver, DIDs: oneDID{verifier.did},
			Keys:     oid4vp.KeysFunc(func(context.Context, string, string) (crypto.Signer, error) { return verifier.key, nil }),
			Verifier: verifiers.NewVerifier(resolver, verifiers.NewTrust(db, db), nil), PublicURL: "https://urbis.test"})
	}
	storeA := &countingStore{Store: db}
	a, b := service(storeA), service(db)
	cred, err := sdjwt.Issue(map[string]any{"iss": iss.did, "vct": "ResidentCredential", "iat": now.Unix(), "district": "Mitte"},
		sdjwt.DisclosurePolicy{"/district"}, iss.key, sdjwt.IssueOptions{KeyID: iss.vm, HolderKey: holder.key.Public()})
	if err != nil {
		t.Fatal(err)
	}
	answer := func(c *oid4vp.Created) oid4vp.Response {
		p, err := sdjwt.Present(cred, []string{"/district"}, &sdjwt.KeyBinding{Signer: holder.key, Audience: c.Request.ClientID, Nonce: c.Request.Nonce})
		if err != nil {
			t.Fatal(err)
		}
		tok, _ := json.Marshal(map[string]any{"residency_sd_jwt": []any{p}})
		return oid4vp.Response{VPToken: string(tok), State: c.Request.State}
	}
	create := func() *oid4vp.Created {
		c, err := a.Create(ctx, "agy_c", oid4vp.CreateRequest{DID: verifier.did, Template: "residency"})
		if err != nil {
			t.Fatal(err)
		}
		if u, _ := url.Parse(c.URI); !strings.HasSuffix(u.Query().Get("request_uri"), c.Request.ID+"/object") {
			t.Fatalf("uri %s", c.URI)
		}
		return c
	}

	// Answered through the Service that created it: no read by id.
	c := create()
	if _, err := a.Object(ctx, c.Request.ID); err != nil {
		t.Fatal(err)
	}
	if o, err := a.Respond(ctx, c.Request.ID, answer(c)); err != nil || o.Status != oid4vp.StatusVerified {
		t.Fatalf("Respond = %+v, %v; want verified", o, err)
	}
	if n := storeA.reads.Load(); n != 0 {
		t.Errorf("object and answer read the request %d times from the store; want 0 (it is cached)", n)
	}
	if _, err := a.Object(ctx, c.Request.ID); errkind.KindOf(err) != errkind.Gone {
		t.Errorf("Object after the answer = %v; want Gone", err)
	}
	if _, err := a.Respond(ctx, c.Request.ID, answer(c)); errkind.KindOf(err) != errkind.Conflict {
		t.Errorf("a second answer = %v; want Conflict", err)
	}

	// Answered through the other Service: the first still refuses a
	// second answer, though it held the request as pending.
	c = create()
	if o, err := b.Respond(ctx, c.Request.ID, answer(c)); err != nil || o.Status != oid4vp.StatusVerified {
		t.Fatalf("Respond through the other service = %+v, %v; want verified", o, err)
	}
	if _, err := a.Respond(ctx, c.Request.ID, answer(c)); errkind.KindOf(err) != errkind.Conflict || !strings.Contains(err.Error(), "already answered") {
		t.Errorf("a second answer through the creating service = %v; want Conflict, already answered", err)
	}
	if _, err := a.Object(ctx, c.Request.ID); errkind.KindOf(err) != errkind.Gone {
		t.Errorf("Object after that = %v; want Gone (the request is forgotten)", err)
	}
	if r, err := a.Result(ctx, "agy_c", c.Request.ID); err != nil || r.Status != oid4vp.StatusVerified {
		t.Errorf("Result = %+v, %v; want verified", r.Status, err)
	}
}
