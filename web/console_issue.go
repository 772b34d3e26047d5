package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/verifiers"
)

// The issue form: generated from the JSON Schema registered on chain for
// the credential type (GET /schemas?type=, the last one governs), one
// field per property. On submit the claims are checked against the
// schema here, so every field's error shows at once, then sent to
// POST /issuers/{id}/credentials/issue (or POST /oid4vci/offers), whose
// problem+json names the field it refuses; that error goes next to its
// field too.

// formField is one input of the issue form.
type formField struct {
	ID, Name, Label string
	Kind            string // text, date, integer, number, select, checkbox, json
	Required        bool
	Enum            []string
	Value           string
	Checked         bool
	Hint            string
	Error           string
	Min, Max        string
	MinLength       string
	MaxLength       string
	Pattern         string
}

// issueData is the issue form and, after a submit, its outcome.
type issueData struct {
	Issuer     api.IssuerInstance
	Type       string
	Schema     *api.Schema
	Fields     []formField
	Subject    string // the holder's DID
	SubjectErr string
	FreeClaims string // claims as JSON when the type has no schema
	FreeErr    string
	TxCode     bool
	Error      string // an error about no one field
	Issued     *issuedData
	Offer      *offerData
}

type issuedData struct {
	ID   string
	JSON string // the credential as the API answered it, indented
}

type offerData struct {
	URI       string
	QR        template.URL // a data: URL of the PNG, made here
	TxCode    string
	ExpiresAt string
}

// claimPrefix names the form's claim inputs: claim.<property>.
const claimPrefix = "claim."

func (s *Site) issueForm(w http.ResponseWriter, r *http.Request, c consoleCtx) {
	d, ok := s.issueSetup(w, r, c, r.URL.Query())
	if !ok {
		return
	}
	s.renderIssue(w, r, c, http.StatusOK, d)
}

// issueSetup finds the instance and type that q names and the schema of
// the type, and builds the empty form.
func (s *Site) issueSetup(w http.ResponseWriter, r *http.Request, c consoleCtx, q url.Values) (*issueData, bool) {
	id, typ := q.Get("issuer"), q.Get("type")
	var ins api.IssuerList
	if err := c.call(s, r, http.MethodGet, "/issuers", nil, &ins); err != nil {
		s.consoleFail(w, r, err)
		return nil, false
	}
	d := &issueData{Type: typ}
	found := false
	for _, in := range ins.Items {
		if in.Id == id {
			d.Issuer, found = in, true
		}
	}
	if !found {
		s.consoleError(w, r, http.StatusNotFound, "No such issuer instance", "Your agency has no issuer instance "+strconv.Quote(id)+". Pick one on the console's front page.")
		return nil, false
	}
	if !slices.Contains(d.Issuer.Types, typ) {
		s.consoleError(w, r, http.StatusBadRequest, "Invalid request", fmt.Sprintf("Issuer instance %s does not issue %q; it issues %s.", id, typ, strings.Join(d.Issuer.Types, ", ")))
		return nil, false
	}
	var list api.SchemaList
	if err := c.call(s, r, http.MethodGet, "/schemas?type="+url.QueryEscape(typ), nil, &list); err != nil {
		s.consoleFail(w, r, err)
		return nil, false
	}
	if n := len(list.Items); n > 0 {
		d.Schema = &list.Items[n-1]
		d.Fields = schemaFields(d.Schema.Schema)
	}
	return d, true
}

// schemaFields makes one field per property of a JSON Schema object:
// the required ones first, in the schema's order, then the others by name.
func schemaFields(sch map[string]any) []formField {
	props, _ := sch["properties"].(map[string]any)
	var required []string
	if rs, ok := sch["required"].([]any); ok {
		for _, r := range rs {
			if n, ok := r.(string); ok {
				required = append(required, n)
			}
		}
	}
	var names []string
	for _, n := range required {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	var rest []string
	for n := range props {
		if !slices.Contains(names, n) {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	names = append(names, rest...)
	var out []formField
	for i, n := range names {
		if n == "id" {
			continue // the holder's DID has its own field
		}
		p, _ := props[n].(map[string]any)
		f := formField{ID: fmt.Sprintf("claim-%d", i), Name: claimPrefix + n, Label: n, Kind: "text", Required: slices.Contains(required, n)}
		if t, ok := p["title"].(string); ok && t != "" {
			f.Label = t
		}
		if h, ok := p["description"].(string); ok {
			f.Hint = h
		}
		typ, _ := p["type"].(string)
		switch {
		case p["enum"] != nil:
			f.Kind = "select"
			for _, v := range asSlice(p["enum"]) {
				f.Enum = append(f.Enum, fmt.Sprint(v))
			}
		case typ == "integer":
			f.Kind = "integer"
		case typ == "number":
			f.Kind = "number"
		case typ == "boolean":
			f.Kind = "checkbox"
		case typ == "object" || typ == "array":
			f.Kind = "json"
			if f.Hint == "" {
				f.Hint = "JSON (" + typ + ")"
			}
		case p["format"] == "date":
			f.Kind = "date"
		}
		f.Min, f.Max = numAttr(p["minimum"]), numAttr(p["maximum"])
		f.MinLength, f.MaxLength = numAttr(p["minLength"]), numAttr(p["maxLength"])
		if pat, ok := p["pattern"].(string); ok {
			f.Hint = strings.TrimSpace(f.Hint + " Pattern: " + pat)
		}
		out = append(out, f)
	}
	return out
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func numAttr(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return ""
}

// claims reads the form's claims by the fields' kinds; a value that is
// not of its kind gets the field's error.
func readClaims(form url.Values, fields []formField) (map[string]any, []formField) {
	claims := map[string]any{}
	out := slices.Clone(fields)
	for i := range out {
		f := &out[i]
		name := strings.TrimPrefix(f.Name, claimPrefix)
		v := strings.TrimSpace(form.Get(f.Name))
		f.Value = v
		if f.Kind == "checkbox" {
			f.Checked = v != ""
			claims[name] = f.Checked
			continue
		}
		if v == "" {
			continue // absent; the schema says whether it may be
		}
		switch f.Kind {
		case "integer":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				f.Error = "must be a whole number"
				continue
			}
			claims[name] = n
		case "number":
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				f.Error = "must be a number"
				continue
			}
			claims[name] = n
		case "json":
			var x any
			if err := json.Unmarshal([]byte(v), &x); err != nil {
				f.Error = "must be JSON: " + err.Error()
				continue
			}
			claims[name] = x
		default:
			claims[name] = v
		}
	}
	return claims, out
}

// validateClaims checks claims against the schema and puts each error on
// its field; it reports whether there was none. Formats are not
// asserted, as the API does not assert them.
func validateClaims(sch map[string]any, claims map[string]any, fields []formField) (ok bool, other string) {
	raw, err := json.Marshal(sch)
	if err != nil {
		return false, "The registered schema cannot be read."
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return false, "The registered schema cannot be read."
	}
	comp := jsonschema.NewCompiler()
	comp.DefaultDraft(jsonschema.Draft2020)
	comp.UseLoader(noLoader{})
	if err := comp.AddResource("urn:urbis:console:schema", doc); err != nil {
		return false, "The registered schema cannot be read."
	}
	compiled, err := comp.Compile("urn:urbis:console:schema")
	if err != nil {
		return false, "The registered schema cannot be compiled: " + err.Error()
	}
	// The validator wants JSON values: numbers as float64 or json.Number.
	var inst any
	b, _ := json.Marshal(claims)
	_ = json.Unmarshal(b, &inst)
	err = compiled.Validate(inst)
	if err == nil {
		return true, ""
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return false, err.Error()
	}
	var others []string
	for _, leaf := range leaves(ve) {
		if req, isReq := leaf.ErrorKind.(*kind.Required); isReq && len(leaf.InstanceLocation) == 0 {
			for _, m := range req.Missing {
				if !setFieldError(fields, m, "is required") {
					others = append(others, m+" is required")
				}
			}
			continue
		}
		msg := verifiers.SchemaLeafMessage(leaf)
		if len(leaf.InstanceLocation) == 0 || !setFieldError(fields, leaf.InstanceLocation[0], msg) {
			others = append(others, msg)
		}
	}
	return false, strings.Join(others, "; ")
}

type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema refers to %s; registered schemas are self-contained", url)
}

// leaves returns the errors at the bottom of e's tree of causes.
func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}

// setFieldError puts msg on the field of property name, if there is one
// and it has no error yet.
func setFieldError(fields []formField, name, msg string) bool {
	for i := range fields {
		if fields[i].Name == claimPrefix+name {
			if fields[i].Error == "" {
				fields[i].Error = msg
			}
			return true
		}
	}
	return false
}

// issuePost issues the credential (action=issue) or makes an offer
// (action=offer) from the form.
func (s *Site) issuePost(w http.ResponseWriter, r *http.Request, c consoleCtx) {
	d, ok := s.issueSetup(w, r, c, r.PostForm)
	if !ok {
		return
	}
	offer := r.PostForm.Get("action") == "offer"
	d.Subject = strings.TrimSpace(r.PostForm.Get("subject"))
	d.TxCode = r.PostForm.Get("txcode") != ""
	var claims map[string]any
	valid := true
	if d.Schema != nil {
		claims, d.Fields = readClaims(r.PostForm, d.Fields)
		// Validate even when a value could not be read, so that every
		// field's error shows at once (a field keeps its first error).
		valid, d.Error = validateClaims(d.Schema.Schema, claims, d.Fields)
		for _, f := range d.Fields {
			valid = valid && f.Error == ""
		}
	} else {
		d.FreeClaims = r.PostForm.Get("claims")
		claims = map[string]any{}
		if strings.TrimSpace(d.FreeClaims) != "" {
			if err := json.Unmarshal([]byte(d.FreeClaims), &claims); err != nil {
				d.FreeErr, valid = "must be a JSON object of claims: "+err.Error(), false
			}
		}
	}
	if !offer && d.Subject != "" && !strings.HasPrefix(d.Subject, "did:") {
		d.SubjectErr, valid = "must be a DID (did:…)", false
	}
	if !valid {
		if d.Error == "" {
			d.Error = "Some fields need fixing; see the messages next to them."
		}
		s.renderIssue(w, r, c, formAgain, d)
		return
	}
	if offer {
		s.makeOffer(w, r, c, d, claims)
		return
	}
	subject := map[string]any{}
	for k, v := range claims {
		subject[k] = v
	}
	if d.Subject != "" {
		subject["id"] = d.Subject
	}
	cred := map[string]any{"@context": contextsFor(d.Issuer), "type": []string{"VerifiableCredential", d.Type}, "credentialSubject": subject}
	var out struct {
		VerifiableCredential map[string]any `json:"verifiableCredential"`
	}
	err := c.call(s, r, http.MethodPost, "/issuers/"+url.PathEscape(d.Issuer.Id)+"/credentials/issue",
		map[string]any{"credential": cred}, &out)
	if err != nil {
		if s.apiFieldError(w, r, c, d, err, "/credential/credentialSubject/") {
			return
		}
		s.consoleFail(w, r, err)
		return
	}
	pretty, _ := json.MarshalIndent(out.VerifiableCredential, "", "  ")
	credID, _ := out.VerifiableCredential["id"].(string)
	if strings.HasPrefix(credID, "data:") {
		credID = "" // an enveloped JWT; its id is the token
	}
	d.Issued = &issuedData{ID: credID, JSON: string(pretty)}
	s.renderIssue(w, r, c, http.StatusCreated, d)
}

// apiFieldError shows a 4xx problem of the API on the form: next to the
// field its pointer names (under prefix), or above the form. It reports
// whether it rendered the page.
func (s *Site) apiFieldError(w http.ResponseWriter, r *http.Request, c consoleCtx, d *issueData, err error, prefix string) bool {
	var pe *problemError
	if !errors.As(err, &pe) || pe.Status >= 500 {
		return false
	}
	msg := pe.Detail
	if msg == "" {
		msg = pe.Title
	}
	switch {
	case strings.HasPrefix(pe.Field, prefix) && setFieldError(d.Fields, strings.SplitN(strings.TrimPrefix(pe.Field, prefix), "/", 2)[0], msg):
		d.Error = "Some fields need fixing; see the messages next to them."
	case pe.Field == strings.TrimSuffix(prefix, "/")+"/id" || pe.Field == "/credential/credentialSubject/id":
		d.SubjectErr = msg
		d.Error = "Some fields need fixing; see the messages next to them."
	default:
		d.Error = msg
	}
	s.renderIssue(w, r, c, formAgain, d)
	return true
}

// contextsFor is the @context of a credential issued by in: VC 1.1 for
// the formats that issue it, else VC 2.0 with the undefined-terms
// context, which gives the schema's claims terms the proof covers.
func contextsFor(in api.IssuerInstance) []string {
	if in.Format == api.IssuerInstanceFormatJwtVcJson || in.Cryptosuite == "Ed25519Signature2020" {
		return []string{"https://www.w3.org/2018/credentials/v1"}
	}
	return []string{"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/undefined-terms/v2"}
}

// makeOffer creates an OpenID4VCI offer of the claims and shows its QR
// code (the API's PNG, inlined) and transaction code.
func (s *Site) makeOffer(w http.ResponseWriter, r *http.Request, c consoleCtx, d *issueData, claims map[string]any) {
	req := map[string]any{"credentialConfigurationIds": []string{d.Issuer.Id + ":" + d.Type}, "credentialSubject": claims, "txCode": d.TxCode}
	var out api.CreatedOffer
	if err := c.call(s, r, http.MethodPost, "/oid4vci/offers", req, &out); err != nil {
		if s.apiFieldError(w, r, c, d, err, "/credentialSubject/") {
			return
		}
		s.consoleFail(w, r, err)
		return
	}
	o := &offerData{URI: out.OfferUri, ExpiresAt: stamp(out.ExpiresAt)}
	if out.TxCode != nil {
		o.TxCode = *out.TxCode
	}
	if u, err := url.Parse(out.QrUrl); err == nil {
		png, err := s.apiBytes(r, u.EscapedPath())
		if err != nil {
			s.consoleFail(w, r, err)
			return
		}
		o.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)) // #nosec: base64 of the API's PNG
	}
	d.Offer = o
	s.renderIssue(w, r, c, http.StatusCreated, d)
}

// apiBytes GETs path from the API and returns its body (a public route
// that answers something else than JSON, as a QR code's PNG).
func (s *Site) apiBytes(from *http.Request, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(from.Context(), http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	req.RemoteAddr, req.Host = from.RemoteAddr, from.Host
	rec := &recorder{header: http.Header{}, code: http.StatusOK}
	s.api.h.ServeHTTP(rec, req)
	if rec.code != http.StatusOK {
		return nil, &problemError{Status: rec.code, Title: http.StatusText(rec.code), Route: "GET " + path}
	}
	return rec.body.Bytes(), nil
}

func (s *Site) renderIssue(w http.ResponseWriter, r *http.Request, c consoleCtx, code int, d *issueData) {
	title := "Issue " + d.Type
	s.render(w, r, code, "console_issue", page{Title: title, Nav: "console",
		Data: consolePage{CSRF: c.csrf, Agency: c.sess.agency, Data: d}})
}
