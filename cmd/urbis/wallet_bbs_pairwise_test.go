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

// TestWalletPresentBBSAndPairwise runs `urbis wallet present` against a
// real urbis serve with a BBS+ credential (the wallet derives a proof
// that reveals only the requested claim, and the verifier accepts it)
// and with --pairwise (a did:key per verifier, remembered; a credential
// bound to no DID is presented as it, one bound to the wallet's DID is
// not re-bound).
func TestWalletPresentBBSAndPairwise(t *testing.T) {
	dir := t.TempDir()
	env := testDatabaseEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	data := filepath.Join(dir, "data")
	base, _, _ := startServe(t, env, "--data-dir", data, "--addr", addr, "--public-url", "http://"+addr)
	agencyKey := func(name string) string {
		out, err := runCLI(t, env, "agency", "create", "--name", name, "--output", "key", "--data-dir", data)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out)
	}
	newDID := func(key, keyType string) string {
		code, b := httpDo(t, http.MethodPost, base+"/dids", key, `{"method":"key","keyType":"`+keyType+`"}`)
		var rec struct{ DID string }
		if json.Unmarshal(b, &rec); code != http.StatusCreated {
			t.Fatalf("POST /dids: %d %s", code, b)
		}
		return rec.DID
	}
	post := func(key, path, body string) []byte {
		code, b := httpDo(t, http.MethodPost, base+path, key, body)
		if code != http.StatusCreated {
			t.Fatalf("POST %s: %d %s", path, code, b)
		}
		return b
	}
	regKey, shopKey := agencyKey("University"), agencyKey("Corner Shop")
	shop, bank := newDID(shopKey, "Ed25519"), newDID(shopKey, "Ed25519")

	wenv := map[string]string{"URBIS_WALLET_PASSPHRASE": "correct horse battery", "URBIS_WALLET_DIR": filepath.Join(dir, "wallet")}
	out, err := runCLI(t, wenv, "wallet", "init")
	if err != nil {
		t.Fatal(err)
	}
	holder := ""
	for _, f := range strings.Fields(out) {
		if strings.HasPrefix(f, "did:key:") {
			holder = strings.TrimRight(f, ".,:;)")
		}
	}
	add := func(issued []byte) string {
		f := filepath.Join(dir, "issued.json")
		os.WriteFile(f, issued, 0o600)
		out, err := runCLI(t, wenv, "wallet", "add", f)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	request := func(verifier, query string) (id, uri string) {
		b := post(shopKey, "/verifier/requests", `{"did":"`+verifier+`","dcqlQuery":{"credentials":[`+query+`]}}`)
		var r struct{ ID, URI string }
		json.Unmarshal(b, &r)
		return r.ID, r.URI
	}
	result := func(id string) (string, string) {
		code, b := httpDo(t, http.MethodGet, base+"/verifier/requests/"+id, shopKey, "")
		var r struct{ Status string }
		if json.Unmarshal(b, &r); code != http.StatusOK {
			t.Fatalf("GET /verifier/requests/%s: %d %s", id, code, b)
		}
		return r.Status, string(b)
	}

	// A BBS+ degree credential about the wallet's DID.
	bls := newDID(regKey, "Bls12381G2")
	post(regKey, "/issuers", `{"did":"`+bls+`","format":"ldp_vc-bbs","types":["ExampleDegreeCredential"]}`)
	add(post(regKey, "/credentials/issue", `{"options":{"format":"ldp_vc-bbs"},"credential":{
		"@context":["https://www.w3.org/2018/credentials/v1","https://www.w3.org/ns/credentials/examples/v2"],
		"type":["VerifiableCredential","ExampleDegreeCredential"],"issuer":"`+bls+`",
		"credentialSubject":{"id":"`+holder+`","name":"Alice Example","degree":"Bachelor of Science","birthDate":"1990-01-01"}}}`))
	degree := `{"id":"degree","format":"ldp_vc","meta":{"type_values":[["ExampleDegreeCredential"]]},"claims":[{"path":["credentialSubject","degree"]}]}`

	t.Run("BBS+ derived proof", func(t *testing.T) {
		id, uri := request(shop, degree)
		out, err := runCLIIn(t, wenv, "", "wallet", "present", "--yes", uri)
		if err != nil || !strings.Contains(out, "a BBS+ credential: a derived proof reveals only these claims") ||
			!strings.Contains(out, `credentialSubject.degree: "Bachelor of Science"`) || strings.Contains(out, "Alice") || strings.Contains(out, "1990") ||
			!strings.Contains(out, "sent; the verifier answered 200 {}") {
			t.Fatalf("present: got %q, %v; want the degree only, sent and accepted", out, err)
		}
		st, b := result(id)
		if st != "verified" || !strings.Contains(b, "Bachelor of Science") || strings.Contains(b, "Alice") || !strings.Contains(b, `"holderBinding"`) {
			t.Errorf("shop's result: %s; want verified with the degree and holder binding", b)
		}
	})

	t.Run("Presentation Exchange", func(t *testing.T) {
		sdIssuer := newDID(regKey, "Ed25519")
		post(regKey, "/issuers", `{"did":"`+sdIssuer+`","format":"dc+sd-jwt","types":["ResidentCredential"]}`)
		add(post(regKey, "/credentials/issue", `{"options":{"keyBinding":true},"credential":{"@context":["https://www.w3.org/ns/credentials/v2"],
			"type":["VerifiableCredential","ResidentCredential"],"issuer":"`+sdIssuer+`",
			"credentialSubject":{"id":"`+holder+`","name":"Alice Example","district":"Gracia"}}}`))
		b := post(shopKey, "/verifier/requests", `{"did":"`+shop+`","presentationDefinition":{"id":"pe-1","input_descriptors":[
			{"id":"resident","format":{"dc+sd-jwt":{}},"constraints":{"limit_disclosure":"required","fields":[
				{"path":["$.vct"],"filter":{"type":"string","const":"ResidentCredential"}},{"path":["$.district"]}]}},
			{"id":"degree","format":{"ldp_vc":{}},"constraints":{"fields":[
				{"path":["$.type"],"filter":{"type":"array","contains":{"const":"ExampleDegreeCredential"}}},{"path":["$.credentialSubject.degree"]}]}}]}}`)
		var r struct{ ID, URI string }
		json.Unmarshal(b, &r)
		out, err := runCLIIn(t, wenv, "", "wallet", "present", "--yes", r.URI)
		if err != nil || !strings.Contains(out, "(a Presentation Exchange definition, pe-1)") || !strings.Contains(out, `district: "Gracia"`) ||
			!strings.Contains(out, `credentialSubject.degree: "Bachelor of Science"`) || strings.Contains(out, "Alice") || !strings.Contains(out, "sent; the verifier answered 200 {}") {
			t.Fatalf("present: got %q, %v; want both descriptors answered with the requested claims only", out, err)
		}
		st, res := result(r.ID)
		var got struct {
			Checks         []string
			VerifiedClaims map[string][]struct{ Format string }
		}
		json.Unmarshal([]byte(res), &got)
		if st != "verified" || len(got.VerifiedClaims["resident"]) != 1 || len(got.VerifiedClaims["degree"]) != 1 || strings.Contains(res, "Alice") ||
			!strings.Contains(res, `"presexch"`) || !strings.Contains(res, `"submission"`) {
			t.Errorf("shop's result: %s; want verified, both descriptors, the degree (VC 1.1) evaluated by presexch", res)
		}
	})

	// A bearer credential: an ldp_vc whose subject has no id.
	ed := newDID(regKey, "Ed25519")
	post(regKey, "/issuers", `{"did":"`+ed+`","format":"ldp_vc","types":["VisitorPass"]}`)
	add(post(regKey, "/credentials/issue", `{"credential":{
		"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/undefined-terms/v2"],
		"type":["VerifiableCredential","VisitorPass"],"issuer":"`+ed+`","credentialSubject":{"district":"Gracia"}}}`))
	pass := `{"id":"pass","format":"ldp_vc","meta":{"type_values":[["VisitorPass"]]},"claims":[{"path":["credentialSubject","district"]}]}`

	t.Run("pairwise DIDs", func(t *testing.T) {
		pairwise := func(out string) string {
			_, rest, ok := strings.Cut(out, "pairwise DID for this verifier: ")
			if !ok {
				return ""
			}
			return strings.Fields(rest)[0]
		}
		id, uri := request(shop, pass)
		out, err := runCLIIn(t, wenv, "", "wallet", "present", "--pairwise", "--yes", uri)
		first := pairwise(out)
		if err != nil || !strings.HasPrefix(first, "did:key:") || first == holder || !strings.Contains(out, "(new, kept for it from now on)") ||
			!strings.Contains(out, "presented as the pairwise DID "+first) || !strings.Contains(out, "sent; the verifier answered 200") {
			t.Fatalf("present --pairwise: got %q, %v; want a new pairwise did:key, used", out, err)
		}
		if st, b := result(id); st != "verified" {
			t.Errorf("shop's result: %s; want verified", b)
		}
		// The same verifier again: the same DID.
		_, uri = request(shop, pass)
		out, err = runCLIIn(t, wenv, "", "wallet", "present", "--pairwise", "--yes", uri)
		if again := pairwise(out); err != nil || again != first || !strings.Contains(out, "(kept for it)") {
			t.Errorf("second request of the same verifier: pairwise DID %q, %v; want %s again", again, err, first)
		}
		// Another verifier: another DID.
		id, uri = request(bank, pass)
		out, err = runCLIIn(t, wenv, "", "wallet", "present", "--pairwise", "--yes", uri)
		if other := pairwise(out); err != nil || other == "" || other == first || other == holder {
			t.Errorf("another verifier: pairwise DID %q, %v; want one of its own, not %s nor %s", other, err, first, holder)
		}
		if st, b := result(id); st != "verified" {
			t.Errorf("bank's result: %s; want verified", b)
		}
		list, _ := runCLI(t, wenv, "wallet", "did", "list")
		if !strings.Contains(list, "pairwise:decentralized_identifier:"+shop) || !strings.Contains(list, "pairwise:decentralized_identifier:"+bank) {
			t.Errorf("did list %q; want the two pairwise DIDs labelled with their verifiers", list)
		}
		// A credential its issuer bound to the wallet's DID is not re-bound.
		id, uri = request(shop, degree)
		out, err = runCLIIn(t, wenv, "", "wallet", "present", "--pairwise", "--yes", uri)
		if err != nil || !strings.Contains(out, "bound by its issuer to "+holder+", which the verifier sees") {
			t.Errorf("present a DID-bound credential --pairwise: got %q, %v; want it said that it cannot be re-bound", out, err)
		}
		if st, b := result(id); st != "verified" {
			t.Errorf("shop's result: %s; want verified", b)
		}
		// Without --pairwise, the bearer credential is not presented at all.
		_, uri = request(shop, pass)
		if out, err := runCLIIn(t, wenv, "", "wallet", "present", "--yes", uri); err == nil {
			t.Errorf("present a bearer credential without --pairwise: got %q; want no credential to answer with", out)
		}
	})
}
