package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/urbis-id/urbis/api"
)

// The verifier page's "Ask a wallet" steps that can fail on what the
// visitor typed (a wrong API key, a bad template parameter) go through
// the server, which calls the REST API in process with the service's key
// (GET /dids, POST /verifier/requests) and answers 200 with either the
// API's answer or what is wrong in plain words. A browser logs every
// fetch answered 4xx as an error in its console; a page that expects
// such answers must not get them. The key is used for that one call and
// not kept. The page then polls GET /verifier/requests/{id} itself.

// maxAskBytes bounds the JSON the two routes read.
const maxAskBytes = 64 << 10

// askKey is what POST /verify/key and POST /verify/requests read.
type askKey struct {
	Key      string            `json:"key"`
	DID      string            `json:"did"`
	Template string            `json:"template"`
	Params   map[string]string `json:"params"`
}

// askDID is a DID the page offers to sign the request.
type askDID struct {
	DID    string `json:"did"`
	Method string `json:"method"`
}

// askAnswer is the routes' answer: Problem says what is wrong (and Field
// which input), else DIDs or Request holds the API's answer.
type askAnswer struct {
	Problem string                `json:"problem,omitempty"`
	Field   string                `json:"field,omitempty"`
	DIDs    []askDID              `json:"dids,omitempty"`
	Request *api.VPRequestCreated `json:"request,omitempty"`
}

// readAsk decodes the JSON body of a same-origin fetch. A form posted
// from another site cannot send application/json without a CORS
// preflight, which this server does not answer, so no other site can
// make a visitor's browser use these routes.
func (s *Site) readAsk(w http.ResponseWriter, r *http.Request) (askKey, bool) {
	var in askKey
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		s.askJSON(w, http.StatusUnsupportedMediaType, askAnswer{Problem: "Send JSON (Content-Type: application/json)."})
		return in, false
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		s.askJSON(w, http.StatusForbidden, askAnswer{Problem: "Only this site's verifier page may use this route."})
		return in, false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAskBytes))
	if err := dec.Decode(&in); err != nil {
		s.askJSON(w, http.StatusBadRequest, askAnswer{Problem: "The request is not valid JSON: " + err.Error()})
		return in, false
	}
	in.Key = strings.TrimSpace(in.Key)
	if in.Key == "" || len(in.Key) > maxKeyLen || strings.ContainsAny(in.Key, " \t\r\n") {
		s.askJSON(w, http.StatusOK, askAnswer{Problem: "Enter your service's API key: one word, as `urbis agency create` printed it.", Field: "key"})
		return in, false
	}
	return in, true
}

// verifyKey checks the service's API key through GET /dids and answers
// with its active DIDs, or why the key was not accepted.
func (s *Site) verifyKey(w http.ResponseWriter, r *http.Request) {
	in, ok := s.readAsk(w, r)
	if !ok {
		return
	}
	var list api.DIDList
	if err := s.api.doAs(r, in.Key, http.MethodGet, "/dids", nil, &list); err != nil {
		s.askProblem(w, r, err, "key")
		return
	}
	ans := askAnswer{DIDs: []askDID{}}
	for _, d := range list.Items {
		if d.Status == api.DIDRecordStatusActive {
			ans.DIDs = append(ans.DIDs, askDID{DID: d.Did, Method: string(d.Method)})
		}
	}
	s.askJSON(w, http.StatusOK, ans)
}

// verifyRequest creates the presentation request through
// POST /verifier/requests and answers with it, or with what the API
// refused.
func (s *Site) verifyRequest(w http.ResponseWriter, r *http.Request) {
	in, ok := s.readAsk(w, r)
	if !ok {
		return
	}
	body := api.CreateVPRequest{Did: in.DID}
	if in.Template != "" {
		body.Template = &in.Template
	}
	if len(in.Params) > 0 {
		body.Params = &in.Params
	}
	b, err := json.Marshal(body)
	if err != nil {
		s.askProblem(w, r, err, "")
		return
	}
	var created api.VPRequestCreated
	if err := s.api.doAs(r, in.Key, http.MethodPost, "/verifier/requests", bytes.NewReader(b), &created); err != nil {
		s.askProblem(w, r, err, "")
		return
	}
	s.askJSON(w, http.StatusOK, askAnswer{Request: &created})
}

// askProblem answers an API error in plain words: a wrong key, too many
// attempts, or the API's problem with the field it names. Server errors
// are logged, not shown.
func (s *Site) askProblem(w http.ResponseWriter, r *http.Request, err error, field string) {
	var pe *problemError
	switch {
	case errors.As(err, &pe) && pe.Status == http.StatusUnauthorized:
		s.askJSON(w, http.StatusOK, askAnswer{Problem: "This API key is not valid: no agency has it. Check it and try again.", Field: "key"})
	case errors.As(err, &pe) && pe.Status == http.StatusTooManyRequests:
		s.askJSON(w, http.StatusOK, askAnswer{Problem: "Too many attempts. Wait a minute and try again."})
	case errors.As(err, &pe) && (pe.Status < 500 || pe.Status == http.StatusNotImplemented):
		msg := pe.Title
		if pe.Detail != "" {
			msg += ": " + pe.Detail
		}
		s.askJSON(w, http.StatusOK, askAnswer{Problem: msg, Field: firstOf(pe.Field, field)})
	default:
		s.log.Error("web: verifier page", "path", r.URL.Path, "err", err)
		s.askJSON(w, http.StatusOK, askAnswer{Problem: "Something went wrong on the server. Try again later."})
	}
}

func (s *Site) askJSON(w http.ResponseWriter, code int, a askAnswer) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(a)
}
