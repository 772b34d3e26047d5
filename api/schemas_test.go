package api_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/registry"
)

// registerSchema posts a schema registration as the agency with key.
func (e *env) registerSchema(t *testing.T, key, signer, typ, schema string) (*http.Response, []byte) {
	t.Helper()
	body := `{"did":` + quote(signer) + `,"type":` + quote(typ) + `,"schema":` + schema + `}`
	return e.do(t, http.MethodPost, "/schemas", key, body)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// accredit has the governance DID accredit issuer for types.
func (e *env) accredit(t *testing.T, issuer string, types ...string) {
	t.Helper()
	e.chain.commit(t, e.chain.gov, e.chain.govSigner(), registry.KindTrustAccredit,
		registry.TrustAccredit{Issuer: issuer, Types: types})
}

// newDIDOf creates a DID of method and keyType for the agency with key.
func (e *env) newDIDOf(t *testing.T, key, method, keyType string) string {
	t.Helper()
	resp, b := e.do(t, http.MethodPost, "/dids", key, `{"method":"`+method+`","keyType":"`+keyType+`"}`)
	var out struct{ Did string }
	if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create did:%s: %d %s", method, resp.StatusCode, b)
	}
	return out.Did
}

// wantProblem checks that resp is problem+json with status and, when
// field is not empty, that field.
func wantProblem(t *testing.T, resp *http.Response, b []byte, status int, field string) problem {
	t.Helper()
	var p problem
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("got %d %s; want problem+json", resp.StatusCode, b)
	}
	if resp.StatusCode != status || p.Status != status {
		t.Errorf("got %d %s; want %d", resp.StatusCode, b, status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("got Content-Type %q; want application/problem+json", ct)
	}
	if field != "" && p.Field != field {
		t.Errorf("got field %q (%s); want %q", p.Field, p.Detail, field)
	}
	return p
}

const residentSchema = `{"type":"object","required":["name","district"],"properties":{"name":{"type":"string","minLength":1},"district":{"type":"string","enum":["Centre","North","South"]}}}`

// TestRegisterSchemaGovernsIssuance: an agency registers a schema with a
// DID in custody once that DID is accredited; from then on issuing the
// type is checked against the schema and the accreditation.
func TestRegisterSchemaGovernsIssuance(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			signer := e.newDID(t, e.key, "Ed25519")

			resp, b := e.registerSchema(t, e.key, signer, "ResidentCredential", residentSchema)
			p := wantProblem(t, resp, b, http.StatusForbidden, "")
			if !strings.Contains(p.Detail, "accreditation") {
				t.Errorf("got detail %q; want the chain's reason (no accreditation)", p.Detail)
			}

			e.accredit(t, signer, "ResidentCredential")
			resp, b = e.registerSchema(t, e.key, signer, "ResidentCredential", residentSchema)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("register: got %d %s; want 201", resp.StatusCode, b)
			}
			var sc struct {
				Id, Type, Issuer, Operation string
				Height                      int64
			}
			if err := json.Unmarshal(b, &sc); err != nil {
				t.Fatal(err)
			}
			canon, _ := registry.Canonical(json.RawMessage(residentSchema))
			sum := sha256.Sum256(canon)
			if want := hex.EncodeToString(sum[:]); sc.Id != want {
				t.Errorf("got id %s; want the SHA-256 of the canonical schema %s", sc.Id, want)
			}
			if sc.Type != "ResidentCredential" || sc.Issuer != signer || sc.Height < 1 || len(sc.Operation) != 64 {
				t.Errorf("got %+v; want type ResidentCredential, issuer %s, a height and an operation hash", sc, signer)
			}
			if loc := resp.Header.Get("Location"); loc != "/schemas/"+sc.Id {
				t.Errorf("got Location %q; want /schemas/%s", loc, sc.Id)
			}
			op, err := e.chain.engine.Status(t.Context(), sc.Operation)
			if err != nil || op.Status != registry.StatusCommitted || op.Kind != registry.KindSchemaRegister || int64(op.Height) != sc.Height {
				t.Errorf("operation %s: got %+v, %v; want a committed schema.register at height %d", sc.Operation, op, err, sc.Height)
			}
			resp, got := e.do(t, http.MethodGet, "/schemas/"+sc.Id, "", "")
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(got), `"issuer":"`+signer+`"`) {
				t.Errorf("GET /schemas/%s: got %d %s; want 200 with the issuer", sc.Id, resp.StatusCode, got)
			}

			// The type is governed now.
			ldp := e.createIssuer(t, e.key, signer, "ldp_vc", "ResidentCredential")
			b = e.issue(t, e.key, ldp, credentialFor("ldp_vc", "", "ResidentCredential", map[string]any{"name": "Alice", "district": "Nowhere"}), http.StatusUnprocessableEntity)
			if !strings.Contains(string(b), `"field":"/credential/credentialSubject/district"`) {
				t.Errorf("violating subject: got %s; want field /credential/credentialSubject/district", b)
			}
			b = e.issue(t, e.key, ldp, credentialFor("ldp_vc", "", "ResidentCredential", map[string]any{"name": "Alice"}), http.StatusUnprocessableEntity)
			if !strings.Contains(string(b), "district") {
				t.Errorf("subject missing district: got %s; want the missing field named", b)
			}
			e.issue(t, e.key, ldp, credentialFor("ldp_vc", "", "ResidentCredential", map[string]any{"name": "Alice", "district": "North"}), http.StatusCreated)

			// Another agency, not accredited, may not issue the governed type.
			otherDID := e.newDID(t, e.otherKey, "Ed25519")
			other := e.createIssuer(t, e.otherKey, otherDID, "ldp_vc", "ResidentCredential")
			b = e.issue(t, e.otherKey, other, credentialFor("ldp_vc", "", "ResidentCredential", map[string]any{"name": "Bob", "district": "South"}), http.StatusForbidden)
			if !strings.Contains(string(b), "not accredited") {
				t.Errorf("unaccredited agency: got %s; want the reason", b)
			}
		})
	}
}

// TestRegisterSchemaRefusals: every refusal is problem+json naming what
// is wrong, and a refused registration leaves the chain as it was.
func TestRegisterSchemaRefusals(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			signer := e.newDID(t, e.key, "Ed25519")
			e.accredit(t, signer, "ResidentCredential")
			if resp, b := e.registerSchema(t, e.key, signer, "ResidentCredential", residentSchema); resp.StatusCode != http.StatusCreated {
				t.Fatalf("register: got %d %s; want 201", resp.StatusCode, b)
			}
			rotated := e.newDID(t, e.key, "Ed25519")
			e.accredit(t, rotated, "ResidentCredential")
			if resp, b := e.do(t, http.MethodPost, "/dids/"+rotated+"/rotate", e.key, ""); resp.StatusCode != http.StatusCreated {
				t.Fatalf("rotate: got %d %s", resp.StatusCode, b)
			}
			nonce, err := e.chain.db.Nonce(t.Context(), signer)
			if err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name               string
				key, did, typ, sch string
				raw                string // the whole body, when set
				status             int
				field              string
			}{
				{name: "same schema again", key: e.key, did: signer, typ: "ResidentCredential", sch: residentSchema, status: http.StatusConflict},
				{name: "not accredited for the type", key: e.key, did: signer, typ: "LandTitle", sch: `{"type":"object"}`, status: http.StatusForbidden},
				{name: "not a JSON Schema", key: e.key, did: signer, typ: "ResidentCredential", sch: `{"type":12}`, status: http.StatusUnprocessableEntity, field: "/schema"},
				{name: "external reference", key: e.key, did: signer, typ: "ResidentCredential", sch: `{"$ref":"https://example.com/s.json"}`, status: http.StatusUnprocessableEntity, field: "/schema"},
				{name: "another agency's DID", key: e.otherKey, did: signer, typ: "ResidentCredential", sch: `{"type":"object","title":"x"}`, status: http.StatusNotFound},
				{name: "unknown DID", key: e.key, did: "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", typ: "ResidentCredential", sch: `{"type":"object","title":"y"}`, status: http.StatusNotFound},
				{name: "rotated DID", key: e.key, did: rotated, typ: "ResidentCredential", sch: `{"type":"object","title":"z"}`, status: http.StatusConflict, field: "/did"},
				{name: "too large for one operation", key: e.key, did: signer, typ: "ResidentCredential", sch: `{"description":"` + strings.Repeat("x", 60<<10) + `"}`, status: http.StatusRequestEntityTooLarge, field: "/schema"},
				{name: "schema not an object", key: e.key, did: signer, typ: "ResidentCredential", sch: `[1]`, status: http.StatusBadRequest, field: "/schema"},
				{name: "empty type", key: e.key, did: signer, typ: "", sch: `{"type":"object"}`, status: http.StatusBadRequest, field: "/type"},
				{name: "no did", raw: `{"type":"ResidentCredential","schema":{}}`, key: e.key, status: http.StatusBadRequest, field: "/did"},
				{name: "no schema", raw: `{"did":"` + signer + `","type":"ResidentCredential"}`, key: e.key, status: http.StatusBadRequest, field: "/schema"},
				{name: "unknown field", raw: `{"did":"` + signer + `","type":"T","schema":{},"extra":1}`, key: e.key, status: http.StatusBadRequest, field: "/extra"},
				{name: "no API key", key: "", did: signer, typ: "ResidentCredential", sch: `{}`, status: http.StatusUnauthorized},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					var resp *http.Response
					var b []byte
					if tt.raw != "" {
						resp, b = e.do(t, http.MethodPost, "/schemas", tt.key, tt.raw)
					} else {
						resp, b = e.registerSchema(t, tt.key, tt.did, tt.typ, tt.sch)
					}
					wantProblem(t, resp, b, tt.status, tt.field)
				})
			}
			if got, err := e.chain.db.Nonce(t.Context(), signer); err != nil || got != nonce {
				t.Errorf("nonce of %s after the refusals: got %d, %v; want %d (nothing submitted)", signer, got, err, nonce)
			}
		})
	}
}

// TestRegisterSchemaEveryDIDMethod: each kind of DID in custody signs
// schema.register with the key the chain expects.
func TestRegisterSchemaEveryDIDMethod(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			for i, m := range []struct{ method, keyType string }{{"key", "Ed25519"}, {"key", "P-256"}, {"jwk", "Ed25519"}, {"jwk", "P-256"}, {"urbis", "Ed25519"}, {"urbis", "P-256"}} {
				t.Run(m.method+"/"+m.keyType, func(t *testing.T) {
					signer := e.newDIDOf(t, e.key, m.method, m.keyType)
					e.accredit(t, signer, "PermitCredential")
					sch := `{"type":"object","title":"permit ` + string(rune('a'+i)) + `"}`
					resp, b := e.registerSchema(t, e.key, signer, "PermitCredential", sch)
					if resp.StatusCode != http.StatusCreated || !strings.Contains(string(b), `"issuer":"`+signer+`"`) {
						t.Errorf("got %d %s; want 201 issued by %s", resp.StatusCode, b, signer)
					}
				})
			}
		})
	}
}

// schemaExample makes a registerSchema example runnable: its did becomes
// a new DID of the test agency, accredited for the example's type.
func (e *env) schemaExample(t *testing.T, body []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	signer := e.newDID(t, e.key, "Ed25519")
	e.accredit(t, signer, m["type"].(string))
	m["did"] = signer
	b, _ := json.Marshal(m)
	return b
}

// TestRegisterSchemaRacesStatusUpdates: schema registrations and status
// changes signed by the same DID, at once, each take their own nonce.
func TestRegisterSchemaRacesStatusUpdates(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			signer := e.newDID(t, e.key, "Ed25519")
			e.accredit(t, signer, "PermitCredential")
			id := e.createIssuerWith(t, e.key, map[string]any{"did": signer, "format": "ldp_vc",
				"types": []string{"ExampleDegreeCredential"}, "statusPurposes": []string{"revocation"}})
			const n = 6
			var creds []string
			for range n {
				creds = append(creds, e.issueLDP(t, e.key, id)["id"].(string))
			}
			type answer struct {
				what   string
				status int
				body   []byte
			}
			answers := make(chan answer, 2*n)
			for i := range n {
				go func() {
					sch := `{"type":"object","title":"race ` + string(rune('a'+i)) + `"}`
					resp, b := e.registerSchema(t, e.key, signer, "PermitCredential", sch)
					answers <- answer{"register", resp.StatusCode, b}
				}()
				go func() {
					code, b := e.setStatus(t, e.key, creds[i], "revoked")
					answers <- answer{"revoke", code, b}
				}()
			}
			registered := 0
			for range 2 * n {
				a := <-answers
				switch {
				case a.what == "register" && a.status == http.StatusCreated:
					registered++
				case a.what == "register":
					t.Errorf("register: got %d %s; want 201", a.status, a.body)
				case a.status != http.StatusOK:
					t.Errorf("revoke: got %d %s; want 200", a.status, a.body)
				}
			}
			if registered != n {
				t.Errorf("registered %d schemas; want %d", registered, n)
			}
		})
	}
}
