package api_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

// offerRow is the stored id of the offer an answer to POST /oid4vci/offers names.
func offerRow(out map[string]any) string {
	sum := sha256.Sum256([]byte(out["id"].(string)))
	return hex.EncodeToString(sum[:])
}

// TestOID4VCIPersonalData checks that an offer's claims are deleted once
// issued, and that an expired offer is swept with its claims.
func TestOID4VCIPersonalData(t *testing.T) {
	e := newEnvs(t, api.Config{})[0]
	ctx := context.Background()
	id := e.createIssuer(t, e.key, e.newDID(t, e.key, "Ed25519"), "dc+sd-jwt", "ExampleDegreeCredential")
	issued := e.mustOffer(t, map[string]any{"issuerId": id, "credentialSubject": map[string]any{"name": "Alice"}})
	stale := e.mustOffer(t, map[string]any{"issuerId": id, "credentialSubject": map[string]any{"name": "Bob"}})
	if o, err := e.db.Offer(ctx, offerRow(stale)); err != nil || o.Claims["name"] != "Bob" {
		t.Fatalf("stored offer = %+v, %v; want Bob's claims", o, err)
	}

	w := newOIDWallet(t, e)
	code, _ := w.fetchOffer(t, issued["offerUri"].(string))
	tok := w.accessToken(t, code, "")
	r := w.credential(t, tok, map[string]any{"credential_configuration_id": id + ":ExampleDegreeCredential",
		"proofs": map[string]any{"jwt": []string{w.proof(t, proofOpts{nonce: w.nonce(t)})}}})
	if r.status != 200 {
		t.Fatalf("credential: got %d %s", r.status, r.raw)
	}
	if o, err := e.db.Offer(ctx, offerRow(issued)); err != nil || o.Claims != nil {
		t.Errorf("offer after issuance = claims %v, %v; want no claims", o.Claims, err)
	}

	// Past its expiry the offer is gone for the wallet, and the next
	// offer's sweep deletes it.
	e.oidClock.advance(6 * time.Minute)
	defer e.oidClock.advance(-6 * time.Minute)
	if resp, _ := e.do(t, http.MethodGet, strings.TrimPrefix(stale["credentialOfferUri"].(string), testPublicURL), "", ""); resp.StatusCode != 404 {
		t.Errorf("expired offer: got %d; want 404", resp.StatusCode)
	}
	e.mustOffer(t, map[string]any{"issuerId": id, "credentialSubject": map[string]any{"name": "Carol"}})
	for _, o := range []map[string]any{stale, issued} {
		if _, err := e.db.Offer(ctx, offerRow(o)); errkind.KindOf(err) != errkind.NotFound {
			t.Errorf("expired offer after the sweep: got %v; want NotFound", err)
		}
	}
}

// TestOID4VCIES256JWK binds a jwt_vc_json credential to the did:jwk of a
// P-256 key sent in the proof's jwk header.
func TestOID4VCIES256JWK(t *testing.T) {
	e := newEnvs(t, api.Config{})[0]
	id := e.createIssuer(t, e.key, e.newDID(t, e.key, "P-256"), "jwt_vc_json", "ExampleDegreeCredential")
	out := e.mustOffer(t, map[string]any{"issuerId": id, "credentialSubject": map[string]any{"name": "Alice"}})
	w := newOIDWallet(t, e)
	code, _ := w.fetchOffer(t, out["offerUri"].(string))
	tok := w.accessToken(t, code, "")

	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k, _ := jwk.FromRaw(&priv.PublicKey)
	h := jws.NewHeaders()
	h.Set(jws.TypeKey, "openid4vci-proof+jwt")
	h.Set(jws.JWKKey, k)
	payload, _ := json.Marshal(map[string]any{"aud": testPublicURL, "iat": time.Now().Unix(), "nonce": w.nonce(t)})
	proof, err := jws.Sign(payload, jws.WithKey(jwa.ES256, priv, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	r := w.credential(t, tok, map[string]any{"credential_configuration_id": id + ":ExampleDegreeCredential",
		"proofs": map[string]any{"jwt": []string{string(proof)}}})
	creds, _ := r.body["credentials"].([]any)
	if r.status != 200 || len(creds) != 1 {
		t.Fatalf("credential: got %d %s; want one credential", r.status, r.raw)
	}
	want, _ := did.NewJWK(&priv.PublicKey)
	cred := creds[0].(map[string]any)["credential"].(string)
	if got := jwtSubject(t, cred); got != want.String() {
		t.Errorf("credentialSubject.id %q; want the did:jwk of the proof's key %s", got, want)
	}
	if st, res := e.verify(t, envelope("application/jwt", cred)); st != 200 || !res.Verified {
		t.Errorf("verify: got %d %+v; want verified", st, res)
	}
}
