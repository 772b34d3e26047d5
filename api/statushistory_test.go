package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/registry"
)

// entryAt is the body of GET /status/{listId}/entries/{index}.
type entryAt struct {
	ListId, List, Purpose string
	Index                 int
	At                    time.Time
	Value                 bool
	Since                 *time.Time
	Operation             *string
	Proof                 *registry.Proof
}

func TestStatusEntryAt(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			id := e.createIssuerWith(t, e.key, map[string]any{"did": e.newDID(t, e.key, "Ed25519"), "format": "ldp_vc",
				"types": []string{"ExampleDegreeCredential"}, "statusPurposes": []string{"revocation", "suspension"}})
			c := e.issueLDP(t, e.key, id)
			cid, _ := c["id"].(string)
			entry := statusEntry(t, c, "suspension")
			listURL, _ := entry["statusListCredential"].(string)
			listID := listURL[strings.LastIndex(listURL, "/")+1:]
			index, _ := entry["statusListIndex"].(string)
			get := func(t *testing.T, path string) (int, entryAt, string) {
				t.Helper()
				resp, b := e.do(t, http.MethodGet, path, "", "")
				var out entryAt
				if resp.StatusCode == http.StatusOK {
					if err := json.Unmarshal(b, &out); err != nil {
						t.Fatalf("%s: %s", path, b)
					}
				}
				return resp.StatusCode, out, string(b)
			}
			at := func(tm time.Time) string {
				return "/status/" + listID + "/entries/" + index + "?at=" + url.QueryEscape(tm.UTC().Format(time.RFC3339Nano))
			}

			before := time.Now().Add(-time.Second)
			if code, b := e.setStatus(t, e.key, cid, "suspended"); code != http.StatusOK {
				t.Fatalf("suspend: %d %s", code, b)
			}
			code, suspended, b := get(t, at(time.Now().Add(time.Second)))
			if code != http.StatusOK || !suspended.Value || suspended.Purpose != "suspension" || suspended.List != listURL || suspended.Since == nil || suspended.Operation == nil || suspended.Proof == nil {
				t.Fatalf("after suspending: got %d %s; want value true with since, operation and proof", code, b)
			}
			if suspended.Proof.Hash != *suspended.Operation {
				t.Errorf("proof of %s; want the proof of the operation %s", suspended.Proof.Hash, *suspended.Operation)
			}
			if err := registry.CheckProof(*suspended.Proof, e.chain.genesis); err != nil {
				t.Errorf("CheckProof: %v; want the proof to check against the genesis", err)
			}
			if op, err := registry.ParseSigned(suspended.Proof.Operation); err != nil || op.Op.Kind != registry.KindStatusUpdate {
				t.Errorf("proven operation: %+v, %v; want a status.update", op.Op, err)
			}

			if code, b := e.setStatus(t, e.key, cid, "active"); code != http.StatusOK {
				t.Fatalf("reinstate: %d %s", code, b)
			}
			tests := []struct {
				name  string
				path  string
				value bool
				since bool
			}{
				{"before any change", at(before), false, false},
				{"at the suspension", at(*suspended.Since), true, true},
				{"now, reinstated", "/status/" + listID + "/entries/" + index, false, true},
				{"purpose named", at(*suspended.Since) + "&purpose=suspension", true, true},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					code, got, b := get(t, tt.path)
					if code != http.StatusOK || got.Value != tt.value || (got.Since != nil) != tt.since || (got.Proof != nil) != tt.since {
						t.Errorf("got %d %s; want value %v, since and proof %v", code, b, tt.value, tt.since)
					}
				})
			}

			bad := []struct {
				name, path string
				status     int
				field      string
			}{
				{"index not a number", "/status/" + listID + "/entries/first", 400, "index"},
				{"negative index", "/status/" + listID + "/entries/-1", 400, "index"},
				{"index outside the list", "/status/" + listID + "/entries/99999999", 400, "index"},
				{"unknown purpose", at(before) + "&purpose=refresh", 400, "purpose"},
				{"the other purpose", at(before) + "&purpose=revocation", 400, "purpose"},
				{"at not a time", "/status/" + listID + "/entries/" + index + "?at=yesterday", 400, "at"},
				{"unknown list", "/status/sl_nosuchlist/entries/0", 404, ""},
			}
			for _, tt := range bad {
				t.Run(tt.name, func(t *testing.T) {
					resp, b := e.do(t, http.MethodGet, tt.path, "", "")
					var p struct{ Field string }
					json.Unmarshal(b, &p)
					if resp.StatusCode != tt.status || p.Field != tt.field || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
						t.Errorf("got %d %s; want a %d problem naming %q", resp.StatusCode, b, tt.status, tt.field)
					}
				})
			}
		})
	}
}
