package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/bls"
)

// The contexts of the BBS+ and Ed25519Signature2020 credentials of these
// tests: VC 1.1, whose context has no @vocab, and the VC 2.0 examples
// context, which defines every other term under an @vocab.
var vc11Examples = []any{"https://www.w3.org/2018/credentials/v1", "https://www.w3.org/ns/credentials/examples/v2"}

func degreeCredential(issuer string) map[string]any {
	c := map[string]any{
		"@context": vc11Examples,
		"type":     []any{"VerifiableCredential", "ExampleDegreeCredential"},
		"credentialSubject": map[string]any{
			"id": "did:example:ebfeb1f712ebc6f1c276e12ec21", "name": "Alice Example", "degree": "Bachelor of Science", "birthDate": "1990-01-01",
		},
	}
	if issuer != "" {
		c["issuer"] = issuer
	}
	return c
}

// degreeFrame keeps what a credential needs and the subject's degree.
func degreeFrame() map[string]any {
	return map[string]any{
		"@context":          vc11Examples,
		"type":              []any{"VerifiableCredential", "ExampleDegreeCredential"},
		"@explicit":         true,
		"issuer":            map[string]any{},
		"issuanceDate":      map[string]any{},
		"credentialSubject": map[string]any{"@explicit": true, "degree": map[string]any{}},
	}
}

// derive posts to /credentials/derive and checks the status.
func (e *env) derive(t *testing.T, body map[string]any, want int) []byte {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, got := e.do(t, http.MethodPost, "/credentials/derive", "", string(b))
	if resp.StatusCode != want {
		t.Fatalf("derive: got %d %s; want %d", resp.StatusCode, got, want)
	}
	return got
}

// bbsFix is what the openapi.yaml examples of BBS+ and
// Ed25519Signature2020 need: real DIDs, instances and credentials.
type bbsFix struct {
	blsDID  string         // a Bls12381G2 did:key with an ldp_vc-bbs instance
	bbsID   string         // that instance
	signed  map[string]any // a credential it issued
	derived map[string]any // derived from signed, disclosing the degree
}

func bbsFixture(t *testing.T, e *env) *bbsFix {
	t.Helper()
	f := &bbsFix{blsDID: e.newDID(t, e.key, "Bls12381G2")}
	f.bbsID = e.createIssuer(t, e.key, f.blsDID, "ldp_vc-bbs", "ExampleDegreeCredential")
	f.signed = issued(t, e.issue(t, e.key, f.bbsID, degreeCredential(""), http.StatusCreated))
	f.derived = issued(t, e.derive(t, map[string]any{"verifiableCredential": f.signed, "frame": degreeFrame()}, http.StatusCreated))
	return f
}

// rewrite makes the BBS+ examples name this fixture's DIDs and
// credentials; ok is false for the other examples.
func (f *bbsFix) rewrite(opID, name string, body []byte) ([]byte, bool) {
	var m map[string]any
	json.Unmarshal(body, &m)
	switch {
	case opID == "createIssuer" && name == "ldp_vc-bbs":
		m["did"] = f.blsDID
	case opID == "issueCredential" && name == "ldp_vc-bbs":
		m["credential"].(map[string]any)["issuer"] = f.blsDID
	case opID == "verifyCredential" && name == "ldp_vc-bbs derived":
		m["verifiableCredential"] = f.derived
	case opID == "deriveCredential":
		m["verifiableCredential"] = f.signed
	default:
		return nil, false
	}
	b, _ := json.Marshal(m)
	return b, true
}

// A BBS+ credential issued through the API discloses, once derived, only
// the claims of the frame, and verifies; a changed claim does not.
func TestBBSSelectiveDisclosure(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			blsDID := e.newDID(t, e.key, "Bls12381G2")
			if k, err := did.DecodeMultikey(strings.TrimPrefix(blsDID, "did:key:")); err != nil {
				t.Fatalf("Bls12381G2 did:key = %s: %v; want a BLS12-381 G2 did:key", blsDID, err)
			} else if _, ok := k.(*bls.PublicKey); !ok {
				t.Fatalf("Bls12381G2 did:key = %s holds a %T; want a BLS12-381 G2 key", blsDID, k)
			}
			// Status lists are not built for BBS+ credentials.
			b, _ := json.Marshal(map[string]any{"did": blsDID, "format": "ldp_vc-bbs", "types": []string{"ExampleDegreeCredential"}, "statusPurposes": []string{"revocation"}})
			if resp, got := e.do(t, http.MethodPost, "/issuers", e.key, string(b)); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(got), "/statusPurposes") {
				t.Errorf("ldp_vc-bbs with statusPurposes: got %d %s; want 400 naming /statusPurposes", resp.StatusCode, got)
			}
			e.createIssuer(t, e.key, blsDID, "ldp_vc-bbs", "ExampleDegreeCredential")
			signed := issued(t, e.issue(t, e.key, "", degreeCredential(blsDID), http.StatusCreated, map[string]any{"format": "ldp_vc-bbs"}))
			if p, _ := signed["proof"].(map[string]any); p["type"] != "BbsBlsSignature2020" || !strings.HasPrefix(p["verificationMethod"].(string), blsDID+"#") {
				t.Fatalf("issued proof = %v; want a BbsBlsSignature2020 by %s", signed["proof"], blsDID)
			}
			if s, _ := signed["id"].(string); !strings.HasPrefix(s, "urn:uuid:") {
				t.Errorf("issued id = %v; want a urn:uuid", signed["id"])
			}
			if status, res := e.verify(t, signed); status != http.StatusOK || !res.Verified || !slices.Contains(res.Checks, "proof") || !slices.Contains(res.Checks, "issuer") {
				t.Errorf("verify signed: %d %+v; want 200 with proof and issuer checks", status, res)
			}

			derived := issued(t, e.derive(t, map[string]any{"verifiableCredential": signed, "frame": degreeFrame(), "options": map[string]any{"nonce": "verifier-nonce-1"}}, http.StatusCreated))
			sub, _ := derived["credentialSubject"].(map[string]any)
			if sub["degree"] != "Bachelor of Science" || sub["name"] != nil || sub["birthDate"] != nil {
				t.Errorf("derived credentialSubject = %v; want the degree only", sub)
			}
			if p, _ := derived["proof"].(map[string]any); p["type"] != "BbsBlsSignatureProof2020" {
				t.Errorf("derived proof = %v; want BbsBlsSignatureProof2020", derived["proof"])
			}
			if status, res := e.verify(t, derived); status != http.StatusOK || !res.Verified || !slices.Contains(res.Checks, "proof") || !slices.Contains(res.Checks, "validity") {
				t.Errorf("verify derived: %d %+v; want 200 with proof and validity checks", status, res)
			}
			// Two derivations of one credential carry different proofs.
			again := issued(t, e.derive(t, map[string]any{"verifiableCredential": signed, "frame": degreeFrame()}, http.StatusCreated))
			if again["proof"].(map[string]any)["proofValue"] == derived["proof"].(map[string]any)["proofValue"] {
				t.Errorf("two derivations have the same proofValue; want fresh ones")
			}

			tampered := issued(t, e.derive(t, map[string]any{"verifiableCredential": signed, "frame": degreeFrame()}, http.StatusCreated))
			tampered["credentialSubject"].(map[string]any)["degree"] = "Doctor of Philosophy"
			if status, res := e.verify(t, tampered); status != http.StatusUnprocessableEntity || res.Verified || len(res.Errors) == 0 || res.Errors[0].Check != "proof" {
				t.Errorf("verify tampered derived: %d %+v; want 422 failing the proof check", status, res)
			}
			signed["credentialSubject"].(map[string]any)["birthDate"] = "1970-01-01"
			if status, res := e.verify(t, signed); status != http.StatusUnprocessableEntity || res.Verified {
				t.Errorf("verify tampered signed: %d %+v; want 422", status, res)
			}
		})
	}
}

func TestDeriveRefusesBadInput(t *testing.T) {
	e := newEnvs(t, api.Config{})[0]
	ldp := credentialFixture(t, e)
	eddsa := issued(t, e.issue(t, e.key, ldp.ldpID, credentialFor("ldp_vc", "", "ExampleDegreeCredential", map[string]any{"name": "Alice"}), http.StatusCreated))
	blsDID := e.newDID(t, e.key, "Bls12381G2")
	e.createIssuer(t, e.key, blsDID, "ldp_vc-bbs", "ExampleDegreeCredential")
	signed := issued(t, e.issue(t, e.key, "", degreeCredential(blsDID), http.StatusCreated))
	noContext := degreeFrame()
	delete(noContext, "@context")
	unknown := degreeFrame()
	unknown["@context"] = []any{"https://example.com/unknown/v1"}
	tests := []struct {
		name  string
		body  string
		want  int
		field string
	}{
		{"no frame", mustJSON(map[string]any{"verifiableCredential": signed}), http.StatusBadRequest, ""},
		{"frame without @context", mustJSON(map[string]any{"verifiableCredential": signed, "frame": noContext}), http.StatusBadRequest, "/frame/@context"},
		{"eddsa credential", mustJSON(map[string]any{"verifiableCredential": eddsa, "frame": degreeFrame()}), http.StatusBadRequest, "/verifiableCredential/proof"},
		{"unknown context", mustJSON(map[string]any{"verifiableCredential": signed, "frame": unknown}), http.StatusBadRequest, ""},
		{"unknown option", mustJSON(map[string]any{"verifiableCredential": signed, "frame": degreeFrame(), "options": map[string]any{"selectivePointers": []string{"/x"}}}), http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, got := e.do(t, http.MethodPost, "/credentials/derive", "", tt.body)
			if resp.StatusCode != tt.want || !strings.Contains(resp.Header.Get("Content-Type"), "problem+json") || (tt.field != "" && !strings.Contains(string(got), `"field":"`+tt.field+`"`)) {
				t.Errorf("got %d %s; want %d problem+json naming %q", resp.StatusCode, got, tt.want, tt.field)
			}
		})
	}
}

func TestEd25519Signature2020Issuance(t *testing.T) {
	e := newEnvs(t, api.Config{})[0]
	d := e.newDID(t, e.key, "Ed25519")
	id := e.createIssuerWith(t, e.key, map[string]any{"did": d, "format": "ldp_vc", "cryptosuite": "Ed25519Signature2020", "types": []string{"ExampleDegreeCredential"}})
	c := issued(t, e.issue(t, e.key, id, degreeCredential(""), http.StatusCreated))
	p, _ := c["proof"].(map[string]any)
	if p["type"] != "Ed25519Signature2020" || c["issuanceDate"] == nil {
		t.Fatalf("issued = %v; want a VC 1.1 credential with an Ed25519Signature2020 proof", c)
	}
	if status, res := e.verify(t, c); status != http.StatusOK || !res.Verified || !slices.Contains(res.Checks, "proof") || !slices.Contains(res.Checks, "status") {
		t.Errorf("verify: %d %+v; want 200 with the proof and status checks", status, res)
	}
	// The revocation entry is signed too: VC 1.1 gets the status list context.
	if ctx := c["@context"].([]any); !slices.Contains(ctx, any("https://www.w3.org/ns/credentials/status/v1")) {
		t.Errorf("@context = %v; want the Bitstring Status List context added", ctx)
	}
	if status, got := e.setStatus(t, e.key, c["id"].(string), "revoked"); status != http.StatusOK {
		t.Fatalf("revoke: %d %s", status, got)
	}
	if status, res := e.verify(t, c); status != http.StatusUnprocessableEntity || !slices.ContainsFunc(res.Errors, func(f struct{ Check, Detail, Field string }) bool { return f.Check == "status" }) {
		t.Errorf("verify revoked: %d %+v; want 422 failing the status check", status, res)
	}
	c["credentialSubject"].(map[string]any)["degree"] = "Doctor of Philosophy"
	if status, res := e.verify(t, c); status != http.StatusUnprocessableEntity || len(res.Errors) == 0 || res.Errors[0].Check != "proof" {
		t.Errorf("verify tampered: %d %+v; want 422 failing the proof check", status, res)
	}
	v2 := credentialFor("ldp_vc", "", "ExampleDegreeCredential", map[string]any{"name": "Alice"})
	got := e.issue(t, e.key, id, v2, http.StatusBadRequest)
	if !strings.Contains(string(got), `"field":"/credential/@context"`) || !strings.Contains(string(got), "Ed25519Signature2020") {
		t.Errorf("issue VC 2.0: %s; want a problem naming /credential/@context", got)
	}
	if resp, got := e.do(t, http.MethodPost, "/issuers", e.key, mustJSON(map[string]any{"did": d, "format": "ldp_vc", "cryptosuite": "BbsBlsSignature2020", "types": []string{"X"}})); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(got), "/cryptosuite") {
		t.Errorf("ldp_vc with BbsBlsSignature2020: got %d %s; want 400 naming /cryptosuite", resp.StatusCode, got)
	}
	if resp, got := e.do(t, http.MethodPost, "/dids", e.key, `{"method":"jwk","keyType":"Bls12381G2"}`); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(got), "/keyType") {
		t.Errorf("did:jwk with a Bls12381G2 key: got %d %s; want 400 naming /keyType", resp.StatusCode, got)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestResolveBLSDIDKey(t *testing.T) {
	e := newEnvs(t, api.Config{})[0]
	const id = "did:key:zUC7K4ndUaGZgV7Cp2yJy6JtMoUHY6u7tkcSYUvPrEidqBmLCTLmi6d5WvwnUqejscAkERJ3bfjEiSYtdPkRSE8kSa11hFBr4sTgnbZ95SJj19PN2jdvJjyzpSZgxkyyxNnBNnY"
	for _, tt := range []struct{ query, want string }{
		{"", `"type":"Multikey"`},
		{"?publicKeyFormat=Bls12381G2Key2020", `"publicKeyBase58":"25EEkQtcLKsEzQ6JTo9cg4W7NHpaurn4Wg6LaNPFq6JQXnrP91SDviUz7KrJVMJd76CtAZFsRLYzvgX2JGxo2ccUHtuHk7ELCWwrkBDfrXCFVfqJKDootee9iVaF6NpdJtBE"`},
	} {
		resp, got := e.do(t, http.MethodGet, "/1.0/identifiers/"+id+tt.query, "", "")
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(got), tt.want) {
			t.Errorf("resolve%s: got %d %s; want 200 with %s", tt.query, resp.StatusCode, got, tt.want)
		}
	}
	if resp, got := e.do(t, http.MethodGet, "/1.0/identifiers/"+id+"?publicKeyFormat=JsonWebKey2020", "", ""); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("resolve as JsonWebKey2020: got %d %s; want 400", resp.StatusCode, got)
	}
}
