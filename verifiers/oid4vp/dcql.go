package oid4vp

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/urbis-id/urbis/internal/errkind"
)

// Credential formats a DCQL query may ask for.
const (
	FormatSDJWT = "dc+sd-jwt"
	FormatLDP   = "ldp_vc"
	FormatJWT   = "jwt_vc_json"
)

// Query is a Digital Credentials Query Language query (OpenID4VP 1.0
// section 6). Urbis supports a subset, checked by Validate: credentials
// with id, format, multiple, meta (vct_values for dc+sd-jwt, type_values
// for ldp_vc and jwt_vc_json), claims (path and values), claim_sets and
// require_cryptographic_holder_binding (true only: Urbis always checks
// holder binding); credential_sets with options and required. It does not
// support trusted_authorities nor mso_mdoc.
type Query struct {
	Credentials    []CredentialQuery `json:"credentials"`
	CredentialSets []CredentialSet   `json:"credential_sets,omitempty"`
}

// CredentialQuery asks for one credential.
type CredentialQuery struct {
	ID       string       `json:"id"`
	Format   string       `json:"format"`
	Multiple bool         `json:"multiple,omitempty"`
	Meta     Meta         `json:"meta"`
	Claims   []ClaimQuery `json:"claims,omitempty"`
	// ClaimSets lists alternative sets of claim ids, most preferred first.
	ClaimSets [][]string `json:"claim_sets,omitempty"`
	// RequireHolderBinding is require_cryptographic_holder_binding; only
	// true (the default) is supported.
	RequireHolderBinding *bool `json:"require_cryptographic_holder_binding,omitempty"`
	// TrustedAuthorities is refused: Urbis checks issuers against the
	// registry's accreditations instead.
	TrustedAuthorities json.RawMessage `json:"trusted_authorities,omitempty"`
}

// Meta restricts the credential's type.
type Meta struct {
	VCTValues  []string   `json:"vct_values,omitempty"`  // dc+sd-jwt: one of these vct
	TypeValues [][]string `json:"type_values,omitempty"` // ldp_vc, jwt_vc_json: all types of one inner list
}

// ClaimQuery asks for one claim at Path: strings name object members,
// non-negative integers array elements, null every element of an array.
// Values, when set, lists the values the claim may have.
type ClaimQuery struct {
	ID     string `json:"id,omitempty"`
	Path   []any  `json:"path"`
	Values []any  `json:"values,omitempty"`
}

// CredentialSet says which combinations of credential queries satisfy
// the request: one of Options (lists of credential query ids). An
// optional set (Required false) may go unanswered.
type CredentialSet struct {
	Options  [][]string `json:"options"`
	Required *bool      `json:"required,omitempty"`
}

func (s CredentialSet) required() bool { return s.Required == nil || *s.Required }

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// ParseQuery decodes and validates a DCQL query.
func ParseQuery(raw []byte) (*Query, error) {
	var q Query
	if err := json.Unmarshal(raw, &q); err != nil {
		return nil, errkind.Field(errkind.Invalid, "", "is not a DCQL query: %v", err)
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	return &q, nil
}

// Validate checks that q is in the supported subset; errors name the
// field under the query as a JSON pointer.
func (q *Query) Validate() error {
	if len(q.Credentials) == 0 {
		return errkind.Field(errkind.Invalid, "/credentials", "is required: at least one credential query")
	}
	seen := map[string]bool{}
	for i, c := range q.Credentials {
		at := fmt.Sprintf("/credentials/%d", i)
		if !idPattern.MatchString(c.ID) {
			return errkind.Field(errkind.Invalid, at+"/id", "must be a non-empty string of letters, digits, _ and -")
		}
		if seen[c.ID] {
			return errkind.Field(errkind.Invalid, at+"/id", "%q is used twice", c.ID)
		}
		seen[c.ID] = true
		switch c.Format {
		case FormatSDJWT:
			if len(c.Meta.TypeValues) > 0 {
				return errkind.Field(errkind.Invalid, at+"/meta/type_values", "is for ldp_vc and jwt_vc_json; dc+sd-jwt takes vct_values")
			}
		case FormatLDP, FormatJWT:
			if len(c.Meta.VCTValues) > 0 {
				return errkind.Field(errkind.Invalid, at+"/meta/vct_values", "is for dc+sd-jwt; %s takes type_values", c.Format)
			}
			for j, set := range c.Meta.TypeValues {
				if len(set) == 0 {
					return errkind.Field(errkind.Invalid, fmt.Sprintf("%s/meta/type_values/%d", at, j), "must list at least one type")
				}
			}
		default:
			return errkind.Field(errkind.Invalid, at+"/format", "%q is not supported; want dc+sd-jwt, ldp_vc or jwt_vc_json", c.Format)
		}
		if c.RequireHolderBinding != nil && !*c.RequireHolderBinding {
			return errkind.Field(errkind.Unsupported, at+"/require_cryptographic_holder_binding", "must be true: Urbis always checks holder binding")
		}
		if len(c.TrustedAuthorities) > 0 {
			return errkind.Field(errkind.Unsupported, at+"/trusted_authorities", "is not supported: Urbis checks each issuer's accreditation on the registry")
		}
		claimIDs := map[string]bool{}
		for j, cl := range c.Claims {
			cat := fmt.Sprintf("%s/claims/%d", at, j)
			if err := checkPath(cl.Path, cat+"/path"); err != nil {
				return err
			}
			if cl.ID != "" {
				if !idPattern.MatchString(cl.ID) || claimIDs[cl.ID] {
					return errkind.Field(errkind.Invalid, cat+"/id", "must be a unique string of letters, digits, _ and -")
				}
				claimIDs[cl.ID] = true
			}
			for k, v := range cl.Values {
				switch v.(type) {
				case string, float64, bool:
				default:
					return errkind.Field(errkind.Invalid, fmt.Sprintf("%s/values/%d", cat, k), "must be a string, number or boolean")
				}
			}
		}
		if len(c.ClaimSets) > 0 && len(c.Claims) == 0 {
			return errkind.Field(errkind.Invalid, at+"/claim_sets", "needs claims")
		}
		for j, set := range c.ClaimSets {
			if len(set) == 0 {
				return errkind.Field(errkind.Invalid, fmt.Sprintf("%s/claim_sets/%d", at, j), "must name at least one claim id")
			}
			for _, id := range set {
				if !claimIDs[id] {
					return errkind.Field(errkind.Invalid, fmt.Sprintf("%s/claim_sets/%d", at, j), "names claim id %q, which is not in claims", id)
				}
			}
		}
	}
	for i, s := range q.CredentialSets {
		at := fmt.Sprintf("/credential_sets/%d/options", i)
		if len(s.Options) == 0 {
			return errkind.Field(errkind.Invalid, at, "is required: at least one option")
		}
		for j, opt := range s.Options {
			if len(opt) == 0 {
				return errkind.Field(errkind.Invalid, fmt.Sprintf("%s/%d", at, j), "must name at least one credential query id")
			}
			for _, id := range opt {
				if !seen[id] {
					return errkind.Field(errkind.Invalid, fmt.Sprintf("%s/%d", at, j), "names credential query %q, which is not in credentials", id)
				}
			}
		}
	}
	return nil
}

func checkPath(p []any, at string) error {
	if len(p) == 0 {
		return errkind.Field(errkind.Invalid, at, "is required: a non-empty array of strings, non-negative integers and nulls")
	}
	for i, e := range p {
		switch v := e.(type) {
		case string, nil:
		case float64:
			if v < 0 || v != float64(int(v)) {
				return errkind.Field(errkind.Invalid, at+"/"+strconv.Itoa(i), "must be a non-negative integer")
			}
		default:
			return errkind.Field(errkind.Invalid, at+"/"+strconv.Itoa(i), "must be a string, a non-negative integer or null")
		}
	}
	return nil
}

// credential returns the credential query id.
func (q *Query) credential(id string) (*CredentialQuery, bool) {
	for i := range q.Credentials {
		if q.Credentials[i].ID == id {
			return &q.Credentials[i], true
		}
	}
	return nil, false
}

// satisfied reports whether presenting the credential query ids in got
// satisfies q: every credential query when there are no credential sets,
// else one option of every required set. It returns the reason when not.
func (q *Query) satisfied(got map[string]bool) error {
	if len(q.CredentialSets) == 0 {
		for _, c := range q.Credentials {
			if !got[c.ID] {
				return fmt.Errorf("no verified presentation for credential query %q", c.ID)
			}
		}
		return nil
	}
	for i, s := range q.CredentialSets {
		if !s.required() {
			continue
		}
		if !slices.ContainsFunc(s.Options, func(opt []string) bool {
			return !slices.ContainsFunc(opt, func(id string) bool { return !got[id] })
		}) {
			return fmt.Errorf("credential set %d is not satisfied: present every credential of one of its options %v", i, s.Options)
		}
	}
	return nil
}

// ClaimValue is a requested claim as presented: its path and value. A
// path with null holds the values of every element it selects as an array.
type ClaimValue struct {
	Path  []any `json:"path"`
	Value any   `json:"value"`
}

// selectPath returns the values at path in v (several when the path has
// nulls) and whether anything was found.
func selectPath(v any, path []any) ([]any, bool) {
	cur := []any{v}
	for _, seg := range path {
		var next []any
		for _, c := range cur {
			switch s := seg.(type) {
			case string:
				if m, ok := c.(map[string]any); ok {
					if x, ok := m[s]; ok {
						next = append(next, x)
					}
				}
			case float64:
				if a, ok := c.([]any); ok && int(s) < len(a) {
					next = append(next, a[int(s)])
				}
			case nil:
				if a, ok := c.([]any); ok {
					next = append(next, a...)
				}
			}
		}
		if len(next) == 0 {
			return nil, false
		}
		cur = next
	}
	return cur, true
}

func hasWildcard(path []any) bool { return slices.Contains(path, nil) }

// matchClaims checks the requested claims against the credential's
// claims (the processed SD-JWT claims, or the credential object) and
// returns the requested claims only. A claim set, when given, is met by
// its first satisfiable option.
func (c *CredentialQuery) matchClaims(claims map[string]any) ([]ClaimValue, error) {
	if len(c.Claims) == 0 {
		return nil, nil
	}
	got := make([]*ClaimValue, len(c.Claims))
	var firstErr error
	for i, cl := range c.Claims {
		vals, ok := selectPath(claims, cl.Path)
		if !ok {
			if firstErr == nil {
				firstErr = fmt.Errorf("the requested claim %s is not disclosed", pathString(cl.Path))
			}
			continue
		}
		if len(cl.Values) > 0 {
			okVal := true
			for _, v := range vals {
				if !slices.ContainsFunc(cl.Values, func(w any) bool { return equalScalar(v, w) }) {
					okVal = false
				}
			}
			if !okVal {
				if firstErr == nil {
					firstErr = fmt.Errorf("the claim %s has a value the request does not accept", pathString(cl.Path))
				}
				continue
			}
		}
		var v any = vals[0]
		if hasWildcard(cl.Path) {
			v = vals
		}
		got[i] = &ClaimValue{Path: cl.Path, Value: v}
	}
	if len(c.ClaimSets) == 0 {
		if firstErr != nil {
			return nil, firstErr
		}
		out := make([]ClaimValue, 0, len(got))
		for _, g := range got {
			out = append(out, *g)
		}
		return out, nil
	}
	for _, set := range c.ClaimSets {
		var out []ClaimValue
		ok := true
		for _, id := range set {
			i := slices.IndexFunc(c.Claims, func(cl ClaimQuery) bool { return cl.ID == id })
			if got[i] == nil {
				ok = false
				break
			}
			out = append(out, *got[i])
		}
		if ok {
			return out, nil
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("no claim set is satisfied")
	}
	return nil, fmt.Errorf("no claim set is satisfied: %v", firstErr)
}

func equalScalar(a, b any) bool {
	switch x := a.(type) {
	case string, bool, float64:
		return x == b
	case json.Number:
		f, err := x.Float64()
		return err == nil && f == b
	}
	return false
}

func pathString(p []any) string {
	b, _ := json.Marshal(p)
	return string(b)
}

// matchMeta checks the credential's vct (dc+sd-jwt) or types.
func (c *CredentialQuery) matchMeta(vct string, types []string) error {
	switch c.Format {
	case FormatSDJWT:
		if len(c.Meta.VCTValues) > 0 && !slices.Contains(c.Meta.VCTValues, vct) {
			return fmt.Errorf("the credential's vct %q is not one of %v", vct, c.Meta.VCTValues)
		}
	default:
		if len(c.Meta.TypeValues) == 0 {
			return nil
		}
		for _, set := range c.Meta.TypeValues {
			if !slices.ContainsFunc(set, func(t string) bool { return !slices.Contains(types, t) }) {
				return nil
			}
		}
		return fmt.Errorf("the credential's types %v match none of %v", types, c.Meta.TypeValues)
	}
	return nil
}
