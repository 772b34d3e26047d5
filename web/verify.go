package web

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"strings"

	"github.com/urbis-id/urbis/api"
)

type verifyData struct {
	Templates []api.VPTemplate
	Words     template.JS // checkWords, for checks.js
	Paste     pasteForm
	Result    *pasteResult // the paste box's answer, after a POST
}

// pasteForm is what the paste box sends.
type pasteForm struct {
	Kind, Text, Challenge, Domain string
}

// pasteResult is the paste box's answer: the checks in plain words, or
// why nothing was checked.
type pasteResult struct {
	Verified bool
	Problem  string
	Items    []checkItem
}

// maxPasteBytes bounds what the paste box accepts (the API's own limit
// is 1 MiB).
const maxPasteBytes = 1 << 20

// verify is the verifier's page: the request templates come from
// GET /verifier/templates; the browser creates the request, shows its QR
// code and polls its status through the REST API with the service's own
// API key, which stays in the page's memory.
func (s *Site) verify(w http.ResponseWriter, r *http.Request) {
	s.renderVerify(w, r, pasteForm{Kind: "credential"}, nil)
}

// verifyPaste checks what was pasted through POST /credentials/verify or
// /presentations/verify, on the server, and shows the checks on the
// page: a failed verification is an answer like any other (the browser
// never sees the API's 422, which it would log as an error).
func (s *Site) verifyPaste(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxPasteBytes+4096)
	f := pasteForm{Kind: r.PostFormValue("kind"), Text: strings.TrimSpace(r.PostFormValue("text")),
		Challenge: strings.TrimSpace(r.PostFormValue("challenge")), Domain: strings.TrimSpace(r.PostFormValue("domain"))}
	if f.Kind != "presentation" {
		f.Kind = "credential"
	}
	res := &pasteResult{}
	switch {
	case f.Text == "":
		res.Problem = "Paste a credential or presentation first."
	case len(f.Text) > maxPasteBytes:
		res.Problem = "That is too long: at most 1 MiB."
	default:
		s.checkPaste(r, f, res)
	}
	s.renderVerify(w, r, f, res)
}

func (s *Site) checkPaste(r *http.Request, f pasteForm, res *pasteResult) {
	var value any = f.Text // a compact JWT or SD-JWT
	if strings.HasPrefix(f.Text, "{") {
		var obj map[string]any
		if err := json.Unmarshal([]byte(f.Text), &obj); err != nil {
			res.Problem = "That is not valid JSON: " + err.Error()
			return
		}
		value = obj
	}
	path, body := "/credentials/verify", map[string]any{"verifiableCredential": value}
	if f.Kind == "presentation" {
		options := map[string]string{}
		if f.Challenge != "" {
			options["challenge"] = f.Challenge
		}
		if f.Domain != "" {
			options["domain"] = f.Domain
		}
		path, body = "/presentations/verify", map[string]any{"verifiablePresentation": value, "options": options}
	}
	b, err := json.Marshal(body)
	if err != nil {
		res.Problem = "Not checked: " + err.Error()
		return
	}
	status, answer, err := s.api.call(r, http.MethodPost, path, bytes.NewReader(b))
	if err != nil {
		res.Problem = "Not checked: " + err.Error()
		return
	}
	var v verification
	if (status != http.StatusOK && status != http.StatusUnprocessableEntity) || json.Unmarshal(answer, &v) != nil {
		var p problemError
		_ = json.Unmarshal(answer, &p)
		res.Problem = "Not checked: " + firstOf(p.Detail, firstOf(p.Title, http.StatusText(status)))
		return
	}
	res.Verified, res.Items = v.Verified, checkItems(v)
}

func (s *Site) renderVerify(w http.ResponseWriter, r *http.Request, f pasteForm, res *pasteResult) {
	var list api.VPTemplateList
	if err := s.api.get(r, "/verifier/templates", &list); err != nil && !isStatus(err, http.StatusNotImplemented, http.StatusNotFound) {
		s.fail(w, r, err, "/")
		return
	}
	s.render(w, r, http.StatusOK, "verify", page{Title: "Verify", Nav: "verify", Scripts: []string{"checks.js", "verify.js"},
		Data: verifyData{Templates: list.Templates, Words: checkWordsJSON(), Paste: f, Result: res}})
}
