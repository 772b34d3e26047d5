package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/urbis-id/urbis/api"
)

type didRecord struct {
	DID                string         `json:"did"`
	Method             string         `json:"method"`
	KeyType            string         `json:"keyType"`
	KeyID              string         `json:"keyId"`
	Status             string         `json:"status"`
	ReplacedBy         string         `json:"replacedBy"`
	VerificationMethod string         `json:"verificationMethod"`
	Document           map[string]any `json:"didDocument"`
}

func TestDIDLifecycle(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			created := map[string]didRecord{}
			for _, c := range []struct{ method, keyType, prefix string }{
				{"key", "Ed25519", "did:key:z6Mk"},
				{"key", "P-256", "did:key:zDn"},
				{"jwk", "Ed25519", "did:jwk:ey"},
				{"jwk", "P-256", "did:jwk:ey"},
			} {
				resp, body := e.do(t, http.MethodPost, "/dids", e.key, `{"method":"`+c.method+`","keyType":"`+c.keyType+`"}`)
				var r didRecord
				_ = json.Unmarshal(body, &r)
				if resp.StatusCode != http.StatusCreated || len(r.DID) < len(c.prefix) || r.DID[:len(c.prefix)] != c.prefix {
					t.Fatalf("create %s %s: got %d %s; want 201 with a DID starting %s", c.method, c.keyType, resp.StatusCode, body, c.prefix)
				}
				if r.Status != "active" || r.KeyType != c.keyType || r.KeyID == "" || r.Document["id"] != r.DID || r.VerificationMethod == "" {
					t.Errorf("got record %+v; want active, %s, a key id, its document and verification method", r, c.keyType)
				}
				created[r.DID] = r

				// Anyone resolves it, without an API key.
				resp, body = e.do(t, http.MethodGet, "/1.0/identifiers/"+r.DID, "", "")
				if resp.StatusCode != http.StatusOK {
					t.Errorf("resolve %s: got %d %s; want 200", r.DID, resp.StatusCode, body)
				}
			}

			// The list holds this agency's DIDs only.
			resp, body := e.do(t, http.MethodGet, "/dids", e.key, "")
			var list struct{ Items []didRecord }
			_ = json.Unmarshal(body, &list)
			if resp.StatusCode != 200 || len(list.Items) != len(created) {
				t.Fatalf("got %d with %d items; want 200 with %d", resp.StatusCode, len(list.Items), len(created))
			}
			for _, it := range list.Items {
				if _, ok := created[it.DID]; !ok {
					t.Errorf("list holds %s, which this agency did not create", it.DID)
				}
			}
			resp, body = e.do(t, http.MethodGet, "/dids", e.otherKey, "")
			_ = json.Unmarshal(body, &list)
			if resp.StatusCode != 200 || len(list.Items) != 0 {
				t.Errorf("other agency: got %d with %d items; want 200 with none", resp.StatusCode, len(list.Items))
			}

			// Rotation: a new DID, the old one marked rotated and still resolvable.
			var old didRecord
			for _, r := range created {
				old = r
				break
			}
			resp, body = e.do(t, http.MethodPost, "/dids/"+old.DID+"/rotate", e.key, "")
			var next didRecord
			_ = json.Unmarshal(body, &next)
			if resp.StatusCode != http.StatusCreated || next.DID == old.DID || next.KeyID == old.KeyID || next.Method != old.Method || next.KeyType != old.KeyType {
				t.Fatalf("rotate: got %d %s; want 201 with a new DID and key of the same method and type", resp.StatusCode, body)
			}
			resp, body = e.do(t, http.MethodGet, "/dids/"+old.DID, e.key, "")
			var after didRecord
			_ = json.Unmarshal(body, &after)
			if resp.StatusCode != 200 || after.Status != "rotated" || after.ReplacedBy != next.DID {
				t.Errorf("old DID after rotation: got %d status %q replacedBy %q; want 200 rotated, replaced by %s", resp.StatusCode, after.Status, after.ReplacedBy, next.DID)
			}
			if resp, body := e.do(t, http.MethodPost, "/dids/"+old.DID+"/rotate", e.key, ""); resp.StatusCode != http.StatusConflict {
				t.Errorf("rotating a rotated DID: got %d %s; want 409", resp.StatusCode, body)
			}
			if resp, _ := e.do(t, http.MethodGet, "/1.0/identifiers/"+old.DID, "", ""); resp.StatusCode != 200 {
				t.Errorf("old DID after rotation resolves with %d; want 200", resp.StatusCode)
			}

			// The agency endpoint names the caller.
			resp, body = e.do(t, http.MethodGet, "/agency", e.key, "")
			var ag struct{ Name string }
			_ = json.Unmarshal(body, &ag)
			if resp.StatusCode != 200 || ag.Name != "Test Agency" {
				t.Errorf("got %d %s; want 200 Test Agency", resp.StatusCode, body)
			}
		})
	}
}
