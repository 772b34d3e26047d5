package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/vc/sdjwt"
	"github.com/urbis-id/urbis/verifiers/oid4vp"
)

// answerPE posts vp_token and presentation_submission with the request's state.
func (w *testVPWallet) answerPE(t *testing.T, ro *oid4vp.RequestObject, vpToken any, submission map[string]any) (int, map[string]any) {
	t.Helper()
	tok, ok := vpToken.(string)
	if !ok {
		b, _ := json.Marshal(vpToken)
		tok = string(b)
	}
	sub, _ := json.Marshal(submission)
	return w.post(t, ro.ResponseURI, url.Values{"vp_token": {tok}, "presentation_submission": {string(sub)}, "state": {ro.State}})
}

func submission(defID string, entries ...map[string]any) map[string]any {
	m := []any{}
	for _, e := range entries {
		m = append(m, e)
	}
	return map[string]any{"id": "sub-1", "definition_id": defID, "descriptor_map": m}
}

// TestOID4VPPresentationExchange: requests with a DIF Presentation
// Exchange definition, answered with a presentation_submission. VC 1.1
// credentials (jwt_vc_json here) are evaluated by aries' presexch
// (check "presexch"); SD-JWT VCs and VC 2.0 credentials by Urbis' own
// evaluation of the same field rules.
func TestOID4VPPresentationExchange(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			f := newVPFixture(t, e)
			w := newVPWallet(e)
			h := f.holder
			residentPD := map[string]any{"id": "resident-pd", "input_descriptors": []any{map[string]any{
				"id": "resident", "format": map[string]any{"dc+sd-jwt": map[string]any{}},
				"constraints": map[string]any{"limit_disclosure": "required", "fields": []any{
					map[string]any{"path": []any{"$.vct"}, "filter": map[string]any{"type": "string", "const": "ResidentCredential"}},
					map[string]any{"path": []any{"$.district"}, "filter": map[string]any{"type": "string", "enum": []any{"Mitte", "Kreuzberg"}}},
				}},
			}}}
			sdEntry := map[string]any{"id": "resident", "format": "dc+sd-jwt", "path": "$"}

			t.Run("dc+sd-jwt, own evaluation", func(t *testing.T) {
				c := e.createVP(t, map[string]any{"did": f.verifier, "presentationDefinition": residentPD})
				ro := w.fetch(t, c.URI)
				if len(ro.PresentationDefinition) == 0 || len(ro.DCQLQuery) != 0 {
					t.Fatalf("request object: presentation_definition %s, dcql_query %s; want the definition only", ro.PresentationDefinition, ro.DCQLQuery)
				}
				p, err := sdjwt.Present(f.sdResident, []string{"/district"}, &sdjwt.KeyBinding{Signer: h.key, Audience: ro.ClientID, Nonce: ro.Nonce})
				if err != nil {
					t.Fatal(err)
				}
				if st, body := w.answerPE(t, ro, p, submission("resident-pd", sdEntry)); st != 200 {
					t.Fatalf("answer: got %d %v; want 200", st, body)
				}
				_, r := e.vpResult(t, e.key, c.ID)
				got := r.VerifiedClaims["resident"]
				if r.Status != "verified" || len(got) != 1 || len(got[0].Claims) != 2 || got[0].Claims[1].Value != "Mitte" || got[0].Format != "dc+sd-jwt" {
					t.Fatalf("result %+v; want verified with vct and district", r)
				}
				if slices.Contains(r.Checks, "presexch") || !slices.Contains(r.Checks, "submission") || !slices.Contains(r.Checks, "holderBinding") {
					t.Errorf("checks %v; want submission and holderBinding, not presexch (an SD-JWT VC is evaluated by Urbis)", r.Checks)
				}
				// The same submission again: single use.
				st, body := w.answerPE(t, ro, p, submission("resident-pd", sdEntry))
				if desc, _ := body["error_description"].(string); st != 400 || !strings.Contains(desc, "already answered") {
					t.Errorf("replayed submission: got %d %v; want 400, already answered", st, body)
				}
			})

			t.Run("jwt_vc_json (VC 1.1), evaluated by presexch", func(t *testing.T) {
				iss := e.createIssuer(t, e.key, e.newDID(t, e.key, "Ed25519"), "jwt_vc_json", "AccreditationCredential")
				env := issued(t, e.issue(t, e.key, iss, credentialFor("jwt_vc_json", "", "AccreditationCredential",
					map[string]any{"id": h.did, "accreditedFor": "LandTitle"}), http.StatusCreated))
				_, accr, _ := strings.Cut(env["id"].(string), ",")
				pd := func(forType string) map[string]any {
					return map[string]any{"id": "accr-pd", "format": map[string]any{"jwt_vc_json": map[string]any{"alg": []any{"EdDSA"}}},
						"input_descriptors": []any{map[string]any{"id": "accreditation", "constraints": map[string]any{"fields": []any{
							map[string]any{"path": []any{"$.type"}, "filter": map[string]any{"type": "array", "contains": map[string]any{"const": "AccreditationCredential"}}},
							map[string]any{"path": []any{"$.credentialSubject.accreditedFor", "$.vc.credentialSubject.accreditedFor"}, "filter": map[string]any{"type": "string", "const": forType}},
						}}}}}
				}
				entry := map[string]any{"id": "accreditation", "format": "jwt_vp_json", "path": "$",
					"path_nested": map[string]any{"id": "accreditation", "format": "jwt_vc_json", "path": "$.vp.verifiableCredential[0]"}}
				c := e.createVP(t, map[string]any{"did": f.verifier, "presentationDefinition": pd("LandTitle")})
				ro := w.fetch(t, c.URI)
				if st, body := w.answerPE(t, ro, h.jwtVP(t, ro.ClientID, ro.Nonce, accr), submission("accr-pd", entry)); st != 200 {
					t.Fatalf("answer: got %d %v; want 200", st, body)
				}
				_, r := e.vpResult(t, e.key, c.ID)
				got := r.VerifiedClaims["accreditation"]
				if r.Status != "verified" || len(got) != 1 || got[0].Format != "jwt_vc_json" || len(got[0].Claims) != 2 || got[0].Claims[1].Value != "LandTitle" {
					t.Fatalf("result %+v; want verified with type and accreditedFor", r)
				}
				if !slices.Contains(r.Checks, "presexch") {
					t.Errorf("checks %v lack presexch", r.Checks)
				}
				// presexch refuses the same credential for another type, with the field that fails.
				c = e.createVP(t, map[string]any{"did": f.verifier, "presentationDefinition": pd("ResidentCredential")})
				ro = w.fetch(t, c.URI)
				st, body := w.answerPE(t, ro, h.jwtVP(t, ro.ClientID, ro.Nonce, accr), submission("accr-pd", entry))
				desc, _ := body["error_description"].(string)
				if st != 400 || !strings.Contains(desc, "presexch: the credential does not satisfy input descriptor accreditation") || !strings.Contains(desc, "field 1") {
					t.Errorf("other type: got %d %v; want 400 naming presexch and field 1", st, body)
				}
				if _, r := e.vpResult(t, e.key, c.ID); r.Status != "failed" || r.VerifiedClaims != nil {
					t.Errorf("result %+v; want failed without claims", r)
				}
			})

			t.Run("ldp_vc (VC 2.0), own evaluation", func(t *testing.T) {
				pd := map[string]any{"id": "ldp-pd", "input_descriptors": []any{map[string]any{"id": "resident",
					"format": map[string]any{"ldp_vc": map[string]any{"proof_type": []any{"DataIntegrityProof"}}},
					"constraints": map[string]any{"fields": []any{
						map[string]any{"path": []any{"$.credentialSubject.district"}, "filter": map[string]any{"const": "Mitte"}},
						map[string]any{"path": []any{"$.credentialSubject.nickname"}, "optional": true},
					}}}}}
				c := e.createVP(t, map[string]any{"did": f.verifier, "presentationDefinition": pd})
				ro := w.fetch(t, c.URI)
				vp := h.ldpVP(t, h.did, ro.Nonce, ro.ClientID, f.ldpResident)
				entry := map[string]any{"id": "resident", "format": "ldp_vp", "path": "$[0]",
					"path_nested": map[string]any{"format": "ldp_vc", "path": "$.verifiableCredential[0]"}}
				if st, body := w.answerPE(t, ro, []any{vp}, submission("ldp-pd", entry)); st != 200 {
					t.Fatalf("answer: got %d %v; want 200", st, body)
				}
				_, r := e.vpResult(t, e.key, c.ID)
				got := r.VerifiedClaims["resident"]
				if r.Status != "verified" || len(got) != 1 || len(got[0].Claims) != 1 || got[0].Claims[0].Value != "Mitte" || slices.Contains(r.Checks, "presexch") {
					t.Fatalf("result %+v; want verified with the district only, not by presexch", r)
				}
			})

			t.Run("submissions that do not satisfy the definition", func(t *testing.T) {
				two := map[string]any{"id": "two", "input_descriptors": []any{
					residentPD["input_descriptors"].([]any)[0],
					map[string]any{"id": "other", "constraints": map[string]any{"fields": []any{map[string]any{"path": []any{"$.name"}}}}},
				}}
				kreuzberg := map[string]any{"id": "kreuzberg", "input_descriptors": []any{map[string]any{"id": "resident",
					"constraints": map[string]any{"fields": []any{map[string]any{"path": []any{"$.district"}, "filter": map[string]any{"enum": []any{"Kreuzberg"}}}}}}}}
				for _, tc := range []struct {
					name string
					pd   map[string]any
					sub  func(ro *oid4vp.RequestObject) map[string]any
					pres func(ro *oid4vp.RequestObject) any
					want string
					// decided: the answer was well formed, so the request failed.
					decided bool
				}{
					{"missing descriptor", two, func(*oid4vp.RequestObject) map[string]any { return submission("two", sdEntry) }, nil,
						`does not map input descriptor "other"`, false},
					{"wrong definition id", residentPD, func(*oid4vp.RequestObject) map[string]any { return submission("another", sdEntry) }, nil,
						"definition_id", false},
					{"unknown descriptor", residentPD, func(*oid4vp.RequestObject) map[string]any {
						return submission("resident-pd", sdEntry, map[string]any{"id": "x", "format": "dc+sd-jwt", "path": "$"})
					}, nil, `"x" is not an input descriptor`, false},
					{"value the filter refuses", kreuzberg, func(*oid4vp.RequestObject) map[string]any { return submission("kreuzberg", sdEntry) }, nil,
						"field 0: the value at $.district does not pass the filter", true},
					{"more disclosed than limit_disclosure allows", residentPD, nil, func(ro *oid4vp.RequestObject) any {
						p, _ := sdjwt.Present(f.sdResident, []string{"/district", "/name"}, &sdjwt.KeyBinding{Signer: h.key, Audience: ro.ClientID, Nonce: ro.Nonce})
						return p
					}, "limit_disclosure is required, and the presentation discloses name", true},
					{"claim not disclosed", kreuzberg, func(*oid4vp.RequestObject) map[string]any { return submission("kreuzberg", sdEntry) }, func(ro *oid4vp.RequestObject) any {
						p, _ := sdjwt.Present(f.sdResident, []string{"/name"}, &sdjwt.KeyBinding{Signer: h.key, Audience: ro.ClientID, Nonce: ro.Nonce})
						return p
					}, "none of $.district is disclosed", true},
					{"format the descriptor does not accept", residentPD, func(*oid4vp.RequestObject) map[string]any {
						return submission("resident-pd", map[string]any{"id": "resident", "format": "ldp_vp", "path": "$",
							"path_nested": map[string]any{"format": "ldp_vc", "path": "$.verifiableCredential[0]"}})
					}, func(ro *oid4vp.RequestObject) any { return h.ldpVP(t, h.did, ro.Nonce, ro.ClientID, f.ldpResident) },
						"accepts [dc+sd-jwt], presented as ldp_vc", true},
					{"path selecting nothing", residentPD, func(*oid4vp.RequestObject) map[string]any {
						return submission("resident-pd", map[string]any{"id": "resident", "format": "dc+sd-jwt", "path": "$[3]"})
					}, nil, "selects no presentation", true},
				} {
					t.Run(tc.name, func(t *testing.T) {
						c := e.createVP(t, map[string]any{"did": f.verifier, "presentationDefinition": tc.pd})
						ro := w.fetch(t, c.URI)
						var p any
						if tc.pres != nil {
							p = tc.pres(ro)
						} else {
							p, _ = sdjwt.Present(f.sdResident, []string{"/district"}, &sdjwt.KeyBinding{Signer: h.key, Audience: ro.ClientID, Nonce: ro.Nonce})
						}
						sub := submission("resident-pd", sdEntry)
						if tc.sub != nil {
							sub = tc.sub(ro)
						}
						st, body := w.answerPE(t, ro, p, sub)
						desc, _ := body["error_description"].(string)
						if st != 400 || body["error"] != "invalid_request" || !strings.Contains(desc, tc.want) {
							t.Errorf("got %d %v; want 400 invalid_request saying %q", st, body, tc.want)
						}
						wantStatus := "pending"
						if tc.decided {
							wantStatus = "failed"
						}
						if _, r := e.vpResult(t, e.key, c.ID); r.Status != wantStatus {
							t.Errorf("request status %s; want %s", r.Status, wantStatus)
						}
					})
				}
			})

			t.Run("a DCQL request refuses a presentation_submission", func(t *testing.T) {
				c := e.createVP(t, map[string]any{"did": f.verifier, "template": "residency"})
				ro := w.fetch(t, c.URI)
				p, _ := sdjwt.Present(f.sdResident, []string{"/district"}, &sdjwt.KeyBinding{Signer: h.key, Audience: ro.ClientID, Nonce: ro.Nonce})
				tok, _ := json.Marshal(map[string]any{"residency_sd_jwt": []any{p}})
				st, body := w.answerPE(t, ro, string(tok), submission("x", sdEntry))
				if st != 400 || !strings.Contains(body["error_description"].(string), "presentation_submission") {
					t.Errorf("got %d %v; want 400 naming presentation_submission", st, body)
				}
			})

			t.Run("malformed and unsupported definitions", func(t *testing.T) {
				desc := func(extra string) string {
					return `{"id":"d","constraints":{"fields":[{"path":["$.district"]` + extra + `}]}}`
				}
				for _, tc := range []struct{ pd, field string }{
					{`{"input_descriptors":[` + desc("") + `]}`, "/presentationDefinition/id"},
					{`{"id":"x","input_descriptors":[]}`, "/presentationDefinition/input_descriptors"},
					{`{"id":"x","input_descriptors":[` + desc("") + `],"submission_requirements":[{"rule":"all","from":"A"}]}`, "/presentationDefinition/submission_requirements"},
					{`{"id":"x","input_descriptors":[` + desc("") + `],"frame":{}}`, "/presentationDefinition/frame"},
					{`{"id":"x","format":{"mso_mdoc":{}},"input_descriptors":[` + desc("") + `]}`, "/presentationDefinition/format/mso_mdoc"},
					{`{"id":"x","input_descriptors":[{"id":"d","schema":[{"uri":"x"}],"constraints":{"fields":[{"path":["$.a"]}]}}]}`, "/presentationDefinition/input_descriptors/0/schema"},
					{`{"id":"x","input_descriptors":[{"id":"d"}]}`, "/presentationDefinition/input_descriptors/0/constraints"},
					{`{"id":"x","input_descriptors":[{"id":"d","constraints":{"fields":[]}}]}`, "/presentationDefinition/input_descriptors/0/constraints/fields"},
					{`{"id":"x","input_descriptors":[{"id":"d","format":{"ldp_vc":{}},"constraints":{"limit_disclosure":"required","fields":[{"path":["$.a"]}]}}]}`, "/presentationDefinition/input_descriptors/0/constraints/limit_disclosure"},
					{`{"id":"x","input_descriptors":[{"id":"d","constraints":{"is_holder":[],"fields":[{"path":["$.a"]}]}}]}`, "/presentationDefinition/input_descriptors/0/constraints/is_holder"},
					{`{"id":"x","input_descriptors":[{"id":"d","constraints":{"fields":[{"path":[]}]}}]}`, "/presentationDefinition/input_descriptors/0/constraints/fields/0/path"},
					{`{"id":"x","input_descriptors":[{"id":"d","constraints":{"fields":[{"path":["$..district"]}]}}]}`, "/presentationDefinition/input_descriptors/0/constraints/fields/0/path/0"},
					{`{"id":"x","input_descriptors":[{"id":"d","constraints":{"fields":[{"path":["$.a[?(@.b)]"]}]}}]}`, "/presentationDefinition/input_descriptors/0/constraints/fields/0/path/0"},
					{`{"id":"x","input_descriptors":[` + desc(`,"filter":{"type":"array","items":{}}`) + `]}`, "/presentationDefinition/input_descriptors/0/constraints/fields/0/filter/items"},
					{`{"id":"x","input_descriptors":[` + desc(`,"filter":{"not":{"minItems":1}}`) + `]}`, "/presentationDefinition/input_descriptors/0/constraints/fields/0/filter/not/minItems"},
					{`{"id":"x","input_descriptors":[` + desc(`,"filter":{"type":7}`) + `]}`, "/presentationDefinition/input_descriptors/0/constraints/fields/0/filter"},
					{`{"id":"x","input_descriptors":[` + desc(`,"predicate":"required"`) + `]}`, "/presentationDefinition/input_descriptors/0/constraints/fields/0/predicate"},
					{`{"id":"x","input_descriptors":[` + desc("") + `,` + desc("") + `]}`, "/presentationDefinition/input_descriptors/1/id"},
					{`{"id":"x","input_descriptors":[` + desc("") + `],"purpose":7}`, "/presentationDefinition"},
				} {
					body := `{"did":"` + f.verifier + `","presentationDefinition":` + tc.pd + `}`
					resp, b := e.do(t, http.MethodPost, "/verifier/requests", e.key, body)
					var p struct{ Field string }
					json.Unmarshal(b, &p)
					if resp.StatusCode != 400 || p.Field != tc.field || resp.Header.Get("Content-Type") != "application/problem+json" {
						t.Errorf("%s: got %d %s %s; want 400 problem+json naming %s", tc.pd, resp.StatusCode, resp.Header.Get("Content-Type"), b, tc.field)
					}
				}
				// A definition as the EUDI reference verifier writes one is accepted.
				eudi := `{"id":"32f54163-7166-48f1-93d8-ff217bdb0653","input_descriptors":[{"id":"eu.europa.ec.eudi.pid.1","name":"EUDI PID",
					"purpose":"We need to verify your identity","format":{"vc+sd-jwt":{"sd-jwt_alg_values":["ES256"],"kb-jwt_alg_values":["ES256"]}},
					"constraints":{"fields":[{"path":["$.vct"],"filter":{"type":"string","const":"urn:eu.europa.ec.eudi:pid:1"}},
					{"path":["$.family_name"],"intent_to_retain":false}]}}]}`
				if resp, b := e.do(t, http.MethodPost, "/verifier/requests", e.key, `{"did":"`+f.verifier+`","presentationDefinition":`+eudi+`}`); resp.StatusCode != http.StatusCreated {
					t.Errorf("EUDI-style definition: got %d %s; want 201", resp.StatusCode, b)
				}
				body := `{"did":"` + f.verifier + `","template":"residency","presentationDefinition":` + string(must(json.Marshal(residentPD))) + `}`
				if resp, b := e.do(t, http.MethodPost, "/verifier/requests", e.key, body); resp.StatusCode != 400 {
					t.Errorf("template and definition: got %d %s; want 400", resp.StatusCode, b)
				}
			})
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
