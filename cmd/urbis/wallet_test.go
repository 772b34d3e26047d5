package main

import (
	"encoding/base64"
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
