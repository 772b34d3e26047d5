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
