package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/web"
)

// TestWebPages asks the real program for the pages, good and bad input:
// every answer is a proper HTML page with the security headers, the
// right status and no 500; the API's routes stay the API's.
func TestWebPages(t *testing.T) {
	dir := t.TempDir()
	base, _, _ := startServe(t, testDatabaseEnv(t), "--data-dir", dir)
	chain := chainID(t, dir)
	w := newWallet(t, base, chain)

	cases := []struct {
		path string
		code int
		want string // in the body
	}{
		{"/", 200, "Explorer"},
		{"/explorer", 200, "Recent blocks"},
		{"/explorer/blocks/1", 200, "Block 1"},
		{"/explorer/blocks/abc", 400, "is not a block height"},
		{"/explorer/blocks/0", 400, "is not a block height"},
		{"/explorer/blocks/-1", 400, "is not a block height"},
		{"/explorer/blocks/99999999999999999999", 400, "is not a block height"},
		{"/explorer/blocks/999999", 404, "The chain has no block 999999"},
		{"/explorer/operations/xyz", 400, "64 hexadecimal characters"},
		{"/explorer/operations/" + strings.Repeat("ab", 32), 404, "No such operation"},
		{"/explorer/dids/" + w.d.id, 200, "Version 1"},
		{"/explorer/dids/did:urbis:GgAcjeG1bZ1cxpMf3S9tNmoAZLGh53Mc9QEnQqk2WvsH", 404, "DID not found"},
		{"/explorer/dids/did:Key:abc", 400, "Error 400"},
		{"/explorer/dids/notadid", 400, "Give a DID"},
		{"/explorer/dids/", 400, "Give a DID"},
		{"/explorer/issuers/" + w.d.id, 200, "no accreditation"},
		{"/explorer/issuers/bad", 400, "issuer"},
		{"/explorer/parcels/nope", 404, "Error 404"},
		{"/explorer/parcels/%3Cscript%3E", 400, "parcel id"},
		{"/explorer/elections/nope", 404, "Error 404"},
		{"/explorer/search?q=1", 200, "Block 1"},
		{"/explorer/search?q=" + w.d.id, 200, "Version 1"},
		{"/explorer/search?q=nothing-here", 200, "neither a parcel nor an election"},
		{"/explorer/search?q=%3Cb%3E", 200, "Search for a DID"},
		{"/explorer/proof", 200, "Check an inclusion proof"},
		{"/explorer/nope", 404, "There is no page at this address"},
		{"/verify", 200, "Ask a wallet"},
		{"/console", 200, "Agency console"},
		{"/console/nope", 404, "no console page"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			resp, err := http.Get(base + c.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.code {
				t.Errorf("got %d; want %d\n%s", resp.StatusCode, c.code, b)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("got Content-Type %q; want an HTML page", ct)
			}
			if got := resp.Header.Get("Content-Security-Policy"); got != web.CSP {
				t.Errorf("got CSP %q; want %q", got, web.CSP)
			}
			for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
				if got := resp.Header.Get(h); got != want {
					t.Errorf("got %s %q; want %q", h, got, want)
				}
			}
			if !strings.Contains(string(b), c.want) || !strings.Contains(string(b), `<html lang="en">`) {
				t.Errorf("got body\n%s\nwant a page with %q", b, c.want)
			}
			if strings.Contains(string(b), "<script>") || strings.Contains(string(b), " style=") {
				t.Errorf("the page has an inline script or style:\n%s", b)
			}
		})
	}

	t.Run("assets", func(t *testing.T) {
		for _, p := range []string{"/assets/site.css", "/assets/proof.js", "/assets/election.js"} {
			resp, err := http.Get(base + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") != web.CSP || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: got %d, CSP %q; want 200 with the headers", p, resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
			}
		}
		resp, err := http.Get(base + "/assets/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("/assets/: got %d; want 404 (no listing)", resp.StatusCode)
		}
	})

	t.Run("the API is untouched", func(t *testing.T) {
		code, body := httpDo(t, http.MethodGet, base+"/registry/head", "", "")
		if code != 200 || !strings.Contains(string(body), `"chain"`) {
			t.Errorf("/registry/head: got %d %s; want the API's JSON", code, body)
		}
		code, body = httpDo(t, http.MethodGet, base+"/no/such/route", "", "")
		if code != 404 || !strings.Contains(string(body), `"status":404`) {
			t.Errorf("unknown route: got %d %s; want the API's problem+json", code, body)
		}
		code, _ = httpDo(t, http.MethodPost, base+"/explorer", "", "{}")
		if code != http.StatusMethodNotAllowed {
			t.Errorf("POST /explorer: got %d; want 405", code)
		}
	})
}
