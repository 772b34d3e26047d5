package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestVerifyPaste checks the paste box's answers: the API's verdict in
// plain words (a 422 is shown, never passed on), and a clear message for
// empty input, bad JSON and an API that refuses the request.
func TestVerifyPaste(t *testing.T) {
	var sent []string
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/verifier/templates":
			_, _ = io.WriteString(w, `{"templates":[]}`)
		case "/credentials/verify":
			b, _ := io.ReadAll(r.Body)
			sent = append(sent, string(b))
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = io.WriteString(w, `{"verified":false,"checks":["issuer"],"errors":[{"check":"proof","detail":"bad signature"}],"warnings":[]}`)
		case "/presentations/verify":
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"title":"Bad request","detail":"/verifiablePresentation: not a presentation"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
	site, err := New(Config{API: api})
	if err != nil {
		t.Fatal(err)
	}
	h := site.Mount(api)
	post := func(form url.Values) (int, string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/verify", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	tests := []struct {
		name string
		form url.Values
		want []string
	}{
		{"failed verification", url.Values{"kind": {"credential"}, "text": {"eyJhbGciOiJFZERTQSJ9.e30.c2ln"}},
			[]string{`id="paste-verdict" class="verdict bad"`, "The signature does not verify", "bad signature", "The issuer is who it says"}},
		{"nothing pasted", url.Values{"kind": {"credential"}, "text": {"  "}}, []string{"Paste a credential or presentation first."}},
		{"bad JSON", url.Values{"kind": {"credential"}, "text": {"{nope"}}, []string{"That is not valid JSON"}},
		{"refused by the API", url.Values{"kind": {"presentation"}, "text": {`{"type":"x"}`}}, []string{"Not checked: /verifiablePresentation: not a presentation"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := post(tt.form)
			if code != http.StatusOK {
				t.Errorf("got %d; want 200 (the page shows the answer)", code)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
		})
	}
	if len(sent) != 1 || !strings.Contains(sent[0], `"verifiableCredential":"eyJhbGciOiJFZERTQSJ9.e30.c2ln"`) {
		t.Errorf("the API got %q; want the compact credential once", sent)
	}
}

// TestVerifyAsk checks the verifier page's key check and request
// creation: the API's 4xx answers become a 200 with a message in plain
// words (and the field), so the browser never logs a failed fetch; only
// same-origin JSON is taken.
func TestVerifyAsk(t *testing.T) {
	var gotAuth []string
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		gotAuth = append(gotAuth, r.Header.Get("Authorization"))
		if r.Header.Get("Authorization") != "Bearer urbis_good" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"title":"Unauthorized","detail":"missing or invalid API key"}`)
			return
		}
		switch r.URL.Path {
		case "/dids":
			_, _ = io.WriteString(w, `{"items":[{"did":"did:key:z6Mkactive","method":"key","status":"active"},{"did":"did:key:z6Mkold","method":"key","status":"deactivated"}]}`)
		case "/verifier/requests":
			b, _ := io.ReadAll(r.Body)
			if strings.Contains(string(b), `"threshold":"abc"`) {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, `{"title":"Invalid input","detail":"threshold must be a whole number","field":"params.threshold"}`)
				return
			}
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"id":"req-1","uri":"openid4vp://?client_id=x","clientId":"x","expiresAt":"2030-01-01T00:00:00Z","requestUri":"http://x/object"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
	site, err := New(Config{API: api})
	if err != nil {
		t.Fatal(err)
	}
	h := site.Mount(api)
	tests := []struct {
		name, path, ctype, fetchSite, body string
		code                               int
		want                               string
	}{
		{"good key", "/verify/key", "application/json", "same-origin", `{"key":"urbis_good"}`, 200, `{"dids":[{"did":"did:key:z6Mkactive","method":"key"}]}`},
		{"wrong key", "/verify/key", "application/json", "same-origin", `{"key":"urbis_wrong"}`, 200, `{"problem":"This API key is not valid: no agency has it. Check it and try again.","field":"key"}`},
		{"no key", "/verify/key", "application/json", "", `{"key":" "}`, 200, `"field":"key"`},
		{"request", "/verify/requests", "application/json", "same-origin", `{"key":"urbis_good","did":"did:key:z6Mkactive","template":"age_over","params":{"threshold":"18"}}`, 200, `"request":{"clientId":"x"`},
		{"bad parameter", "/verify/requests", "application/json", "same-origin", `{"key":"urbis_good","did":"did:key:z6Mkactive","template":"age_over","params":{"threshold":"abc"}}`, 200, `{"problem":"Invalid input: threshold must be a whole number","field":"params.threshold"}`},
		{"a form", "/verify/key", "application/x-www-form-urlencoded", "", `key=urbis_good`, 415, `"problem"`},
		{"another site", "/verify/key", "application/json", "cross-site", `{"key":"urbis_good"}`, 403, `"problem"`},
		{"not JSON", "/verify/key", "application/json", "", `{key`, 400, `"problem":"The request is not valid JSON`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.ctype)
			if tt.fetchSite != "" {
				req.Header.Set("Sec-Fetch-Site", tt.fetchSite)
			}
			h.ServeHTTP(rec, req)
			if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.want) {
				t.Errorf("got %d %s; want %d with %s", rec.Code, rec.Body.String(), tt.code, tt.want)
			}
		})
	}
	for _, a := range gotAuth {
		if a != "Bearer urbis_good" && a != "Bearer urbis_wrong" {
			t.Errorf("the API got Authorization %q; want the key that was sent", a)
		}
	}
}
