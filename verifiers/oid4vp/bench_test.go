package oid4vp_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/agency"
	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/vc/sdjwt"
	"github.com/urbis-id/urbis/verifiers"
	"github.com/urbis-id/urbis/verifiers/oid4vp"
)

type didKey struct {
	did, vm string
	key     ed25519.PrivateKey
}

func newDIDKey(tb testing.TB) didKey {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	id, err := did.NewKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	s := id.String()
	return didKey{s, s + "#" + strings.TrimPrefix(s, "did:key:"), priv}
}

// BenchmarkRespond measures the response path on a real SQLite store
// (synchronous=FULL): per op, one wallet answer (an SD-JWT VC with a Key
// Binding JWT) read, verified with every credential check, matched and
// stored once, with 16 wallets answering at once.
//
//	go test ./verifiers/oid4vp -run '^$' -bench Respond -benchtime 2000x
func BenchmarkRespond(b *testing.B) {
	ctx := context.Background()
	db := storetest.Open(b)[0]
	now := time.Now().UTC()
	if err := db.CreateAgency(ctx, agency.Agency{ID: "agy_b", Name: "Bench", CreatedAt: now},
		agency.APIKey{ID: "apk_b", AgencyID: "agy_b", Hash: agency.HashAPIKey("urbis_b"), Prefix: "urbis_", CreatedAt: now}); err != nil {
		b.Fatal(err)
	}
	resolver := did.NewResolver(did.ResolverConfig{}, did.KeyMethod{})
	svc := oid4vp.NewService(oid4vp.Config{Store: db, Resolver: resolver,
		Verifier: verifiers.NewVerifier(resolver, verifiers.NewTrust(db, db), nil), PublicURL: "https://urbis.test"})
	iss, holder, verifier := newDIDKey(b), newDIDKey(b), newDIDKey(b)
	cred, err := sdjwt.Issue(map[string]any{"iss": iss.did, "vct": "ResidentCredential", "sub": holder.did, "iat": now.Unix(), "district": "Mitte", "name": "Alice"},
		sdjwt.DisclosurePolicy{"/district", "/name"}, iss.key, sdjwt.IssueOptions{KeyID: iss.vm, HolderKey: holder.key.Public()})
	if err != nil {
		b.Fatal(err)
	}
	tpl, _ := oid4vp.TemplateByName("residency")
	q, err := tpl.Build(map[string]string{"districts": "Mitte"})
	if err != nil {
		b.Fatal(err)
	}
	type answer struct {
		id string
		r  oid4vp.Response
	}
	answers := make([]answer, b.N)
	for i := range answers {
		r := oid4vp.Request{ID: "vpr_" + rand.Text(), AgencyID: "agy_b", DID: verifier.did, ClientID: oid4vp.ClientIDPrefix + verifier.did,
			Nonce: rand.Text(), State: rand.Text(), Query: q, Object: "-", Status: oid4vp.StatusPending, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := db.CreateVPRequest(ctx, r); err != nil {
			b.Fatal(err)
		}
		p, err := sdjwt.Present(cred, []string{"/district"}, &sdjwt.KeyBinding{Signer: holder.key, Audience: r.ClientID, Nonce: r.Nonce})
		if err != nil {
			b.Fatal(err)
		}
		tok, _ := json.Marshal(map[string]any{"residency_sd_jwt": []any{p}})
		answers[i] = answer{r.ID, oid4vp.Response{VPToken: string(tok), State: r.State}}
	}
	// As many wallets answering at once as HTTP would bring.
	const wallets = 16
	next := make(chan answer)
	var wg sync.WaitGroup
	var failed atomic.Int64
	b.ResetTimer()
	for range wallets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range next {
				if o, err := svc.Respond(ctx, a.id, a.r); err != nil || o.Status != oid4vp.StatusVerified {
					failed.Add(1)
				}
			}
		}()
	}
	for _, a := range answers {
		next <- a
	}
	close(next)
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d answers were not verified", n)
	}
}
