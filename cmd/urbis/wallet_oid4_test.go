package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// runCLIIn runs one urbis command in-process with stdin.
func runCLIIn(t *testing.T, env map[string]string, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut syncBuffer
	p := &program{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, getenv: func(k string) string { return env[k] }}
	err := p.run(context.Background(), args)
	if err != nil {
		t.Logf("urbis %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), err
}

// TestWalletReceiveAndPresent runs the wallet against a real urbis serve:
// an agency offers a resident credential, the wallet takes it with the
// PIN, a shop asks for "over 18 and resident of Gracia", and the wallet
// discloses just those; jwt_vc_json is presented in a JWT-VP; a
// revocable (ldp_vc) credential fails the shop's status check once
// revoked.
func TestWalletReceiveAndPresent(t *testing.T) {
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

	agency := func(name string) (key, did string) {
		out, err := runCLI(t, env, "agency", "create", "--name", name, "--output", "key", "--data-dir", data)
		if err != nil {
			t.Fatal(err)
		}
		key = strings.TrimSpace(out)
		code, b := httpDo(t, http.MethodPost, base+"/dids", key, `{"method":"key","keyType":"Ed25519"}`)
		var rec struct{ DID string }
		if json.Unmarshal(b, &rec); code != http.StatusCreated {
			t.Fatalf("POST /dids: %d %s", code, b)
		}
		return key, rec.DID
	}
	regKey, regDID := agency("Civil Registry")
	shopKey, shopDID := agency("Corner Shop")
	instance := func(format string) string {
		code, b := httpDo(t, http.MethodPost, base+"/issuers", regKey, `{"did":"`+regDID+`","format":"`+format+`","types":["ResidentCredential"]}`)
		var in struct{ ID string }
		if json.Unmarshal(b, &in); code != http.StatusCreated {
			t.Fatalf("POST /issuers %s: %d %s", format, code, b)
		}
		return in.ID
	}
	offer := func(issuer string) (uri, pin string) {
		code, b := httpDo(t, http.MethodPost, base+"/oid4vci/offers", regKey, `{"issuerId":"`+issuer+`","txCode":true,
			"credentialSubject":{"name":"Alice Example","birthDate":"1990-04-01","district":"Gracia","age_equal_or_over":{"18":true,"65":false}}}`)
		var o struct{ OfferURI, TxCode string }
		if json.Unmarshal(b, &o); code != http.StatusCreated || o.TxCode == "" {
			t.Fatalf("POST /oid4vci/offers: %d %s", code, b)
		}
		return o.OfferURI, o.TxCode
	}

	wenv := map[string]string{"URBIS_WALLET_PASSPHRASE": "correct horse battery", "URBIS_WALLET_DIR": filepath.Join(dir, "wallet")}
	if _, err := runCLI(t, wenv, "wallet", "init"); err != nil {
		t.Fatal(err)
	}

	// Receive: the PIN is asked for, a wrong one is refused, the right one works.
	uri, pin := offer(instance("dc+sd-jwt"))
	if _, err := runCLI(t, wenv, "wallet", "receive", uri); err == nil || !strings.Contains(err.Error(), "--tx-code") {
		t.Errorf("receive without the PIN: got %v; want it asked for", err)
	}
	wrong := "000000"
	if pin == wrong {
		wrong = "111111"
	}
	if _, err := runCLI(t, wenv, "wallet", "receive", "--tx-code", wrong, uri); err == nil || !strings.Contains(err.Error(), "the transaction code is wrong") {
		t.Errorf("receive with a wrong PIN: got %v; want 'the transaction code is wrong'", err)
	}
	out, err := runCLI(t, wenv, "wallet", "receive", "--tx-code", pin, uri)
	if err != nil || !strings.HasPrefix(out, "stored dc+sd-jwt credential ") || !strings.Contains(out, "ResidentCredential from "+regDID) {
		t.Fatalf("receive: got %q, %v; want a stored dc+sd-jwt ResidentCredential", out, err)
	}

	request := func(format string) (id, uri string) {
		path, meta := `["age_equal_or_over","18"]`, `"meta":{"vct_values":["ResidentCredential"]}`
		dpath := `["district"]`
		if format != "dc+sd-jwt" {
			path, meta, dpath = `["credentialSubject","age_equal_or_over","18"]`, `"meta":{"type_values":[["ResidentCredential"]]}`, `["credentialSubject","district"]`
		}
		code, b := httpDo(t, http.MethodPost, base+"/verifier/requests", shopKey, `{"did":"`+shopDID+`","dcqlQuery":{"credentials":[{"id":"adult_resident","format":"`+format+`",`+meta+`,
			"claims":[{"path":`+path+`,"values":[true]},{"path":`+dpath+`,"values":["Gracia"]}]}]}}`)
		var r struct{ ID, URI string }
		if json.Unmarshal(b, &r); code != http.StatusCreated {
			t.Fatalf("POST /verifier/requests: %d %s", code, b)
		}
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

	// Declining sends nothing: the request stays pending.
	id, vpURI := request("dc+sd-jwt")
	out, err = runCLIIn(t, wenv, "n\n", "wallet", "present", vpURI)
	for _, want := range []string{"verifier: " + shopDID, "signature checked", "adult_resident: a dc+sd-jwt ResidentCredential",
		"age_equal_or_over.18: true", `district: "Gracia"`, "[y/N]", "nothing was sent"} {
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("present, answered n: got %q, %v; want %q", out, err, want)
		}
	}
	if strings.Contains(out, "Alice") || strings.Contains(out, "birthDate") {
		t.Errorf("present plan %q would disclose more than asked", out)
	}
	if st, b := result(id); st != "pending" {
		t.Fatalf("after declining: got %s; want pending", b)
	}

	// A tampered request object is refused before anything is shown.
	bad := httptestTamper(t, base, id)
	if out, err := runCLIIn(t, wenv, "y\n", "wallet", "present", "--yes", bad); err == nil || !strings.Contains(err.Error(), "refused") || strings.Contains(out, "will disclose") {
		t.Errorf("tampered request: got %q, %v; want refused", out, err)
	}

	out, err = runCLIIn(t, wenv, "", "wallet", "present", "--yes", vpURI)
	if err != nil || !strings.Contains(out, "sent; the verifier answered 200 {}") {
		t.Fatalf("present --yes: got %q, %v", out, err)
	}
	st, b := result(id)
	var res struct {
		VerifiedClaims map[string][]struct{ Claims []struct{ Path []any } }
	}
	json.Unmarshal([]byte(b), &res)
	got := res.VerifiedClaims["adult_resident"]
	if st != "verified" || len(got) != 1 || len(got[0].Claims) != 2 || strings.Contains(b, "Alice") || strings.Contains(b, "1990") || strings.Contains(b, `"65"`) {
		t.Errorf("shop's result: got %s; want verified with age_equal_or_over/18 and district only", b)
	}

	// A verifier with a did:urbis is resolved through the service that
	// serves its request.
	code, sb := httpDo(t, http.MethodPost, base+"/dids", shopKey, `{"method":"urbis","keyType":"Ed25519"}`)
	var urbisShop struct{ DID string }
	if json.Unmarshal(sb, &urbisShop); code != http.StatusCreated || !strings.HasPrefix(urbisShop.DID, "did:urbis:") {
		t.Fatalf("POST /dids urbis: %d %s", code, sb)
	}
	code, sb = httpDo(t, http.MethodPost, base+"/verifier/requests", shopKey, `{"did":"`+urbisShop.DID+`","template":"residency","params":{"districts":"Gracia"}}`)
	var ureq struct{ ID, URI string }
	if json.Unmarshal(sb, &ureq); code != http.StatusCreated {
		t.Fatalf("POST /verifier/requests (did:urbis): %d %s", code, sb)
	}
	out, err = runCLIIn(t, wenv, "n\n", "wallet", "present", ureq.URI)
	if err != nil || !strings.Contains(out, "DID resolved "+base+"/1.0/identifiers/"+urbisShop.DID) || !strings.Contains(out, "by the host that served the request") {
		t.Errorf("present to a did:urbis verifier without --server: got %q, %v; want it resolved by the request's host, and said so", out, err)
	}
	out, err = runCLIIn(t, wenv, "y\n", "wallet", "present", "--server", base, ureq.URI)
	if err != nil || !strings.Contains(out, "verifier: "+urbisShop.DID) || !strings.Contains(out, "DID resolved "+base+"/1.0/identifiers/"+urbisShop.DID) ||
		strings.Contains(out, "by the host that served the request") || !strings.Contains(out, "sent; the verifier answered 200 {}") {
		t.Errorf("present to a did:urbis verifier, answered y: got %q, %v", out, err)
	}
	if st, b := result(ureq.ID); st != "verified" {
		t.Errorf("did:urbis shop's result: got %s; want verified", b)
	}

	// A revocable credential (ldp_vc with a revocation status list).
	uri, pin = offer(instance("ldp_vc"))
	if out, err = runCLI(t, wenv, "wallet", "receive", "--tx-code", pin, uri); err != nil || !strings.HasPrefix(out, "stored ldp_vc credential ") {
		t.Fatalf("receive ldp_vc: got %q, %v", out, err)
	}
	credID := strings.Fields(out)[3]
	shown, _ := runCLI(t, wenv, "wallet", "show", credID)
	var vc struct{ ID string }
	json.Unmarshal([]byte(shown), &vc)
	id, vpURI = request("ldp_vc")
	out, err = runCLIIn(t, wenv, "", "wallet", "present", "--yes", vpURI)
	if err != nil || !strings.Contains(out, "cannot hide claims") || !strings.Contains(out, "sent; the verifier answered 200") {
		t.Fatalf("present ldp_vc: got %q, %v", out, err)
	}
	if st, b := result(id); st != "verified" || strings.Contains(b, "Alice") {
		t.Errorf("shop's result (ldp_vc): got %s; want verified with the requested claims only", b)
	}
	code, sb = httpDo(t, http.MethodPost, base+"/credentials/status", regKey, `{"credentialId":"`+vc.ID+`","credentialStatus":[{"type":"BitstringStatusListEntry","status":"revoked"}]}`)
	if code != http.StatusOK {
		t.Fatalf("revoke %q: %d %s", vc.ID, code, sb)
	}
	id, vpURI = request("ldp_vc")
	if out, err := runCLIIn(t, wenv, "", "wallet", "present", "--yes", vpURI); err == nil || !strings.Contains(err.Error(), "status") {
		t.Errorf("present a revoked credential: got %q, %v; want refused on status", out, err)
	}
	if st, b := result(id); st != "failed" || !strings.Contains(b, `"check":"status"`) {
		t.Errorf("shop's result after revocation: got %s; want failed on the status check", b)
	}

	// jwt_vc_json: received, and presented in a JWT-VP.
	uri, pin = offer(instance("jwt_vc_json"))
	if out, err = runCLI(t, wenv, "wallet", "receive", "--tx-code", pin, uri); err != nil || !strings.HasPrefix(out, "stored jwt_vc_json credential ") {
		t.Fatalf("receive jwt_vc_json: got %q, %v", out, err)
	}
	id, vpURI = request("jwt_vc_json")
	if out, err = runCLIIn(t, wenv, "", "wallet", "present", "--yes", vpURI); err != nil || !strings.Contains(out, "sent; the verifier answered 200") {
		t.Fatalf("present jwt_vc_json: got %q, %v", out, err)
	}
	if st, b := result(id); st != "verified" || strings.Contains(b, "Alice") {
		t.Errorf("shop's result (jwt_vc_json): got %s; want verified with the requested claims only", b)
	}

	// With alternatives (the residency template's credential_sets), the
	// wallet answers one, though it holds credentials for both.
	code, sb = httpDo(t, http.MethodPost, base+"/verifier/requests", shopKey, `{"did":"`+shopDID+`","template":"residency","params":{"districts":"Gracia"}}`)
	var alt struct{ ID, URI string }
	if json.Unmarshal(sb, &alt); code != http.StatusCreated {
		t.Fatalf("POST /verifier/requests (residency): %d %s", code, sb)
	}
	out, err = runCLIIn(t, wenv, "", "wallet", "present", "--yes", alt.URI)
	if err != nil || !strings.Contains(out, "for residency_sd_jwt") || strings.Contains(out, "for residency_ldp") {
		t.Errorf("present with alternatives: got %q, %v; want residency_sd_jwt answered, residency_ldp not", out, err)
	}
	if st, b := result(alt.ID); st != "verified" || strings.Contains(b, "residency_ldp") {
		t.Errorf("shop's result with alternatives: got %s; want verified with residency_sd_jwt only", b)
	}
}

// httptestTamper serves request id's object with one claim changed (the
// signature no longer checks) and returns an openid4vp:// URI for it.
func httptestTamper(t *testing.T, base, id string) string {
	t.Helper()
	code, b := httpDo(t, http.MethodGet, base+"/verifier/requests/"+id+"/object", "", "")
	if code != http.StatusOK {
		t.Fatalf("object: %d %s", code, b)
	}
	parts := strings.Split(strings.TrimSpace(string(b)), ".")
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	json.Unmarshal(claims, &m)
	m["response_uri"] = "http://127.0.0.1:1/steal"
	nb, _ := json.Marshal(m)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(nb) + "." + parts[2]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(tampered)) })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "openid4vp://?client_id=" + url.QueryEscape(m["client_id"].(string)) + "&request_uri=" + url.QueryEscape("http://"+ln.Addr().String()+"/object")
}
