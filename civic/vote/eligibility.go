package vote

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/verifiers"
)

// Challenge is the challenge (nonce) a token request's presentation must
// be bound to: the base64url SHA-256 of the blinded message, so that a
// presentation serves one request only.
func Challenge(blinded []byte) string {
	h := sha256.Sum256(blinded)
	return b64.EncodeToString(h[:])
}

// Domain is the domain (audience) of a token request's presentation.
func Domain(election string) string { return "urbis:election:" + election }

// subjectClaims returns the credentials embedded in a presentation (a
// Data Integrity presentation object or a compact JWT-VP), in order,
// each as its types and subject claims (with "id").
func subjectClaims(pres any) ([]credentialView, error) {
	switch p := pres.(type) {
	case map[string]any:
		var out []credentialView
		creds := p["verifiableCredential"]
		if m, ok := creds.(map[string]any); ok {
			creds = []any{m}
		}
		list, _ := creds.([]any)
		for _, c := range list {
			m, ok := c.(map[string]any)
			if !ok {
				out = append(out, credentialView{}) // enveloped: not read here
				continue
			}
			out = append(out, viewOf(m, ""))
		}
		return out, nil
	case string:
		if strings.Contains(p, "~") || strings.Count(p, ".") != 2 {
			return nil, errkind.Field(errkind.Unsupported, "presentation", "must be a Data Integrity presentation (ldp_vp) or a JWT-VP; SD-JWT presentations are not read for elections yet")
		}
		vp, err := jwtPayload(p)
		if err != nil {
			return nil, err
		}
		inner, _ := vp["vp"].(map[string]any)
		list, _ := inner["verifiableCredential"].([]any)
		var out []credentialView
		for _, c := range list {
			s, _ := c.(string)
			pl, err := jwtPayload(s)
			if err != nil {
				out = append(out, credentialView{})
				continue
			}
			m, _ := pl["vc"].(map[string]any)
			sub, _ := pl["sub"].(string)
			out = append(out, viewOf(m, sub))
		}
		return out, nil
	}
	return nil, errkind.Field(errkind.Invalid, "presentation", "must be a presentation object or a compact JWT-VP")
}

type credentialView struct {
	types  []string
	claims map[string]any
}

func viewOf(m map[string]any, sub string) credentialView {
	v := credentialView{}
	switch t := m["type"].(type) {
	case string:
		v.types = []string{t}
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok {
				v.types = append(v.types, s)
			}
		}
	}
	switch s := m["credentialSubject"].(type) {
	case map[string]any:
		v.claims = s
	case []any:
		if len(s) == 1 {
			v.claims, _ = s[0].(map[string]any)
		}
	}
	if v.claims != nil && sub != "" && v.claims["id"] == nil {
		v.claims["id"] = sub
	}
	return v
}

func jwtPayload(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errkind.Field(errkind.Invalid, "presentation", "is not a compact JWT")
	}
	b, err := b64.DecodeString(parts[1])
	var m map[string]any
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		return nil, errkind.Field(errkind.Invalid, "presentation", "has a JWT whose payload is not JSON")
	}
	return m, nil
}

// eligible finds, in a verified presentation, a credential of the
// rule's type from an accredited issuer whose subject is the holder and
// meets the rule, and returns that subject's id. opens is the day ages
// are counted at.
func eligible(pres any, res *verifiers.PresentationResult, rule Rule, opens time.Time) (string, error) {
	if !res.Verified {
		msg := "a check failed"
		if len(res.Errors) > 0 {
			msg = res.Errors[0].Check + ": " + res.Errors[0].Message
		}
		return "", errkind.Field(errkind.Forbidden, "presentation", "does not verify: %s", msg)
	}
	if !slices.Contains(res.Checks, verifiers.CheckHolderBinding) {
		return "", errkind.Field(errkind.Forbidden, "presentation", "its credential must name the holder as subject (credentialSubject.id), so that one resident gets one token")
	}
	views, err := subjectClaims(pres)
	if err != nil {
		return "", err
	}
	var why []string
	for i, v := range views {
		if !slices.Contains(v.types, rule.CredentialType) || i >= len(res.Credentials) {
			continue
		}
		cr := res.Credentials[i]
		if !slices.Contains(cr.Checks, verifiers.CheckAccreditation) {
			why = append(why, fmt.Sprintf("credential %d: its issuer is not accredited for %s (the type must be governed: a schema registered on chain)", i, rule.CredentialType))
			continue
		}
		// holderBinding ties a subject that is a DID to the holder who
		// signed the presentation; another subject is nobody's to present.
		subject, _ := v.claims["id"].(string)
		if !strings.HasPrefix(subject, "did:") {
			why = append(why, fmt.Sprintf("credential %d: its subject id must be the holder's DID; got %q", i, subject))
			continue
		}
		if err := rule.meets(v.claims, opens); err != nil {
			why = append(why, fmt.Sprintf("credential %d: %v", i, err))
			continue
		}
		return subject, nil
	}
	if len(why) == 0 {
		return "", errkind.Field(errkind.Forbidden, "presentation", "holds no %s", rule.CredentialType)
	}
	return "", errkind.Field(errkind.Forbidden, "presentation", "is not eligible: %s", strings.Join(why, "; "))
}

// meets checks a subject's claims against the rule: district among the
// rule's districts; age from age_equal_or_over.N (N the minimum age) or
// from birthDate (YYYY-MM-DD), on the day the election opens.
func (r Rule) meets(claims map[string]any, opens time.Time) error {
	if len(r.Districts) > 0 {
		d, _ := claims["district"].(string)
		if !slices.Contains(r.Districts, d) {
			return fmt.Errorf("district %q is not one of %s", d, strings.Join(r.Districts, ", "))
		}
	}
	if r.MinAge == 0 {
		return nil
	}
	if over, ok := claims["age_equal_or_over"].(map[string]any); ok {
		if v, ok := over[strconv.Itoa(r.MinAge)].(bool); ok {
			if !v {
				return fmt.Errorf("the subject is under %d", r.MinAge)
			}
			return nil
		}
	}
	bd, _ := claims["birthDate"].(string)
	born, err := time.Parse(time.DateOnly, bd)
	if err != nil {
		return fmt.Errorf("the credential shows neither birthDate nor age_equal_or_over.%d", r.MinAge)
	}
	if ageOn(born, opens) < r.MinAge {
		return fmt.Errorf("the subject is under %d on %s", r.MinAge, opens.Format(time.DateOnly))
	}
	return nil
}

// ageOn returns the age in whole years of someone born on born, on day.
func ageOn(born, day time.Time) int {
	y := day.Year() - born.Year()
	if day.Month() < born.Month() || day.Month() == born.Month() && day.Day() < born.Day() {
		y--
	}
	return y
}
