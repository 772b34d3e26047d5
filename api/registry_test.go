package api_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/registry"
)

type opStatus struct {
	Hash   string `json:"hash"`
	Status string `json:"status"`
	Height int64  `json:"height"`
	Reason string `json:"reason"`
	DID    string `json:"did"`
}

// signedCreate returns a wallet key and the body of its did.create.
func signedCreate(t *testing.T, chain string) (string, string, ed25519.PrivateKey, []byte) {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	id, payload, err := registry.NewDIDCreate(oneKeySpec(t, pub))
	if err != nil {
		t.Fatal(err)
	}
	op, err := registry.NewOperation(chain, registry.KindDIDCreate, id+"#key-1", 1, payload)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := registry.Sign(op, priv)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{"operation": signed.JWS})
	return id, signed.Hash, priv, b
}

// TestRegistryOperationLifecycle submits a wallet's did.create, follows it
// to its block, and checks its inclusion proof offline.
func TestRegistryOperationLifecycle(t *testing.T) {
	_, router := contract(t)
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			id, hash, _, body := signedCreate(t, e.chain.genesis.ChainID)
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/registry/operations?wait=true", nil)
			req.Header.Set("Content-Type", "application/json")
			code, got := exchange(t, e, router, req, body, true)
			var st opStatus
			_ = json.Unmarshal(got, &st)
			if code != http.StatusCreated || st.Status != "committed" || st.Hash != hash || st.DID != id || st.Height < 1 {
				t.Fatalf("submit: got %d %s; want 201 committed with hash %s and did %s", code, got, hash, id)
			}

			// The same operation again is a replay.
			req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/registry/operations?wait=true", nil)
			req.Header.Set("Content-Type", "application/json")
			if code, got := exchange(t, e, router, req, body, true); code < 400 || code >= 500 {
				t.Errorf("replay: got %d %s; want a 4xx", code, got)
			}

			resp, got := e.do(t, http.MethodGet, "/registry/operations/"+hash, "", "")
			_ = json.Unmarshal(got, &st)
			if resp.StatusCode != 200 || st.Status != "committed" {
				t.Errorf("status: got %d %s; want 200 committed", resp.StatusCode, got)
			}

			resp, got = e.do(t, http.MethodGet, "/registry/operations/"+hash+"/proof", "", "")
			var proof registry.Proof
			if err := json.Unmarshal(got, &proof); err != nil || resp.StatusCode != 200 {
				t.Fatalf("proof: got %d %s", resp.StatusCode, got)
			}
			if err := registry.CheckProof(proof, e.chain.genesis); err != nil {
				t.Errorf("CheckProof of the served proof: %v; want nil", err)
			}
			proof.Header.StateRoot = strings.Repeat("0", 64)
			if err := registry.CheckProof(proof, e.chain.genesis); err == nil {
				t.Error("CheckProof of a proof with an edited header: got nil; want an error")
			}

			resp, got = e.do(t, http.MethodGet, "/registry/head", "", "")
			var head struct {
				Height int64
				Hash   string
			}
			_ = json.Unmarshal(got, &head)
			if resp.StatusCode != 200 || head.Height < st.Height || len(head.Hash) != 64 {
				t.Errorf("head: got %d %s; want height >= %d with a hash", resp.StatusCode, got, st.Height)
			}
			resp, got = e.do(t, http.MethodGet, "/registry/blocks?limit=2", "", "")
			var list struct {
				Height int64
				Items  []struct {
					Hash   string
					Header struct{ Height int64 }
				}
			}
			if err := json.Unmarshal(got, &list); err != nil || resp.StatusCode != 200 || list.Height != head.Height ||
				len(list.Items) == 0 || len(list.Items) > 2 || list.Items[0].Hash != head.Hash || list.Items[0].Header.Height != head.Height {
				t.Errorf("block list: got %d %s; want the head's header first, at most 2", resp.StatusCode, got)
			}
			resp, got = e.do(t, http.MethodGet, "/registry/blocks?limit=1&before="+jsonNumber(head.Height), "", "")
			list.Items = nil
			if err := json.Unmarshal(got, &list); err != nil || resp.StatusCode != 200 || head.Height > 1 &&
				(len(list.Items) != 1 || list.Items[0].Header.Height != head.Height-1) {
				t.Errorf("block list before %d: got %d %s; want the block below it", head.Height, resp.StatusCode, got)
			}
			resp, got = e.do(t, http.MethodGet, "/registry/blocks/"+jsonNumber(st.Height), "", "")
			if resp.StatusCode != 200 || !strings.Contains(string(got), hash[:16]) && !strings.Contains(string(got), `"operations":["ey`) {
				t.Errorf("block: got %d %s; want the block with the operation", resp.StatusCode, got)
			}

			// The DID resolves from chain state.
			resp, got = e.do(t, http.MethodGet, "/1.0/identifiers/"+id, "", "")
			if resp.StatusCode != 200 || !strings.Contains(string(got), id+"#key-1") {
				t.Errorf("resolve %s: got %d %s; want its document", id, resp.StatusCode, got)
			}
		})
	}
}

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestRegistryBadSubmissions checks that malformed and unauthorised
// operations get a 4xx problem with a reason, never a 500.
func TestRegistryBadSubmissions(t *testing.T) {
	_, router := contract(t)
	e := newEnvs(t, api.Config{MaxBodyBytes: 64 << 10})[0]
	chain := e.chain.genesis.ChainID
	_, _, _, good := signedCreate(t, chain)
	var goodReq map[string]string
	_ = json.Unmarshal(good, &goodReq)
	parts := strings.Split(goodReq["operation"], ".")

	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	id, payload, _ := registry.NewDIDCreate(oneKeySpec(t, pub))
	sign := func(op registry.Operation, k ed25519.PrivateKey) string {
		s, err := registry.Sign(op, k)
		if err != nil {
			t.Fatal(err)
		}
		return s.JWS
	}
	opFor := func(chain string, kind registry.Kind, signer string, nonce uint64, payload any) registry.Operation {
		op, err := registry.NewOperation(chain, kind, signer, nonce, payload)
		if err != nil {
			t.Fatal(err)
		}
		return op
	}
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	w := newTestWallet(t, e.chain)

	tests := []struct {
		name string
		body string
	}{
		{"not JSON", `{"operation":`},
		{"no operation", `{}`},
		{"unknown field", `{"operation":"a.b.c","extra":1}`},
		{"not a JWS", `{"operation":"hello"}`},
		{"bad base64", `{"operation":"!!.??.**"}`},
		{"tampered payload", `{"operation":"` + parts[0] + "." + parts[1] + "x." + parts[2] + `"}`},
		{"wrong signature", `{"operation":"` + sign(opFor(chain, registry.KindDIDCreate, id+"#key-1", 1, payload), otherKey) + `"}`},
		{"other chain", `{"operation":"` + sign(opFor("elsewhere", registry.KindDIDCreate, id+"#key-1", 1, payload), priv) + `"}`},
		{"unknown DID signer", `{"operation":"` + sign(opFor(chain, registry.KindDIDUpdate, "did:urbis:zNoSuchDID#key-1", 1,
			registry.DIDUpdate{DID: "did:urbis:zNoSuchDID", PreviousVersion: 1, Document: oneKeySpec(t, pub)}), priv) + `"}`},
		{"replayed nonce", `{"operation":"` + sign(opFor(chain, registry.KindDIDUpdate, w.signer(), 1,
			registry.DIDUpdate{DID: w.did, PreviousVersion: 1, Document: oneKeySpec(t, w.key.Public().(ed25519.PublicKey))}), w.key) + `"}`},
		{"not governance", `{"operation":"` + sign(opFor(chain, registry.KindTrustAccredit, w.signer(), 2,
			registry.TrustAccredit{Issuer: w.did, Types: []string{"LandTitle"}}), w.key) + `"}`},
		{"oversize", `{"operation":"` + strings.Repeat("a", 70<<10) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/registry/operations?wait=true", nil)
			req.Header.Set("Content-Type", "application/json")
			code, got := exchange(t, e, router, req, []byte(tt.body), false)
			var p problem
			_ = json.Unmarshal(got, &p)
			if code < 400 || code >= 500 || p.Detail == "" {
				t.Errorf("got %d %s; want a 4xx problem with a reason", code, got)
			}
		})
	}
	for _, path := range []string{"/registry/operations/xyz", "/registry/blocks/0", "/registry/blocks/999999",
		"/registry/blocks?limit=0", "/registry/blocks?limit=101", "/registry/blocks?before=0", "/registry/blocks?limit=x", "/schemas/nothex", "/trust/issuers/not-a-did",
		"/registry/operations/" + strings.Repeat("0", 64)} {
		resp, got := e.do(t, http.MethodGet, path, "", "")
		if resp.StatusCode < 400 || resp.StatusCode >= 500 || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s: got %d %s; want a 4xx problem", path, resp.StatusCode, got)
		}
	}
}

// TestDIDURBISThroughAgency creates a did:urbis through POST /dids, rotates
// its key, and resolves the old and new versions.
func TestDIDURBISThroughAgency(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			resp, body := e.do(t, http.MethodPost, "/dids", e.key, `{"method":"urbis","keyType":"Ed25519"}`)
			var rec didRecord
			_ = json.Unmarshal(body, &rec)
			if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(rec.DID, "did:urbis:") {
				t.Fatalf("create: got %d %s; want 201 with a did:urbis", resp.StatusCode, body)
			}
			time.Sleep(20 * time.Millisecond) // the next version gets a later block time
			between := time.Now().UTC().Format(time.RFC3339Nano)
			time.Sleep(20 * time.Millisecond)
			resp, body = e.do(t, http.MethodPost, "/dids/"+rec.DID+"/rotate", e.key, "")
			var next didRecord
			_ = json.Unmarshal(body, &next)
			if resp.StatusCode != http.StatusCreated || next.DID != rec.DID || next.KeyID == rec.KeyID || next.Status != "active" {
				t.Fatalf("rotate: got %d %s; want 201, the same DID on a new key", resp.StatusCode, body)
			}
			for _, c := range []struct {
				query   string
				wantKey string
				version string
			}{
				{"", next.KeyID, "2"},
				{"?versionId=1", rec.KeyID, "1"},
				{"?versionTime=" + url.QueryEscape(between), rec.KeyID, "1"},
			} {
				resp, body := e.do(t, http.MethodGet, "/1.0/identifiers/"+rec.DID+c.query, "", "")
				var r resolution
				_ = json.Unmarshal(body, &r)
				if resp.StatusCode != 200 || !strings.Contains(string(body), "#"+c.wantKey) || r.DocumentMetadata["versionId"] != c.version {
					t.Errorf("resolve%s: got %d %s; want version %s with key %s", c.query, resp.StatusCode, body, c.version, c.wantKey)
				}
			}
		})
	}
}

// TestTrustRegistry accredits a wallet, suspends the accreditation, and
// reads the history back.
func TestTrustRegistry(t *testing.T) {
	e := newEnvs(t, api.Config{})[0]
	w := newTestWallet(t, e.chain)
	st := e.chain.commit(t, e.chain.gov, e.chain.govSigner(), registry.KindTrustAccredit,
		registry.TrustAccredit{Issuer: w.did, Types: []string{"LandTitle"}, Districts: []string{"Eixample"}})
	e.chain.commit(t, e.chain.gov, e.chain.govSigner(), registry.KindTrustSuspend, registry.TrustChange{Accreditation: st.Hash, Reason: "audit"})
	resp, body := e.do(t, http.MethodGet, "/trust/issuers/"+w.did, "", "")
	var out struct {
		Accreditations []struct {
			ID      string
			Status  string
			Types   []string
			History []struct{ Kind, Reason string }
		}
	}
	_ = json.Unmarshal(body, &out)
	if resp.StatusCode != 200 || len(out.Accreditations) != 1 {
		t.Fatalf("got %d %s; want one accreditation", resp.StatusCode, body)
	}
	a := out.Accreditations[0]
	if a.ID != st.Hash || a.Status != "suspended" || len(a.History) != 2 || a.History[1].Kind != "trust.suspend" || a.History[1].Reason != "audit" {
		t.Errorf("got %+v; want suspended with the accredit and the suspension in its history", a)
	}
}
