package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/urbis-id/urbis/api"
)

// credentialsData is the search page of issued credentials.
type credentialsData struct {
	Q, IssuerID string
	Issuers     []api.IssuerInstance
	Items       []api.IssuedCredential
	Error       string // of the last status change, shown above the list
	Done        string // what the last status change did
}

func (s *Site) credentials(w http.ResponseWriter, r *http.Request, c consoleCtx) {
	q := r.URL.Query()
	d := credentialsData{Q: strings.TrimSpace(q.Get("q")), IssuerID: q.Get("issuer"), Done: q.Get("done")}
	s.renderCredentials(w, r, c, http.StatusOK, &d)
}

func (s *Site) renderCredentials(w http.ResponseWriter, r *http.Request, c consoleCtx, code int, d *credentialsData) {
	var ins api.IssuerList
	if err := c.call(s, r, http.MethodGet, "/issuers", nil, &ins); err != nil {
		s.consoleFail(w, r, err)
		return
	}
	d.Issuers = ins.Items
	v := url.Values{}
	if d.Q != "" {
		v.Set("q", d.Q)
	}
	if d.IssuerID != "" {
		v.Set("issuerId", d.IssuerID)
	}
	var list api.IssuedCredentialList
	path := "/credentials"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	if err := c.call(s, r, http.MethodGet, path, nil, &list); err != nil {
		var pe *problemError
		if errors.As(err, &pe) && pe.Status == http.StatusBadRequest {
			d.Error, code = pe.Detail, formAgain
		} else {
			s.consoleFail(w, r, err)
			return
		}
	}
	d.Items = list.Items
	s.render(w, r, code, "console_credentials", page{Title: "Issued credentials", Nav: "console",
		Data: consolePage{CSRF: c.csrf, Agency: c.sess.agency, Data: d}})
}

// statusActions are the console's words for the API's statuses.
var statusActions = map[string]string{"suspend": "suspended", "reinstate": "active", "revoke": "revoked"}

// credentialStatus suspends, reinstates or revokes a credential through
// POST /credentials/status, with the reason the agency gives.
func (s *Site) credentialStatus(w http.ResponseWriter, r *http.Request, c consoleCtx) {
	f := r.PostForm
	id, action, reason := strings.TrimSpace(f.Get("credential")), f.Get("action"), strings.TrimSpace(f.Get("reason"))
	d := credentialsData{Q: id}
	status, ok := statusActions[action]
	switch {
	case id == "":
		d.Error = "Name the credential to change."
	case !ok:
		d.Error = "Choose suspend, reinstate or revoke."
	case action == "revoke" && reason == "":
		d.Error = "Give a reason to revoke a credential: revocation is final."
	}
	if d.Error != "" {
		s.renderCredentials(w, r, c, formAgain, &d)
		return
	}
	body := map[string]any{"credentialId": id, "reason": reason,
		"credentialStatus": []any{map[string]any{"type": "BitstringStatusListEntry", "status": status}}}
	if err := c.call(s, r, http.MethodPost, "/credentials/status", body, nil); err != nil {
		var pe *problemError
		if errors.As(err, &pe) && pe.Status < 500 {
			d.Error = pe.Detail
			if d.Error == "" {
				d.Error = pe.Title
			}
			s.renderCredentials(w, r, c, formAgain, &d)
			return
		}
		s.consoleFail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/credentials?q="+url.QueryEscape(id)+"&done="+url.QueryEscape(status), http.StatusSeeOther)
}

// electionFormData is the form that creates an election.
type electionFormData struct {
	DIDs   []api.DIDRecord
	Values map[string]string
	Errors map[string]string
	Error  string
}

var electionID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// consoleTime is the console's date-and-time input, read as UTC.
const consoleTime = "2006-01-02T15:04"

func (s *Site) electionForm(w http.ResponseWriter, r *http.Request, c consoleCtx) {
	now := s.clock().UTC()
	d := &electionFormData{Values: map[string]string{
		"opens": now.Format(consoleTime), "closes": now.Add(24 * time.Hour).Format(consoleTime), "options": "yes\nno",
	}, Errors: map[string]string{}}
	if q := strings.TrimSpace(r.URL.Query().Get("open")); q != "" {
		if !electionID.MatchString(q) {
			d.Error = "An election id is 1 to 64 lowercase letters, digits and hyphens."
			s.renderElectionForm(w, r, c, formAgain, d)
			return
		}
		// An id that finds nothing is said on this form (an answer, not
		// a 404 page: the browser logs no error for it).
		var e api.Election
		err := c.call(s, r, http.MethodGet, "/elections/"+q, nil, &e)
		if isStatus(err, http.StatusNotFound) {
			d.Error = "There is no election " + strconv.Quote(q) + "."
			s.renderElectionForm(w, r, c, formAgain, d)
			return
		}
		if err != nil {
			s.consoleFail(w, r, err)
			return
		}
		own, err := c.ownsDID(s, r, e.Authority)
		if err != nil {
			s.consoleFail(w, r, err)
			return
		}
		if !own {
			d.Error = "Election " + strconv.Quote(q) + " is not your agency's. Every election is public in the explorer, at /explorer/elections/" + q + "."
			s.renderElectionForm(w, r, c, formAgain, d)
			return
		}
		http.Redirect(w, r, "/console/elections/"+q, http.StatusSeeOther)
		return
	}
	s.renderElectionForm(w, r, c, http.StatusOK, d)
}

func (s *Site) renderElectionForm(w http.ResponseWriter, r *http.Request, c consoleCtx, code int, d *electionFormData) {
	var dids api.DIDList
	if err := c.call(s, r, http.MethodGet, "/dids", nil, &dids); err != nil {
		s.consoleFail(w, r, err)
		return
	}
	for _, rec := range dids.Items {
		if rec.Status == api.DIDRecordStatusActive && rec.KeyType == api.DIDRecordKeyTypeEd25519 {
			d.DIDs = append(d.DIDs, rec)
		}
	}
	s.render(w, r, code, "console_elections", page{Title: "Elections", Nav: "console",
		Data: consolePage{CSRF: c.csrf, Agency: c.sess.agency, Data: d}})
}

// electionCreate creates an election (POST /elections) from the form.
func (s *Site) electionCreate(w http.ResponseWriter, r *http.Request, c consoleCtx) {
	f := r.PostForm
	d := &electionFormData{Values: map[string]string{}, Errors: map[string]string{}}
	for _, k := range []string{"did", "id", "title", "options", "credentialType", "districts", "minAge", "opens", "closes"} {
		d.Values[k] = strings.TrimSpace(f.Get(k))
	}
	v := d.Values
	req := map[string]any{"did": v["did"], "id": v["id"], "title": v["title"]}
	var options []string
	for _, o := range strings.Split(v["options"], "\n") {
		if o = strings.TrimSpace(o); o != "" {
			options = append(options, o)
		}
	}
	req["options"] = options
	elig := map[string]any{"credentialType": v["credentialType"]}
	if v["districts"] != "" {
		var ds []string
		for _, x := range strings.Split(v["districts"], ",") {
			if x = strings.TrimSpace(x); x != "" {
				ds = append(ds, x)
			}
		}
		elig["districts"] = ds
	}
	if v["minAge"] != "" {
		n, err := strconv.Atoi(v["minAge"])
		if err != nil || n < 0 || n > 150 {
			d.Errors["minAge"] = "must be a whole number of years, 0 to 150"
		}
		elig["minAge"] = n
	}
	req["eligibility"] = elig
	for _, k := range []string{"opens", "closes"} {
		t, err := time.Parse(consoleTime, v[k])
		if err != nil {
			if t, err = time.Parse(consoleTime+":05", v[k]); err != nil {
				d.Errors[k] = "must be a date and time (UTC), as 2027-03-01T08:00"
				continue
			}
		}
		req[k] = t.UTC().Format(time.RFC3339)
	}
	switch {
	case v["did"] == "":
		d.Errors["did"] = "choose the DID that signs as the election authority"
	case !electionID.MatchString(v["id"]):
		d.Errors["id"] = "1 to 64 lowercase letters, digits and hyphens, starting with a letter or digit"
	case v["title"] == "":
		d.Errors["title"] = "is required"
	case len(options) < 2:
		d.Errors["options"] = "give at least two options, one per line"
	case v["credentialType"] == "":
		d.Errors["credentialType"] = "is required: the credential type that proves residence"
	}
	if len(d.Errors) > 0 {
		d.Error = "Some fields need fixing; see the messages next to them."
		s.renderElectionForm(w, r, c, formAgain, d)
		return
	}
	var e api.Election
	if err := c.call(s, r, http.MethodPost, "/elections", req, &e); err != nil {
		var pe *problemError
		if errors.As(err, &pe) && pe.Status < 500 {
			field := strings.TrimPrefix(pe.Field, "/")
			field = strings.TrimPrefix(field, "eligibility/")
			if _, known := d.Values[field]; known && field != "" {
				d.Errors[field] = pe.Detail
				d.Error = "Some fields need fixing; see the messages next to them."
			} else {
				d.Error = pe.Title + ": " + pe.Detail
			}
			s.renderElectionForm(w, r, c, formAgain, d)
			return
		}
		s.consoleFail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/elections/"+url.PathEscape(e.Id), http.StatusSeeOther)
}

// consoleElectionData is an election seen by the agency that runs it.
type consoleElectionData struct {
	electionData
	Open     bool // the window has not passed: it cannot be closed yet
	Result   string
	Error    string
	ClosesIn string
}

func (s *Site) consoleElection(w http.ResponseWriter, r *http.Request, c consoleCtx) {
	s.showElection(w, r, c, http.StatusOK, "", "")
}

func (s *Site) showElection(w http.ResponseWriter, r *http.Request, c consoleCtx, code int, result, msg string) {
	id := r.PathValue("id")
	if !electionID.MatchString(id) {
		s.consoleError(w, r, http.StatusBadRequest, "Invalid request", "An election id is 1 to 64 lowercase letters, digits and hyphens.")
		return
	}
	var d consoleElectionData
	if err := c.call(s, r, http.MethodGet, "/elections/"+id, nil, &d.Election); err != nil {
		s.consoleFail(w, r, err)
		return
	}
	// The console manages the agency's own elections; anyone's is public
	// in the explorer.
	own, err := c.ownsDID(s, r, d.Election.Authority)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	if !own {
		s.consoleError(w, r, http.StatusNotFound, "Not your agency's election",
			"Your agency has no election "+id+". Every election is public in the explorer, at /explorer/elections/"+id+".")
		return
	}
	if err := c.call(s, r, http.MethodGet, "/elections/"+id+"/tally", nil, &d.Tally); err != nil {
		s.consoleFail(w, r, err)
		return
	}
	d.Chart = barChart(d.Tally.Options, d.Tally.Counts)
	d.Turnout = turnout(d.Tally.Ballots, d.Tally.Tokens)
	now := s.clock()
	d.Open = now.Before(d.Election.Closes)
	if d.Open {
		d.ClosesIn = d.Election.Closes.Sub(now).Round(time.Second).String()
	}
	d.Result, d.Error = result, msg
	if d.Result == "" && d.Tally.ResultCredential != nil {
		d.Result = *d.Tally.ResultCredential
	}
	s.render(w, r, code, "console_election", page{Title: d.Election.Title, Nav: "console", Scripts: []string{"election.js"},
		Data: consolePage{CSRF: c.csrf, Agency: c.sess.agency, Data: d}})
}

// electionClose closes the election and records its result
// (POST /elections/{id}/close); the tally is then public in the explorer.
func (s *Site) electionClose(w http.ResponseWriter, r *http.Request, c consoleCtx) {
	id := r.PathValue("id")
	if !electionID.MatchString(id) {
		s.consoleError(w, r, http.StatusBadRequest, "Invalid request", "An election id is 1 to 64 lowercase letters, digits and hyphens.")
		return
	}
	var t api.ElectionTally
	if err := c.call(s, r, http.MethodPost, "/elections/"+id+"/close", nil, &t); err != nil {
		var pe *problemError
		if errors.As(err, &pe) && pe.Status == http.StatusConflict {
			s.showElection(w, r, c, formAgain, "", fmt.Sprintf("Not closed: %s", pe.Detail))
			return
		}
		s.consoleFail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/elections/"+id, http.StatusSeeOther)
}

// ownsDID reports whether did is one of the agency's DIDs (GET /dids).
func (c consoleCtx) ownsDID(s *Site, r *http.Request, did string) (bool, error) {
	var dids api.DIDList
	if err := c.call(s, r, http.MethodGet, "/dids", nil, &dids); err != nil {
		return false, err
	}
	for _, rec := range dids.Items {
		if rec.Did == did {
			return true, nil
		}
	}
	return false, nil
}
