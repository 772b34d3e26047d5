package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/api"
)

type issuedList struct {
	Items []struct {
		Id, IssuerId, Status, Reason string
		StatusPurposes               []string
		StatusChangedAt              *string
	}
}

func (e *env) listCredentials(t *testing.T, key, query string) issuedList {
	t.Helper()
	resp, b := e.do(t, http.MethodGet, "/credentials"+query, key, "")
	var out issuedList
	if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /credentials%s: got %d %s; want 200", query, resp.StatusCode, b)
	}
	return out
}

// TestListCredentials: an agency's issued credentials, newest first, with
// their status and the reason of the last change; search by id and
// instance; bad parameters are 400 naming them.
func TestListCredentials(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			d := e.newDID(t, e.key, "Ed25519")
			in := e.createIssuerWith(t, e.key, map[string]any{"did": d, "format": "ldp_vc",
				"types": []string{"ListedCredential"}, "statusPurposes": []string{"revocation", "suspension"}})
			other := e.createIssuerWith(t, e.key, map[string]any{"did": d, "format": "jwt_vc_json", "types": []string{"ListedCredential"}})
			var ids []string
			for i := range 3 {
				c := issued(t, e.issue(t, e.key, in, credentialFor("ldp_vc", "", "ListedCredential", map[string]any{"n": i}), http.StatusCreated))
				ids = append(ids, c["id"].(string))
			}
			e.issue(t, e.key, other, credentialFor("jwt_vc_json", "", "ListedCredential", map[string]any{"n": 9}), http.StatusCreated)
			setStatus := func(id, status, reason string, want int) {
				t.Helper()
				b, _ := json.Marshal(map[string]any{"credentialId": id, "reason": reason,
					"credentialStatus": []any{map[string]any{"type": "BitstringStatusListEntry", "status": status}}})
				if resp, got := e.do(t, http.MethodPost, "/credentials/status", e.key, string(b)); resp.StatusCode != want {
					t.Fatalf("set %s %s: got %d %s; want %d", id, status, resp.StatusCode, got, want)
				}
			}
			setStatus(ids[0], "revoked", "issued in error", http.StatusOK)
			setStatus(ids[1], "suspended", "under review", http.StatusOK)
			setStatus(ids[2], "suspended", "", http.StatusOK)
			setStatus(ids[2], "active", "review done", http.StatusOK)
			setStatus(ids[1], "revoked", strings.Repeat("x", 301), http.StatusBadRequest)

			// The JWT-VC instance's credential has a revocation entry (the
			// default purposes), and is the newest.
			if got := e.listCredentials(t, e.key, ""); len(got.Items) != 4 || got.Items[0].IssuerId != other || got.Items[0].Status != "active" {
				t.Fatalf("got %+v; want 4 credentials, the JWT-VC first", got.Items)
			}
			got := e.listCredentials(t, e.key, "?issuerId="+in)
			if len(got.Items) != 3 {
				t.Fatalf("issuerId=%s: got %+v; want its 3 credentials", in, got.Items)
			}
			want := map[string][2]string{ids[0]: {"revoked", "issued in error"}, ids[1]: {"suspended", "under review"}, ids[2]: {"active", "review done"}}
			for i, it := range got.Items {
				if w := want[it.Id]; it.Status != w[0] || it.Reason != w[1] || it.StatusChangedAt == nil || it.IssuerId != in {
					t.Errorf("item %d %+v: want status %q, reason %q, a change time, instance %s", i, it, w[0], w[1], in)
				}
				if strings.Join(it.StatusPurposes, ",") != "revocation,suspension" {
					t.Errorf("item %d purposes %v; want revocation,suspension", i, it.StatusPurposes)
				}
			}
			if got.Items[0].Id != ids[2] || got.Items[2].Id != ids[0] {
				t.Errorf("order %v; want newest first (%s … %s)", got.Items, ids[2], ids[0])
			}

			// Search: part of the id, in other case; the instance; limit.
			part := strings.ToUpper(ids[1][len(ids[1])-12:])
			if got := e.listCredentials(t, e.key, "?q="+url.QueryEscape(part)); len(got.Items) != 1 || got.Items[0].Id != ids[1] {
				t.Errorf("q=%s: got %+v; want only %s", part, got.Items, ids[1])
			}
			if got := e.listCredentials(t, e.key, "?q="+url.QueryEscape("%")); len(got.Items) != 0 {
				t.Errorf("q=%%: got %+v; want none (no wildcard)", got.Items)
			}
			if got := e.listCredentials(t, e.key, "?issuerId="+other); len(got.Items) != 1 || got.Items[0].StatusPurposes[0] != "revocation" {
				t.Errorf("issuerId=%s: got %+v; want its one credential", other, got.Items)
			}
			if got := e.listCredentials(t, e.key, "?issuerId="+in+"&limit=2"); len(got.Items) != 2 || got.Items[0].Id != ids[2] {
				t.Errorf("limit=2: got %+v; want the 2 newest", got.Items)
			}
			for q, field := range map[string]string{"?limit=0": "limit", "?limit=201": "limit", "?limit=x": "limit",
				"?q=" + strings.Repeat("a", 201): "q"} {
				resp, b := e.do(t, http.MethodGet, "/credentials"+q, e.key, "")
				if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), field) {
					t.Errorf("GET /credentials%s: got %d %s; want 400 naming %s", q[:min(len(q), 20)], resp.StatusCode, b, field)
				}
			}
			if resp, b := e.do(t, http.MethodGet, "/credentials", "", ""); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("no key: got %d %s; want 401", resp.StatusCode, b)
			}
		})
	}
}

// TestListSchemas: the schemas of a type, oldest first; none for an
// ungoverned type; no type is 400.
func TestListSchemas(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			signer := e.newDID(t, e.key, "Ed25519")
			e.accredit(t, signer, "ListedType")
			for _, sc := range []string{`{"type":"object","required":["a"]}`, `{"type":"object","required":["b"]}`} {
				if resp, b := e.registerSchema(t, e.key, signer, "ListedType", sc); resp.StatusCode != http.StatusCreated {
					t.Fatalf("register: %d %s", resp.StatusCode, b)
				}
			}
			resp, b := e.do(t, http.MethodGet, "/schemas?type=ListedType", "", "")
			var out struct {
				Items []struct {
					Type   string
					Schema map[string]any
				}
			}
			if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != http.StatusOK || len(out.Items) != 2 {
				t.Fatalf("got %d %s; want 200 with 2 schemas", resp.StatusCode, b)
			}
			if r, _ := json.Marshal(out.Items[1].Schema["required"]); string(r) != `["b"]` || out.Items[0].Type != "ListedType" {
				t.Errorf("got %+v; want the two schemas oldest first", out.Items)
			}
			resp, b = e.do(t, http.MethodGet, "/schemas?type=NoSuchType", "", "")
			if resp.StatusCode != http.StatusOK || string(b) != `{"items":[]}` {
				t.Errorf("ungoverned type: got %d %s; want 200 with no items", resp.StatusCode, b)
			}
			resp, b = e.do(t, http.MethodGet, "/schemas", "", "")
			wantProblem(t, resp, b, http.StatusBadRequest, "")
		})
	}
}
