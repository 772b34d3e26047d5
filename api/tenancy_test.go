package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	urbis "github.com/urbis-id/urbis"
	"github.com/urbis-id/urbis/api"
)

// Tenancy: an agency sees and changes only its own DIDs, issuer
// instances, credentials, status entries and schemas. Every secured
// operation of openapi.yaml has a case below in which agency B names a
// resource of agency A and gets 404 problem+json, as if A's resource did
// not exist; A's resource is then checked unchanged, and the same request
// made by A succeeds, so the 404 is tenancy and not a bad request. A new
// secured operation fails TestTenancyCoversEverySecuredOperation until it
// has a case.
//
// Status lists are published credentials that any verifier fetches, so
// GET /status/{listId} is public on purpose; changing a list goes through
// POST /credentials/status, which is secured and covered here.

// tenantA is agency A's resources that agency B names.
type tenantA struct {
	did       string         // issues through ldp; a schema signer, accredited
	rotatable string         // a DID B tries to rotate
	issuerID  string         // an ldp_vc instance on did, with revocation and suspension
	cred      map[string]any // a credential issued by issuerID
	credID    string
}

const tenancyType = "TenancyCredential"

func newTenantA(t *testing.T, e *env) *tenantA {
	t.Helper()
	a := &tenantA{did: e.newDID(t, e.key, "Ed25519"), rotatable: e.newDID(t, e.key, "Ed25519")}
	e.accredit(t, a.did, tenancyType)
	a.issuerID = e.createIssuerWith(t, e.key, map[string]any{"did": a.did, "format": "ldp_vc",
		"types": []string{tenancyType}, "statusPurposes": []string{"revocation", "suspension"}})
	a.cred = issued(t, e.issue(t, e.key, a.issuerID, credentialFor("ldp_vc", "", tenancyType, map[string]any{"name": "Alice"}), http.StatusCreated))
	a.credID, _ = a.cred["id"].(string)
	if a.credID == "" {
		t.Fatalf("issued credential has no id: %v", a.cred)
	}
	return a
}

// writeCase is one secured write made by agency B about agency A.
type writeCase struct {
	// notApplicable, when set, says why the operation cannot name a
	// resource of another agency; instead then checks what tenancy means
	// for it, and the other fields are unused.
	notApplicable string
	instead       func(t *testing.T, e *env, a *tenantA)
	// call makes the request as the agency holding key.
	call func(t *testing.T, e *env, a *tenantA, key string) (*http.Response, []byte)
	// unchanged checks, after B's call, that A's resource is as it was.
	unchanged func(t *testing.T, e *env, a *tenantA)
	// ownerStatus is the answer to the same call made by A.
	ownerStatus int
}

func post(path string, body any) func(*testing.T, *env, *tenantA, string) (*http.Response, []byte) {
	return func(t *testing.T, e *env, _ *tenantA, key string) (*http.Response, []byte) {
		b, _ := json.Marshal(body)
		if body == nil {
			b = nil
		}
		return e.do(t, http.MethodPost, path, key, string(b))
	}
}

// tenancyWrites has a case for every secured write of openapi.yaml, by
// "METHOD /path/template".
var tenancyWrites = map[string]func(a *tenantA) writeCase{
	"POST /dids": func(*tenantA) writeCase {
		return writeCase{
			notApplicable: "creates a new DID of the caller; the request names no existing resource",
			instead: func(t *testing.T, e *env, a *tenantA) {
				mine := e.newDID(t, e.otherKey, "Ed25519")
				resp, b := e.do(t, http.MethodGet, "/dids/"+mine, e.key, "")
				wantProblem(t, resp, b, http.StatusNotFound, "")
			},
		}
	},
	"POST /dids/{did}/rotate": func(a *tenantA) writeCase {
		return writeCase{
			call: post("/dids/"+a.rotatable+"/rotate", nil),
			unchanged: func(t *testing.T, e *env, a *tenantA) {
				resp, b := e.do(t, http.MethodGet, "/dids/"+a.rotatable, e.key, "")
				if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"status":"active"`) {
					t.Errorf("A's DID after B's rotate: got %d %s; want 200, still active", resp.StatusCode, b)
				}
			},
			ownerStatus: http.StatusCreated,
		}
	},
	"POST /issuers": func(a *tenantA) writeCase {
		return writeCase{
			call: post("/issuers", map[string]any{"did": a.did, "format": "jwt_vc_json", "types": []string{tenancyType}}),
			unchanged: func(t *testing.T, e *env, a *tenantA) {
				for _, in := range e.issuerIDs(t, e.otherKey) {
					t.Errorf("B lists issuer instance %s after the refused create; want none", in)
				}
			},
			ownerStatus: http.StatusCreated,
		}
	},
	"POST /credentials/issue": func(a *tenantA) writeCase {
		return writeCase{
			call:        post("/credentials/issue", map[string]any{"credential": credentialFor("ldp_vc", a.did, tenancyType, map[string]any{"name": "Mallory"})}),
			ownerStatus: http.StatusCreated,
		}
	},
	"POST /issuers/{issuerId}/credentials/issue": func(a *tenantA) writeCase {
		return writeCase{
			call:        post("/issuers/"+a.issuerID+"/credentials/issue", map[string]any{"credential": credentialFor("ldp_vc", "", tenancyType, map[string]any{"name": "Mallory"})}),
			ownerStatus: http.StatusCreated,
		}
	},
	"POST /credentials/status": func(a *tenantA) writeCase {
		return writeCase{
			call: post("/credentials/status", map[string]any{"credentialId": a.credID,
				"credentialStatus": []any{map[string]any{"type": "BitstringStatusListEntry", "status": "revoked"}}}),
			unchanged: func(t *testing.T, e *env, a *tenantA) {
				if set, _ := e.statusBit(t, a.cred, "revocation"); set {
					t.Errorf("A's credential is revoked after B's request; want it untouched")
				}
			},
			ownerStatus: http.StatusOK,
		}
	},
	"POST /oid4vci/offers": func(a *tenantA) writeCase {
		return writeCase{
			call:        post("/oid4vci/offers", map[string]any{"issuerId": a.issuerID, "credentialSubject": map[string]any{"name": "Mallory"}}),
			ownerStatus: http.StatusCreated,
		}
	},
	"POST /verifier/requests": func(a *tenantA) writeCase {
		return writeCase{
			// B names A's DID as the verifier that signs the request object.
			call:        post("/verifier/requests", map[string]any{"did": a.did, "template": "residency"}),
			ownerStatus: http.StatusCreated,
		}
	},
	"POST /elections": func(a *tenantA) writeCase {
		return writeCase{
			call: func(t *testing.T, e *env, a *tenantA, key string) (*http.Response, []byte) {
				return e.do(t, http.MethodPost, "/elections", key, `{"did":"`+e.electionAuthority(t, a.did)+`","id":"tenancy-poll",
					"title":"Poll","options":["yes","no"],"eligibility":{"credentialType":"ResidentCredential"},
					"opens":"2026-01-01T00:00:00Z","closes":"2099-01-01T00:00:00Z"}`)
			},
			unchanged: func(t *testing.T, e *env, a *tenantA) {
				resp, b := e.do(t, http.MethodGet, "/elections/tenancy-poll", "", "")
				wantProblem(t, resp, b, http.StatusNotFound, "")
			},
			ownerStatus: http.StatusCreated,
		}
	},
	"POST /elections/{id}/close": func(a *tenantA) writeCase {
		var id string
		return writeCase{
			call: func(t *testing.T, e *env, a *tenantA, key string) (*http.Response, []byte) {
				if id == "" {
					id = e.closedElection(t, e.electionAuthority(t, a.did))
				}
				return e.do(t, http.MethodPost, "/elections/"+id+"/close", key, "")
			},
			unchanged: func(t *testing.T, e *env, a *tenantA) {
				resp, b := e.do(t, http.MethodGet, "/elections/"+id+"/tally", "", "")
				if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"closed":false`) {
					t.Errorf("A's election after B's close: got %d %s; want 200, still open", resp.StatusCode, b)
				}
			},
			ownerStatus: http.StatusOK,
		}
	},
	"POST /schemas": func(a *tenantA) writeCase {
		schema := map[string]any{"type": "object", "properties": map[string]any{"name": map[string]any{"type": "string"}}}
		return writeCase{
			call: post("/schemas", map[string]any{"did": a.did, "type": tenancyType, "schema": schema}),
			unchanged: func(t *testing.T, e *env, a *tenantA) {
				if n, err := e.chain.db.Nonce(t.Context(), a.did); err != nil || n != 0 {
					t.Errorf("nonce of A's DID after B's request: got %d, %v; want 0 (nothing signed with A's key)", n, err)
				}
			},
			ownerStatus: http.StatusCreated,
		}
	},
	"POST /land/parcels":                                                 landTenancy("register"),
	"POST /land/parcels/{parcelId}/transfers":                            landTenancy("transfer"),
	"POST /land/parcels/{parcelId}/encumbrances":                         landTenancy("encumber"),
	"POST /land/parcels/{parcelId}/encumbrances/{encumbranceId}/release": landTenancy("release"),
}

// readCase checks, as agency B, a secured read about agency A.
type readCase func(t *testing.T, e *env, a *tenantA)

// tenancyReads has a case for every secured read of openapi.yaml.
var tenancyReads = map[string]readCase{
	"GET /agency": func(t *testing.T, e *env, a *tenantA) {
		resp, b := e.do(t, http.MethodGet, "/agency", e.otherKey, "")
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"name":"Other Agency"`) {
			t.Errorf("got %d %s; want 200 with B itself", resp.StatusCode, b)
		}
	},
	"GET /dids": func(t *testing.T, e *env, a *tenantA) {
		own := e.newDID(t, e.otherKey, "Ed25519")
		resp, b := e.do(t, http.MethodGet, "/dids", e.otherKey, "")
		var out struct{ Items []struct{ Did string } }
		if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("got %d %s; want 200", resp.StatusCode, b)
		}
		var got []string
		for _, d := range out.Items {
			got = append(got, d.Did)
		}
		if len(got) == 0 || !contains(got, own) || contains(got, a.did) || contains(got, a.rotatable) {
			t.Errorf("B lists %v; want B's %s and none of A's", got, own)
		}
	},
	"GET /dids/{did}": func(t *testing.T, e *env, a *tenantA) {
		resp, b := e.do(t, http.MethodGet, "/dids/"+a.did, e.otherKey, "")
		wantProblem(t, resp, b, http.StatusNotFound, "")
		if strings.Contains(string(b), `"keyId"`) {
			t.Errorf("404 leaks the record: %s", b)
		}
	},
	"GET /credentials/{id}/anchor": func(t *testing.T, e *env, a *tenantA) {
		path := "/credentials/" + url.PathEscape(a.credID) + "/anchor"
		resp, b := e.do(t, http.MethodGet, path, e.otherKey, "")
		wantProblem(t, resp, b, http.StatusNotFound, "")
		if strings.Contains(string(b), `"leaf"`) {
			t.Errorf("404 leaks the anchor: %s", b)
		}
		// The owner gets an answer (anchored, or pending until the next
		// anchoring round), so the 404 is tenancy's.
		if resp, b := e.do(t, http.MethodGet, path, e.key, ""); resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
			t.Errorf("owner: got %d %s; want 200 or 202", resp.StatusCode, b)
		}
	},
	"GET /verifier/requests/{requestId}": func(t *testing.T, e *env, a *tenantA) {
		created := e.createVP(t, map[string]any{"did": a.did, "template": "residency"})
		resp, b := e.do(t, http.MethodGet, "/verifier/requests/"+created.ID, e.otherKey, "")
		wantProblem(t, resp, b, http.StatusNotFound, "")
		if resp, b := e.do(t, http.MethodGet, "/verifier/requests/"+created.ID, e.key, ""); resp.StatusCode != http.StatusOK {
			t.Errorf("owner: got %d %s; want 200", resp.StatusCode, b)
		}
	},
	"GET /credentials": func(t *testing.T, e *env, a *tenantA) {
		// B searches for A's credential by its id and by A's instance:
		// nothing; A finds it with the same searches.
		for _, q := range []string{"", "?q=" + url.QueryEscape(a.credID), "?issuerId=" + url.QueryEscape(a.issuerID)} {
			for _, who := range []struct {
				key  string
				want bool
			}{{e.otherKey, false}, {e.key, true}} {
				resp, b := e.do(t, http.MethodGet, "/credentials"+q, who.key, "")
				var out struct{ Items []struct{ Id string } }
				if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("GET /credentials%s: got %d %s; want 200", q, resp.StatusCode, b)
				}
				var got []string
				for _, it := range out.Items {
					got = append(got, it.Id)
				}
				if contains(got, a.credID) != who.want {
					t.Errorf("GET /credentials%s as %s: got %v; want A's %s listed: %v", q, map[bool]string{false: "B", true: "A"}[who.want], got, a.credID, who.want)
				}
			}
		}
	},
	"GET /issuers": func(t *testing.T, e *env, a *tenantA) {
		own := e.createIssuer(t, e.otherKey, e.newDID(t, e.otherKey, "Ed25519"), "ldp_vc", tenancyType)
		got := e.issuerIDs(t, e.otherKey)
		if !contains(got, own) || contains(got, a.issuerID) || len(got) != 1 {
			t.Errorf("B lists %v; want only B's %s", got, own)
		}
		if got := e.issuerIDs(t, e.key); contains(got, own) || !contains(got, a.issuerID) {
			t.Errorf("A lists %v; want A's %s and not B's %s", got, a.issuerID, own)
		}
	},
}

// issuerIDs lists the ids of the issuer instances of the agency with key.
func (e *env) issuerIDs(t *testing.T, key string) []string {
	t.Helper()
	resp, b := e.do(t, http.MethodGet, "/issuers", key, "")
	var out struct{ Items []struct{ Id string } }
	if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /issuers: got %d %s; want 200", resp.StatusCode, b)
	}
	var ids []string
	for _, in := range out.Items {
		ids = append(ids, in.Id)
	}
	return ids
}

// securedOperations returns the operations openapi.yaml secures with the
// bearer scheme, as "METHOD /path/template": the writes, and the reads.
func securedOperations(t *testing.T) (writes, reads []string) {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(urbis.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	for p, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			sec := doc.Security
			if op.Security != nil {
				sec = *op.Security
			}
			bearer := false
			for _, req := range sec {
				_, ok := req["bearerAuth"]
				bearer = bearer || ok
			}
			if !bearer {
				continue
			}
			if method == http.MethodGet || method == http.MethodHead {
				reads = append(reads, method+" "+p)
			} else {
				writes = append(writes, method+" "+p)
			}
		}
	}
	sort.Strings(writes)
	sort.Strings(reads)
	return writes, reads
}

// TestTenancyCoversEverySecuredOperation fails when openapi.yaml secures
// an operation that has no tenancy case, or a case names an operation
// the document no longer has.
func TestTenancyCoversEverySecuredOperation(t *testing.T) {
	writes, reads := securedOperations(t)
	if len(writes) < 7 || len(reads) < 4 {
		t.Fatalf("found %d secured writes %v and %d reads %v in openapi.yaml; want at least 7 and 4", len(writes), writes, len(reads), reads)
	}
	for _, set := range []struct {
		name  string
		ops   []string
		cases []string
	}{
		{"tenancyWrites", writes, keys(tenancyWrites)}, {"tenancyReads", reads, keys(tenancyReads)},
	} {
		for _, op := range set.ops {
			if !contains(set.cases, op) {
				t.Errorf("secured operation %s has no case in %s; add one in which another agency names this agency's resource and gets 404 (or say why it cannot)", op, set.name)
			}
		}
		for _, c := range set.cases {
			if !contains(set.ops, c) {
				t.Errorf("%s has a case for %s, which openapi.yaml does not secure (or no longer has)", set.name, c)
			}
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestTenancy(t *testing.T) {
	writes, reads := securedOperations(t)
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			for _, op := range writes {
				mk, ok := tenancyWrites[op]
				if !ok {
					continue // reported by TestTenancyCoversEverySecuredOperation
				}
				t.Run(op, func(t *testing.T) {
					a := newTenantA(t, e) // fresh resources: the owner's call changes them
					c := mk(a)
					if c.notApplicable != "" {
						t.Logf("B cannot name A's resource: %s; B's new DID is B's alone", c.notApplicable)
						c.instead(t, e, a)
						return
					}
					resp, b := c.call(t, e, a, e.otherKey)
					wantProblem(t, resp, b, http.StatusNotFound, "")
					if c.unchanged != nil {
						c.unchanged(t, e, a)
					}
					if resp, b := c.call(t, e, a, e.key); resp.StatusCode != c.ownerStatus {
						t.Errorf("the same request by the owner: got %d %s; want %d", resp.StatusCode, b, c.ownerStatus)
					}
				})
			}
			a := newTenantA(t, e)
			for _, op := range reads {
				check, ok := tenancyReads[op]
				if !ok {
					continue
				}
				t.Run(op, func(t *testing.T) { check(t, e, a) })
			}
		})
	}
}
