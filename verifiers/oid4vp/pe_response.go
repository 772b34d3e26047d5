package oid4vp

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/hyperledger/aries-framework-go/pkg/doc/presexch"
	"github.com/hyperledger/aries-framework-go/pkg/doc/verifiable"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/ld"
)

// CheckPresexch passes when aries' presexch evaluated a credential (W3C
// VC 1.1) against its input descriptor and found it satisfies it.
const CheckPresexch = "presexch"

// CheckSubmission passes when the presentation_submission maps every
// input descriptor to a presentation of vp_token.
const CheckSubmission = "submission"

// Submission is a DIF Presentation Exchange presentation submission.
type Submission struct {
	ID            string              `json:"id"`
	DefinitionID  string              `json:"definition_id"`
	DescriptorMap []DescriptorMapping `json:"descriptor_map"`
}

// DescriptorMapping points at the presentation (Path, into vp_token) and
// the credential within it (PathNested, into the presentation) that
// answer input descriptor ID.
type DescriptorMapping struct {
	ID         string             `json:"id"`
	Format     string             `json:"format"`
	Path       string             `json:"path"`
	PathNested *DescriptorMapping `json:"path_nested,omitempty"`
}

// The presentation formats of a descriptor map entry, and the credential
// format each carries.
var pePresentationFormats = map[string]string{
	"dc+sd-jwt": FormatSDJWT, "vc+sd-jwt": FormatSDJWT,
	"jwt_vp_json": FormatJWT, "jwt_vp": FormatJWT,
	"ldp_vp": FormatLDP,
}

// parseSubmission reads presentation_submission against def and vp_token
// (a JSON value, or a bare compact token): every input descriptor is
// mapped once, and every mapping names one of them.
func parseSubmission(vpToken, submission string, def *Definition) (*Submission, any, error) {
	bad := func(field, format string, args ...any) error {
		return errkind.Field(errkind.Invalid, field, format, args...).WithCode(ErrInvalidRequest)
	}
	if strings.TrimSpace(submission) == "" {
		return nil, nil, bad("presentation_submission", "is required: the request carries a presentation definition")
	}
	var sub Submission
	if err := json.Unmarshal([]byte(submission), &sub); err != nil {
		return nil, nil, bad("presentation_submission", "is not a presentation submission: %v", err)
	}
	if sub.DefinitionID != def.ID {
		return nil, nil, bad("presentation_submission/definition_id", "is %q; want %q, the definition of the request", sub.DefinitionID, def.ID)
	}
	if len(sub.DescriptorMap) == 0 {
		return nil, nil, bad("presentation_submission/descriptor_map", "is empty")
	}
	seen := map[string]bool{}
	for i, m := range sub.DescriptorMap {
		at := fmt.Sprintf("presentation_submission/descriptor_map/%d", i)
		if _, ok := def.descriptor(m.ID); !ok {
			return nil, nil, bad(at+"/id", "%q is not an input descriptor of the definition", m.ID)
		}
		if seen[m.ID] {
			return nil, nil, bad(at+"/id", "%q is mapped twice", m.ID)
		}
		seen[m.ID] = true
		f, ok := pePresentationFormats[m.Format]
		if !ok {
			return nil, nil, bad(at+"/format", "%q is not supported; want dc+sd-jwt (vc+sd-jwt), jwt_vp_json (jwt_vp) or ldp_vp", m.Format)
		}
		if _, err := parseJSONPath(m.Path); err != nil {
			return nil, nil, bad(at+"/path", "%v", err)
		}
		switch {
		case f == FormatSDJWT && m.PathNested != nil:
			return nil, nil, bad(at+"/path_nested", "must be absent: an SD-JWT VC is its own presentation")
		case f != FormatSDJWT && m.PathNested == nil:
			return nil, nil, bad(at+"/path_nested", "is required: the path of the credential within the %s presentation", m.Format)
		case m.PathNested != nil:
			if _, err := parseJSONPath(m.PathNested.Path); err != nil {
				return nil, nil, bad(at+"/path_nested/path", "%v", err)
			}
			if nf, ok := peFormats[m.PathNested.Format]; !ok || nf != f {
				return nil, nil, bad(at+"/path_nested/format", "%q is not a credential format of a %s presentation", m.PathNested.Format, m.Format)
			}
		}
	}
	for _, d := range def.Descriptors {
		if !seen[d.ID] {
			return nil, nil, bad("presentation_submission/descriptor_map", "does not map input descriptor %q; every input descriptor is required", d.ID)
		}
	}
	tok := strings.TrimSpace(vpToken)
	if tok == "" {
		return nil, nil, bad("vp_token", "is required")
	}
	var root any = tok
	if strings.ContainsAny(tok[:1], `[{"`) {
		if err := json.Unmarshal([]byte(tok), &root); err != nil {
			return nil, nil, bad("vp_token", "is not JSON nor a compact token: %v", err)
		}
	}
	return &sub, root, nil
}

// verifySubmission verifies each mapped presentation and evaluates its
// credential against the input descriptor.
func (s *Service) verifySubmission(ctx context.Context, r Request, sub *Submission, root any) (*Outcome, error) {
	o := &Outcome{Claims: map[string][]Presented{}, Checks: []string{}, Errors: []Finding{}}
	pass := func(c string) {
		if !slices.Contains(o.Checks, c) {
			o.Checks = append(o.Checks, c)
		}
	}
	for i, m := range sub.DescriptorMap {
		d, _ := r.Definition.descriptor(m.ID)
		fail := func(check, format string, args ...any) {
			o.Errors = append(o.Errors, Finding{Query: m.ID, Check: check, Detail: fmt.Sprintf(format, args...)})
		}
		format := pePresentationFormats[m.Format]
		if !slices.Contains(d.Formats, format) {
			fail(CheckFormat, "input descriptor %s accepts %v, presented as %s", d.ID, d.Formats, format)
			continue
		}
		path, _ := parseJSONPath(m.Path)
		ps, ok := selectPath(root, path)
		if !ok || len(ps) != 1 {
			fail(CheckSubmission, "descriptor_map/%d/path %s selects no presentation of vp_token", i, m.Path)
			continue
		}
		p := ps[0]
		cred, err := s.checked(ctx, r, format, p, fail, pass)
		if err != nil {
			return nil, err
		}
		if cred == nil {
			continue
		}
		if m.PathNested != nil {
			if err := checkNested(p, format, m.PathNested.Path, cred.raw); err != nil {
				fail(CheckSubmission, "descriptor_map/%d/path_nested: %v", i, err)
				continue
			}
		}
		if d.LimitDisclosure && format == FormatSDJWT {
			tok, _ := p.(string)
			if extra := d.undisclosable(tok); len(extra) > 0 {
				fail(CheckQuery, "limit_disclosure is required, and the presentation discloses %s, which no field of %s asks for", strings.Join(extra, ", "), d.ID)
				continue
			}
		}
		claims, byAries, err := r.Definition.evaluate(d, format, cred)
		if err != nil {
			fail(CheckQuery, "%v", err)
			continue
		}
		if byAries {
			pass(CheckPresexch)
		}
		pass(CheckQuery)
		types := cred.types
		if format == FormatSDJWT {
			types = []string{cred.vct}
		}
		o.Claims[m.ID] = append(o.Claims[m.ID], Presented{Format: format, Issuer: cred.issuer, Types: types, Claims: claims})
	}
	o.Status = StatusVerified
	if len(o.Errors) > 0 {
		o.Status = StatusFailed
		o.Claims = nil // only the claims of a verified answer are kept
	} else {
		pass(CheckSubmission)
		pass(CheckRequest)
	}
	return o, nil
}

// checkNested checks that path selects, within presentation p (a VP
// object, or a JWT-VP whose payload it is applied to), the credential
// that was verified.
func checkNested(p any, format, path string, want any) error {
	doc := p
	if format == FormatJWT {
		tok, _ := p.(string)
		payload, err := jwtPayload(tok)
		if err != nil {
			return err
		}
		doc = payload
	}
	parsed, err := parseJSONPath(path)
	if err != nil {
		return err
	}
	got, ok := selectPath(doc, parsed)
	if !ok || len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		return fmt.Errorf("%s does not select the presentation's credential", path)
	}
	return nil
}

// vc11 is the context of W3C VC 1.1, the data model presexch reads.
const vc11 = "https://www.w3.org/2018/credentials/v1"

// evaluate checks cred against d's constraints and returns the requested
// claims. A W3C VC 1.1 credential is evaluated by presexch (byAries);
// any other by Evaluate, which applies the same rules.
func (def *Definition) evaluate(d *InputDescriptor, format string, cred *credential) (claims []ClaimValue, byAries bool, err error) {
	own, ownErr := d.Evaluate(cred.claims)
	if format == FormatSDJWT || firstContext(cred.claims) != vc11 {
		return own, false, ownErr
	}
	ok, err := def.ariesMatch(d, cred.raw)
	if err != nil {
		return nil, false, err
	}
	switch {
	case !ok && ownErr != nil:
		return nil, false, fmt.Errorf("presexch: the credential does not satisfy input descriptor %s: %v", d.ID, ownErr)
	case !ok:
		return nil, false, fmt.Errorf("presexch: the credential does not satisfy input descriptor %s", d.ID)
	case ownErr != nil:
		// presexch accepted what the claims cannot be read from.
		return nil, false, fmt.Errorf("presexch accepts the credential for %s, but %v", d.ID, ownErr)
	}
	return own, true, nil
}

func firstContext(m map[string]any) string {
	switch c := m["@context"].(type) {
	case string:
		return c
	case []any:
		if len(c) > 0 {
			s, _ := c[0].(string)
			return s
		}
	}
	return ""
}

// ariesMatch asks presexch whether the credential (a JWT-VC string or a
// credential object, already verified) satisfies input descriptor d.
func (def *Definition) ariesMatch(d *InputDescriptor, raw any) (bool, error) {
	var b []byte
	switch v := raw.(type) {
	case string:
		b = []byte(v)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			return false, err
		}
	}
	loader := ld.Default()
	c, err := verifiable.ParseCredential(b, verifiable.WithDisabledProofCheck(), verifiable.WithJSONLDDocumentLoader(loader),
		verifiable.WithNoCustomSchemaCheck())
	if err != nil {
		return false, fmt.Errorf("presexch cannot read the credential: %v", err)
	}
	one := &presexch.PresentationDefinition{ID: def.ID, InputDescriptors: []*presexch.InputDescriptor{{ID: d.ID, Constraints: d.constraints}}}
	matched, err := one.MatchSubmissionRequirement([]*verifiable.Credential{c}, loader)
	if err != nil {
		return false, fmt.Errorf("presexch: %v", err)
	}
	for _, m := range matched {
		for _, md := range m.Descriptors {
			if md.ID == d.ID && len(md.MatchedVCs) > 0 {
				return true, nil
			}
		}
	}
	return false, nil
}

// undisclosable lists the claims an SD-JWT presentation discloses (its
// object property disclosures) whose names are on no path of d's fields.
func (d *InputDescriptor) undisclosable(presentation string) []string {
	asked := map[string]bool{}
	for _, f := range d.Fields {
		for _, p := range f.Paths {
			for _, seg := range p {
				if name, ok := seg.(string); ok {
					asked[name] = true
				}
			}
		}
	}
	var extra []string
	parts := strings.Split(presentation, "~")
	for _, part := range parts[1 : len(parts)-1] {
		b, err := b64.DecodeString(part)
		if err != nil {
			continue // the verifier has refused a malformed disclosure already
		}
		var disc []any
		if json.Unmarshal(b, &disc) != nil || len(disc) != 3 {
			continue // an array element: its array is on a path
		}
		if name, _ := disc[1].(string); !asked[name] && !slices.Contains(extra, name) {
			extra = append(extra, name)
		}
	}
	return extra
}
