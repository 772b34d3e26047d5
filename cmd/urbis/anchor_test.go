package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestIssuedCredentialsAnchoredAcrossKill9 issues credentials with
// anchoring held back, kills the server with SIGKILL, and checks that the
// restarted server anchors every acknowledged credential and that
// `urbis credential check-anchor` accepts the proof offline (and refuses
// a tampered one).
func TestIssuedCredentialsAnchoredAcrossKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	env := testDatabaseEnv(t)
	out, err := runCLI(t, env, "agency", "create", "--name", "Land Registry", "--output", "key", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(out)

	held := map[string]string{"URBIS_ANCHOR_INTERVAL": "1h"}
	for k, v := range env {
		held[k] = v
	}
	cmd, base := startChild(t, held, dir)
	call := func(method, path, body string) (int, map[string]any, []byte) {
		t.Helper()
		code, b := httpDo(t, method, base+path, key, body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return code, m, b
	}
	_, d, _ := call("POST", "/dids", `{"method":"key","keyType":"Ed25519"}`)
	_, in, _ := call("POST", "/issuers", `{"did":"`+d["did"].(string)+`","format":"jwt_vc_json","types":["LandTitleCredential"]}`)
	var tokens []string
	for range 5 {
		code, m, b := call("POST", "/issuers/"+in["id"].(string)+"/credentials/issue", `{"credential":{"@context":["https://www.w3.org/2018/credentials/v1"],
			"type":["VerifiableCredential","LandTitleCredential"],"credentialSubject":{"id":"did:example:alice","parcel":"12-345"}}}`)
		if code != http.StatusCreated {
			t.Fatalf("issue: got %d %s", code, b)
		}
		_, tok, _ := strings.Cut(m["verifiableCredential"].(map[string]any)["id"].(string), ",")
		tokens = append(tokens, tok)
	}
	// Acknowledged, not yet anchored (the first round ran at start, before any issuance).
	if code, m, b := call("GET", "/credentials/"+leafOfToken(tokens[0])+"/anchor", ""); code != http.StatusAccepted || m["status"] != "pending" {
		t.Fatalf("before the kill: got %d %s; want 202 pending", code, b)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	fast := map[string]string{"URBIS_ANCHOR_INTERVAL": "50ms"}
	for k, v := range env {
		fast[k] = v
	}
	cmd, base = startChild(t, fast, dir)
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	var proof []byte
	for i, tok := range tokens {
		deadline := time.Now().Add(20 * time.Second)
		for {
			code, m, b := call("GET", "/credentials/"+url.PathEscape(leafOfToken(tok))+"/anchor", "")
			if code == http.StatusOK && m["status"] == "anchored" {
				if i == 2 {
					proof = b
				}
				break
			}
			if code != http.StatusAccepted || time.Now().After(deadline) {
				t.Fatalf("credential %d after restart: got %d %s; want it anchored", i, code, b)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	files := t.TempDir()
	proofFile, credFile, badFile := filepath.Join(files, "proof.json"), filepath.Join(files, "credential.jwt"), filepath.Join(files, "bad.json")
	if err := os.WriteFile(proofFile, proof, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(credFile, []byte(tokens[2]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	genesis := filepath.Join(dir, "genesis.json")
	out, err = runCLI(t, nil, "credential", "check-anchor", proofFile, "--genesis", genesis, "--credential", credFile)
	if err != nil || !strings.HasPrefix(out, "OK: leaf "+leafOfToken(tokens[2])) || !strings.Contains(out, "anchored by "+d["did"].(string)) {
		t.Errorf("check-anchor: got %q, %v; want OK naming the leaf and the issuer DID", out, err)
	}
	if err := os.WriteFile(credFile, []byte(tokens[1]), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, nil, "credential", "check-anchor", proofFile, "--genesis", genesis, "--credential", credFile); err == nil || !strings.Contains(out, "INVALID: the credential") {
		t.Errorf("check-anchor with another credential: got %q, %v; want INVALID", out, err)
	}
	var m map[string]any
	_ = json.Unmarshal(proof, &m)
	m["leafIndex"] = 3
	bad, _ := json.Marshal(m)
	if err := os.WriteFile(badFile, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, nil, "credential", "check-anchor", badFile, "--genesis", genesis); err == nil || !strings.Contains(out, "INVALID: the Merkle path does not lead") {
		t.Errorf("check-anchor of a tampered proof: got %q, %v; want INVALID", out, err)
	}
}

func leafOfToken(tok string) string {
	l, err := leafOfFileBytes([]byte(tok))
	if err != nil {
		panic(err)
	}
	return l
}
