package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserVerifier is the verifier's journey in Chromium: a service
// enters its API key, picks the residency template, and the page shows the
// OpenID4VP QR code; the scripted wallet (urbis holder oid4vp) answers the
// request's URI, and the page turns green by itself with each check in
// plain words and the district only. Then the paste box verifies the
// credential by hand.
func TestBrowserVerifier(t *testing.T) {
	bin := needChromium(t)
	axe := needAxe(t)
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := testDatabaseEnv(t)
	base, _, _ := startServe(t, env, "--data-dir", filepath.Join(dir, "data"), "--addr", addr, "--public-url", "http://"+addr)
	b := newBrowser(t, bin)
	b.axe = axe
	out, err := runCLI(t, env, "agency", "create", "--name", "Corner Shop", "--output", "key", "--data-dir", filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(out)
	newDID := func() string {
		code, body := httpDo(t, http.MethodPost, base+"/dids", key, `{"method":"key","keyType":"Ed25519"}`)
		var rec struct{ DID string }
		if json.Unmarshal(body, &rec); code != http.StatusCreated {
			t.Fatalf("POST /dids: %d %s", code, body)
		}
		return rec.DID
	}
	verifierDID, issuerDID := newDID(), newDID()
	holderKey := filepath.Join(dir, "holder.key")
	out, err = runCLI(t, nil, "holder", "did", "--key", holderKey)
	if err != nil {
		t.Fatal(err)
	}
	holder := strings.TrimSpace(out)
	if code, body := httpDo(t, http.MethodPost, base+"/issuers", key, `{"did":"`+issuerDID+`","format":"dc+sd-jwt","types":["ResidentCredential"]}`); code != http.StatusCreated {
		t.Fatalf("POST /issuers: %d %s", code, body)
	}
	code, issued := httpDo(t, http.MethodPost, base+"/credentials/issue", key, `{"credential":{"@context":["https://www.w3.org/ns/credentials/v2"],
		"type":["VerifiableCredential","ResidentCredential"],"issuer":"`+issuerDID+`",
		"credentialSubject":{"id":"`+holder+`","district":"Mitte","name":"Alice Example"}},"options":{"keyBinding":true}}`)
	if code != http.StatusCreated {
		t.Fatalf("issue: %d %s", code, issued)
	}
	credFile := filepath.Join(dir, "resident.json")
	if err := os.WriteFile(credFile, issued, 0o600); err != nil {
		t.Fatal(err)
	}

	b.run("open the verifier's page", chromedp.Navigate(base+"/verify"), chromedp.WaitVisible(chromedp.CSS("#api-key")))
	b.shot("01-verify")
	// A wrong key, then a bad parameter: the page says what is wrong, and
	// the browser logs no error (the harness fails on one).
	b.run("enter a wrong API key", chromedp.SendKeys(chromedp.CSS("#api-key"), "urbis_not-a-key"), chromedp.Focus(chromedp.CSS("#vp-template")),
		chromedp.WaitVisible(chromedp.CSS("#vp-error")))
	b.run("ask with the wrong key", chromedp.Click(chromedp.CSS("#vp-create")), chromedp.WaitVisible(chromedp.CSS("#vp-error")))
	b.shot("01b-wrong-key")
	if got := b.text("#vp-error"); !strings.Contains(got, "This API key is not valid") {
		t.Errorf("wrong key: got %q; want This API key is not valid", got)
	}
	if got := b.evalString(`document.getElementById('api-key').getAttribute('aria-invalid') + ' ' + document.getElementById('vp-request').className`); got != "true hidden" {
		t.Errorf("wrong key: got aria-invalid and request box %q; want true hidden", got)
	}
	b.run("enter the API key and a bad threshold", chromedp.SetValue(chromedp.CSS("#api-key"), key),
		chromedp.Focus(chromedp.CSS("#vp-template")), chromedp.WaitReady(chromedp.CSS(`#vp-did option[value="`+verifierDID+`"]`)),
		chromedp.SetValue(chromedp.CSS("#vp-did"), verifierDID), chromedp.SetValue(chromedp.CSS("#vp-template"), "age_over"),
		chromedp.SetValue(chromedp.CSS("#p-age_over-threshold"), "abc"), chromedp.Click(chromedp.CSS("#vp-create")),
		chromedp.WaitVisible(chromedp.CSS("#vp-error")))
	b.shot("01c-bad-parameter")
	if got := b.text("#vp-error"); !strings.Contains(got, "The request was not created") || !strings.Contains(got, "whole number") {
		t.Errorf("bad threshold: got %q; want the API's reason", got)
	}
	b.run("enter the API key", chromedp.SetValue(chromedp.CSS("#api-key"), key), chromedp.Focus(chromedp.CSS("#vp-template")),
		chromedp.WaitReady(chromedp.CSS(`#vp-did option[value="`+verifierDID+`"]`)),
		chromedp.SetValue(chromedp.CSS("#vp-did"), verifierDID),
		chromedp.SetValue(chromedp.CSS("#vp-template"), "residency"),
		chromedp.SendKeys(chromedp.CSS("#p-residency-districts"), "Mitte,Kreuzberg"),
		chromedp.Click(chromedp.CSS("#vp-create")),
		chromedp.WaitVisible(chromedp.CSS("#vp-qr")),
		chromedp.WaitVisible(chromedp.CSS("#vp-verdict.wait")))
	b.shot("02-qr-code")
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	uri, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('vp-id').dataset.uri`))
	if err != nil || !strings.HasPrefix(uri, "openid4vp://?") {
		t.Fatalf("request URI on the page: got %q, %v; want openid4vp://?…", uri, err)
	}
	reqID, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('vp-id').textContent`))
	// The page loads the PNG from the request's qrUrl, which renders it.
	var qr string
	for range 50 {
		if qr, err = chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){const i=document.getElementById('vp-qr');return i.complete && i.naturalWidth > 0 ? i.src : 'not loaded';})()`)); err != nil || qr != "not loaded" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if want := base + "/verifier/requests/" + reqID + "/qr.png"; err != nil || qr != want {
		t.Errorf("QR image: got %q, %v; want a PNG loaded from %s", qr, err, want)
	}

	// The wallet answers; the page notices by itself.
	out, err = runCLI(t, nil, "holder", "oid4vp", "--key", holderKey, uri, credFile)
	if err != nil || strings.TrimSpace(out) != "200 {}" {
		t.Fatalf("holder oid4vp: got %q, %v; want 200 {}", out, err)
	}
	b.run("wait for the answer", chromedp.WaitVisible(chromedp.CSS("#vp-verdict.ok")))
	b.auditPage("/verify, verified", "03-verified")
	if got := b.text("#vp-verdict"); !strings.Contains(got, "Verified") {
		t.Errorf("verdict: got %q; want Verified", got)
	}
	checks := b.text("#vp-checks")
	for _, want := range []string{"The signature is genuine", "It answers this very request", "The credentials belong to the person who presented them"} {
		if !strings.Contains(checks, want) {
			t.Errorf("checks: got %q; want %q", checks, want)
		}
	}
	claims := b.text("#vp-claims")
	if !strings.Contains(claims, "Mitte") || strings.Contains(claims, "Alice") {
		t.Errorf("claims shown: got %q; want the district and nothing else asked for", claims)
	}

	// The paste box, by hand.
	var resp struct {
		VerifiableCredential struct {
			ID string `json:"id"`
		} `json:"verifiableCredential"`
	}
	if err := json.Unmarshal(issued, &resp); err != nil || !strings.Contains(resp.VerifiableCredential.ID, ",") {
		t.Fatalf("issued credential: %s", issued)
	}
	compact := resp.VerifiableCredential.ID[strings.Index(resp.VerifiableCredential.ID, ",")+1:]
	b.run("paste the credential", chromedp.SetValue(chromedp.CSS("#paste-kind"), "credential"),
		chromedp.SetValue(chromedp.CSS("#paste-text"), compact),
		chromedp.Click(chromedp.CSS(`#paste-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#paste-verdict.ok")))
	b.shot("04-pasted-credential")
	if got := b.text("#paste-checks"); !strings.Contains(got, "It has not been revoked or suspended") && !strings.Contains(got, "It is within its validity period") {
		t.Errorf("pasted credential checks: got %q; want the checks in plain words", got)
	}

	// A credential changed after issuance: the page says which check
	// failed, and the browser logs no error (the harness fails on one).
	tampered := compact[:len(compact)-4] + "AAAA"
	if tampered == compact {
		tampered = compact[:len(compact)-4] + "BBBB"
	}
	b.run("paste a tampered credential", chromedp.SetValue(chromedp.CSS("#paste-text"), tampered),
		chromedp.Click(chromedp.CSS(`#paste-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#paste-verdict.bad")))
	b.auditPage("/verify, a tampered credential pasted", "05-pasted-tampered")
	if got := b.text("#paste-checks"); !strings.Contains(got, "The signature does not verify") {
		t.Errorf("tampered credential checks: got %q; want the failed signature in plain words", got)
	}
	b.fitsPhone(base+"/verify", "06-verify-phone")
}
