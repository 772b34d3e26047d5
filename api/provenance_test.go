package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/civic/provenance"
)

// attester is a DID of the test agency accredited for some attestation
// types, with an issuer instance of ProvenanceAttestation in format.
type attester struct {
	did, instance, format string
}

func newAttester(t *testing.T, e *env, format string, types ...string) attester {
	t.Helper()
	a := attester{did: e.newDID(t, e.key, "Ed25519"), format: format}
	if len(types) > 0 {
		e.accredit(t, a.did, types...)
	}
	a.instance = e.createIssuerWith(t, e.key, map[string]any{"did": a.did, "format": format,
		"types": []string{provenance.Type}, "statusPurposes": []string{"revocation"}})
	return a
}

// attest issues an attestation and returns it (a token or an object) and its hash.
func (a attester) attest(t *testing.T, e *env, typ, batch string, parents []string, extra map[string]any) (any, string) {
	t.Helper()
	if parents == nil {
		parents = []string{}
	}
	cred := credentialFor(a.format, "", provenance.Type, map[string]any{"batch": batch, "attestationType": typ, "parents": parents})
	for k, v := range extra {
		cred[k] = v
	}
	v := issued(t, e.issue(t, e.key, a.instance, cred, http.StatusCreated))
	var c any = v
	if id, _ := v["id"].(string); strings.HasPrefix(id, "data:application/jwt,") {
		c = strings.TrimPrefix(id, "data:application/jwt,")
	}
	h, err := provenance.Hash(c)
	if err != nil {
		t.Fatal(err)
	}
	return c, h
}

type provenanceReport struct {
	Verified bool
	Leaf     string
	Links    []struct {
		Hash     string
		Verified bool
		Checks   []string
		Errors   []struct{ Check, Detail string }
	}
}

func (e *env) verifyChain(t *testing.T, body map[string]any) (int, provenanceReport, []byte) {
	t.Helper()
	resp, b := e.land(t, http.MethodPost, "/provenance/verify", "", body)
	var r provenanceReport
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnprocessableEntity {
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("provenance report: %s", b)
		}
	}
	return resp.StatusCode, r, b
}

// failing returns "hash:check" of each failed check, in link order.
func (r provenanceReport) failing() []string {
	var out []string
	for _, l := range r.Links {
		for _, f := range l.Errors {
			out = append(out, l.Hash[:8]+":"+f.Check)
		}
	}
	return out
}

// TestProvenanceChain: a farm's organic origin, a mill's chain of custody
// that builds on it, and a shop's carbon footprint that builds on that
// verify as a chain; each attack on a link is reported on that link.
func TestProvenanceChain(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			farmer := newAttester(t, e, "jwt_vc_json", "OrganicOriginAttestation")
			miller := newAttester(t, e, "ldp_vc", "ChainOfCustodyAttestation")
			grocer := newAttester(t, e, "jwt_vc_json", "CarbonFootprintAttestation")
			rogue := newAttester(t, e, "jwt_vc_json")

			farm, hFarm := farmer.attest(t, e, "OrganicOriginAttestation", "wheat-2026-F1", nil, nil)
			mill, hMill := miller.attest(t, e, "ChainOfCustodyAttestation", "flour-M7", []string{hFarm}, nil)
			shop, hShop := grocer.attest(t, e, "CarbonFootprintAttestation", "bread-S3", []string{hMill}, nil)

			code, r, b := e.verifyChain(t, map[string]any{"credentials": []any{mill, shop, farm}})
			if code != http.StatusOK || !r.Verified || r.Leaf != hShop || len(r.Links) != 3 {
				t.Fatalf("good chain: got %d %s; want 200, verified, leaf %s", code, b, hShop)
			}
			for _, l := range r.Links {
				for _, c := range []string{"proof", "attester", "parents", "cycle", "chain"} {
					if !has(l.Checks, c) {
						t.Errorf("link %s: checks %v lack %s", l.Hash, l.Checks, c)
					}
				}
			}

			// The issue answer's EnvelopedVerifiableCredential is the same credential.
			enveloped := map[string]any{"@context": []any{"https://www.w3.org/ns/credentials/v2"}, "type": "EnvelopedVerifiableCredential",
				"id": "data:application/jwt," + farm.(string)}
			if code, r, b := e.verifyChain(t, map[string]any{"credentials": []any{enveloped}}); code != http.StatusOK || r.Leaf != hFarm {
				t.Errorf("enveloped farm attestation: got %d %s; want 200 with leaf %s", code, b, hFarm)
			}

			tampered := map[string]any{}
			for k, v := range mill.(map[string]any) {
				tampered[k] = v
			}
			sub := map[string]any{}
			for k, v := range tampered["credentialSubject"].(map[string]any) {
				sub[k] = v
			}
			sub["batch"] = "flour-FAKE"
			tampered["credentialSubject"] = sub
			hTampered, _ := provenance.Hash(tampered)

			halal, hHalal := farmer.attest(t, e, "HalalAttestation", "lamb-9", nil, nil)
			byRogue, hRogue := rogue.attest(t, e, "OrganicOriginAttestation", "wheat-X", nil, nil)
			backdated, hBack := miller.attest(t, e, "ChainOfCustodyAttestation", "flour-M8", []string{hFarm}, map[string]any{"validFrom": "2020-01-01T00:00:00Z"})
			farm2, hFarm2 := farmer.attest(t, e, "OrganicOriginAttestation", "wheat-2026-F2", nil, map[string]any{"id": "urn:example:farm2:" + e.name})
			mill2, _ := miller.attest(t, e, "ChainOfCustodyAttestation", "flour-M9", []string{hFarm2}, nil)
			badType, hBadType := farmer.attest(t, e, "MagicAttestation", "wheat-Y", nil, nil)

			cases := []struct {
				name  string
				body  map[string]any
				want  []string // failing "hash8:check", in link order
				setup func(t *testing.T)
			}{
				{"missing parent", map[string]any{"credentials": []any{shop, mill}}, []string{hMill[:8] + ":parents"}, nil},
				{"tampered link", map[string]any{"credentials": []any{shop, tampered, farm}, "leaf": hShop},
					[]string{hShop[:8] + ":parents", hTampered[:8] + ":proof", hTampered[:8] + ":chain", hFarm[:8] + ":chain"}, nil},
				{"issuer not accredited for the type", map[string]any{"credentials": []any{halal}}, []string{hHalal[:8] + ":attester"}, nil},
				{"issuer not accredited at all", map[string]any{"credentials": []any{byRogue}}, []string{hRogue[:8] + ":attester"}, nil},
				{"unknown attestation type", map[string]any{"credentials": []any{badType}}, []string{hBadType[:8] + ":attestation"}, nil},
				{"parent issued after its child", map[string]any{"credentials": []any{backdated, farm}},
					[]string{hBack[:8] + ":attester", hBack[:8] + ":parents"}, nil},
				{"an unrelated credential", map[string]any{"credentials": []any{shop, mill, farm, farm2}, "leaf": hShop}, []string{hFarm2[:8] + ":chain"}, nil},
				{"revoked parent", map[string]any{"credentials": []any{mill2, farm2}}, []string{hFarm2[:8] + ":status"}, func(t *testing.T) {
					resp, b := e.land(t, http.MethodPost, "/credentials/status", e.key, map[string]any{"credentialId": "urn:example:farm2:" + e.name,
						"credentialStatus": []any{map[string]any{"type": "BitstringStatusListEntry", "status": "revoked"}}})
					if resp.StatusCode != http.StatusOK {
						t.Fatalf("revoke: %d %s", resp.StatusCode, b)
					}
				}},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					if c.setup != nil {
						c.setup(t)
					}
					code, r, b := e.verifyChain(t, c.body)
					if code != http.StatusUnprocessableEntity || r.Verified {
						t.Fatalf("got %d %s; want 422, not verified", code, b)
					}
					if got := strings.Join(r.failing(), " "); got != strings.Join(c.want, " ") {
						t.Errorf("failing checks: got %s; want %s\n%s", got, strings.Join(c.want, " "), b)
					}
				})
			}

			// Requests that are no chain at all.
			for _, c := range []struct {
				name  string
				body  string
				field string
			}{
				{"no credentials", `{"credentials":[]}`, ""},
				{"two leaves", `{"credentials":[` + jsonOf(shop) + `,` + jsonOf(halal) + `]}`, "leaf"},
				{"the same credential twice", `{"credentials":[` + jsonOf(farm) + `,` + jsonOf(farm) + `]}`, "credentials/1"},
				{"an unknown leaf", `{"credentials":[` + jsonOf(farm) + `],"leaf":"` + strings.Repeat("0", 64) + `"}`, "leaf"},
			} {
				t.Run(c.name, func(t *testing.T) {
					resp, b := e.do(t, http.MethodPost, "/provenance/verify", "", c.body)
					wantProblem(t, resp, b, http.StatusBadRequest, c.field)
				})
			}
		})
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
