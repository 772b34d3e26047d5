package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/ld"
)

func TestHolderPresent(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "holder.key")
	id, err := runCLI(t, nil, "holder", "did", "--key", key)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := runCLI(t, nil, "holder", "did", "--key", key)
	if id = strings.TrimSpace(id); !strings.HasPrefix(id, "did:key:z6Mk") || strings.TrimSpace(again) != id {
		t.Fatalf("got %q then %q; want the same did:key twice", id, again)
	}
	cred := filepath.Join(dir, "issued.json")
	os.WriteFile(cred, []byte(`{"verifiableCredential":{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"credentialSubject":{"id":"`+id+`"}}}`), 0o600)
	out, err := runCLI(t, nil, "holder", "present", "--key", key, "--challenge", "c1", "--domain", "v.example", cred)
	if err != nil {
		t.Fatal(err)
	}
	var req struct {
		VerifiablePresentation map[string]any
		Options                map[string]string
	}
	if err := json.Unmarshal([]byte(out), &req); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if req.Options["challenge"] != "c1" || req.Options["domain"] != "v.example" || req.VerifiablePresentation["holder"] != id {
		t.Errorf("got options %v, holder %v; want c1, v.example, %s", req.Options, req.VerifiablePresentation["holder"], id)
	}
	resolver := did.NewResolver(did.ResolverConfig{}, did.KeyMethod{})
	res, err := dataintegrity.Verify(context.Background(), req.VerifiablePresentation, dataintegrity.DIDKeyResolver(resolver, did.Authentication), ld.Default())
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Check(dataintegrity.Expect{ProofPurpose: "authentication", Challenge: "c1", Domain: "v.example"}); err != nil {
		t.Error(err)
	}
}
