package main

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOID4VPWalkthrough runs docs/OID4VP.md through the real serve code
// path: a service creates a request from a template, the test holder
// answers it, and the service reads the verified district.
func TestOID4VPWalkthrough(t *testing.T) {
	dir := t.TempDir()
	env := testDatabaseEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base, _, _ := startServe(t, env, "--data-dir", filepath.Join(dir, "data"), "--addr", addr, "--public-url", "http://"+addr)

	out, err := runCLI(t, env, "agency", "create", "--name", "Town Hall", "--output", "key", "--data-dir", filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(out)
	newDID := func() string {
		code, b := httpDo(t, http.MethodPost, base+"/dids", key, `{"method":"key","keyType":"Ed25519"}`)
		var rec struct{ DID string }
		if json.Unmarshal(b, &rec); code != http.StatusCreated {
			t.Fatalf("POST /dids: %d %s", code, b)
		}
		return rec.DID
	}
	verifier, issuerDID := newDID(), newDID()
	holderKey := filepath.Join(dir, "holder.key")
	out, err = runCLI(t, nil, "holder", "did", "--key", holderKey)
	if err != nil {
		t.Fatal(err)
	}
	holder := strings.TrimSpace(out)

	code, b := httpDo(t, http.MethodPost, base+"/issuers", key, `{"did":"`+issuerDID+`","format":"dc+sd-jwt","types":["ResidentCredential"]}`)
	if code != http.StatusCreated {
		t.Fatalf("POST /issuers: %d %s", code, b)
	}
	code, b = httpDo(t, http.MethodPost, base+"/credentials/issue", key, `{"credential":{"@context":["https://www.w3.org/ns/credentials/v2"],
		"type":["VerifiableCredential","ResidentCredential"],"issuer":"`+issuerDID+`",
		"credentialSubject":{"id":"`+holder+`","district":"Mitte","name":"Alice Example"}},"options":{"keyBinding":true}}`)
	if code != http.StatusCreated {
		t.Fatalf("issue: %d %s", code, b)
	}
	credFile := filepath.Join(dir, "resident.json")
	os.WriteFile(credFile, b, 0o600)

	code, b = httpDo(t, http.MethodPost, base+"/verifier/requests", key, `{"did":"`+verifier+`","template":"residency","params":{"districts":"Mitte,Kreuzberg"}}`)
	var created struct{ ID, URI string }
	if json.Unmarshal(b, &created); code != http.StatusCreated || !strings.HasPrefix(created.URI, "openid4vp://?") {
		t.Fatalf("create request: %d %s", code, b)
	}
	code, b = httpDo(t, http.MethodGet, base+"/verifier/requests/"+created.ID+"/qr.png", "", "")
	if code != http.StatusOK || !strings.HasPrefix(string(b), "\x89PNG") {
		t.Errorf("qr.png: got %d, %d bytes; want 200 and a PNG", code, len(b))
	}

	out, err = runCLI(t, nil, "holder", "oid4vp", "--key", holderKey, created.URI, credFile)
	if err != nil || strings.TrimSpace(out) != "200 {}" {
		t.Fatalf("holder oid4vp: got %q, %v; want 200 {}", out, err)
	}
	code, b = httpDo(t, http.MethodGet, base+"/verifier/requests/"+created.ID, key, "")
	var res struct {
		Status         string
		VerifiedClaims map[string][]struct{ Claims []struct{ Value any } }
	}
	json.Unmarshal(b, &res)
	got := res.VerifiedClaims["residency_sd_jwt"]
	if code != http.StatusOK || res.Status != "verified" || len(got) != 1 || len(got[0].Claims) != 1 || got[0].Claims[0].Value != "Mitte" {
		t.Fatalf("result: %d %s; want verified with the district only", code, b)
	}
	if strings.Contains(string(b), "Alice") {
		t.Errorf("result %s holds a claim that was not requested", b)
	}
	// Answering again is refused.
	if out, err := runCLI(t, nil, "holder", "oid4vp", "--key", holderKey, created.URI, credFile); err == nil {
		t.Errorf("second answer: got %q; want an error", out)
	}
}
