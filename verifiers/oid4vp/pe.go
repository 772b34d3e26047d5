package oid4vp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hyperledger/aries-framework-go/pkg/doc/presexch"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/urbis-id/urbis/internal/errkind"
)

// Definition is a DIF Presentation Exchange 2.0 presentation definition
// (https://identity.foundation/presentation-exchange/spec/v2.0.0/) in the
// subset Urbis evaluates. It is validated twice: by ParseDefinition's own
// rules, which refuse what Urbis does not evaluate (naming the field), and
// by aries-framework-go's presexch (its JSON schemas of the definition).
//
// Who evaluates a presented credential against an input descriptor's
// constraints depends on whether presexch can read it: W3C VC 1.1
// credentials (jwt_vc_json, ldp_vc with the 2018 context) are evaluated
// by presexch; SD-JWT VCs and VC 2.0 credentials, which its verifiable
// package does not parse, by Urbis' own evaluation of the same field
// rules (JSONPath, then the filter as a JSON Schema). The check
// "presexch" is in a result when presexch decided.
type Definition struct {
	ID          string
	Descriptors []InputDescriptor
	raw         json.RawMessage
}

// InputDescriptor asks for one credential.
type InputDescriptor struct {
	ID string
	// Formats are the credential formats the descriptor accepts (of
	// FormatSDJWT, FormatJWT, FormatLDP).
	Formats []string
	Fields  []Field
	// LimitDisclosure is limit_disclosure "required": only dc+sd-jwt.
	LimitDisclosure bool
	constraints     *presexch.Constraints
}

// Field is a constraint on one claim: the first of Paths that selects a
// value that passes the filter.
type Field struct {
	ID       string
	Paths    [][]any // parsed JSONPaths, as DCQL claim paths
	RawPaths []string
	Optional bool
	filter   *jsonschema.Schema
}

// MarshalJSON returns the definition as it was given.
func (d *Definition) MarshalJSON() ([]byte, error) { return d.raw, nil }

// UnmarshalJSON parses and validates a definition.
func (d *Definition) UnmarshalJSON(b []byte) error {
	p, err := ParseDefinition(b)
	if err != nil {
		return err
	}
	*d = *p
	return nil
}

// PE format designations and the credential format each stands for.
var peFormats = map[string]string{
	"dc+sd-jwt": FormatSDJWT, "vc+sd-jwt": FormatSDJWT,
	"jwt_vc_json": FormatJWT, "jwt_vp_json": FormatJWT, "jwt_vc": FormatJWT, "jwt_vp": FormatJWT, "jwt": FormatJWT,
	"ldp_vc": FormatLDP, "ldp_vp": FormatLDP, "ldp": FormatLDP,
}

// The members Urbis reads at each level of a definition; unsupported
// lists, with the reason, those it refuses. Others are refused as unknown.
var (
	peDefinitionKeys = []string{"id", "name", "purpose", "format", "input_descriptors", "locale"}
	peDescriptorKeys = []string{"id", "name", "purpose", "format", "constraints", "group", "metadata"}
	peConstraintKeys = []string{"fields", "limit_disclosure"}
	peFieldKeys      = []string{"id", "path", "purpose", "name", "filter", "optional", "intent_to_retain"}
	// The JSON Schema keywords of a filter that presexch models (its
	// Filter type); others would be dropped by it silently.
	peFilterKeys  = []string{"type", "format", "pattern", "minimum", "maximum", "minLength", "maxLength", "exclusiveMinimum", "exclusiveMaximum", "const", "enum", "not", "contains"}
	peUnsupported = map[string]string{
		"frame":                   "JSON-LD framing is not supported; ask for claims with constraints.fields",
		"submission_requirements": "is not supported: every input descriptor is required",
		"schema":                  "(Presentation Exchange 1.0) is not supported; constrain $.type or $.vct with a field filter",
		"is_holder":               "is not supported: holder binding is always checked",
		"same_subject":            "is not supported",
		"subject_is_issuer":       "is not supported",
		"statuses":                "is not supported: the status of every credential is always checked",
		"predicate":               "is not supported (BBS+ predicates)",
	}
)

// ParseDefinition decodes and validates a presentation definition; errors
// name the field under the definition as a JSON pointer.
func ParseDefinition(raw []byte) (*Definition, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, errkind.Field(errkind.Invalid, "", "is not a presentation definition (a JSON object): %v", err)
	}
	if err := onlyKeys(m, "", peDefinitionKeys); err != nil {
		return nil, err
	}
	id, _ := m["id"].(string)
	if id == "" {
		return nil, errkind.Field(errkind.Invalid, "/id", "is required: a non-empty string")
	}
	defFormats, err := formatsOf(m["format"], "/format")
	if err != nil {
		return nil, err
	}
	list, _ := m["input_descriptors"].([]any)
	if len(list) == 0 {
		return nil, errkind.Field(errkind.Invalid, "/input_descriptors", "is required: at least one input descriptor")
	}
	def := &Definition{ID: id, raw: append(json.RawMessage(nil), raw...)}
	seen := map[string]bool{}
	for i, x := range list {
		at := fmt.Sprintf("/input_descriptors/%d", i)
		dm, ok := x.(map[string]any)
		if !ok {
			return nil, errkind.Field(errkind.Invalid, at, "must be an object")
		}
		if err := onlyKeys(dm, at, peDescriptorKeys); err != nil {
			return nil, err
		}
		var d InputDescriptor
		d.ID, _ = dm["id"].(string)
		if strings.TrimSpace(d.ID) == "" || seen[d.ID] {
			return nil, errkind.Field(errkind.Invalid, at+"/id", "must be a unique non-empty string")
		}
		seen[d.ID] = true
		if d.Formats, err = formatsOf(dm["format"], at+"/format"); err != nil {
			return nil, err
		}
		if d.Formats == nil {
			d.Formats = defFormats
		}
		cm, _ := dm["constraints"].(map[string]any)
		if cm == nil {
			return nil, errkind.Field(errkind.Invalid, at+"/constraints", "is required: fields naming the claims asked for")
		}
		if err := onlyKeys(cm, at+"/constraints", peConstraintKeys); err != nil {
			return nil, err
		}
		switch ld := cm["limit_disclosure"]; ld {
		case nil, "preferred":
		case "required":
			d.LimitDisclosure = true
			if d.Formats == nil {
				d.Formats = []string{FormatSDJWT}
			}
			if slices.ContainsFunc(d.Formats, func(f string) bool { return f != FormatSDJWT }) {
				return nil, errkind.Field(errkind.Invalid, at+"/constraints/limit_disclosure",
					"\"required\" needs format dc+sd-jwt only: jwt_vc_json and ldp_vc credentials are presented whole")
			}
		default:
			return nil, errkind.Field(errkind.Invalid, at+"/constraints/limit_disclosure", "must be \"required\" or \"preferred\"")
		}
		if d.Formats == nil {
			d.Formats = []string{FormatSDJWT, FormatJWT, FormatLDP}
		}
		fields, _ := cm["fields"].([]any)
		if len(fields) == 0 {
			return nil, errkind.Field(errkind.Invalid, at+"/constraints/fields", "is required: at least one field")
		}
		for j, fx := range fields {
			f, err := parseField(fx, fmt.Sprintf("%s/constraints/fields/%d", at, j))
			if err != nil {
				return nil, err
			}
			d.Fields = append(d.Fields, f)
		}
		def.Descriptors = append(def.Descriptors, d)
	}
	var pd presexch.PresentationDefinition
	if err := json.Unmarshal(raw, &pd); err != nil || len(pd.InputDescriptors) != len(def.Descriptors) {
		return nil, errkind.Field(errkind.Invalid, "", "does not decode as a presentation definition (presexch): %v", err)
	}
	for i := range def.Descriptors {
		def.Descriptors[i].constraints = pd.InputDescriptors[i].Constraints
	}
	if err := pd.ValidateSchema(); err != nil {
		return nil, errkind.Field(errkind.Invalid, "", "does not validate against the Presentation Exchange schema (presexch): %v", err)
	}
	return def, nil
}

func onlyKeys(m map[string]any, at string, allowed []string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if why, ok := peUnsupported[k]; ok {
			return errkind.Field(errkind.Invalid, at+"/"+k, "%s", why)
		}
		if !slices.Contains(allowed, k) {
			return errkind.Field(errkind.Invalid, at+"/"+k, "is not supported (Urbis reads %s here)", strings.Join(allowed, ", "))
		}
	}
	return nil
}

// formatsOf reads a format object: nil when absent.
func formatsOf(v any, at string) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return nil, errkind.Field(errkind.Invalid, at, "must be an object of format designations")
	}
	var out []string
	for k := range m {
		f, ok := peFormats[k]
		if !ok {
			return nil, errkind.Field(errkind.Invalid, at+"/"+k, "is not supported; want dc+sd-jwt (vc+sd-jwt), jwt_vc_json (jwt_vc, jwt_vp_json, jwt_vp) or ldp_vc (ldp_vp)")
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out, nil
}

func parseField(x any, at string) (Field, error) {
	fm, ok := x.(map[string]any)
	if !ok {
		return Field{}, errkind.Field(errkind.Invalid, at, "must be an object")
	}
	if err := onlyKeys(fm, at, peFieldKeys); err != nil {
		return Field{}, err
	}
	var f Field
	f.ID, _ = fm["id"].(string)
	f.Optional, _ = fm["optional"].(bool)
	paths, _ := fm["path"].([]any)
	if len(paths) == 0 {
		return Field{}, errkind.Field(errkind.Invalid, at+"/path", "is required: a non-empty array of JSONPath expressions")
	}
	for k, p := range paths {
		s, _ := p.(string)
		parsed, err := parseJSONPath(s)
		if err != nil {
			return Field{}, errkind.Field(errkind.Invalid, fmt.Sprintf("%s/path/%d", at, k), "%v", err)
		}
		f.Paths = append(f.Paths, parsed)
		f.RawPaths = append(f.RawPaths, s)
	}
	if fv, ok := fm["filter"]; ok {
		fo, ok := fv.(map[string]any)
		if !ok {
			return Field{}, errkind.Field(errkind.Invalid, at+"/filter", "must be a JSON Schema object")
		}
		if err := checkFilter(fo, at+"/filter"); err != nil {
			return Field{}, err
		}
		b, _ := json.Marshal(fo)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err == nil {
			c := jsonschema.NewCompiler()
			c.DefaultDraft(jsonschema.Draft7)
			if err = c.AddResource("urn:urbis:pe-filter", doc); err == nil {
				f.filter, err = c.Compile("urn:urbis:pe-filter")
			}
		}
		if err != nil {
			return Field{}, errkind.Field(errkind.Invalid, at+"/filter", "is not a JSON Schema: %v", err)
		}
	}
	return f, nil
}

// checkFilter refuses the keywords presexch does not model, at every
// level of not and contains.
func checkFilter(m map[string]any, at string) error {
	for k, v := range m {
		if !slices.Contains(peFilterKeys, k) {
			return errkind.Field(errkind.Invalid, at+"/"+k, "is not supported in a filter (Urbis and presexch read %s)", strings.Join(peFilterKeys, ", "))
		}
		if k == "not" || k == "contains" {
			sub, ok := v.(map[string]any)
			if !ok {
				return errkind.Field(errkind.Invalid, at+"/"+k, "must be a JSON Schema object")
			}
			if err := checkFilter(sub, at+"/"+k); err != nil {
				return err
			}
		}
	}
	return nil
}

var jsonPathName = regexp.MustCompile(`^[A-Za-z0-9_@$-]+`)

// parseJSONPath reads the JSONPath subset Urbis evaluates: $ followed by
// .name, ['name'], ["name"], [n] and [*] (a null in the result, as in
// DCQL). Filters, recursive descent and slices are refused.
func parseJSONPath(s string) ([]any, error) {
	if !strings.HasPrefix(s, "$") {
		return nil, fmt.Errorf("%q is not a JSONPath starting with $", s)
	}
	out := []any{}
	rest := s[1:]
	for rest != "" {
		switch {
		case strings.HasPrefix(rest, ".."):
			return nil, fmt.Errorf("%q: recursive descent (..) is not supported", s)
		case strings.HasPrefix(rest, ".*"):
			out = append(out, nil)
			rest = rest[2:]
		case strings.HasPrefix(rest, "."):
			name := jsonPathName.FindString(rest[1:])
			if name == "" {
				return nil, fmt.Errorf("%q: a member name must follow . at %q", s, rest)
			}
			out = append(out, name)
			rest = rest[1+len(name):]
		case strings.HasPrefix(rest, "['"), strings.HasPrefix(rest, `["`):
			q := rest[1]
			end := strings.IndexByte(rest[2:], q)
			if end < 0 || !strings.HasPrefix(rest[2+end:], string(q)+"]") {
				return nil, fmt.Errorf("%q: unterminated bracket at %q", s, rest)
			}
			out = append(out, rest[2:2+end])
			rest = rest[2+end+2:]
		case strings.HasPrefix(rest, "[*]"):
			out = append(out, nil)
			rest = rest[3:]
		case strings.HasPrefix(rest, "["):
			end := strings.IndexByte(rest, ']')
			n, err := strconv.Atoi(rest[1:max(end, 1)])
			if end < 0 || err != nil || n < 0 {
				return nil, fmt.Errorf("%q: only [n], [*] and ['name'] are supported (no filters or slices) at %q", s, rest)
			}
			out = append(out, float64(n))
			rest = rest[end+1:]
		default:
			return nil, fmt.Errorf("%q: unexpected %q", s, rest)
		}
	}
	return out, nil
}

// Evaluate applies d's fields to doc (the processed SD-JWT claims, or
// the credential object) as presexch does: a field is met by the first
// path that selects a value passing the filter; an optional field whose
// path selects nothing is met. It returns the requested claims that were
// found, or why a field is not met. The verifier evaluates this way the
// credentials presexch cannot read, and a wallet the credentials it
// could present.
func (d *InputDescriptor) Evaluate(doc map[string]any) ([]ClaimValue, error) {
	out := []ClaimValue{}
	for i, f := range d.Fields {
		var (
			found  bool
			reason error
		)
		for k, p := range f.Paths {
			vals, ok := selectPath(doc, p)
			if !ok {
				continue
			}
			var v any = vals[0]
			if hasWildcard(p) {
				v = vals
			}
			if f.filter != nil {
				if err := validateValue(f.filter, v); err != nil {
					reason = fmt.Errorf("field %d: the value at %s does not pass the filter: %v", i, f.RawPaths[k], err)
					continue
				}
			}
			out = append(out, ClaimValue{Path: p, Value: v})
			found = true
			break
		}
		switch {
		case found:
		case reason != nil && !f.Optional:
			return nil, reason
		case !f.Optional:
			return nil, fmt.Errorf("field %d: none of %s is disclosed", i, strings.Join(f.RawPaths, ", "))
		}
	}
	return out, nil
}

func validateValue(s *jsonschema.Schema, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	if err := s.Validate(inst); err != nil {
		if ve, ok := err.(*jsonschema.ValidationError); ok {
			leaf := ve
			for len(leaf.Causes) > 0 {
				leaf = leaf.Causes[0]
			}
			msg := strings.TrimSpace(leaf.Error())
			if i := strings.LastIndex(msg, "\n"); i >= 0 {
				msg = strings.TrimSpace(msg[i+1:])
			}
			return fmt.Errorf("%s", strings.TrimPrefix(msg, "- "))
		}
		return err
	}
	return nil
}

// descriptor returns the input descriptor id.
func (d *Definition) descriptor(id string) (*InputDescriptor, bool) {
	for i := range d.Descriptors {
		if d.Descriptors[i].ID == id {
			return &d.Descriptors[i], true
		}
	}
	return nil, false
}
