package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// consoleClient is a visitor of the agency console that keeps its cookie
// by hand: Go's cookie jar sends no Secure cookie over http, where a
// browser does for 127.0.0.1.
type consoleClient struct {
	t      *testing.T
	base   string
	cookie *http.Cookie // the last console cookie the server set
}

// consoleResp is one answer.
type consoleResp struct {
	code   int
	body   string
	loc    string
	cookie *http.Cookie // the console cookie it set, if any
}

func (c *consoleClient) do(method, path string, form url.Values) consoleResp {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.cookie != nil {
		req.AddCookie(&http.Cookie{Name: c.cookie.Name, Value: c.cookie.Value})
	}
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := consoleResp{code: resp.StatusCode, body: string(b), loc: resp.Header.Get("Location")}
	for _, ck := range resp.Cookies() {
		if ck.Name == "urbis_console" {
			out.cookie = ck
			if ck.MaxAge < 0 {
				c.cookie = nil
			} else {
				c.cookie = ck
			}
		}
	}
	if resp.StatusCode >= 500 {
		c.t.Errorf("%s %s: got %d; want no 500\n%s", method, path, resp.StatusCode, b)
	}
	return out
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the page body.
func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", body)
	}
	return m[1]
}

// signIn signs c in with key and returns the CSRF token of its session.
func (c *consoleClient) signIn(key string) string {
	c.t.Helper()
	r := c.do(http.MethodGet, "/console", nil)
	r = c.do(http.MethodPost, "/console/signin", url.Values{"csrf": {csrfOf(c.t, r.body)}, "key": {key}})
	if r.code != http.StatusSeeOther || r.loc != "/console" {
		c.t.Fatalf("sign in: got %d (to %q)\n%s; want 303 to /console", r.code, r.loc, r.body)
	}
	r = c.do(http.MethodGet, "/console", nil)
	if r.code != http.StatusOK || !strings.Contains(r.body, "Signed in as") {
		c.t.Fatalf("after sign-in: got %d\n%s; want the overview", r.code, r.body)
	}
	return csrfOf(c.t, r.body)
}

// consoleAgency is an agency with a DID accredited for a governed type,
// an ldp_vc issuer instance with revocation and suspension, and one
// credential issued through the API.
type consoleAgency struct {
	key, did, issuer, credID string
}

func newConsoleAgency(t *testing.T, base string, cli func(...string) string, dir, name, typ string) consoleAgency {
	t.Helper()
	var a consoleAgency
	a.key = cli("agency", "create", "--name", name, "--output", "key")
	post := func(path, body string) []byte {
		t.Helper()
		code, out := httpDo(t, http.MethodPost, base+path, a.key, body)
		if code != http.StatusCreated && code != http.StatusOK {
			t.Fatalf("POST %s: %d %s", path, code, out)
		}
		return out
	}
	var rec struct{ DID string }
	_ = json.Unmarshal(post("/dids", `{"method":"key","keyType":"Ed25519"}`), &rec)
	a.did = rec.DID
	cli("governance", "accredit", "--issuer", a.did, "--types", typ+",ElectionAuthority")
	schema := filepath.Join(dir, name+".schema.json")
	if err := os.WriteFile(schema, []byte(`{"title":"`+typ+`","type":"object","required":["district","birthDate"],
		"properties":{"district":{"type":"string","enum":["Eixample","Gràcia","Sants"]},"birthDate":{"type":"string","format":"date"},
		"householdSize":{"type":"integer","minimum":1}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cli("schema", "register", "--agency-key", a.key, "--did", a.did, "--type", typ, "--file", schema)
	var in struct{ ID string }
	_ = json.Unmarshal(post("/issuers", `{"did":"`+a.did+`","format":"ldp_vc","types":["`+typ+`"],"statusPurposes":["revocation","suspension"]}`), &in)
	a.issuer = in.ID
	var cred struct{ VerifiableCredential struct{ ID string } }
	_ = json.Unmarshal(post("/issuers/"+a.issuer+"/credentials/issue", `{"credential":{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/undefined-terms/v2"],
		"type":["VerifiableCredential","`+typ+`"],"credentialSubject":{"id":"did:example:alice","district":"Sants","birthDate":"1990-04-01"}}}`), &cred)
	a.credID = cred.VerifiableCredential.ID
	if a.did == "" || a.issuer == "" || a.credID == "" {
		t.Fatalf("agency %s: got %+v; want a DID, an instance and a credential", name, a)
	}
	return a
}

// TestConsoleSession: the session cookie's attributes; CSRF refusals; a
// wrong key; sign-out; the key never in a page, an address or the log.
func TestConsoleSession(t *testing.T) {
	dir := t.TempDir()
	env := testDatabaseEnv(t) // PostgreSQL when URBIS_TEST_POSTGRES_URL is set
	base, logs, _ := startServe(t, env, "--data-dir", dir)
	env["URBIS_SERVER"], env["URBIS_DATA_DIR"] = base, dir
	key := strings.TrimSpace(mustCLI(t, env, "agency", "create", "--name", "Civil Registry", "--output", "key"))

	c := &consoleClient{t: t, base: base}
	r := c.do(http.MethodGet, "/console", nil)
	if r.code != http.StatusOK || !strings.Contains(r.body, `<label for="api-key">API key</label>`) {
		t.Fatalf("GET /console: got %d\n%s; want the sign-in form", r.code, r.body)
	}
	checkCookie := func(what string, ck *http.Cookie) {
		t.Helper()
		if ck == nil {
			t.Fatalf("%s: no console cookie set", what)
		}
		if !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console" || ck.Domain != "" || len(ck.Value) < 40 {
			t.Errorf("%s: cookie %+v; want HttpOnly, Secure, SameSite=Strict, Path=/console, no Domain, a long random value", what, ck)
		}
	}
	checkCookie("sign-in page", r.cookie)
	pre, preCSRF := r.cookie.Value, csrfOf(t, r.body)

	// A POST without the token, or with another visitor's, is refused
	// before the key is even looked at.
	for name, form := range map[string]url.Values{
		"no token":    {"key": {key}},
		"wrong token": {"key": {key}, "csrf": {"x" + preCSRF}},
	} {
		r := c.do(http.MethodPost, "/console/signin", form)
		if r.code != http.StatusForbidden || !strings.Contains(r.body, "Form refused") || r.cookie != nil {
			t.Errorf("sign-in with %s: got %d\n%s; want 403 Form refused and no session", name, r.code, r.body)
		}
	}
	other := &consoleClient{t: t, base: base}
	or := other.do(http.MethodGet, "/console", nil)
	if r := c.do(http.MethodPost, "/console/signin", url.Values{"key": {key}, "csrf": {csrfOf(t, or.body)}}); r.code != http.StatusForbidden {
		t.Errorf("sign-in with another visitor's token: got %d; want 403", r.code)
	}

	// A wrong key: a clear error, no session.
	c.cookie = &http.Cookie{Name: "urbis_console", Value: pre}
	r = c.do(http.MethodPost, "/console/signin", url.Values{"key": {"uak_not-a-key"}, "csrf": {preCSRF}})
	if r.code != http.StatusOK || !strings.Contains(r.body, "This API key is not valid") || r.cookie == nil || r.cookie.Value == pre {
		t.Errorf("wrong key: got %d\n%s; want the form again saying the key is not valid, with a new pre-session", r.code, r.body)
	}
	if r := c.do(http.MethodGet, "/console", nil); strings.Contains(r.body, "Signed in as") {
		t.Errorf("after a wrong key: got a signed-in page; want the sign-in form")
	}
	r = c.do(http.MethodPost, "/console/signin", url.Values{"key": {""}, "csrf": {csrfOf(t, c.do(http.MethodGet, "/console", nil).body)}})
	if r.code != http.StatusOK || !strings.Contains(r.body, "Enter your agency") {
		t.Errorf("empty key: got %d\n%s; want the form again asking for the key", r.code, r.body)
	}

	// The right key: a new session id (not the pre-session's), the agency's
	// overview, and the key nowhere in it.
	c.cookie = nil
	r = c.do(http.MethodGet, "/console", nil)
	pre = r.cookie.Value
	r = c.do(http.MethodPost, "/console/signin", url.Values{"key": {key}, "csrf": {csrfOf(t, r.body)}})
	if r.code != http.StatusSeeOther || r.loc != "/console" {
		t.Fatalf("sign-in: got %d %q\n%s; want 303 to /console", r.code, r.loc, r.body)
	}
	checkCookie("session", r.cookie)
	if r.cookie.Value == pre {
		t.Errorf("the session id is the pre-session's; want a new one at sign-in")
	}
	session := r.cookie.Value
	r = c.do(http.MethodGet, "/console", nil)
	if !strings.Contains(r.body, "Signed in as <strong>Civil Registry</strong>") {
		t.Errorf("overview: got\n%s\nwant the agency's name", r.body)
	}
	sessCSRF := csrfOf(t, r.body)
	for _, p := range []string{"/console", "/console/credentials", "/console/elections"} {
		if r := c.do(http.MethodGet, p, nil); strings.Contains(r.body, key) {
			t.Errorf("%s shows the API key", p)
		}
	}

	// Every console POST needs the session's token.
	for _, p := range []string{"/console/credentials/status", "/console/issue", "/console/elections", "/console/elections/x/close", "/console/signout"} {
		for name, form := range map[string]url.Values{"no token": {"action": {"revoke"}}, "the pre-session's token": {"csrf": {preCSRF}}} {
			if r := c.do(http.MethodPost, p, form); r.code != http.StatusForbidden || !strings.Contains(r.body, "Nothing was changed") {
				t.Errorf("POST %s with %s: got %d; want 403", p, name, r.code)
			}
		}
	}

	// Sign out: the cookie is cleared and the session ends on the server,
	// so replaying the old cookie gets the sign-in page.
	r = c.do(http.MethodPost, "/console/signout", url.Values{"csrf": {sessCSRF}})
	if r.code != http.StatusSeeOther || r.cookie == nil || r.cookie.MaxAge >= 0 {
		t.Errorf("sign-out: got %d, cookie %+v; want 303 and the cookie cleared", r.code, r.cookie)
	}
	c.cookie = &http.Cookie{Name: "urbis_console", Value: session}
	if r := c.do(http.MethodGet, "/console", nil); strings.Contains(r.body, "Signed in as") {
		t.Errorf("the old session cookie still works after sign-out")
	}
	if r := c.do(http.MethodGet, "/console/credentials", nil); r.code != http.StatusSeeOther || r.loc != "/console" {
		t.Errorf("a console page after sign-out: got %d %q; want 303 to the sign-in page", r.code, r.loc)
	}
	c.cookie = &http.Cookie{Name: "urbis_console", Value: session}
	if r := c.do(http.MethodPost, "/console/credentials/status", url.Values{"csrf": {sessCSRF}}); r.code != http.StatusOK ||
		!strings.Contains(r.body, "Your console session has ended") || !strings.Contains(r.body, `id="signin-form"`) {
		t.Errorf("a POST with the ended session's token: got %d\n%.2000s; want the sign-in page saying the session ended", r.code, r.body)
	}
	time.Sleep(100 * time.Millisecond) // let the log catch up
	if strings.Contains(logs.String(), key) {
		t.Errorf("the service's log holds the API key")
	}
}

func mustCLI(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	out, err := runCLI(t, env, args...)
	if err != nil {
		t.Fatalf("urbis %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// TestConsolePages: the console's pages with good and bad input: bad
// input is a 4xx page that says what is wrong, never a 500; agency B's
// console never shows or changes agency A's DIDs, instances, credentials
// or elections.
func TestConsolePages(t *testing.T) {
	dir := t.TempDir()
	env := testDatabaseEnv(t)
	base, _, _ := startServe(t, env, "--data-dir", dir, "--block-interval", "50ms")
	env["URBIS_SERVER"], env["URBIS_DATA_DIR"] = base, dir
	cli := func(args ...string) string { t.Helper(); return strings.TrimSpace(mustCLI(t, env, args...)) }
	a := newConsoleAgency(t, base, cli, dir, "Agency A", "ResidentCredential")
	b := newConsoleAgency(t, base, cli, dir, "Agency B", "ParkingPermit")

	ca := &consoleClient{t: t, base: base}
	csrfA := ca.signIn(a.key)
	cb := &consoleClient{t: t, base: base}
	csrfB := cb.signIn(b.key)

	// A's overview: its DID, instance, the link to issue, its accreditation.
	r := ca.do(http.MethodGet, "/console", nil)
	for _, want := range []string{a.issuer, "Issue ResidentCredential", "ElectionAuthority", "<strong>active</strong>"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("A's overview lacks %q", want)
		}
	}

	// Issue from the schema form: a bad field is shown next to the field.
	issuePath := "/console/issue?issuer=" + a.issuer + "&type=ResidentCredential"
	r = ca.do(http.MethodGet, issuePath, nil)
	if r.code != http.StatusOK || !strings.Contains(r.body, `name="claim.district"`) || !strings.Contains(r.body, `<option value="Gràcia">`) || !strings.Contains(r.body, `type="date"`) {
		t.Fatalf("issue form: got %d\n%s; want the schema's fields (a select for district, a date)", r.code, r.body)
	}
	form := url.Values{"csrf": {csrfA}, "issuer": {a.issuer}, "type": {"ResidentCredential"}, "action": {"issue"},
		"subject": {"did:example:bob"}, "claim.district": {"Nowhere"}, "claim.householdSize": {"two"}}
	r = ca.do(http.MethodPost, "/console/issue", form)
	if r.code != http.StatusOK || !strings.Contains(r.body, `id="claim-2-error">must be a whole number`) ||
		!regexp.MustCompile(`id="claim-1-error">is required`).MatchString(r.body) {
		t.Errorf("bad fields: got %d\n%s; want the form again with errors next to householdSize and birthDate", r.code, r.body)
	}
	form.Set("claim.householdSize", "2")
	form.Set("claim.birthDate", "1990-04-01")
	r = ca.do(http.MethodPost, "/console/issue", form)
	if r.code != http.StatusOK || !regexp.MustCompile(`id="claim-0-error">value must be one of`).MatchString(r.body) {
		t.Errorf("district not in the enum: got %d\n%s; want the error next to district", r.code, r.body)
	}
	form.Set("claim.district", "Gràcia")
	r = ca.do(http.MethodPost, "/console/issue", form)
	m := regexp.MustCompile(`<code id="issued-id">([^<]+)</code>`).FindStringSubmatch(r.body)
	if r.code != http.StatusCreated || m == nil {
		t.Fatalf("issue: got %d\n%s; want 201 with the credential", r.code, r.body)
	}
	issuedID := m[1]

	// An offer from the same form: QR code and transaction code.
	form.Set("action", "offer")
	form.Set("txcode", "on")
	r = ca.do(http.MethodPost, "/console/issue", form)
	if r.code != http.StatusCreated || !strings.Contains(r.body, `src="data:image/png;base64,`) || !regexp.MustCompile(`id="offer-txcode" class="mono">\d{6}<`).MatchString(r.body) ||
		!strings.Contains(r.body, "openid-credential-offer://") {
		t.Errorf("offer: got %d\n%s; want the QR code, a 6-digit transaction code and the offer URI", r.code, r.body)
	}

	// Search and revoke with a reason.
	r = ca.do(http.MethodGet, "/console/credentials?q="+url.QueryEscape(issuedID), nil)
	if !strings.Contains(r.body, issuedID) || strings.Contains(r.body, a.credID) {
		t.Errorf("search by id: want only %s\n%s", issuedID, r.body)
	}
	r = ca.do(http.MethodPost, "/console/credentials/status", url.Values{"csrf": {csrfA}, "credential": {issuedID}, "action": {"revoke"}})
	if r.code != http.StatusOK || !strings.Contains(r.body, "Give a reason") {
		t.Errorf("revoke without a reason: got %d; want the list again asking for one", r.code)
	}
	r = ca.do(http.MethodPost, "/console/credentials/status", url.Values{"csrf": {csrfA}, "credential": {issuedID}, "action": {"revoke"}, "reason": {"issued in error"}})
	if r.code != http.StatusSeeOther {
		t.Fatalf("revoke: got %d\n%s; want 303", r.code, r.body)
	}
	r = ca.do(http.MethodGet, r.loc, nil)
	if !strings.Contains(r.body, `<strong class="cred-status">revoked</strong>`) || !strings.Contains(r.body, `<span class="cred-reason">issued in error</span>`) {
		t.Errorf("after revoking: got\n%s\nwant revoked with its reason", r.body)
	}

	// Bad input: the form again with what is wrong (200), or a 4xx page
	// that says what is wrong.
	bad := []struct {
		method, path string
		form         url.Values
		code         int
		want         string
	}{
		{"GET", "/console/issue?issuer=nope&type=X", nil, 404, "no issuer instance"},
		{"GET", "/console/issue?issuer=" + a.issuer + "&type=ParkingPermit", nil, 400, "does not issue"},
		{"GET", "/console/issue", nil, 404, "no issuer instance"},
		{"POST", "/console/issue", url.Values{"csrf": {csrfA}, "issuer": {a.issuer}, "type": {"ResidentCredential"}, "subject": {"bob"}, "claim.district": {"Sants"}, "claim.birthDate": {"1990-01-01"}}, 200, "must be a DID"},
		{"GET", "/console/credentials?q=" + strings.Repeat("x", 300), nil, 200, "at most 200"},
		{"POST", "/console/credentials/status", url.Values{"csrf": {csrfA}, "credential": {issuedID}, "action": {"explode"}}, 200, "Choose suspend"},
		{"POST", "/console/credentials/status", url.Values{"csrf": {csrfA}, "credential": {issuedID}, "action": {"reinstate"}}, 200, "revocation is final"},
		{"POST", "/console/credentials/status", url.Values{"csrf": {csrfA}, "credential": {"urn:uuid:nope"}, "action": {"suspend"}}, 200, "urn:uuid:nope"},
		{"POST", "/console/credentials/status", url.Values{"csrf": {csrfA}, "credential": {a.credID}, "action": {"suspend"}, "reason": {strings.Repeat("r", 301)}}, 200, "at most 300"},
		{"POST", "/console/elections", url.Values{"csrf": {csrfA}}, 200, "choose the DID"},
		{"POST", "/console/elections", url.Values{"csrf": {csrfA}, "did": {a.did}, "id": {"Bad Id"}, "title": {"t"}, "options": {"a\nb"}, "credentialType": {"ResidentCredential"}, "opens": {"2026-01-01T00:00"}, "closes": {"2099-01-01T00:00"}}, 200, "lowercase letters"},
		{"POST", "/console/elections", url.Values{"csrf": {csrfA}, "did": {a.did}, "id": {"poll-1"}, "title": {"t"}, "options": {"a\nb"}, "credentialType": {"ResidentCredential"}, "opens": {"tomorrow"}, "closes": {"2099-01-01T00:00"}}, 200, "must be a date and time"},
		{"POST", "/console/elections", url.Values{"csrf": {csrfA}, "did": {b.did}, "id": {"poll-1"}, "title": {"t"}, "options": {"a\nb"}, "credentialType": {"ResidentCredential"}, "opens": {"2026-01-01T00:00"}, "closes": {"2099-01-01T00:00"}}, 200, "not found"},
		{"GET", "/console/elections?open=%3Cx%3E", nil, 200, "lowercase letters"},
		{"GET", "/console/elections?open=no-such-poll", nil, 200, `There is no election &#34;no-such-poll&#34;.`},
		{"GET", "/console/elections/%3Cx%3E", nil, 400, "lowercase letters"},
		{"GET", "/console/elections/no-such-poll", nil, 404, "Error 404"},
		{"POST", "/console/elections/no-such-poll/close", url.Values{"csrf": {csrfA}}, 404, "Error 404"},
		{"GET", "/console/nope", nil, 404, "no console page"},
	}
	for _, c := range bad {
		r := ca.do(c.method, c.path, c.form)
		if r.code != c.code || !strings.Contains(r.body, c.want) || (c.code == 200 && !strings.Contains(r.body, `class="verdict bad"`) && !strings.Contains(r.body, `class="field-error"`)) {
			t.Errorf("%s %.80s: got %d\n%.3000s\nwant %d with %q", c.method, c.path, r.code, r.body, c.code, c.want)
		}
	}

	// An election of A, open for a while: B cannot see it in its console
	// as its own, nor close it.
	r = ca.do(http.MethodPost, "/console/elections", url.Values{"csrf": {csrfA}, "did": {a.did}, "id": {"poll-a"}, "title": {"Poll A"},
		"options": {"yes\nno"}, "credentialType": {"ResidentCredential"}, "opens": {"2026-01-01T00:00"}, "closes": {"2099-01-01T00:00"}})
	if r.code != http.StatusSeeOther || r.loc != "/console/elections/poll-a" {
		t.Fatalf("create election: got %d %q\n%s", r.code, r.loc, r.body)
	}
	r = ca.do(http.MethodPost, "/console/elections/poll-a/close", url.Values{"csrf": {csrfA}})
	if r.code != http.StatusOK || !strings.Contains(r.body, "Not closed") {
		t.Errorf("close before the closing time: got %d\n%s; want the page saying why", r.code, r.body)
	}

	// Tenancy: B's console never shows A's resources.
	for _, p := range []string{"/console", "/console/credentials", "/console/credentials?q=" + url.QueryEscape(a.credID), "/console/credentials?issuer=" + a.issuer, "/console/elections"} {
		r := cb.do(http.MethodGet, p, nil)
		for _, secret := range []string{a.did, a.issuer, a.credID, issuedID} {
			if strings.Contains(r.body, secret) && !strings.Contains(p, url.QueryEscape(secret)) && !strings.Contains(p, secret) {
				t.Errorf("B's %s shows A's %s", p, secret)
			}
		}
		if strings.Contains(r.body, `class="cred-status"`) && p != "/console/credentials" {
			t.Errorf("B's %s lists credentials; want none of A's", p)
		}
	}
	// Opening an election by its id: A's own opens; B is told it is not
	// its agency's (elections are public), on the form.
	if r := ca.do(http.MethodGet, "/console/elections?open=poll-a", nil); r.code != http.StatusSeeOther || r.loc != "/console/elections/poll-a" {
		t.Errorf("A opens poll-a: got %d %q; want 303 to its page", r.code, r.loc)
	}
	if r := cb.do(http.MethodGet, "/console/elections?open=poll-a", nil); r.code != http.StatusOK || !strings.Contains(r.body, "is not your agency&#39;s") {
		t.Errorf("B opens poll-a: got %d\n%.2000s; want 200 with the form saying it is not B's", r.code, r.body)
	}
	if r := cb.do(http.MethodGet, "/console/credentials?q="+url.QueryEscape(a.credID), nil); !strings.Contains(r.body, "No credentials match") {
		t.Errorf("B searching A's credential: want no match\n%s", r.body)
	}
	for _, c := range []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/console/issue?issuer=" + a.issuer + "&type=ResidentCredential", nil},
		{"POST", "/console/issue", url.Values{"csrf": {csrfB}, "issuer": {a.issuer}, "type": {"ResidentCredential"}, "claim.district": {"Sants"}, "claim.birthDate": {"1990-01-01"}}},
		{"POST", "/console/credentials/status", url.Values{"csrf": {csrfB}, "credential": {a.credID}, "action": {"revoke"}, "reason": {"B tries"}}},
		{"POST", "/console/elections/poll-a/close", url.Values{"csrf": {csrfB}}},
		{"GET", "/console/elections/poll-a", nil},
	} {
		r := cb.do(c.method, c.path, c.form)
		if (r.code != http.StatusNotFound && !strings.Contains(r.body, `class="verdict bad"`)) || !strings.Contains(strings.ToLower(r.body), "not found") && !strings.Contains(r.body, "no issuer instance") && !strings.Contains(r.body, "has no election") {
			t.Errorf("B %s %s: got %d\n%.2000s; want not found, as if A's resource did not exist", c.method, c.path, r.code, r.body)
		}
	}
	// A's token does not work in B's session.
	if r := cb.do(http.MethodPost, "/console/credentials/status", url.Values{"csrf": {csrfA}, "credential": {b.credID}, "action": {"suspend"}}); r.code != http.StatusForbidden {
		t.Errorf("B's session with A's token: got %d; want 403", r.code)
	}
	r = ca.do(http.MethodGet, "/console/credentials?q="+url.QueryEscape(a.credID), nil)
	if !strings.Contains(r.body, `<strong class="cred-status">active</strong>`) {
		t.Errorf("A's credential after B's attempts: got\n%s\nwant it still active", r.body)
	}
}
