package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// remarshal converts v into out through JSON.
func remarshal(v, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// docOperation is one operation on the reference page.
type docOperation struct {
	Method, Path, ID, Summary, Description string
	Secured                                bool
	Params                                 []docParam
	Body                                   string
	Responses                              []docResponse
}

type docParam struct{ Name, In, Description string }

type docResponse struct{ Status, Description, Media string }

// readSpec loads openapi.yaml and returns the reference page and the set
// of secured routes ("METHOD /gin/:route"), so neither can drift from the
// contract.
func readSpec(spec []byte) ([]byte, map[string]bool, error) {
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	if err != nil {
		return nil, nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	secured := map[string]bool{}
	for p, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			sec := doc.Security
			if op.Security != nil {
				sec = *op.Security
			}
			// Only bearerAuth (an agency API key) is checked here; other
			// schemes (the OID4VCI access token) are the handler's.
			for _, req := range sec {
				if _, ok := req["bearerAuth"]; ok {
					secured[method+" "+ginPath(p)] = true
				}
			}
		}
	}
	html, err := renderDocs(doc)
	return html, secured, err
}

// ginPath turns an OpenAPI path template into gin's: {did} becomes :did.
func ginPath(p string) string {
	var b strings.Builder
	for _, seg := range strings.Split(p, "/") {
		if b.Len() > 0 || seg != "" {
			b.WriteByte('/')
		}
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			seg = ":" + seg[1:len(seg)-1]
		}
		b.WriteString(seg)
	}
	return b.String()
}

// renderDocs renders the human-readable API reference from openapi.yaml,
// so the page can never say something the contract does not.
func renderDocs(doc *openapi3.T) ([]byte, error) {
	var err error
	var ops []docOperation
	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, p := range paths {
		item := doc.Paths.Value(p)
		for method, op := range item.Operations() {
			d := docOperation{Method: method, Path: p, ID: op.OperationID, Summary: op.Summary, Description: op.Description,
				Secured: op.Security != nil && len(*op.Security) > 0}
			for _, pr := range op.Parameters {
				d.Params = append(d.Params, docParam{pr.Value.Name, pr.Value.In, pr.Value.Description})
			}
			if op.RequestBody != nil {
				for mt, m := range op.RequestBody.Value.Content {
					for name, ex := range m.Examples {
						b, _ := json.Marshal(ex.Value.Value)
						d.Body += fmt.Sprintf("%s (%s): %s\n", name, mt, b)
					}
				}
			}
			codes := make([]string, 0, op.Responses.Len())
			for code := range op.Responses.Map() {
				codes = append(codes, code)
			}
			sort.Strings(codes)
			for _, code := range codes {
				r := op.Responses.Value(code).Value
				var media []string
				for mt := range r.Content {
					media = append(media, mt)
				}
				sort.Strings(media)
				desc := ""
				if r.Description != nil {
					desc = *r.Description
				}
				d.Responses = append(d.Responses, docResponse{code, desc, strings.Join(media, ", ")})
			}
			ops = append(ops, d)
		}
	}
	sort.SliceStable(ops, func(i, j int) bool {
		if ops[i].Path != ops[j].Path {
			return ops[i].Path < ops[j].Path
		}
		return ops[i].Method < ops[j].Method
	})
	var buf bytes.Buffer
	err = docsTemplate.Execute(&buf, struct {
		Title, Version, Description string
		Ops                         []docOperation
	}{doc.Info.Title, doc.Info.Version, doc.Info.Description, ops})
	return buf.Bytes(), err
}

var docsTemplate = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} API {{.Version}}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem;line-height:1.5;color:#111;background:#fff}
h2{border-top:1px solid #ccc;padding-top:1rem;font-size:1.1rem}
code,pre{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px;white-space:pre-wrap}
.m{font-weight:bold;text-transform:uppercase;color:#0b4f8a}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top}
</style></head><body>
<h1>{{.Title}} API <small>{{.Version}}</small></h1>
<pre>{{.Description}}</pre>
<p>The machine-readable contract is at <a href="/openapi.yaml">/openapi.yaml</a>.</p>
{{range .Ops}}<section id="{{.ID}}">
<h2><span class="m">{{.Method}}</span> <code>{{.Path}}</code> {{.Summary}}</h2>
{{if .Secured}}<p>Needs <code>Authorization: Bearer &lt;api key&gt;</code>.</p>{{end}}
{{if .Description}}<pre>{{.Description}}</pre>{{end}}
{{if .Params}}<table><tr><th>parameter</th><th>in</th><th>meaning</th></tr>{{range .Params}}<tr><td><code>{{.Name}}</code></td><td>{{.In}}</td><td>{{.Description}}</td></tr>{{end}}</table>{{end}}
{{if .Body}}<p>Example bodies:</p><pre>{{.Body}}</pre>{{end}}
<table><tr><th>status</th><th>meaning</th><th>media types</th></tr>{{range .Responses}}<tr><td>{{.Status}}</td><td>{{.Description}}</td><td>{{.Media}}</td></tr>{{end}}</table>
</section>{{end}}
</body></html>
`))
