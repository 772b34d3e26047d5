package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// apiClient calls the REST API's handler in process: the pages read
// exactly what a client of openapi.yaml reads, through the same routes,
// authentication and rate limits.
type apiClient struct {
	h http.Handler
}

// problemError is an API answer of 4xx or 5xx (application/problem+json).
type problemError struct {
	Status int    `json:"status"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Field  string `json:"field"` // the offending input, a JSON pointer or parameter name
	Route  string `json:"-"`
}

func (e *problemError) Error() string {
	return fmt.Sprintf("%s: %d %s: %s", e.Route, e.Status, e.Title, e.Detail)
}

// get calls GET path (an escaped path with its query) on behalf of the
// visitor's request from, and decodes the JSON answer into out.
func (c apiClient) get(from *http.Request, path string, out any) error {
	return c.do(from, http.MethodGet, path, nil, out)
}

func (c apiClient) do(from *http.Request, method, path string, body io.Reader, out any) error {
	return c.doAs(from, "", method, path, body, out)
}

// doAs is do with bearer, when not empty, as the API key (the agency
// console's calls on behalf of its signed-in agency).
func (c apiClient) doAs(from *http.Request, bearer, method, path string, body io.Reader, out any) error {
	rec, err := c.serve(from, bearer, method, path, body)
	if err != nil {
		return err
	}
	if rec.code >= 400 {
		pe := &problemError{Status: rec.code, Route: method + " " + path}
		_ = json.Unmarshal(rec.body.Bytes(), pe)
		pe.Status = rec.code
		if pe.Title == "" {
			pe.Title = http.StatusText(rec.code)
		}
		return pe
	}
	if out == nil {
		return nil
	}
	ct := rec.header.Get("Content-Type")
	if !strings.Contains(ct, "json") {
		return fmt.Errorf("web: API %s %s answered %q, not JSON", method, path, ct)
	}
	if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
		return fmt.Errorf("web: API %s %s: decode: %w", method, path, err)
	}
	return nil
}

// recorder is the response writer of an in-process API call.
type recorder struct {
	header http.Header
	code   int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// call is do for routes whose error answers the page shows as they are
// (a verification that failed answers 422 with its checks): it returns
// the status and the body, and an error only when the request cannot be
// made.
func (c apiClient) call(from *http.Request, method, path string, body io.Reader) (int, []byte, error) {
	rec, err := c.serve(from, "", method, path, body)
	if err != nil {
		return 0, nil, err
	}
	return rec.code, rec.body.Bytes(), nil
}

// serve makes the API request on behalf of the visitor's request from,
// with bearer, when not empty, as the API key.
func (c apiClient) serve(from *http.Request, bearer, method, path string, body io.Reader) (*recorder, error) {
	req, err := http.NewRequestWithContext(from.Context(), method, path, body)
	if err != nil {
		return nil, fmt.Errorf("web: API request %s %s: %w", method, path, err)
	}
	// The API sees the visitor: its rate limit counts them as it counts
	// their own calls.
	req.RemoteAddr = from.RemoteAddr
	req.Host = from.Host
	for _, h := range []string{"X-Forwarded-For", "X-Real-Ip"} {
		if v := from.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := &recorder{header: http.Header{}, code: http.StatusOK}
	c.h.ServeHTTP(rec, req)
	return rec, nil
}
