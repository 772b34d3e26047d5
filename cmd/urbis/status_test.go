package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestServeStatusLists issues through the real program and checks that
// the status list is published under --public-url and resolved locally
// by the status check.
func TestServeStatusLists(t *testing.T) {
	dir := t.TempDir()
	out, err := runCLI(t, nil, "agency", "create", "--name", "Civil Registry", "--output", "key", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(out)
	const public = "https://urbis.example"
	base, _, _ := startServe(t, nil, "--data-dir", dir, "--public-url", public)
	call := func(method, path, body string, want int) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: got %d %s; want %d", method, path, resp.StatusCode, b, want)
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		return m
	}
	d := call("POST", "/dids", `{"method":"key","keyType":"Ed25519"}`, http.StatusCreated)
	in := call("POST", "/issuers", `{"did":"`+d["did"].(string)+`","format":"ldp_vc","types":["ResidentCredential"]}`, http.StatusCreated)
	issued := call("POST", "/issuers/"+in["id"].(string)+"/credentials/issue", `{"credential":{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/undefined-terms/v2"],
		"type":["VerifiableCredential","ResidentCredential"],"credentialSubject":{"id":"did:example:alice","name":"Alice"}}}`, http.StatusCreated)
	vc := issued["verifiableCredential"].(map[string]any)
	entry, _ := vc["credentialStatus"].(map[string]any)
	listURL, _ := entry["statusListCredential"].(string)
	listID, ok := strings.CutPrefix(listURL, public+"/status/")
	if !ok {
		t.Fatalf("statusListCredential %q; want it under %s/status/", listURL, public)
	}
	if l := call("GET", "/status/"+listID, "", http.StatusOK); l["id"] != listURL {
		t.Errorf("list id %v; want %s", l["id"], listURL)
	}
	body, _ := json.Marshal(map[string]any{"verifiableCredential": vc})
	if res := call("POST", "/credentials/verify", string(body), http.StatusOK); !strings.Contains(strings.Join(toStrings(res["checks"]), ","), "status") {
		t.Errorf("checks %v; want status among them", res["checks"])
	}
	call("POST", "/credentials/status", `{"credentialId":"`+vc["id"].(string)+`","credentialStatus":[{"type":"BitstringStatusListEntry","status":"revoked"}]}`, http.StatusOK)
	call("POST", "/credentials/verify", string(body), http.StatusUnprocessableEntity)
}

func toStrings(v any) []string {
	var out []string
	xs, _ := v.([]any)
	for _, x := range xs {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
