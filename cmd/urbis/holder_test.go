package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

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

func TestHolderProof(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "holder.key")
	id, err := runCLI(t, nil, "holder", "did", "--key", key)
	if err != nil {
		t.Fatal(err)
	}
	id = strings.TrimSpace(id)
	res, err := did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}).Resolve(context.Background(), id, did.ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := res.Document.VerificationMethod[0].PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, withJWK := range []bool{false, true} {
		args := []string{"holder", "proof", "--key", key, "--nonce", "n1", "--aud", "http://127.0.0.1:8080"}
		if withJWK {
			args = append(args, "--jwk")
		}
		out, err := runCLI(t, nil, args...)
		if err != nil {
			t.Fatal(err)
		}
		tok := strings.TrimSpace(out)
		msg, err := jws.Parse([]byte(tok))
		if err != nil {
			t.Fatalf("proof %q: %v", tok, err)
		}
		h := msg.Signatures()[0].ProtectedHeaders()
		if h.Type() != "openid4vci-proof+jwt" || (h.KeyID() == "") == !withJWK || (h.JWK() == nil) == withJWK {
			t.Errorf("jwk %v: header typ %q kid %q jwk %v; want openid4vci-proof+jwt with kid or jwk", withJWK, h.Type(), h.KeyID(), h.JWK())
		}
		payload, err := jws.Verify([]byte(tok), jws.WithKey(jwa.EdDSA, pub))
		if err != nil {
			t.Fatalf("proof does not verify with %s: %v", id, err)
		}
		var claims map[string]any
		json.Unmarshal(payload, &claims)
		if claims["nonce"] != "n1" || claims["aud"] != "http://127.0.0.1:8080" || claims["iat"] == nil {
			t.Errorf("claims %v; want nonce n1, aud http://127.0.0.1:8080 and iat", claims)
		}
	}
	if _, err := runCLI(t, nil, "holder", "proof", "--key", key); err == nil {
		t.Error("proof without --nonce and --aud: got no error; want one")
	}
}
