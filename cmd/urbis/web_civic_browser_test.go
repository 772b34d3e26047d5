package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserCivic is the explorer's civic pages in Chromium: an issuer's
// accreditations, a parcel's title history, and an election whose page
// shows the turnout and the count as a chart, updates by itself when a
// ballot is cast, and shows the final tally once the poll is closed.
func TestBrowserCivic(t *testing.T) {
	bin := needChromium(t)
	dir := t.TempDir()
	env := testDatabaseEnv(t)
	base, _, _ := startServe(t, env, "--data-dir", dir, "--block-interval", "50ms")
	b := newBrowser(t, bin)
	env["URBIS_SERVER"], env["URBIS_DATA_DIR"] = base, dir
	cli := func(args ...string) string {
		t.Helper()
		out, err := runCLI(t, env, args...)
		if err != nil {
			t.Fatalf("urbis %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(out)
	}
	post := func(path, key, body string) []byte {
		t.Helper()
		code, out := httpDo(t, http.MethodPost, base+path, key, body)
		if code != http.StatusCreated && code != http.StatusOK {
			t.Fatalf("POST %s: %d %s", path, code, out)
		}
		return out
	}
	newDID := func(key string) string {
		var rec struct{ DID string }
		_ = json.Unmarshal(post("/dids", key, `{"method":"key","keyType":"Ed25519"}`), &rec)
		return rec.DID
	}

	// The land registry registers a parcel owned by Alice and Bob.
	land := cli("agency", "create", "--name", "Land Registry", "--output", "key")
	landDID := newDID(land)
	cli("governance", "accredit", "--issuer", landDID, "--types", "LandTitle")
	post("/issuers", land, `{"did":"`+landDID+`","format":"jwt_vc_json","types":["LandTitle"],"statusPurposes":["revocation"]}`)
	alice := cli("holder", "did", "--key", filepath.Join(dir, "alice.key"))
	bob := cli("holder", "did", "--key", filepath.Join(dir, "bob.key"))
	post("/land/parcels", land, `{"registry":"`+landDID+`","parcelId":"ES-08019-0001","cadastralReference":"9872023VH5797S0001WX",
		"owners":[{"did":"`+alice+`","share":1},{"did":"`+bob+`","share":1}]}`)

	// The election office, the civil registry, and two residents.
	elec := cli("agency", "create", "--name", "Election Office", "--output", "key")
	elecDID := newDID(elec)
	cli("governance", "accredit", "--issuer", elecDID, "--types", "ElectionAuthority")
	reg := cli("agency", "create", "--name", "Civil Registry", "--output", "key")
	regDID := newDID(reg)
	cli("governance", "accredit", "--issuer", regDID, "--types", "ResidentCredential")
	schema := filepath.Join(dir, "resident.schema.json")
	if err := os.WriteFile(schema, []byte(`{"type":"object","required":["district","birthDate"],
		"properties":{"district":{"type":"string"},"birthDate":{"type":"string","format":"date"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cli("schema", "register", "--agency-key", reg, "--did", regDID, "--type", "ResidentCredential", "--file", schema)
	post("/issuers", reg, `{"did":"`+regDID+`","format":"ldp_vc","types":["ResidentCredential"]}`)
	resident := func(name, holder string) string {
		cred := post("/credentials/issue", reg, `{"credential":{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/undefined-terms/v2"],
			"type":["VerifiableCredential","ResidentCredential"],"issuer":"`+regDID+`",
			"credentialSubject":{"id":"`+holder+`","district":"Eixample","birthDate":"1990-04-01"}},"options":{"format":"ldp_vc"}}`)
		f := filepath.Join(dir, name+"-resident.json")
		if err := os.WriteFile(f, cred, 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	aliceCred, bobCred := resident("alice", alice), resident("bob", bob)
	closes := time.Now().Add(25 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	cli("election", "create", "--agency-key", elec, "--did", elecDID, "--id", "tram-2027",
		"--title", "Reopen the old tram line?", "--options", "yes,no,blank",
		"--credential-type", "ResidentCredential", "--districts", "Eixample", "--min-age", "16", "--closes", closes.Format(time.RFC3339))
	aliceBallot, bobBallot := filepath.Join(dir, "alice-ballot.json"), filepath.Join(dir, "bob-ballot.json")
	cli("election", "token", "tram-2027", aliceCred, "--key", filepath.Join(dir, "alice.key"), "--out", aliceBallot)
	cli("election", "token", "tram-2027", bobCred, "--key", filepath.Join(dir, "bob.key"), "--out", bobBallot)
	cli("election", "cast", aliceBallot, "--choice", "yes")

	b.run("open the issuer", chromedp.Navigate(base+"/explorer/issuers/"+elecDID), chromedp.WaitVisible(chromedp.CSS("h1")))
	b.shot("01-issuer-accreditations")
	if got := b.text("main"); !strings.Contains(got, "ElectionAuthority: active") || !strings.Contains(got, "trust.accredit") {
		t.Errorf("issuer page: got %q; want the active ElectionAuthority accreditation and its history", got)
	}

	b.run("search the parcel", chromedp.Navigate(base+"/explorer"), chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), "ES-08019-0001"), chromedp.Submit(chromedp.CSS("#q")),
		chromedp.WaitVisible(chromedp.Search(`//h1[.="Parcel ES-08019-0001"]`)))
	b.shot("02-parcel-history")
	if got := b.text("main"); !strings.Contains(got, "Parcel ES-08019-0001") || !strings.Contains(got, "register") {
		t.Errorf("parcel page: got %q; want its registration", got)
	}

	b.run("open the election", chromedp.Navigate(base+"/explorer/elections/tram-2027"), chromedp.WaitVisible(chromedp.CSS("#chart")))
	b.shot("03-election-open")
	if got := b.text("#turnout"); got != "50.0% (1 ballot cast of 2 ballot tokens issued)" {
		t.Errorf("turnout: got %q; want 1 of 2", got)
	}
	// Bob votes while the page is open: it updates by itself.
	cli("election", "cast", bobBallot, "--choice", "no")
	b.run("wait for the page to update", chromedp.WaitVisible(chromedp.Search(`//strong[@id="turnout"][starts-with(., "100.0%")]`)))
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	cells, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#counts tbody td'), td => td.textContent)`))
	if want := []string{"yes", "1", "50.0%", "no", "1", "50.0%", "blank", "0", "0.0%"}; err != nil || !slices.Equal(cells, want) {
		t.Errorf("counts table after Bob's ballot: got %q, %v; want %q", cells, err, want)
	}
	b.shot("04-election-updated")

	// The poll closes; the office records the result; the page shows the final tally.
	time.Sleep(time.Until(closes) + time.Second)
	post("/elections/tram-2027/close", elec, "")
	b.run("wait for the final tally", chromedp.WaitVisible(chromedp.Search(`//h2[@id="tally-h"][.="Final tally"]`)))
	b.shot("05-election-final")
	if got := b.text("#counts"); !strings.Contains(got, "yes") || !strings.Contains(got, "50.0%") {
		t.Errorf("final counts: got %q; want yes and no at 50%% each", got)
	}
	b.fitsPhone(base+"/explorer/elections/tram-2027", "06-election-phone")
}
