package web

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/urbis-id/urbis/api"
)

// The agency console (/console): an agency signs in with its API key,
// which stays on the server, in a session that a cookie names; every page
// then calls the REST API in process with that key as the Bearer token,
// exactly as a client of openapi.yaml would.
//
// Sessions live in the server's memory: a restart signs everyone out.
// The cookie is HttpOnly, Secure and SameSite=Strict, scoped to /console.
// Browsers accept a Secure cookie from http://localhost and
// http://127.0.0.1 (both are potentially trustworthy origins); anywhere
// else the console must be served over HTTPS (a proxy in front of
// `urbis serve`), or the browser drops the cookie and sign-in does not
// stick.
//
// Every form carries a CSRF token, the HMAC of the session id under a
// key of the process; a POST without the right one is refused with 403
// before anything else is read. The sign-in form has one too, bound to a
// pre-session id that the sign-in page sets in the same cookie; signing in
// replaces that id with a new one (no session fixation).

const (
	// formAgain is the status of a form sent back with messages about
	// what to fix (a bad field, a wrong key, a refused change): the page
	// itself is fine, and a 4xx document would be an error in the
	// browser's console. Pages that refuse (403), find nothing (404) or
	// fail keep their status.
	formAgain = http.StatusOK

	consoleCookie = "urbis_console"
	// sessionIdle and sessionMax bound a session: it ends after
	// sessionIdle without a request, and sessionMax after sign-in.
	sessionIdle = 30 * time.Minute
	sessionMax  = 12 * time.Hour
	// maxSessions bounds the memory sessions take; signing in beyond it
	// first drops the expired ones, then refuses.
	maxSessions = 10000
	// maxKeyLen bounds what the sign-in form takes as an API key.
	maxKeyLen = 512
)

// consoleSession is a signed-in agency.
type consoleSession struct {
	key     string // the API key: never rendered, logged or put in a URL
	agency  api.Agency
	created time.Time
	seen    time.Time
}

// sessions holds the console's sessions by id.
type sessions struct {
	mu     sync.Mutex
	m      map[string]*consoleSession
	secret []byte // the CSRF tokens' HMAC key
	clock  func() time.Time
}

func newSessions(clock func() time.Time) *sessions {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret) // crypto/rand.Read never fails (Go 1.24+)
	return &sessions{m: map[string]*consoleSession{}, secret: secret, clock: clock}
}

func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// csrf is the CSRF token of session (or pre-session) id.
func (ss *sessions) csrf(id string) string {
	m := hmac.New(sha256.New, ss.secret)
	m.Write([]byte("urbis console csrf\x00" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// get returns the live session id names, refreshing its idle time.
func (ss *sessions) get(id string) (*consoleSession, bool) {
	if id == "" {
		return nil, false
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[id]
	if !ok {
		return nil, false
	}
	now := ss.clock()
	if now.Sub(s.seen) > sessionIdle || now.Sub(s.created) > sessionMax {
		delete(ss.m, id)
		return nil, false
	}
	s.seen = now
	return s, true
}

// start makes a session for agency a with key and returns its id.
func (ss *sessions) start(key string, a api.Agency) (string, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := ss.clock()
	if len(ss.m) >= maxSessions {
		for id, s := range ss.m {
			if now.Sub(s.seen) > sessionIdle || now.Sub(s.created) > sessionMax {
				delete(ss.m, id)
			}
		}
		if len(ss.m) >= maxSessions {
			return "", errors.New("too many console sessions")
		}
	}
	id := randomID()
	ss.m[id] = &consoleSession{key: key, agency: a, created: now, seen: now}
	return id, nil
}

func (ss *sessions) end(id string) {
	ss.mu.Lock()
	delete(ss.m, id)
	ss.mu.Unlock()
}

func setConsoleCookie(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{Name: consoleCookie, Value: id, Path: "/console",
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

func clearConsoleCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: consoleCookie, Value: "", Path: "/console", MaxAge: -1,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

func cookieID(r *http.Request) string {
	c, err := r.Cookie(consoleCookie)
	if err != nil || len(c.Value) > 100 {
		return ""
	}
	return c.Value
}

// consoleCtx is what a console handler knows about its visitor.
type consoleCtx struct {
	id   string
	sess *consoleSession
	csrf string
}

// consolePage is the data of every console page.
type consolePage struct {
	CSRF   string
	Agency api.Agency
	Data   any
}

// consoleHandler is a console page of a signed-in agency.
type consoleHandler func(w http.ResponseWriter, r *http.Request, c consoleCtx)

// signedIn wraps h: a visitor without a session is sent to the sign-in
// page (a GET) or shown it with why nothing was done (a POST); a POST
// needs the session's CSRF token.
func (s *Site) signedIn(h consoleHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := cookieID(r)
		sess, ok := s.sessions.get(id)
		if r.Method == http.MethodPost && !s.csrfOK(r, id) {
			s.csrfRefused(w, r)
			return
		}
		if !ok {
			if r.Method == http.MethodPost {
				// The sign-in page again, as an answer (200): a session
				// that ended is no error of the page.
				s.signInPage(w, r, formAgain, "Your console session has ended (30 minutes without use, 12 hours after sign-in, or a sign-out), so nothing was changed. Sign in again, then resend the form.")
				return
			}
			http.Redirect(w, r, "/console", http.StatusSeeOther)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		h(w, r, consoleCtx{id: id, sess: sess, csrf: s.sessions.csrf(id)})
	}
}

// csrfOK checks the form's csrf field against the token of id. It reads
// at most 1 MiB of form.
func (s *Site) csrfOK(r *http.Request, id string) bool {
	if id == "" {
		return false
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		return false
	}
	got := r.PostForm.Get("csrf")
	return got != "" && hmac.Equal([]byte(got), []byte(s.sessions.csrf(id)))
}

func (s *Site) csrfRefused(w http.ResponseWriter, r *http.Request) {
	s.consoleError(w, r, http.StatusForbidden, "Form refused",
		"This form did not come from this console page, or it is older than your session (its security token is missing or wrong). Nothing was changed. Open the console again and resend the form from there.")
}

func (s *Site) consoleError(w http.ResponseWriter, r *http.Request, code int, title, detail string) {
	s.render(w, r, code, "error", page{Title: title, Nav: "console", Data: problemPage{
		Status: code, Title: title, Detail: detail, Back: "/console",
	}})
}

// consoleFail renders an API error on a console page: a 4xx problem as
// it is, anything else as a 500 whose cause is only logged.
func (s *Site) consoleFail(w http.ResponseWriter, r *http.Request, err error) {
	var pe *problemError
	if errors.As(err, &pe) && (pe.Status < 500 || pe.Status == http.StatusNotImplemented) {
		s.consoleError(w, r, pe.Status, pe.Title, pe.Detail)
		return
	}
	s.log.Error("web: console page failed", "path", r.URL.Path, "err", err)
	s.consoleError(w, r, http.StatusInternalServerError, "Something went wrong", "The page could not be shown. Try again later.")
}

// call calls the REST API as the session's agency, with body (if not
// nil) as its JSON.
func (c consoleCtx) call(s *Site, r *http.Request, method, path string, body any, out any) error {
	if body == nil {
		return s.api.doAs(r, c.sess.key, method, path, nil, out)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return s.api.doAs(r, c.sess.key, method, path, bytes.NewReader(b), out)
}

func (s *Site) consoleRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /console", s.consoleHome)
	m.HandleFunc("POST /console/signin", s.signIn)
	m.HandleFunc("POST /console/signout", s.signedIn(s.signOut))
	m.HandleFunc("GET /console/issue", s.signedIn(s.issueForm))
	m.HandleFunc("POST /console/issue", s.signedIn(s.issuePost))
	m.HandleFunc("GET /console/credentials", s.signedIn(s.credentials))
	m.HandleFunc("POST /console/credentials/status", s.signedIn(s.credentialStatus))
	m.HandleFunc("GET /console/elections", s.signedIn(s.electionForm))
	m.HandleFunc("POST /console/elections", s.signedIn(s.electionCreate))
	m.HandleFunc("GET /console/elections/{id}", s.signedIn(s.consoleElection))
	m.HandleFunc("POST /console/elections/{id}/close", s.signedIn(s.electionClose))
	m.HandleFunc("GET /console/", s.consoleNotFound)
	m.HandleFunc("POST /console/", s.consoleNotFound)
}

func (s *Site) consoleNotFound(w http.ResponseWriter, r *http.Request) {
	s.consoleError(w, r, http.StatusNotFound, "Not found", "There is no console page at this address.")
}

// signInData is the sign-in page's.
type signInData struct {
	CSRF      string
	Error     string
	SignedOut bool
}

// consoleHome is the sign-in page, or for a signed-in agency its
// overview: DIDs, issuer instances with their types, accreditations.
func (s *Site) consoleHome(w http.ResponseWriter, r *http.Request) {
	id := cookieID(r)
	if sess, ok := s.sessions.get(id); ok {
		w.Header().Set("Cache-Control", "no-store")
		s.overview(w, r, consoleCtx{id: id, sess: sess, csrf: s.sessions.csrf(id)})
		return
	}
	s.signInPage(w, r, http.StatusOK, "")
}

func (s *Site) signInPage(w http.ResponseWriter, r *http.Request, code int, msg string) {
	pre := randomID()
	setConsoleCookie(w, pre)
	s.render(w, r, code, "console_signin", page{Title: "Agency console: sign in", Nav: "console",
		Data: signInData{CSRF: s.sessions.csrf(pre), Error: msg, SignedOut: r.URL.Query().Has("signed-out")}})
}

func (s *Site) signIn(w http.ResponseWriter, r *http.Request) {
	pre := cookieID(r)
	if !s.csrfOK(r, pre) {
		s.csrfRefused(w, r)
		return
	}
	key := strings.TrimSpace(r.PostForm.Get("key"))
	if key == "" || len(key) > maxKeyLen || strings.ContainsAny(key, " \t\r\n") {
		s.signInPage(w, r, formAgain, "Enter your agency's API key: one word, as `urbis agency create` printed it.")
		return
	}
	var a api.Agency
	if err := s.api.doAs(r, key, http.MethodGet, "/agency", nil, &a); err != nil {
		var pe *problemError
		switch {
		case errors.As(err, &pe) && pe.Status == http.StatusUnauthorized:
			s.signInPage(w, r, formAgain, "This API key is not valid: no agency has it. Check it and try again.")
		case errors.As(err, &pe) && pe.Status == http.StatusTooManyRequests:
			s.signInPage(w, r, formAgain, "Too many attempts. Wait a minute and try again.")
		default:
			s.consoleFail(w, r, err)
		}
		return
	}
	id, err := s.sessions.start(key, a)
	if err != nil {
		s.log.Error("web: console sign-in", "err", err)
		s.consoleError(w, r, http.StatusServiceUnavailable, "Try again later", "The console has too many open sessions just now.")
		return
	}
	setConsoleCookie(w, id)
	http.Redirect(w, r, "/console", http.StatusSeeOther)
}

func (s *Site) signOut(w http.ResponseWriter, r *http.Request, c consoleCtx) {
	s.sessions.end(c.id)
	clearConsoleCookie(w)
	http.Redirect(w, r, "/console?signed-out", http.StatusSeeOther)
}

// overviewData is the signed-in console's front page.
type overviewData struct {
	DIDs    []api.DIDRecord
	Issuers []issuerRow
	Accred  []accredRow
}

type issuerRow struct {
	api.IssuerInstance
	Purposes string
}

type accredRow struct {
	DID   string
	Items []api.Accreditation
}

func (s *Site) overview(w http.ResponseWriter, r *http.Request, c consoleCtx) {
	var d overviewData
	var dids api.DIDList
	if err := c.call(s, r, http.MethodGet, "/dids", nil, &dids); err != nil {
		s.consoleFail(w, r, err)
		return
	}
	d.DIDs = dids.Items
	var ins api.IssuerList
	if err := c.call(s, r, http.MethodGet, "/issuers", nil, &ins); err != nil {
		s.consoleFail(w, r, err)
		return
	}
	for _, in := range ins.Items {
		row := issuerRow{IssuerInstance: in, Purposes: "none"}
		if in.StatusPurposes != nil && len(*in.StatusPurposes) > 0 {
			var ps []string
			for _, p := range *in.StatusPurposes {
				ps = append(ps, string(p))
			}
			row.Purposes = strings.Join(ps, ", ")
		}
		d.Issuers = append(d.Issuers, row)
	}
	for _, rec := range d.DIDs {
		if rec.Status != api.DIDRecordStatusActive {
			continue
		}
		var acc api.IssuerAccreditations
		if err := c.call(s, r, http.MethodGet, "/trust/issuers/"+url.PathEscape(rec.Did), nil, &acc); err != nil {
			s.consoleFail(w, r, err)
			return
		}
		if len(acc.Accreditations) > 0 {
			d.Accred = append(d.Accred, accredRow{DID: rec.Did, Items: acc.Accreditations})
		}
	}
	s.render(w, r, http.StatusOK, "console", page{Title: "Agency console", Nav: "console",
		Data: consolePage{CSRF: c.csrf, Agency: c.sess.agency, Data: d}})
}
