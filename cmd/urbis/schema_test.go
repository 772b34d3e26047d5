package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSchemaRegister walks docs/CREDENTIALS.md's "Registering a schema"
// through the real commands: a schema is refused until the DID is
// accredited, then registered, and then governs issuance.
func TestSchemaRegister(t *testing.T) {
	dir := t.TempDir()
	env := testDatabaseEnv(t)
	out, err := runCLI(t, env, "agency", "create", "--name", "Civil Registry", "--output", "key", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(out)
	base, _, _ := startServe(t, env, "--data-dir", dir, "--block-interval", "20ms")
	status, b := httpDo(t, http.MethodPost, base+"/dids", key, `{"method":"key","keyType":"Ed25519"}`)
	var d struct{ Did string }
	if err := json.Unmarshal(b, &d); err != nil || status != http.StatusCreated {
		t.Fatalf("create DID: got %d %s", status, b)
	}
	file := filepath.Join(t.TempDir(), "resident.json")
	schema := `{"type":"object","required":["name","district"],"properties":{"name":{"type":"string"},"district":{"type":"string","enum":["Centre","North"]}}}`
	if err := os.WriteFile(file, []byte(schema), 0o600); err != nil {
		t.Fatal(err)
	}
	register := func(env map[string]string, args ...string) (string, error) {
		return runCLI(t, env, append([]string{"schema", "register", "--did", d.Did, "--type", "ResidentCredential", "--file", file, "--server", base}, args...)...)
	}

	if _, err := register(env); err == nil || !strings.Contains(err.Error(), "--agency-key") {
		t.Errorf("without a key: got %v; want a refusal naming --agency-key", err)
	}
	if _, err := register(env, "--agency-key", key); err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "accreditation") {
		t.Errorf("before accreditation: got %v; want 403 with the chain's reason", err)
	}
	if _, err := runCLI(t, env, "governance", "accredit", "--issuer", d.Did, "--types", "ResidentCredential", "--data-dir", dir, "--server", base); err != nil {
		t.Fatal(err)
	}
	withKey := map[string]string{"URBIS_AGENCY_KEY": key}
	for k, v := range env {
		withKey[k] = v
	}
	out, err = register(withKey)
	if err != nil || !strings.HasPrefix(out, "registered schema ") || !strings.Contains(out, "committed in block") {
		t.Fatalf("register: got %q, %v; want the schema registered", out, err)
	}
	id := strings.Fields(out)[2]
	if status, b := httpDo(t, http.MethodGet, base+"/schemas/"+id, "", ""); status != http.StatusOK || !strings.Contains(string(b), d.Did) {
		t.Errorf("GET /schemas/%s: got %d %s; want 200 naming the signer", id, status, b)
	}
	if _, err := register(withKey); err == nil || !strings.Contains(err.Error(), "409") {
		t.Errorf("the same schema again: got %v; want 409", err)
	}

	// The type is governed now.
	status, b = httpDo(t, http.MethodPost, base+"/issuers", key, `{"did":"`+d.Did+`","format":"ldp_vc","types":["ResidentCredential"]}`)
	var in struct{ Id string }
	if err := json.Unmarshal(b, &in); err != nil || status != http.StatusCreated {
		t.Fatalf("create issuer: got %d %s", status, b)
	}
	cred := func(district string) string {
		return `{"credential":{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/undefined-terms/v2"],"type":["VerifiableCredential","ResidentCredential"],
			"credentialSubject":{"id":"did:example:alice","name":"Alice","district":"` + district + `"}}}`
	}
	if status, b := httpDo(t, http.MethodPost, base+"/issuers/"+in.Id+"/credentials/issue", key, cred("Nowhere")); status != http.StatusUnprocessableEntity || !strings.Contains(string(b), `"field":"/credential/credentialSubject/district"`) {
		t.Errorf("violating claims: got %d %s; want 422 naming /credential/credentialSubject/district", status, b)
	}
	if status, b := httpDo(t, http.MethodPost, base+"/issuers/"+in.Id+"/credentials/issue", key, cred("North")); status != http.StatusCreated {
		t.Errorf("valid claims: got %d %s; want 201", status, b)
	}
}
