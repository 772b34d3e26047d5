package api_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/api"
)

// TestOID4VPRequestQR: POST /verifier/requests answers the URL of the
// request's QR code, not the PNG (unless qrCode is true); the URL serves a
// PNG of the request's openid4vp URI, cacheable until the request expires,
// while the request is pending, and a 404 problem after.
func TestOID4VPRequestQR(t *testing.T) {
	e := newEnvs(t, api.Config{})[0]
	verifier := e.newDID(t, e.key, "Ed25519")
	w := newVPWallet(e)
	create := func(t *testing.T, body map[string]any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		resp, got := e.do(t, http.MethodPost, "/verifier/requests", e.key, string(b))
		var out map[string]any
		if err := json.Unmarshal(got, &out); err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("create request: got %d %s; want 201", resp.StatusCode, got)
		}
		return out
	}
	getQR := func(t *testing.T, qrURL string) (*http.Response, []byte) {
		t.Helper()
		if !strings.HasPrefix(qrURL, testPublicURL+"/verifier/requests/") {
			t.Fatalf("qrUrl %q; want one under %s/verifier/requests/", qrURL, testPublicURL)
		}
		return e.do(t, http.MethodGet, strings.TrimPrefix(qrURL, testPublicURL), "", "")
	}
	residency := map[string]any{"did": verifier, "template": "residency"}

	t.Run("the answer has the URL of the PNG, not the PNG", func(t *testing.T) {
		out := create(t, residency)
		if _, ok := out["qrPng"]; ok {
			t.Errorf("qrPng in the default answer; want none")
		}
		if got, want := out["qrUrl"], testPublicURL+"/verifier/requests/"+out["id"].(string)+"/qr.png"; got != want {
			t.Errorf("qrUrl: got %v; want %s", got, want)
		}
	})

	t.Run("the PNG encodes the uri and may be cached until the request expires", func(t *testing.T) {
		out := create(t, residency)
		resp, b := getQR(t, out["qrUrl"].(string))
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("GET qrUrl: got %d %s; want 200 image/png", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if got := qrText(t, b); got != out["uri"] {
			t.Errorf("the QR code reads %q; want the request's uri %s", got, out["uri"])
		}
		expiresAt, _ := time.Parse(time.RFC3339, out["expiresAt"].(string))
		expires, err := http.ParseTime(resp.Header.Get("Expires"))
		if cc := resp.Header.Get("Cache-Control"); cc != "private" || err != nil || !expires.Equal(expiresAt) {
			t.Errorf("caching: got Cache-Control %q, Expires %q; want private, %s", cc, resp.Header.Get("Expires"), expiresAt.Format(http.TimeFormat))
		}
	})

	t.Run("qrCode true puts the same PNG in the answer", func(t *testing.T) {
		out := create(t, map[string]any{"did": verifier, "template": "residency", "qrCode": true})
		var inline []byte
		if s, ok := out["qrPng"].(string); ok {
			inline, _ = base64.StdEncoding.DecodeString(s)
		}
		_, served := getQR(t, out["qrUrl"].(string))
		if len(inline) == 0 || !bytes.Equal(inline, served) {
			t.Errorf("qrPng: got %d bytes; want the %d bytes of qrUrl", len(inline), len(served))
		}
	})

	t.Run("404 once the request is not pending", func(t *testing.T) {
		answered := create(t, residency)
		ro := w.fetch(t, answered["uri"].(string))
		if st, body := w.post(t, ro.ResponseURI, url.Values{"error": {"access_denied"}, "state": {ro.State}}); st != http.StatusOK {
			t.Fatalf("the wallet declines: got %d %v; want 200", st, body)
		}
		expired := create(t, residency)
		if resp, _ := getQR(t, expired["qrUrl"].(string)); resp.StatusCode != http.StatusOK {
			t.Fatalf("QR code before expiry: got %d; want 200", resp.StatusCode)
		}
		e.vpClock.advance(6 * time.Minute) // past the default 5 minutes
		for _, tt := range []struct {
			name, qrURL string
		}{
			{"answered", answered["qrUrl"].(string)},
			{"expired", expired["qrUrl"].(string)},
			{"unknown", testPublicURL + "/verifier/requests/vpr_nope/qr.png"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				resp, b := getQR(t, tt.qrURL)
				if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("got %d %s %s; want 404 application/problem+json", resp.StatusCode, resp.Header.Get("Content-Type"), b)
				}
			})
		}
	})
}
