// Package web serves the pages people use: the public registry explorer,
// the verifier's page and the agency console. The pages are Go
// html/template files and plain CSS and JavaScript, embedded in the
// binary. They read and write only through the REST API that openapi.yaml
// describes: the server side calls the API's own http.Handler in process
// (an http.Request to the REST route, decoding the JSON it answers), and
// the browser side calls the same routes with fetch, except where an
// answer of 4xx is to be expected from what the visitor typed (the
// verifier page's key check and request, verify_ask.go): a browser logs
// every such fetch as an error, so the server makes that call and answers
// 200 with the API's answer or its reason. Every answer carries a strict
// Content-Security-Policy: no inline scripts or styles.
package web

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// CSP is the Content-Security-Policy of every page and asset.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// prefixes are the paths the site answers; everything else is the API's.
var prefixes = []string{"/explorer", "/verify", "/console", "/assets/"}

// Config configures the site.
type Config struct {
	// API is the REST API's handler; the pages get their data from it.
	API http.Handler
	// Logger logs what a visitor must not see (internal errors).
	Logger *slog.Logger
	// Clock gives the time shown on pages (time.Now if nil).
	Clock func() time.Time
}

// Site is the web site: its pages, assets and the API they call.
type Site struct {
	api   apiClient
	log   *slog.Logger
	clock func() time.Time
	pages map[string]*template.Template
	mux   *http.ServeMux
	// sessions are the agency console's signed-in agencies (console.go).
	sessions *sessions
}

// New parses the templates and returns the site.
func New(cfg Config) (*Site, error) {
	if cfg.API == nil {
		return nil, errors.New("web: no API handler")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	s := &Site{api: apiClient{h: cfg.API}, log: cfg.Logger, clock: cfg.Clock, pages: map[string]*template.Template{}}
	s.sessions = newSessions(cfg.Clock)
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, err
		}
		s.pages[base] = t
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	m := http.NewServeMux()
	m.Handle("GET /assets/", http.StripPrefix("/assets/", assets(static)))
	m.HandleFunc("GET /{$}", s.home)
	s.consoleRoutes(m)
	s.routes(m)
	m.HandleFunc("GET /", s.notFound)
	s.mux = m
	return s, nil
}

// Mount returns a handler that serves the site's paths and "/" and hands
// every other request to api unchanged.
func (s *Site) Mount(api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.owns(r.URL.Path) {
			s.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

func (s *Site) owns(path string) bool {
	if path == "/" {
		return true
	}
	for _, p := range prefixes {
		if path == strings.TrimSuffix(p, "/") || strings.HasPrefix(path, strings.TrimSuffix(p, "/")+"/") {
			return true
		}
	}
	return false
}

// ServeHTTP serves the site with its security headers.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	s.mux.ServeHTTP(w, r)
}

// assets serves the embedded static files; they change with the binary,
// so a browser may keep them for a short while.
func assets(root fs.FS) http.Handler {
	files := http.FileServerFS(root)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	})
}

// page is what every template gets.
type page struct {
	Title   string
	Nav     string   // the nav entry to mark current: explorer, verify, console
	Scripts []string // files under /assets/ to load
	Data    any
}

// render writes the named page with status code.
func (s *Site) render(w http.ResponseWriter, r *http.Request, code int, name string, p page) {
	t, ok := s.pages[name]
	if !ok {
		s.log.Error("web: no such template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Error("web: render", "page", name, "path", r.URL.Path, "err", err)
		code, buf = http.StatusInternalServerError, bytes.Buffer{}
		_ = s.pages["error"].ExecuteTemplate(&buf, "layout", page{Title: "Something went wrong", Data: problemPage{
			Status: code, Title: "Something went wrong", Detail: "The page could not be shown. Try again later.",
		}})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// problemPage is the data of the error page.
type problemPage struct {
	Status int
	Title  string
	Detail string
	Back   string // a link back, e.g. to the explorer
}

// fail renders err as an error page: the API's problem (its status, title
// and detail) when it is one, else a 500 whose cause is only logged.
func (s *Site) fail(w http.ResponseWriter, r *http.Request, err error, back string) {
	var pe *problemError
	if errors.As(err, &pe) && pe.Status < 500 {
		s.render(w, r, pe.Status, "error", page{Title: pe.Title, Nav: navOf(back), Data: problemPage{
			Status: pe.Status, Title: pe.Title, Detail: pe.Detail, Back: back,
		}})
		return
	}
	if errors.As(err, &pe) && pe.Status == http.StatusNotImplemented {
		s.render(w, r, pe.Status, "error", page{Title: "Not available here", Nav: navOf(back), Data: problemPage{
			Status: pe.Status, Title: "Not available here", Detail: pe.Detail, Back: back,
		}})
		return
	}
	s.log.Error("web: page failed", "path", r.URL.Path, "err", err)
	s.render(w, r, http.StatusInternalServerError, "error", page{Title: "Something went wrong", Nav: navOf(back), Data: problemPage{
		Status: http.StatusInternalServerError, Title: "Something went wrong",
		Detail: "The page could not be shown. Try again later.", Back: back,
	}})
}

// badRequest renders a 400 page that says what is wrong with the input.
func (s *Site) badRequest(w http.ResponseWriter, r *http.Request, detail, back string) {
	s.render(w, r, http.StatusBadRequest, "error", page{Title: "Invalid request", Nav: navOf(back), Data: problemPage{
		Status: http.StatusBadRequest, Title: "Invalid request", Detail: detail, Back: back,
	}})
}

func navOf(back string) string {
	switch {
	case strings.HasPrefix(back, "/explorer"):
		return "explorer"
	case strings.HasPrefix(back, "/verify"):
		return "verify"
	}
	return ""
}

func (s *Site) notFound(w http.ResponseWriter, r *http.Request) {
	back := "/"
	if strings.HasPrefix(r.URL.Path, "/explorer") {
		back = "/explorer"
	}
	s.render(w, r, http.StatusNotFound, "error", page{Title: "Not found", Nav: navOf(back), Data: problemPage{
		Status: http.StatusNotFound, Title: "Not found", Detail: "There is no page at this address.", Back: back,
	}})
}

func (s *Site) home(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "home", page{Title: "Urbis"})
}
