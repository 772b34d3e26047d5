package oid4vp

import (
	"slices"
	"strconv"
	"strings"

	"github.com/urbis-id/urbis/internal/errkind"
)

// Template is a ready-made request for a common city case: Build turns
// its parameters into a DCQL query.
type Template struct {
	Name        string
	Description string
	Params      []Param
	Example     map[string]string // parameters for an example query
	build       func(p map[string]string) (*Query, error)
}

// Param is a template parameter.
type Param struct {
	Name        string
	Description string
	Required    bool
}

// Build returns the template's query for params, refusing unknown and
// missing parameters (errors name /params/<name>).
func (t Template) Build(params map[string]string) (*Query, error) {
	for k := range params {
		if !slices.ContainsFunc(t.Params, func(p Param) bool { return p.Name == k }) {
			return nil, errkind.Field(errkind.Invalid, "/params/"+k, "is not a parameter of template %s; it takes %s", t.Name, t.paramNames())
		}
	}
	for _, p := range t.Params {
		if p.Required && strings.TrimSpace(params[p.Name]) == "" {
			return nil, errkind.Field(errkind.Invalid, "/params/"+p.Name, "is required by template %s: %s", t.Name, p.Description)
		}
	}
	q, err := t.build(params)
	if err != nil {
		return nil, err
	}
	return q, q.Validate()
}

func (t Template) paramNames() string {
	if len(t.Params) == 0 {
		return "no parameters"
	}
	var n []string
	for _, p := range t.Params {
		n = append(n, p.Name)
	}
	return strings.Join(n, ", ")
}

// Templates lists the ready-made requests, by name:
//
//   - residency: a ResidentCredential showing the district only (optionally
//     one of the listed districts), as dc+sd-jwt or ldp_vc.
//   - age_over: an SD-JWT VC disclosing age_equal_or_over/<N> = true (the
//     SD-JWT VC and ISO 18013-5 convention), never the birth date; dc+sd-jwt
//     only, since only selective disclosure can leave the birth date out.
//   - land_parcel: a LandTitle credential for the given parcel id, showing
//     the parcel only, as dc+sd-jwt or ldp_vc.
//   - agency_accreditation: an AccreditationCredential an agency holds,
//     naming the credential type it is accredited for, as ldp_vc, jwt_vc_json
//     or dc+sd-jwt. The registry's on-chain accreditation of every issuer is
//     checked anyway for every credential; this template asks an agency to
//     prove the accreditation to a service that meets it off chain.
var Templates = []Template{
	{
		Name:        "residency",
		Description: "Proof of residency: a ResidentCredential disclosing the district only",
		Params:      []Param{{Name: "districts", Description: "the districts accepted, separated by commas; empty accepts any"}},
		Example:     map[string]string{"districts": "Mitte,Kreuzberg"},
		build: func(p map[string]string) (*Query, error) {
			values := anyList(list(p["districts"]))
			return either(
				CredentialQuery{ID: "residency_sd_jwt", Format: FormatSDJWT, Meta: Meta{VCTValues: []string{"ResidentCredential"}},
					Claims: []ClaimQuery{{Path: []any{"district"}, Values: values}}},
				CredentialQuery{ID: "residency_ldp", Format: FormatLDP, Meta: Meta{TypeValues: [][]string{{"ResidentCredential"}}},
					Claims: []ClaimQuery{{Path: []any{"credentialSubject", "district"}, Values: values}}},
			), nil
		},
	},
	{
		Name:        "age_over",
		Description: "Age over a threshold without the birth date: an SD-JWT VC disclosing age_equal_or_over/<threshold> = true",
		Params: []Param{
			{Name: "threshold", Description: "the age in years, 1 to 150", Required: true},
			{Name: "vct", Description: "the credential types (vct) accepted, separated by commas; default ResidentCredential"},
		},
		Example: map[string]string{"threshold": "18"},
		build: func(p map[string]string) (*Query, error) {
			n, err := strconv.Atoi(strings.TrimSpace(p["threshold"]))
			if err != nil || n < 1 || n > 150 {
				return nil, errkind.Field(errkind.Invalid, "/params/threshold", "must be a whole number of years from 1 to 150")
			}
			vct := list(p["vct"])
			if len(vct) == 0 {
				vct = []string{"ResidentCredential"}
			}
			return &Query{Credentials: []CredentialQuery{{ID: "age_over", Format: FormatSDJWT, Meta: Meta{VCTValues: vct},
				Claims: []ClaimQuery{{Path: []any{"age_equal_or_over", strconv.Itoa(n)}, Values: []any{true}}}}}}, nil
		},
	},
	{
		Name:        "land_parcel",
		Description: "Ownership of a land parcel: a LandTitle credential for the parcel, disclosing the parcel id only",
		Params:      []Param{{Name: "parcel", Description: "the parcel id the title must name", Required: true}},
		Example:     map[string]string{"parcel": "MIT-0815-42"},
		build: func(p map[string]string) (*Query, error) {
			parcel := []any{strings.TrimSpace(p["parcel"])}
			return either(
				CredentialQuery{ID: "land_title_sd_jwt", Format: FormatSDJWT, Meta: Meta{VCTValues: []string{"LandTitle"}},
					Claims: []ClaimQuery{{Path: []any{"parcel"}, Values: parcel}}},
				CredentialQuery{ID: "land_title_ldp", Format: FormatLDP, Meta: Meta{TypeValues: [][]string{{"LandTitle"}}},
					Claims: []ClaimQuery{{Path: []any{"credentialSubject", "parcel"}, Values: parcel}}},
			), nil
		},
	},
	{
		Name:        "agency_accreditation",
		Description: "Accreditation of an agency: an AccreditationCredential naming the credential type it is accredited for",
		Params:      []Param{{Name: "type", Description: "the credential type the agency must be accredited for; empty accepts any"}},
		Example:     map[string]string{"type": "LandTitle"},
		build: func(p map[string]string) (*Query, error) {
			var values []any
			if t := strings.TrimSpace(p["type"]); t != "" {
				values = []any{t}
			}
			return either(
				CredentialQuery{ID: "accreditation_ldp", Format: FormatLDP, Meta: Meta{TypeValues: [][]string{{"AccreditationCredential"}}},
					Claims: []ClaimQuery{{Path: []any{"credentialSubject", "accreditedFor"}, Values: values}}},
				CredentialQuery{ID: "accreditation_jwt", Format: FormatJWT, Meta: Meta{TypeValues: [][]string{{"AccreditationCredential"}}},
					Claims: []ClaimQuery{{Path: []any{"credentialSubject", "accreditedFor"}, Values: values}}},
				CredentialQuery{ID: "accreditation_sd_jwt", Format: FormatSDJWT, Meta: Meta{VCTValues: []string{"AccreditationCredential"}},
					Claims: []ClaimQuery{{Path: []any{"accreditedFor"}, Values: values}}},
			), nil
		},
	},
}

// TemplateByName returns the template name.
func TemplateByName(name string) (Template, bool) {
	i := slices.IndexFunc(Templates, func(t Template) bool { return t.Name == name })
	if i < 0 {
		return Template{}, false
	}
	return Templates[i], true
}

// either is a query for one of the credential queries, the first preferred.
func either(cs ...CredentialQuery) *Query {
	opts := make([][]string, len(cs))
	for i, c := range cs {
		opts[i] = []string{c.ID}
	}
	return &Query{Credentials: cs, CredentialSets: []CredentialSet{{Options: opts}}}
}

func anyList(s []string) []any {
	var out []any
	for _, v := range s {
		out = append(out, v)
	}
	return out
}

// list splits a comma-separated parameter into values.
func list(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
