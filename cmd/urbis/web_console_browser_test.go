package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// consoleSetup starts the service and the browser and returns them with
// a CLI runner and an API poster.
func consoleSetup(t *testing.T) (b *browserSession, base, dir string, cli func(...string) string, post func(path, key, body string) []byte) {
	t.Helper()
	bin := needChromium(t)
	dir = t.TempDir()
	env := testDatabaseEnv(t) // PostgreSQL when URBIS_TEST_POSTGRES_URL is set
	base, _, _ = startServe(t, env, "--data-dir", dir, "--block-interval", "50ms")
	b = newBrowser(t, bin)
	env["URBIS_SERVER"], env["URBIS_DATA_DIR"] = base, dir
	cli = func(args ...string) string { t.Helper(); return strings.TrimSpace(mustCLI(t, env, args...)) }
	post = func(path, key, body string) []byte {
		t.Helper()
		code, out := httpDo(t, http.MethodPost, base+path, key, body)
		if code != http.StatusCreated && code != http.StatusOK {
			t.Fatalf("POST %s: %d %s", path, code, out)
		}
		return out
	}
	return b, base, dir, cli, post
}

// signInBrowser signs in to the console with key and checks the session
// cookie Chromium kept: Secure cookies from http://127.0.0.1 are accepted.
func (b *browserSession) signInBrowser(base, key, agency string) {
	b.t.Helper()
	b.run("open the console", chromedp.Navigate(base+"/console"), chromedp.WaitVisible(chromedp.CSS("#api-key")))
	b.shot("01-sign-in")
	b.run("sign in", chromedp.SendKeys(chromedp.CSS("#api-key"), key), chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("nav.consolebar")))
	if got := b.text("nav.consolebar p"); got != "Signed in as "+agency {
		b.t.Errorf("after sign-in: got %q; want Signed in as %s", got, agency)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/console"}})
	if err != nil {
		b.t.Fatal(err)
	}
	found := false
	for _, c := range res.Cookies {
		if c.Name != "urbis_console" {
			continue
		}
		found = true
		if !c.Secure || !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict || c.Path != "/console" {
			b.t.Errorf("session cookie in Chromium: %+v; want Secure, HttpOnly, SameSite=Strict, Path=/console", c)
		}
		if c.Value == key || strings.Contains(c.Value, key) {
			b.t.Errorf("the cookie holds the API key")
		}
	}
	if !found {
		b.t.Errorf("Chromium kept no console cookie")
	}
	html := b.evalString("document.documentElement.outerHTML")
	if strings.Contains(html, key) {
		b.t.Errorf("the console page holds the API key")
	}
}

func (b *browserSession) evalString(js string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return s
}

// TestBrowserConsoleIssue: an agency signs in, issues a credential from
// the form made from its type's schema (first with a bad field, seeing the
// field's error, then fixed), makes an offer with a QR code and a
// transaction code, revokes the credential with a reason, and the
// credential then fails verification on the verifier's page.
func TestBrowserConsoleIssue(t *testing.T) {
	b, base, dir, cli, post := consoleSetup(t)
	key := cli("agency", "create", "--name", "Civil Registry", "--output", "key")
	var rec struct{ DID string }
	_ = json.Unmarshal(post("/dids", key, `{"method":"key","keyType":"Ed25519"}`), &rec)
	cli("governance", "accredit", "--issuer", rec.DID, "--types", "ResidentCredential")
	schema := filepath.Join(dir, "resident.schema.json")
	if err := os.WriteFile(schema, []byte(`{"type":"object","required":["district","birthDate"],
		"properties":{"district":{"type":"string","enum":["Eixample","Gràcia","Sants"]},"birthDate":{"type":"string","format":"date"},
		"householdSize":{"type":"integer","minimum":1}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cli("schema", "register", "--agency-key", key, "--did", rec.DID, "--type", "ResidentCredential", "--file", schema)
	post("/issuers", key, `{"did":"`+rec.DID+`","format":"ldp_vc","types":["ResidentCredential"],"statusPurposes":["revocation","suspension"]}`)
	alice := cli("holder", "did", "--key", filepath.Join(dir, "alice.key"))

	b.signInBrowser(base, key, "Civil Registry")
	b.shot("02-overview")
	b.fitsPhone(base+"/console", "02-overview-phone")
	if got := b.text("main"); !strings.Contains(got, "ResidentCredential: active") || !strings.Contains(got, "Issue ResidentCredential") {
		t.Errorf("overview: got %q; want the accreditation and the issue link", got)
	}

	// The form from the schema; a bad value first.
	b.run("open the issue form", chromedp.Click(chromedp.CSS("a.issue-link")), chromedp.WaitVisible(chromedp.CSS("#issue-form")))
	b.run("fill with a bad field", chromedp.SendKeys(chromedp.CSS("#subject"), alice),
		chromedp.SetValue(chromedp.CSS(`select[name="claim.district"]`), "Gràcia"),
		chromedp.SetValue(chromedp.CSS(`input[name="claim.birthDate"]`), "1990-04-01"),
		chromedp.SendKeys(chromedp.CSS(`input[name="claim.householdSize"]`), "0"),
		chromedp.Click(chromedp.CSS("#issue")), chromedp.WaitVisible(chromedp.CSS("#form-error")))
	b.shot("03-field-error")
	if got := b.text("#claim-2-error"); !strings.Contains(got, "1") {
		t.Errorf("householdSize's error: got %q; want the minimum named", got)
	}
	if got := b.evalString(`document.querySelector('input[name="claim.householdSize"]').getAttribute('aria-invalid')`); got != "true" {
		t.Errorf("the bad field: aria-invalid %q; want true", got)
	}
	b.run("fix the field", chromedp.SetValue(chromedp.CSS(`input[name="claim.householdSize"]`), "2"),
		chromedp.Click(chromedp.CSS("#issue")), chromedp.WaitVisible(chromedp.CSS("#issued")))
	b.shot("04-issued")
	credID := b.text("#issued-id")
	credJSON := b.evalString(`document.getElementById('issued-json').value`)
	if !strings.Contains(credJSON, `"householdSize": 2`) || !strings.Contains(credJSON, alice) {
		t.Errorf("issued credential: got %s; want the claims and the holder", credJSON)
	}

	// An offer from the same form: the QR code shows, with a transaction code.
	b.run("make an offer", chromedp.Click(chromedp.CSS("#txcode")), chromedp.Click(chromedp.CSS("#make-offer")),
		chromedp.WaitVisible(chromedp.CSS("#offer-qr")))
	b.shot("05-offer")
	if w := b.evalString(`String(document.getElementById('offer-qr').naturalWidth)`); w == "0" {
		t.Errorf("the offer's QR code did not load")
	}
	if got := b.text("#offer-txcode"); len(got) != 6 {
		t.Errorf("transaction code %q; want 6 digits", got)
	}

	// Search it and revoke it with a reason.
	b.run("find the credential", chromedp.Click(chromedp.Search(`//nav[@class="consolebar"]//a[.="Issued credentials"]`)),
		chromedp.WaitVisible(chromedp.CSS("#q")), chromedp.SendKeys(chromedp.CSS("#q"), credID[len(credID)-12:]),
		chromedp.Click(chromedp.CSS("#search")),
		// The answer's search box holds the query in its value attribute.
		chromedp.WaitVisible(chromedp.Search(`//input[@id="q"][@value="`+credID[len(credID)-12:]+`"]`)), chromedp.WaitVisible(chromedp.CSS("#credentials")))
	if got := b.evalString(`String(document.querySelectorAll('#credentials tbody tr').length)`); got != "1" {
		t.Errorf("search: got %s rows; want 1", got)
	}
	b.run("revoke", chromedp.SetValue(chromedp.CSS("#action-0"), "revoke"), chromedp.SendKeys(chromedp.CSS("#reason-0"), "moved out of the city"),
		chromedp.Click(chromedp.CSS(".status-form button")), chromedp.WaitVisible(chromedp.CSS("#status-done")))
	b.shot("06-revoked")
	if got := b.text("#credentials tbody"); !strings.Contains(got, "revoked") || !strings.Contains(got, "moved out of the city") {
		t.Errorf("after revoking: got %q; want revoked with its reason", got)
	}

	// The credential now fails verification (POST /credentials/verify, as
	// the verifier's page sends it).
	code, out := httpDo(t, http.MethodPost, base+"/credentials/verify", "", `{"verifiableCredential":`+credJSON+`}`)
	var res struct {
		Verified bool
		Errors   []struct{ Check, Detail string }
	}
	if err := json.Unmarshal(out, &res); err != nil || res.Verified || len(res.Errors) == 0 || !strings.Contains(string(out), "revoked: index") {
		t.Errorf("verify the revoked credential: got %d %s; want not verified, failing on its revocation", code, out)
	}

	// Sign out.
	b.run("sign out", chromedp.Navigate(base+"/console"), chromedp.WaitVisible(chromedp.CSS("#signout")),
		chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#signed-out")))
	b.run("console after sign-out", chromedp.Navigate(base+"/console/credentials"), chromedp.WaitVisible(chromedp.CSS("#api-key")))
	b.shot("09-signed-out")
	b.fitsPhone(base+"/console", "10-sign-in-phone")
}

// TestBrowserConsoleElection: an election office runs a poll from the
// console: creates it, watches the turnout update by itself as a resident
// votes, cannot close it early, then closes it and publishes the result.
func TestBrowserConsoleElection(t *testing.T) {
	b, base, dir, cli, post := consoleSetup(t)
	elec := cli("agency", "create", "--name", "Election Office", "--output", "key")
	var rec struct{ DID string }
	_ = json.Unmarshal(post("/dids", elec, `{"method":"key","keyType":"Ed25519"}`), &rec)
	cli("governance", "accredit", "--issuer", rec.DID, "--types", "ElectionAuthority")
	reg := cli("agency", "create", "--name", "Civil Registry", "--output", "key")
	var regDID struct{ DID string }
	_ = json.Unmarshal(post("/dids", reg, `{"method":"key","keyType":"Ed25519"}`), &regDID)
	cli("governance", "accredit", "--issuer", regDID.DID, "--types", "ResidentCredential")
	schema := filepath.Join(dir, "resident.schema.json")
	if err := os.WriteFile(schema, []byte(`{"type":"object","required":["district","birthDate"],
		"properties":{"district":{"type":"string"},"birthDate":{"type":"string","format":"date"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cli("schema", "register", "--agency-key", reg, "--did", regDID.DID, "--type", "ResidentCredential", "--file", schema)
	post("/issuers", reg, `{"did":"`+regDID.DID+`","format":"ldp_vc","types":["ResidentCredential"]}`)
	alice := cli("holder", "did", "--key", filepath.Join(dir, "alice.key"))
	cred := post("/credentials/issue", reg, `{"credential":{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/undefined-terms/v2"],
		"type":["VerifiableCredential","ResidentCredential"],"issuer":"`+regDID.DID+`",
		"credentialSubject":{"id":"`+alice+`","district":"Eixample","birthDate":"1990-04-01"}},"options":{"format":"ldp_vc"}}`)
	aliceCred := filepath.Join(dir, "alice-resident.json")
	if err := os.WriteFile(aliceCred, cred, 0o600); err != nil {
		t.Fatal(err)
	}

	b.signInBrowser(base, elec, "Election Office")
	opens := time.Now().UTC().Add(-time.Minute)
	closes := time.Now().UTC().Add(30 * time.Second).Truncate(time.Second)
	if closes.Second() == 0 {
		// The browser writes a datetime-local value of :00 seconds without
		// them, and SetValue then fails: the value read back differs.
		closes = closes.Add(time.Second)
	}
	b.run("open the election form", chromedp.Click(chromedp.Search(`//nav[@class="consolebar"]//a[.="Elections"]`)),
		chromedp.WaitVisible(chromedp.CSS("#election-form")))
	b.run("fill the election", chromedp.SetValue(chromedp.CSS("#e-did"), rec.DID),
		chromedp.SendKeys(chromedp.CSS("#e-id"), "tram-2027"), chromedp.SendKeys(chromedp.CSS("#e-title"), "Reopen the old tram line?"),
		chromedp.SetValue(chromedp.CSS("#e-options"), "yes\nno\nblank"), chromedp.SendKeys(chromedp.CSS("#e-type"), "ResidentCredential"),
		chromedp.SendKeys(chromedp.CSS("#e-districts"), "Eixample, Gràcia"), chromedp.SendKeys(chromedp.CSS("#e-minage"), "16"),
		chromedp.SetValue(chromedp.CSS("#e-opens"), opens.Format("2006-01-02T15:04")),
		chromedp.SetValue(chromedp.CSS("#e-closes"), closes.Format("2006-01-02T15:04:05")))
	b.shot("02-election-form")
	b.run("create the election", chromedp.Click(chromedp.CSS("#create-election")), chromedp.WaitVisible(chromedp.CSS("#tally")))
	b.shot("03-election-open")
	if got := b.text("h1"); got != "Reopen the old tram line?" {
		t.Errorf("election page: got title %q", got)
	}
	if got := b.text("#turnout"); got != "no ballot tokens issued yet" {
		t.Errorf("turnout before any vote: got %q", got)
	}

	// Closing before the closing time is refused with the reason.
	b.run("close too early", chromedp.Click(chromedp.CSS("#close-election")), chromedp.WaitVisible(chromedp.CSS("#close-error")))
	if got := b.text("#close-error"); !strings.Contains(got, "Not closed") {
		t.Errorf("early close: got %q; want it refused", got)
	}

	// Alice votes: the page's turnout updates by itself.
	ballot := filepath.Join(dir, "alice-ballot.json")
	cli("election", "token", "tram-2027", aliceCred, "--key", filepath.Join(dir, "alice.key"), "--out", ballot)
	cli("election", "cast", ballot, "--choice", "yes")
	b.run("wait for the turnout", chromedp.WaitVisible(chromedp.Search(`//strong[@id="turnout"][starts-with(., "100.0%")]`)))
	b.shot("04-turnout")

	// After the closing time: close and publish.
	time.Sleep(time.Until(closes) + time.Second)
	b.run("close", chromedp.Navigate(base+"/console/elections/tram-2027"), chromedp.WaitVisible(chromedp.CSS("#close-election")),
		chromedp.Click(chromedp.CSS("#close-election")), chromedp.WaitVisible(chromedp.Search(`//h2[@id="tally-h"][.="Final tally"]`)))
	b.shot("05-final-tally")
	if got := b.text("#counts tbody"); !strings.Contains(got, "yes\t1\t100.0%") {
		t.Errorf("final counts: got %q; want yes 1 100%%", got)
	}
	if got := b.evalString(`document.getElementById('result').value`); strings.Count(got, ".") != 2 {
		t.Errorf("result credential: got %q; want a JWT-VC", got)
	}
	// Published: the public explorer shows the final tally.
	b.run("the public page", chromedp.Navigate(base+"/explorer/elections/tram-2027"), chromedp.WaitVisible(chromedp.Search(`//h2[@id="tally-h"][.="Final tally"]`)))
	b.shot("06-explorer-final")
	b.fitsPhone(base+"/console/elections/tram-2027", "07-election-phone")
}
