package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMountSplitsSiteFromAPI checks which paths the site answers and
// which it hands to the API untouched (with its raw path).
func TestMountSplitsSiteFromAPI(t *testing.T) {
	var apiSaw []string
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiSaw = append(apiSaw, r.URL.EscapedPath())
		w.Header().Set("X-From-API", "yes")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTeapot)
	})
	site, err := New(Config{API: api})
	if err != nil {
		t.Fatal(err)
	}
	h := site.Mount(api)
	cases := []struct {
		path    string
		toAPI   bool
		wantCSP bool
	}{
		{"/", false, true},
		{"/explorer", false, true},
		{"/explorer/blocks/1", false, true},
		{"/verify", false, true},
		{"/console", false, true},
		{"/assets/site.css", false, true},
		{"/explorers", true, false},
		{"/verifier/templates", true, false},
		{"/1.0/identifiers/did:web:example.com%3A8443", true, false},
		{"/registry/head", true, false},
		{"/docs", true, false},
	}
	for _, c := range cases {
		apiSaw = nil
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.path, nil))
		// A page calls the API itself; only a request handed over gets
		// the API's own answer.
		if got := rec.Header().Get("X-From-API") == "yes"; got != c.toAPI {
			t.Errorf("%s: got the API's answer %v (code %d); want %v", c.path, got, rec.Code, c.toAPI)
		}
		if c.toAPI && (len(apiSaw) != 1 || apiSaw[0] != c.path) {
			t.Errorf("%s: the API saw %q; want the path unchanged", c.path, apiSaw[0])
		}
		if got := rec.Header().Get("Content-Security-Policy") == CSP; got != c.wantCSP {
			t.Errorf("%s: got CSP %v; want %v", c.path, got, c.wantCSP)
		}
	}
}

// TestAPIClientActsForTheVisitor checks that an in-process API call
// carries the visitor's address (the API's rate limit counts them) and
// turns a problem answer into an error with its status and detail.
func TestAPIClientActsForTheVisitor(t *testing.T) {
	var got *http.Request
	c := apiClient{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"type":"about:blank","title":"Not found","status":404,"detail":"no block 7"}`))
	})}
	from := httptest.NewRequest(http.MethodGet, "/explorer/blocks/7", nil)
	from.RemoteAddr = "203.0.113.9:5555"
	from.Header.Set("X-Forwarded-For", "198.51.100.1")
	var out map[string]any
	err := c.get(from, "/registry/blocks/7", &out)
	if got == nil || got.RemoteAddr != from.RemoteAddr || got.Header.Get("X-Forwarded-For") != "198.51.100.1" || got.URL.Path != "/registry/blocks/7" {
		t.Fatalf("the API got %+v; want the visitor's address on GET /registry/blocks/7", got)
	}
	if !isStatus(err, http.StatusNotFound) || !strings.Contains(err.Error(), "no block 7") {
		t.Errorf("got error %v; want the 404 problem with its detail", err)
	}
}

func TestBarChartAndTurnout(t *testing.T) {
	c := barChart([]string{"yes", "no", "blank"}, []int64{3, 1, 0})
	if len(c.Bars) != 3 || c.Bars[0].W != chartWidth-120 || c.Bars[1].W != (chartWidth-120)/3 || c.Bars[2].W != 0 {
		t.Errorf("got bars %+v; want the largest full width, the others in proportion", c.Bars)
	}
	if c.Bars[0].Percentage != "75.0%" || c.Bars[2].Percentage != "0.0%" {
		t.Errorf("got percentages %q, %q; want 75.0%%, 0.0%%", c.Bars[0].Percentage, c.Bars[2].Percentage)
	}
	if empty := barChart([]string{"a"}, nil); empty.Bars[0].W != 0 || empty.Bars[0].Percentage != "0%" {
		t.Errorf("no ballots: got %+v; want an empty bar", empty.Bars[0])
	}
	for _, c := range []struct {
		ballots, tokens int64
		want            string
	}{
		{0, 0, "no ballot tokens issued yet"},
		{1, 2, "50.0% (1 ballot cast of 2 ballot tokens issued)"},
		{2, 1, "200.0% (2 ballots cast of 1 ballot token issued)"},
		{3, 4, "75.0% (3 ballots cast of 4 ballot tokens issued)"},
	} {
		if got := turnout(c.ballots, c.tokens); got != c.want {
			t.Errorf("turnout(%d, %d): got %q; want %q", c.ballots, c.tokens, got, c.want)
		}
	}
}

func TestSummarizeReadsTheSignedOperation(t *testing.T) {
	// header {"alg":"EdDSA"}, payload {"chain":"c","kind":"did.create","signer":"did:x#k","nonce":1,"payload":{}}
	op := "eyJhbGciOiJFZERTQSJ9.eyJjaGFpbiI6ImMiLCJraW5kIjoiZGlkLmNyZWF0ZSIsInNpZ25lciI6ImRpZDp4I2siLCJub25jZSI6MSwicGF5bG9hZCI6e319.c2ln"
	got := summarize(3, op)
	if got.Index != 3 || got.Kind != "did.create" || got.Signer != "did:x#k" || got.Nonce != 1 || len(got.Hash) != 64 {
		t.Errorf("got %+v; want kind, signer and nonce from the payload", got)
	}
	if bad := summarize(0, "not a jws"); bad.Kind != "(unreadable)" {
		t.Errorf("got %+v for a broken operation; want it marked unreadable", bad)
	}
}

// TestExplorerFrontPageOneCall checks that the explorer's front page
// reads the head and the recent blocks with one GET /registry/blocks.
func TestExplorerFrontPageOneCall(t *testing.T) {
	var saw []string
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		saw = append(saw, r.Method+" "+r.URL.RequestURI())
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"chain":"urbis-test","height":12,"items":[
			{"hash":"` + strings.Repeat("a", 64) + `","header":{"chain":"urbis-test","height":12,"previous":"","time":"2026-01-02T03:04:05Z","opCount":3,"opsRoot":"","stateRoot":"` + strings.Repeat("5", 64) + `","proposer":"v"}},
			{"hash":"` + strings.Repeat("b", 64) + `","header":{"chain":"urbis-test","height":11,"previous":"","time":"2026-01-02T03:04:00Z","opCount":1,"opsRoot":"","stateRoot":"","proposer":"v"}}]}`))
	})
	site, err := New(Config{API: api})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	site.Mount(api).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/explorer", nil))
	if len(saw) != 1 || saw[0] != "GET /registry/blocks?limit=10" {
		t.Errorf("the page called %q; want only GET /registry/blocks?limit=10", saw)
	}
	body := rec.Body.String()
	for _, want := range []string{"<code>urbis-test</code>", `<a href="/explorer/blocks/12">12</a>`, strings.Repeat("5", 64), `<a href="/explorer/blocks/11">11</a>`, "2026-01-02 03:04:05 UTC"} {
		if !strings.Contains(body, want) {
			t.Errorf("got %d, a page without %q", rec.Code, want)
		}
	}
}
