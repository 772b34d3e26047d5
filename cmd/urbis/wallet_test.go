package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWalletCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"URBIS_WALLET_PASSPHRASE": "correct horse battery", "URBIS_WALLET_DIR": filepath.Join(dir, "w")}
	out, err := runCLI(t, env, "wallet", "init")
	if err != nil || !strings.Contains(out, "DID: did:key:z6Mk") {
		t.Fatalf("init: got %q, %v; want a did:key", out, err)
	}
	if _, err := runCLI(t, env, "wallet", "init"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second init: got %v; want 'already exists'", err)
	}
	pairwise, err := runCLI(t, env, "wallet", "did", "create", "--label", "shop.example")
	if err != nil {
		t.Fatal(err)
	}
	dids, _ := runCLI(t, env, "wallet", "did", "list")
	if n := strings.Count(dids, "did:key:"); n != 2 || !strings.Contains(dids, strings.TrimSpace(pairwise)+"\t") || !strings.Contains(dids, "shop.example") {
		t.Errorf("did list: got %q; want two DIDs, one labelled shop.example", dids)
	}

	enc := base64.RawURLEncoding.EncodeToString
	tok := enc([]byte(`{"alg":"EdDSA"}`)) + "." + enc([]byte(`{"iss":"did:example:city","vc":{"type":["VerifiableCredential","ResidentCredential"]}}`)) + "." + enc([]byte("sig"))
	file := filepath.Join(dir, "issued.json")
	os.WriteFile(file, []byte(`{"verifiableCredential":{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"EnvelopedVerifiableCredential","id":"data:application/vc+jwt,`+tok+`"}}`), 0o600)
	out, err = runCLI(t, env, "wallet", "add", file)
	if err != nil || !strings.Contains(out, "jwt_vc_json credential") {
		t.Fatalf("add: got %q, %v", out, err)
	}
	id := strings.Fields(out)[3]
	list, _ := runCLI(t, env, "wallet", "list")
	if !strings.HasPrefix(list, id+"\tjwt_vc_json\tVerifiableCredential,ResidentCredential\tdid:example:city\t") {
		t.Errorf("list: got %q; want the credential %s", list, id)
	}
	shown, err := runCLI(t, env, "wallet", "show", id)
	if err != nil || strings.TrimSpace(shown) != `"`+tok+`"` {
		t.Errorf("show: got %q, %v; want the token", shown, err)
	}

	backup := filepath.Join(dir, "backup.urbis")
	if out, err := runCLI(t, env, "wallet", "export", backup); err != nil || !strings.Contains(out, "2 DIDs and 1 credentials") {
		t.Fatalf("export: got %q, %v", out, err)
	}
	env2 := map[string]string{"URBIS_WALLET_PASSPHRASE": "another passphrase", "URBIS_WALLET_DIR": filepath.Join(dir, "w2")}
	if _, err := runCLI(t, env2, "wallet", "init"); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, env2, "wallet", "import", backup); err == nil || !strings.Contains(err.Error(), "wrong passphrase") {
		t.Errorf("import with the wrong backup passphrase: got %v; want 'wrong passphrase'", err)
	}
	env2["URBIS_WALLET_BACKUP_PASSPHRASE"] = "correct horse battery"
	if out, err := runCLI(t, env2, "wallet", "import", backup); err != nil || !strings.Contains(out, "imported 1 credentials") {
		t.Errorf("import: got %q, %v", out, err)
	}
	if list2, _ := runCLI(t, env2, "wallet", "list"); !strings.HasPrefix(list2, id+"\t") {
		t.Errorf("list after import: got %q; want %s", list2, id)
	}

	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no passphrase", map[string]string{"URBIS_WALLET_DIR": env["URBIS_WALLET_DIR"]}, []string{"wallet", "list"}, "set URBIS_WALLET_PASSPHRASE"},
		{"wrong passphrase", map[string]string{"URBIS_WALLET_DIR": env["URBIS_WALLET_DIR"], "URBIS_WALLET_PASSPHRASE": "not the one"}, []string{"wallet", "list"}, "wrong passphrase"},
		{"no wallet", map[string]string{"URBIS_WALLET_DIR": filepath.Join(dir, "none"), "URBIS_WALLET_PASSPHRASE": "whatever1"}, []string{"wallet", "list"}, "urbis wallet init"},
		{"unknown credential", env, []string{"wallet", "show", "nope"}, "urbis wallet list"},
		{"not a credential", env, []string{"wallet", "add", backup}, "is not a VerifiableCredential"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := runCLI(t, tc.env, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v; want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestWalletDIDURBIS: the wallet registers a did:urbis itself, rotates its
// key, then rotates again declaring the key compromised; the chain's
// documents follow.
func TestWalletDIDURBIS(t *testing.T) {
	dir := t.TempDir()
	base, _, stop := startServe(t, nil, "--data-dir", filepath.Join(dir, "data"), "--block-interval", "20ms")
	defer stop()
	env := map[string]string{"URBIS_WALLET_PASSPHRASE": "correct horse battery", "URBIS_WALLET_DIR": filepath.Join(dir, "w"), "URBIS_SERVER": base}
	if _, err := runCLI(t, env, "wallet", "init"); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, env, "wallet", "did", "create", "--method", "urbis")
	id := strings.TrimSpace(out)
	if err != nil || !strings.HasPrefix(id, "did:urbis:") {
		t.Fatalf("did create --method urbis: got %q, %v; want a did:urbis", out, err)
	}
	resolve := func() (keys []string, md map[string]any) {
		t.Helper()
		resp, err := http.Get(base + "/1.0/identifiers/" + id)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var res struct {
			DidDocument struct {
				VerificationMethod []struct{ ID string }
			}
			DidDocumentMetadata map[string]any
		}
		if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("resolve %s: %d, %v", id, resp.StatusCode, err)
		}
		for _, vm := range res.DidDocument.VerificationMethod {
			keys = append(keys, vm.ID)
		}
		return keys, res.DidDocumentMetadata
	}
	if keys, _ := resolve(); len(keys) != 1 || keys[0] != id+"#key-1" {
		t.Fatalf("created document has keys %v; want [%s#key-1]", keys, id)
	}

	out, err = runCLI(t, env, "wallet", "rotate-key", id)
	if err != nil || !strings.Contains(out, id+"#key-2") {
		t.Fatalf("rotate-key: got %q, %v; want the key %s#key-2", out, err, id)
	}
	if keys, md := resolve(); len(keys) != 1 || keys[0] != id+"#key-2" || md["versionId"] != "2" {
		t.Errorf("after rotation: keys %v, version %v; want [%s#key-2], 2", keys, md["versionId"], id)
	}
	out, err = runCLI(t, env, "wallet", "rotate-key", id, "--compromised")
	if err != nil || !strings.Contains(out, id+"#key-3") {
		t.Fatalf("rotate-key --compromised: got %q, %v; want the key %s#key-3", out, err, id)
	}
	keys, md := resolve()
	if len(keys) != 1 || keys[0] != id+"#key-3" || !strings.Contains(fmt.Sprint(md["compromised"]), "#key-2") {
		t.Errorf("after a compromised rotation: keys %v, compromised %v; want [%s#key-3] and #key-2 compromised", keys, md["compromised"], id)
	}

	// A did:key has no key to rotate; a DID the wallet does not hold is refused.
	dk, _ := runCLI(t, env, "wallet", "did", "create")
	for _, tc := range []struct{ did, want string }{
		{strings.TrimSpace(dk), "cannot rotate its key"},
		{"did:urbis:nothere", "holds no DID"},
	} {
		if _, err := runCLI(t, env, "wallet", "rotate-key", tc.did); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("rotate-key %s: got %v; want an error containing %q", tc.did, err, tc.want)
		}
	}
	// Without a server the operation stays pending and says how to settle it.
	env["URBIS_SERVER"] = "http://127.0.0.1:1"
	if _, err := runCLI(t, env, "wallet", "did", "create", "--method", "urbis"); err == nil || !strings.Contains(err.Error(), "is urbis serve running there") {
		t.Errorf("did create without a server: got %v; want it to name the server", err)
	}
}
