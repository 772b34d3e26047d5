package api_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/registry"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/ld"
)

// credFixture is the test agency's issuer instances for the credential
// examples of openapi.yaml, and credentials issued with them.
type credFixture struct {
	issuerDID string            // the DID of the three instances
	createDID string            // a DID with no instance, for createIssuer
	ldpID     string            // the ldp_vc instance
	verify    map[string][]byte // verifyCredential bodies by example name
	statusIDs map[string]string // credential ids by updateCredentialStatus example name
	listID    string            // a status list of the fixture's credentials
	present   []byte            // the verifyPresentation body: a real presentation
	bbs       *bbsFix           // the BBS+ examples' DIDs and credentials
	anchored  string            // the id of an anchored credential
}

func credentialFixture(t *testing.T, e *env) *credFixture {
	t.Helper()
	f := &credFixture{issuerDID: e.newDID(t, e.key, "Ed25519"), createDID: e.newDID(t, e.key, "Ed25519"), verify: map[string][]byte{}}
	ids := map[string]string{}
	for _, format := range []string{"ldp_vc", "jwt_vc_json", "dc+sd-jwt"} {
		ids[format] = e.createIssuer(t, e.key, f.issuerDID, format, "ExampleDegreeCredential")
	}
	f.ldpID = ids["ldp_vc"]
	f.bbs = bbsFixture(t, e)
	for format, id := range ids {
		vcBody := e.issue(t, e.key, id, credentialFor(format, "", "ExampleDegreeCredential", map[string]any{"name": "Alice Example"}), http.StatusCreated)
		var out struct{ VerifiableCredential map[string]any }
		if err := json.Unmarshal(vcBody, &out); err != nil {
			t.Fatal(err)
		}
		var v any = out.VerifiableCredential
		if format == "jwt_vc_json" { // the bare compact form
			_, tok, _ := strings.Cut(out.VerifiableCredential["id"].(string), ",")
			v = tok
		}
		f.verify[format], _ = json.Marshal(map[string]any{"verifiableCredential": v})
	}
	// Credentials with revocation and suspension entries, one for each
	// updateCredentialStatus example, so their order does not matter.
	withStatus := e.createIssuerWith(t, e.key, map[string]any{"did": e.newDID(t, e.key, "Ed25519"), "format": "ldp_vc",
		"types": []string{"ExampleDegreeCredential"}, "statusPurposes": []string{"revocation", "suspension"}})
	f.statusIDs = map[string]string{}
	for _, name := range []string{"suspend", "reinstate", "revoke"} {
		c := e.issueLDP(t, e.key, withStatus)
		f.statusIDs[name] = c["id"].(string)
		f.listID = listIDOf(t, c, "revocation")
	}
	f.anchored = f.statusIDs["suspend"]
	if _, err := e.anchorer.Once(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The verifyPresentation example: a did:key holder presents an ldp_vc
	// about itself, bound to the example's challenge and domain.
	h := newHolder(t)
	about := issued(t, e.issue(t, e.key, f.ldpID, credentialFor("ldp_vc", "", "ExampleDegreeCredential", map[string]any{"id": h.did, "name": "Alice Example"}), http.StatusCreated))
	f.present, _ = json.Marshal(map[string]any{
		"verifiablePresentation": h.ldpVP(t, h.did, "3f1c0d2a", "verifier.example", about),
		"options":                map[string]any{"challenge": "3f1c0d2a", "domain": "verifier.example"},
	})
	return f
}

// createIssuerWith creates an issuer instance from a request body.
func (e *env) createIssuerWith(t *testing.T, key string, req map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(req)
	resp, got := e.do(t, http.MethodPost, "/issuers", key, string(b))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create issuer: got %d %s; want 201", resp.StatusCode, got)
	}
	var out struct{ Id string }
	json.Unmarshal(got, &out)
	return out.Id
}

// issueLDP issues an ExampleDegreeCredential with the ldp_vc instance id.
func (e *env) issueLDP(t *testing.T, key, id string) map[string]any {
	t.Helper()
	b := e.issue(t, key, id, credentialFor("ldp_vc", "", "ExampleDegreeCredential", map[string]any{"name": "Alice Example"}), http.StatusCreated)
	var out struct{ VerifiableCredential map[string]any }
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out.VerifiableCredential
}

// listIDOf returns the status list id of the credential's purpose entry.
func listIDOf(t *testing.T, c map[string]any, purpose string) string {
	t.Helper()
	var entries []any
	switch v := c["credentialStatus"].(type) {
	case []any:
		entries = v
	case map[string]any:
		entries = []any{v}
	}
	for _, x := range entries {
		m, _ := x.(map[string]any)
		if m["statusPurpose"] == purpose {
			u, _ := m["statusListCredential"].(string)
			return u[strings.LastIndex(u, "/")+1:]
		}
	}
	t.Fatalf("credential has no %s entry: %v", purpose, c["credentialStatus"])
	return ""
}

// rewrite makes an example body name things that exist in this env.
func (f *credFixture) rewrite(t *testing.T, opID, name string, body []byte) []byte {
	t.Helper()
	if b, ok := f.bbs.rewrite(opID, name, body); ok {
		return b
	}
	var m map[string]any
	switch opID {
	case "createIssuer":
		json.Unmarshal(body, &m)
		m["did"] = f.createDID
	case "issueCredential":
		json.Unmarshal(body, &m)
		m["credential"].(map[string]any)["issuer"] = f.issuerDID
	case "updateCredentialStatus":
		json.Unmarshal(body, &m)
		id, ok := f.statusIDs[name]
		if !ok {
			t.Fatalf("no fixture for updateCredentialStatus example %q", name)
		}
		m["credentialId"] = id
	case "verifyPresentation":
		return f.present
	case "verifyCredential":
		b, ok := f.verify[name]
		if !ok {
			t.Fatalf("no fixture for verifyCredential example %q", name)
		}
		return b
	default:
		return body
	}
	b, _ := json.Marshal(m)
	return b
}

// newDID creates a did:key of the agency with key.
func (e *env) newDID(t *testing.T, key, keyType string) string {
	t.Helper()
	resp, b := e.do(t, http.MethodPost, "/dids", key, `{"method":"key","keyType":"`+keyType+`"}`)
	var out struct{ Did string }
	if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create DID: %d %s", resp.StatusCode, b)
	}
	return out.Did
}

func (e *env) createIssuer(t *testing.T, key, id, format string, types ...string) string {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"did": id, "format": format, "types": types})
	resp, got := e.do(t, http.MethodPost, "/issuers", key, string(b))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create %s issuer: got %d %s; want 201", format, resp.StatusCode, got)
	}
	var out struct{ Id string }
	json.Unmarshal(got, &out)
	return out.Id
}

// issue posts a credential to the issuer instance id ("" for
// /credentials/issue) and checks the status.
func (e *env) issue(t *testing.T, key, id string, cred map[string]any, want int, opts ...any) []byte {
	t.Helper()
	req := map[string]any{"credential": cred}
	if len(opts) > 0 {
		req["options"] = opts[0]
	}
	b, _ := json.Marshal(req)
	path := "/credentials/issue"
	if id != "" {
		path = "/issuers/" + id + "/credentials/issue"
	}
	resp, got := e.do(t, http.MethodPost, path, key, string(b))
	if resp.StatusCode != want {
		t.Fatalf("issue: got %d %s; want %d", resp.StatusCode, got, want)
	}
	return got
}

// verifyResult is the body of /credentials/verify.
type verifyResult struct {
	Verified bool
	Checks   []string
	Warnings []struct{ Check, Detail string }
	Errors   []struct{ Check, Detail, Field string }
}

func (e *env) verify(t *testing.T, v any) (int, verifyResult) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"verifiableCredential": v})
	resp, got := e.do(t, http.MethodPost, "/credentials/verify", "", string(b))
	var out verifyResult
	if err := json.Unmarshal(got, &out); err != nil {
		t.Fatalf("verify: %d %s", resp.StatusCode, got)
	}
	return resp.StatusCode, out
}

// credentialFor is a credential of type typ in the data model version a
// format takes, issued by issuer ("" to leave it to the instance).
func credentialFor(format, issuer, typ string, subject map[string]any) map[string]any {
	ctx := "https://www.w3.org/ns/credentials/v2"
	if format == "jwt_vc_json" {
		ctx = "https://www.w3.org/2018/credentials/v1"
	}
	sub := map[string]any{"id": "did:example:ebfeb1f712ebc6f1c276e12ec21"}
	for k, v := range subject {
		sub[k] = v
	}
	contexts := []any{ctx}
	if strings.HasPrefix(format, "ldp_vc") {
		// The proof covers only what a context defines; VC 2.0 defines
		// neither typ nor the claims.
		contexts = append(contexts, "https://www.w3.org/ns/credentials/undefined-terms/v2")
	}
	c := map[string]any{"@context": contexts, "type": []any{"VerifiableCredential", typ}, "credentialSubject": sub}
	if issuer != "" {
		c["issuer"] = issuer
	}
	return c
}

// issued reads the verifiableCredential of an issue answer.
func issued(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var out struct{ VerifiableCredential map[string]any }
	if err := json.Unmarshal(b, &out); err != nil || out.VerifiableCredential == nil {
		t.Fatalf("issue answer %s", b)
	}
	return out.VerifiableCredential
}

func has(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestIssueAndVerifyEveryFormat(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			issuerDID := e.newDID(t, e.key, "Ed25519")
			for _, format := range []string{"ldp_vc", "jwt_vc_json", "dc+sd-jwt"} {
				t.Run(format, func(t *testing.T) {
					id := e.createIssuer(t, e.key, issuerDID, format, "ResidentCredential")
					// Without an instance id: the instance is found by issuer DID and format.
					b := e.issue(t, e.key, "", credentialFor(format, issuerDID, "ResidentCredential", map[string]any{"name": "Alice"}), http.StatusCreated, map[string]any{"format": format})
					cred := issued(t, b)
					if format != "ldp_vc" && cred["type"] != "EnvelopedVerifiableCredential" {
						t.Errorf("got %v; want an EnvelopedVerifiableCredential", cred)
					}
					status, res := e.verify(t, cred)
					if status != http.StatusOK || !res.Verified {
						t.Fatalf("verify: got %d %+v; want 200 verified", status, res)
					}
					for _, c := range []string{"proof", "issuer", "validity"} {
						if !has(res.Checks, c) {
							t.Errorf("checks %v; want %s", res.Checks, c)
						}
					}
					if len(res.Warnings) == 0 || res.Warnings[0].Check != "accreditation" {
						t.Errorf("warnings %+v; want accreditation not applicable", res.Warnings)
					}
					// With the instance id, and the issuer left out.
					e.issue(t, e.key, id, credentialFor(format, "", "ResidentCredential", map[string]any{"name": "Bob"}), http.StatusCreated)
				})
			}
		})
	}
}

func TestVerifyFailures(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			issuerDID := e.newDID(t, e.key, "Ed25519")
			ldp := e.createIssuer(t, e.key, issuerDID, "ldp_vc", "ResidentCredential")
			jwt := e.createIssuer(t, e.key, issuerDID, "jwt_vc_json", "ResidentCredential")

			t.Run("tampered", func(t *testing.T) {
				cred := issued(t, e.issue(t, e.key, ldp, credentialFor("ldp_vc", "", "ResidentCredential", map[string]any{"name": "Alice"}), http.StatusCreated))
				cred["credentialSubject"].(map[string]any)["name"] = "Mallory"
				status, res := e.verify(t, cred)
				if status != http.StatusUnprocessableEntity || res.Verified || len(res.Errors) == 0 || res.Errors[0].Check != "proof" {
					t.Errorf("got %d %+v; want 422 with the proof check failing", status, res)
				}
			})
			t.Run("tampered jwt", func(t *testing.T) {
				env := issued(t, e.issue(t, e.key, jwt, credentialFor("jwt_vc_json", "", "ResidentCredential", map[string]any{"name": "Alice"}), http.StatusCreated))
				_, tok, _ := strings.Cut(env["id"].(string), ",")
				parts := strings.Split(tok, ".")
				parts[2] = strings.Repeat("A", len(parts[2]))
				status, res := e.verify(t, strings.Join(parts, "."))
				if status != http.StatusUnprocessableEntity || len(res.Errors) == 0 || res.Errors[0].Check != "proof" {
					t.Errorf("got %d %+v; want 422 with the proof check failing", status, res)
				}
			})
			t.Run("expired", func(t *testing.T) {
				c := credentialFor("ldp_vc", "", "ResidentCredential", map[string]any{"name": "Alice"})
				c["validFrom"] = "2020-01-01T00:00:00Z"
				c["validUntil"] = "2021-01-01T00:00:00Z"
				cred := issued(t, e.issue(t, e.key, ldp, c, http.StatusCreated))
				status, res := e.verify(t, cred)
				if status != http.StatusUnprocessableEntity || len(res.Errors) != 1 || res.Errors[0].Check != "validity" || !has(res.Checks, "proof") {
					t.Errorf("got %d %+v; want 422 with only the validity check failing", status, res)
				}
			})
			t.Run("wrong issuer", func(t *testing.T) {
				// Signed correctly, by a key that is not the issuer's.
				pub, priv, _ := ed25519.GenerateKey(rand.Reader)
				k, _ := did.NewKey(pub)
				c := credentialFor("ldp_vc", issuerDID, "ResidentCredential", map[string]any{"name": "Alice"})
				c["validFrom"] = time.Now().UTC().Format(time.RFC3339)
				vm := k.String() + "#" + strings.TrimPrefix(k.String(), "did:key:")
				signed, err := dataintegrity.Sign(context.Background(), c, dataintegrity.ProofOptions{VerificationMethod: vm}, priv, ld.Default())
				if err != nil {
					t.Fatal(err)
				}
				status, res := e.verify(t, signed)
				if status != http.StatusUnprocessableEntity || len(res.Errors) == 0 || res.Errors[0].Check != "issuer" {
					t.Errorf("got %d %+v; want 422 with the issuer check failing", status, res)
				}
			})
			t.Run("issuer not the instance's", func(t *testing.T) {
				other := e.newDID(t, e.key, "Ed25519")
				b := e.issue(t, e.key, ldp, credentialFor("ldp_vc", other, "ResidentCredential", nil), http.StatusBadRequest)
				if !strings.Contains(string(b), `"field":"/credential/issuer"`) {
					t.Errorf("got %s; want field /credential/issuer", b)
				}
			})
			t.Run("type not the instance's", func(t *testing.T) {
				e.issue(t, e.key, ldp, credentialFor("ldp_vc", "", "LandTitleCredential", nil), http.StatusForbidden)
			})
			t.Run("v2 for jwt_vc_json", func(t *testing.T) {
				b := e.issue(t, e.key, jwt, credentialFor("ldp_vc", "", "ResidentCredential", nil), http.StatusBadRequest)
				if !strings.Contains(string(b), "1.1") {
					t.Errorf("got %s; want an explanation naming VC 1.1", b)
				}
			})
			t.Run("malformed JSON", func(t *testing.T) {
				for _, path := range []string{"/credentials/verify", "/credentials/issue"} {
					resp, b := e.do(t, http.MethodPost, path, e.key, `{"verifiableCredential": {`)
					if resp.StatusCode != http.StatusBadRequest {
						t.Errorf("%s: got %d %s; want 400", path, resp.StatusCode, b)
					}
				}
				resp, b := e.do(t, http.MethodPost, "/credentials/verify", "", `{"verifiableCredential": 42}`)
				if resp.StatusCode != http.StatusBadRequest {
					t.Errorf("number: got %d %s; want 400", resp.StatusCode, b)
				}
			})
			t.Run("another agency's instance", func(t *testing.T) {
				e.issue(t, e.otherKey, ldp, credentialFor("ldp_vc", "", "ResidentCredential", nil), http.StatusNotFound)
				b, _ := json.Marshal(map[string]any{"did": issuerDID, "format": "ldp_vc", "types": []string{"X"}})
				resp, got := e.do(t, http.MethodPost, "/issuers", e.otherKey, string(b))
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("create with another agency's DID: got %d %s; want 404", resp.StatusCode, got)
				}
				_, list := e.do(t, http.MethodGet, "/issuers", e.otherKey, "")
				if strings.Contains(string(list), ldp) {
					t.Errorf("other agency lists %s", list)
				}
			})
			t.Run("bad instance", func(t *testing.T) {
				p256 := e.newDID(t, e.key, "P-256")
				for name, body := range map[string]string{
					"/did":    `{"did":"` + p256 + `","format":"ldp_vc","types":["X"]}`,
					"/format": `{"did":"` + issuerDID + `","format":"mdoc","types":["X"]}`,
					"/types":  `{"did":"` + issuerDID + `","format":"ldp_vc","types":[]}`,
				} {
					resp, got := e.do(t, http.MethodPost, "/issuers", e.key, body)
					if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(got), `"field":"`+name) {
						t.Errorf("%s: got %d %s; want 400 naming %s", name, resp.StatusCode, got, name)
					}
				}
			})
		})
	}
}

func TestGovernedTypes(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			issuerDID := e.newDID(t, e.key, "Ed25519")
			// A wallet accredited for the type registers its schema.
			w := newTestWallet(t, e.chain)
			e.chain.commit(t, e.chain.gov, e.chain.govSigner(), registry.KindTrustAccredit,
				registry.TrustAccredit{Issuer: w.did, Types: []string{"ResidentCredential"}})
			schema := json.RawMessage(`{"type":"object","required":["name"],"properties":{"name":{"type":"string"},"district":{"type":"integer"}}}`)
			e.chain.commit(t, w.key, w.signer(), registry.KindSchemaRegister, registry.SchemaRegister{Type: "ResidentCredential", Schema: schema})
			ldp := e.createIssuer(t, e.key, issuerDID, "ldp_vc", "ResidentCredential")
			sd := e.createIssuer(t, e.key, issuerDID, "dc+sd-jwt", "ResidentCredential")
			good := map[string]any{"name": "Alice", "district": 3}

			b := e.issue(t, e.key, ldp, credentialFor("ldp_vc", "", "ResidentCredential", good), http.StatusForbidden)
			if !strings.Contains(string(b), "not accredited") {
				t.Errorf("got %s; want the reason", b)
			}
			e.chain.commit(t, e.chain.gov, e.chain.govSigner(), registry.KindTrustAccredit,
				registry.TrustAccredit{Issuer: issuerDID, Types: []string{"ResidentCredential"}})
			_ = ctx

			b = e.issue(t, e.key, ldp, credentialFor("ldp_vc", "", "ResidentCredential", map[string]any{"name": "Alice", "district": "three"}), http.StatusUnprocessableEntity)
			if !strings.Contains(string(b), `"field":"/credential/credentialSubject/district"`) {
				t.Errorf("got %s; want field /credential/credentialSubject/district", b)
			}
			for _, id := range []string{ldp, sd} {
				cred := issued(t, e.issue(t, e.key, id, credentialFor("ldp_vc", "", "ResidentCredential", good), http.StatusCreated))
				status, res := e.verify(t, cred)
				if status != http.StatusOK || !has(res.Checks, "accreditation") || !has(res.Checks, "schema") || len(res.Warnings) != 0 {
					t.Errorf("got %d %+v; want 200 with accreditation and schema passing", status, res)
				}
			}
		})
	}
}

// TestUndefinedTerms: a JSON-LD credential with a claim no @context
// defines is refused at issuance (its proof would not cover the claim),
// naming the claim; a credential that loses the context defining its
// claims fails the proof check, naming them.
func TestUndefinedTerms(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			issuerDID := e.newDID(t, e.key, "Ed25519")
			ldp := e.createIssuer(t, e.key, issuerDID, "ldp_vc", "ResidentCredential")
			c := credentialFor("ldp_vc", "", "ResidentCredential", map[string]any{"district": "Eixample"})
			c["@context"] = []any{"https://www.w3.org/ns/credentials/v2"}
			var p struct{ Field, Detail string }
			if err := json.Unmarshal(e.issue(t, e.key, ldp, c, http.StatusBadRequest), &p); err != nil {
				t.Fatal(err)
			}
			if p.Field != "/credential/credentialSubject/district" || !strings.Contains(p.Detail, "https://www.w3.org/ns/credentials/undefined-terms/v2") {
				t.Errorf("problem %+v; want field /credential/credentialSubject/district and a detail suggesting the undefined-terms context", p)
			}

			cred := issued(t, e.issue(t, e.key, ldp, credentialFor("ldp_vc", "", "ResidentCredential", map[string]any{"district": "Eixample"}), http.StatusCreated))
			cred["@context"] = []any{"https://www.w3.org/ns/credentials/v2"}
			status, res := e.verify(t, cred)
			if status != http.StatusUnprocessableEntity || res.Verified || len(res.Errors) == 0 || res.Errors[0].Check != "proof" ||
				!strings.Contains(res.Errors[0].Detail, `property "district" at /credentialSubject/district is not defined by the credential's @context`) ||
				!strings.Contains(res.Errors[0].Detail, "so the proof does not cover them") {
				t.Errorf("got %d %+v; want 422 with the proof check failing on district", status, res)
			}
		})
	}
}
