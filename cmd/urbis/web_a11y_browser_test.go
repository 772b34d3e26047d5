package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// phoneWidth is the narrowest common phone screen, in CSS pixels.
const phoneWidth = 375

// axeScript is axe-core (pinned in internal/interop/package.json, which
// .ci/run installs with npm ci): the accessibility engine the test runs in
// each page.
var axeScript = filepath.Join("..", "..", "internal", "interop", "node_modules", "axe-core", "axe.min.js")

// needAxe returns axe-core's source, or skips t (fails it under CI)
// without it.
func needAxe(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(axeScript)
	if err != nil {
		msg := "axe-core is not installed (cd internal/interop && npm ci): " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; CI must run this test (.ci/run installs it)")
		}
		t.Skip(msg)
	}
	return string(b)
}

// axeRun runs axe-core's WCAG 2.1 A and AA rules in the page and answers
// with the serious and critical violations, one line each.
const axeRun = `(async function () {
  const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations', 'incomplete']});
  const out = [];
  if (r.passes.length + r.incomplete.length + r.violations.length < 10) { out.push('axe-core ran only ' + (r.passes.length + r.violations.length) + ' rules'); }
  r.violations.filter(function (v) { return v.impact === 'serious' || v.impact === 'critical'; }).forEach(function (v) {
    v.nodes.forEach(function (n) { out.push(v.id + ' (' + v.impact + '): ' + v.help + ' at ' + n.target.join(' ') + ': ' + (n.failureSummary || '').replace(/\s+/g, ' ')); });
  });
  return out;
})()`

// pageChecks finds, without axe, form controls with no accessible label,
// chart text too small to read and elements wider than the screen.
const pageChecks = `(function () {
  const out = [];
  document.querySelectorAll('input, select, textarea').forEach(function (el) {
    if (el.type === 'hidden') { return; }
    const named = (el.labels && el.labels.length > 0 && el.labels[0].textContent.trim() !== '') ||
      (el.getAttribute('aria-label') || '').trim() !== '' || (el.getAttribute('aria-labelledby') || '') !== '';
    if (!named) { out.push('a form control without a label: ' + el.outerHTML.slice(0, 120)); }
  });
  document.querySelectorAll('svg text').forEach(function (el) {
    const h = el.getBoundingClientRect().height;
    if (h > 0 && h < 12) { out.push('chart text ' + Math.round(h) + ' px high: "' + el.textContent + '"'); }
  });
  const w = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > w) {
    out.push('the page is ' + document.documentElement.scrollWidth + ' px wide on a ' + w + ' px screen');
    document.querySelectorAll('main *').forEach(function (el) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > w + 1 && out.length < 8) { out.push('wider than the screen: <' + el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + String(el.className).replace(/ /g, '.') : '') + '> right edge ' + Math.round(r.right)); }
    });
  }
  return out;
})()`

// checkPhonePage loads path on a phone-wide screen (the browser session
// must be emulating one) and fails t for each accessibility violation
// axe reports as serious or critical (labels, contrast, names, …), each
// form control without a label, and sideways scrolling.
func (b *browserSession) checkPhonePage(base, path, name, waitFor string) {
	b.t.Helper()
	b.run("open "+path, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS(waitFor)))
	b.auditPage(path, name)
}

// auditPage checks the page that is open, at the screen's width (see
// checkPhonePage).
func (b *browserSession) auditPage(what, name string) {
	b.t.Helper()
	b.shot(name)
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](pageChecks))
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	// DevTools evaluation is not subject to the page's CSP, which allows
	// no script but the site's own.
	has, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe === 'object'`))
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	if !has {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](b.axe)); err != nil {
			b.t.Fatalf("%s: load axe-core: %v", what, err)
		}
	}
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: run axe-core: %v", what, err)
	}
	for _, v := range append(found, violations...) {
		b.t.Errorf("%s (%s px wide): %s", what, b.evalString(`String(window.innerWidth)`), v)
	}
}

// TestBrowserAccessibility opens every kind of page (the console's
// sign-in and its views, the verifier's page, the explorer's front page
// and each of its detail pages) on a 375 px phone screen and checks that
// nothing scrolls sideways, every form control has a label, and axe-core
// finds no serious or critical WCAG 2.1 AA violation (contrast, names,
// structure). The pages hold real data: a parcel, an accreditation, an
// issued credential and an open election.
func TestBrowserAccessibility(t *testing.T) {
	axe := needAxe(t)
	b, base, dir, cli, post := consoleSetup(t)
	b.axe = axe
	newDID := func(key string) string {
		var rec struct{ DID string }
		_ = json.Unmarshal(post("/dids", key, `{"method":"key","keyType":"Ed25519"}`), &rec)
		return rec.DID
	}
	land := cli("agency", "create", "--name", "Land Registry", "--output", "key")
	landDID := newDID(land)
	cli("governance", "accredit", "--issuer", landDID, "--types", "LandTitle")
	post("/issuers", land, `{"did":"`+landDID+`","format":"jwt_vc_json","types":["LandTitle"],"statusPurposes":["revocation"]}`)
	alice := cli("holder", "did", "--key", filepath.Join(dir, "alice.key"))
	post("/land/parcels", land, `{"registry":"`+landDID+`","parcelId":"ES-08019-0001","cadastralReference":"9872023VH5797S0001WX",
		"owners":[{"did":"`+alice+`","share":1}]}`)
	reg := cli("agency", "create", "--name", "Civil Registry", "--output", "key")
	regDID := newDID(reg)
	cli("governance", "accredit", "--issuer", regDID, "--types", "ResidentCredential")
	schema := filepath.Join(dir, "resident.schema.json")
	if err := os.WriteFile(schema, []byte(`{"type":"object","required":["district","birthDate"],
		"properties":{"district":{"type":"string","enum":["Eixample","Gràcia"]},"birthDate":{"type":"string","format":"date"},
		"householdSize":{"type":"integer","minimum":1}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cli("schema", "register", "--agency-key", reg, "--did", regDID, "--type", "ResidentCredential", "--file", schema)
	var in struct{ ID string }
	_ = json.Unmarshal(post("/issuers", reg, `{"did":"`+regDID+`","format":"ldp_vc","types":["ResidentCredential"],"statusPurposes":["revocation","suspension"]}`), &in)
	post("/credentials/issue", reg, `{"credential":{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/undefined-terms/v2"],
		"type":["VerifiableCredential","ResidentCredential"],"issuer":"`+regDID+`",
		"credentialSubject":{"id":"`+alice+`","district":"Eixample","birthDate":"1990-04-01"}},"options":{"format":"ldp_vc"}}`)
	elec := cli("agency", "create", "--name", "Election Office", "--output", "key")
	elecDID := newDID(elec)
	cli("governance", "accredit", "--issuer", elecDID, "--types", "ElectionAuthority")
	cli("election", "create", "--agency-key", elec, "--did", elecDID, "--id", "tram-2027", "--title", "Reopen the old tram line?",
		"--options", "yes,no,blank", "--credential-type", "ResidentCredential", "--districts", "Eixample",
		"--closes", time.Now().UTC().Add(time.Hour).Format(time.RFC3339))

	b.run("phone screen", chromedp.EmulateViewport(phoneWidth, 812, chromedp.EmulateMobile))
	// The public pages.
	b.checkPhonePage(base, "/", "01-home", "h1")
	b.checkPhonePage(base, "/explorer", "02-explorer", "h1")
	b.checkPhonePage(base, "/explorer/blocks/1", "03-block", "h1")
	op := b.evalString(`document.querySelector('a[href^="/explorer/operations/"]').getAttribute('href')`)
	b.checkPhonePage(base, op, "04-operation", "#proof-verdict.ok")
	b.checkPhonePage(base, "/explorer/proof", "05-proof-paste", "h1")
	b.checkPhonePage(base, "/explorer/dids/"+regDID, "06-did", "h1")
	b.checkPhonePage(base, "/explorer/issuers/"+regDID, "07-issuer", "h1")
	b.checkPhonePage(base, "/explorer/parcels/ES-08019-0001", "08-parcel", "h1")
	b.checkPhonePage(base, "/explorer/elections/tram-2027", "09-election", "#tally")
	b.checkPhonePage(base, "/explorer/search?q=nothing-here", "10-search-nothing-found", "h1")
	b.checkPhonePage(base, "/verify", "11-verify", "h1")
	b.run("a wrong key on the verifier's page", chromedp.SetValue(chromedp.CSS("#api-key"), "urbis_wrong"), chromedp.WaitVisible(chromedp.CSS("#vp-error")))
	b.auditPage("/verify with a wrong key", "12-verify-wrong-key")
	b.run("a pasted credential", chromedp.SetValue(chromedp.CSS("#paste-text"), "eyJhbGciOiJFZERTQSJ9.e30.c2ln"),
		chromedp.Click(chromedp.CSS(`#paste-form button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS("#paste-verdict")))
	b.auditPage("/verify with a pasted credential", "13-verify-pasted")

	// The console, signed out and in.
	b.checkPhonePage(base, "/console", "14-sign-in", "#api-key")
	b.run("a wrong key", chromedp.SendKeys(chromedp.CSS("#api-key"), "urbis_wrong"), chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("#signin-error")))
	b.auditPage("/console with a wrong key", "15-sign-in-wrong-key")
	b.run("sign in", chromedp.SendKeys(chromedp.CSS("#api-key"), reg), chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("nav.consolebar")))
	b.auditPage("/console", "16-overview")
	issue := "/console/issue?issuer=" + url.QueryEscape(in.ID) + "&type=ResidentCredential"
	b.checkPhonePage(base, issue, "17-issue-form", "#issue-form")
	b.run("a field error", chromedp.SendKeys(chromedp.CSS("#subject"), alice), chromedp.Click(chromedp.CSS("#issue")),
		chromedp.WaitVisible(chromedp.CSS("#form-error")))
	b.auditPage(issue+" with field errors", "18-issue-errors")
	b.run("issue", chromedp.SetValue(chromedp.CSS(`select[name="claim.district"]`), "Gràcia"),
		chromedp.SetValue(chromedp.CSS(`input[name="claim.birthDate"]`), "1990-04-01"), chromedp.Click(chromedp.CSS("#issue")),
		chromedp.WaitVisible(chromedp.CSS("#issued")))
	b.auditPage(issue+" issued", "19-issued")
	b.run("offer", chromedp.Click(chromedp.CSS("#txcode")), chromedp.Click(chromedp.CSS("#make-offer")), chromedp.WaitVisible(chromedp.CSS("#offer-qr")))
	b.auditPage(issue+" offer", "20-offer")
	b.checkPhonePage(base, "/console/credentials", "21-credentials", "#credentials")
	b.run("sign out", chromedp.Navigate(base+"/console"), chromedp.WaitVisible(chromedp.CSS("#signout")), chromedp.Click(chromedp.CSS("#signout")),
		chromedp.WaitVisible(chromedp.CSS("#signed-out")))
	b.run("sign in as the election office", chromedp.SendKeys(chromedp.CSS("#api-key"), elec), chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("nav.consolebar")))
	b.checkPhonePage(base, "/console/elections", "23-elections", "#election-form")
	b.run("open an election that does not exist", chromedp.SendKeys(chromedp.CSS("#open"), "no-such-poll"), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#form-error")))
	b.auditPage("/console/elections?open=no-such-poll", "23b-no-such-election")
	b.checkPhonePage(base, "/console/elections/tram-2027", "24-election", "#tally")
}

// TestBrowserKeyboard signs in to the console with the keyboard alone:
// from the top of the page, Tab reaches the skip link, the header's
// links and the API key field, each with a visible focus ring; typing
// the key and Enter submit the form.
func TestBrowserKeyboard(t *testing.T) {
	b, base, _, cli, _ := consoleSetup(t)
	key := cli("agency", "create", "--name", "Civil Registry", "--output", "key")
	b.run("open the console", chromedp.Navigate(base+"/console"), chromedp.WaitVisible(chromedp.CSS("#api-key")))
	var visited []string
	for i := 0; i < 12; i++ {
		b.run("press Tab", chromedp.KeyEvent(kb.Tab))
		el := b.evalString(`(function () { const e = document.activeElement; const s = getComputedStyle(e);
			return (e.id || e.textContent.trim() || e.tagName) + (s.outlineStyle === 'none' || s.outlineWidth === '0px' ? ' (no focus ring)' : ''); })()`)
		visited = append(visited, el)
		if strings.HasPrefix(el, "api-key") {
			break
		}
	}
	want := []string{"Skip to the content", "Urbis", "Explorer", "Verify", "Console", "api-key"}
	if fmt.Sprint(visited) != fmt.Sprint(want) {
		t.Errorf("Tab went through %q; want %q, each with a focus ring", visited, want)
	}
	b.shot("01-key-field-focused")
	b.run("type the key and press Enter", chromedp.KeyEvent(key), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("nav.consolebar")))
	b.shot("02-signed-in")
	if got := b.text("nav.consolebar p"); got != "Signed in as Civil Registry" {
		t.Errorf("after Enter: got %q; want Signed in as Civil Registry", got)
	}
	// The skip link moves the focus to the page's content.
	b.run("skip link", chromedp.Navigate(base+"/explorer"), chromedp.WaitVisible(chromedp.CSS("h1")), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Enter))
	if got := b.evalString(`document.activeElement.id`); got != "main" {
		t.Errorf("after the skip link: focus on %q; want main", got)
	}
}
