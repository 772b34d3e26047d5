package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGovernanceAccreditAndProof walks docs/REGISTRY.md's accreditation
// and proof steps through the real commands.
func TestGovernanceAccreditAndProof(t *testing.T) {
	dataDir := t.TempDir()
	env := testDatabaseEnv(t)
	base, logs, stop := startServe(t, env, "--data-dir", dataDir, "--block-interval", "20ms")
	defer stop()
	if !strings.Contains(logs.String(), "governance_did") {
		t.Errorf("serve did not log the governance DID of its new chain:\n%s", logs.String())
	}
	w := newWallet(t, base, chainID(t, dataDir))

	out, err := runCLI(t, env, "governance", "accredit", "--issuer", w.d.id, "--types", "LandTitle,MortgageRelease",
		"--districts", "Eixample", "--until", "2030-12-31T23:59:59Z", "--data-dir", dataDir, "--server", base)
	if err != nil || !strings.Contains(out, "accredited "+w.d.id) {
		t.Fatalf("governance accredit: got %q, %v", out, err)
	}
	resp, err := http.Get(base + "/trust/issuers/" + w.d.id)
	if err != nil {
		t.Fatal(err)
	}
	var trust struct {
		Accreditations []struct {
			ID        string
			Status    string
			Types     []string
			Districts []string
		}
	}
	_ = json.NewDecoder(resp.Body).Decode(&trust)
	resp.Body.Close()
	if len(trust.Accreditations) != 1 || trust.Accreditations[0].Status != "active" || len(trust.Accreditations[0].Types) != 2 {
		t.Fatalf("got accreditations %+v; want one active for two types", trust.Accreditations)
	}

	// The proof of the accreditation checks out offline, and a doctored one does not.
	resp, err = http.Get(base + "/registry/operations/" + trust.Accreditations[0].ID + "/proof")
	if err != nil {
		t.Fatal(err)
	}
	proof, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	file := filepath.Join(t.TempDir(), "proof.json")
	if err := os.WriteFile(file, proof, 0o600); err != nil {
		t.Fatal(err)
	}
	genesis := filepath.Join(dataDir, "genesis.json")
	if out, err := runCLI(t, env, "registry", "check-proof", file, "--genesis", genesis); err != nil || !strings.HasPrefix(out, "OK") {
		t.Errorf("check-proof: got %q, %v; want OK", out, err)
	}
	bad := strings.Replace(string(proof), `"index":0`, `"index":1`, 1)
	if bad == string(proof) {
		bad = strings.Replace(string(proof), `"opCount":1`, `"opCount":2`, 1)
	}
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, env, "registry", "check-proof", file, "--genesis", genesis); err == nil || !strings.HasPrefix(out, "INVALID") {
		t.Errorf("check-proof of a doctored proof: got %q, %v; want INVALID", out, err)
	}

	// A chain is initialised once.
	if _, err := runCLI(t, env, "init", "--data-dir", dataDir); err == nil {
		t.Error("init on an initialised data directory: got no error; want a refusal")
	}
}
