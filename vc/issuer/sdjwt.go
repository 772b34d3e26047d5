package issuer

import (
	"crypto"
	"errors"
	"slices"
	"strings"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc"
	"github.com/urbis-id/urbis/vc/sdjwt"
)

// reservedClaims are the SD-JWT VC claims Urbis sets from the credential;
// a subject claim of the same name is refused.
var reservedClaims = []string{"iss", "vct", "iat", "nbf", "exp", "sub", "jti", "cnf", "status", "_sd", "_sd_alg", "vct#integrity"}

// sdjwtMembers are the credential members an SD-JWT VC carries over.
var sdjwtMembers = []string{"@context", "type", "id", "issuer", "validFrom", "validUntil", "issuanceDate", "expirationDate", "credentialSubject"}

// SDJWTClaims maps a credential to SD-JWT VC claims: iss (issuer), vct
// (the first type other than VerifiableCredential), iat (issuance: the
// issuanceDate or validFrom), nbf (validFrom or issuanceDate, when it is
// not the issuance time), exp (validUntil or expirationDate), jti (id),
// sub (credentialSubject.id) and every other credentialSubject member as a
// top-level claim. It also returns the subject claim names, the default
// disclosure policy.
func SDJWTClaims(c *vc.Credential, issued int64) (map[string]any, []string, error) {
	m := c.Map()
	for k := range m {
		if !slices.Contains(sdjwtMembers, k) {
			return nil, nil, errkind.Field(errkind.Invalid, "/"+k, "dc+sd-jwt carries only the subject claims, the issuer, the id and the validity period; %s cannot be expressed (leave it out, or use ldp_vc)", k)
		}
	}
	subs := c.Subjects()
	if len(subs) != 1 {
		return nil, nil, errkind.Field(errkind.Invalid, "/credentialSubject", "dc+sd-jwt has one subject; got %d", len(subs))
	}
	claims := map[string]any{
		"iss": c.Issuer().ID,
		"vct": specificTypes(c.Types())[0],
		"iat": issued,
	}
	from, until := c.ValidityPeriod()
	if !from.IsZero() && from.Unix() != issued {
		claims["nbf"] = from.Unix()
	}
	if !until.IsZero() {
		claims["exp"] = until.Unix()
	}
	if id := c.ID(); id != "" {
		claims["jti"] = id
	}
	var names []string
	for k, v := range subs[0].Claims {
		if k == "id" {
			claims["sub"] = v
			continue
		}
		if slices.Contains(reservedClaims, k) {
			return nil, nil, errkind.Field(errkind.Invalid, "/credentialSubject/"+k, "is a claim an SD-JWT VC reserves; rename it")
		}
		claims[k] = v
		names = append(names, "/"+k)
	}
	return claims, names, nil
}

// issueSDJWT issues c as an SD-JWT VC; disclosable, when not nil, limits
// the selectively disclosable claims; holderKey, when not nil, goes in cnf;
// status, when not nil, is the status claim (always disclosed).
func issueSDJWT(c *vc.Credential, signer crypto.Signer, vm string, disclosable []string, holderKey crypto.PublicKey, status map[string]any) (string, error) {
	issued, _ := c.IssuanceDate()
	if issued.IsZero() {
		issued, _ = c.ValidFrom()
	}
	claims, all, err := SDJWTClaims(c, issued.Unix())
	if err != nil {
		return "", err
	}
	if status != nil {
		claims["status"] = status
	}
	policy := sdjwt.DisclosurePolicy(all)
	if disclosable != nil {
		policy = sdjwt.DisclosurePolicy{}
		for _, p := range disclosable {
			p = strings.TrimPrefix(p, "/credentialSubject")
			if p == "" || p == "/id" || p == "/status" || strings.HasPrefix(p, "/status/") {
				return "", errkind.Field(errkind.Invalid, "/options/disclosable", "%q cannot be selectively disclosable; name subject claims such as /name", p)
			}
			policy = append(policy, p)
		}
	}
	o := sdjwt.IssueOptions{KeyID: vm}
	if holderKey != nil {
		o.HolderKey = holderKey
	}
	tok, err := sdjwt.Issue(claims, policy, signer, o)
	var e *errkind.Error
	if err != nil && errors.As(err, &e) && e.Field == "DisclosurePolicy" {
		c := *e
		c.Field = "/options/disclosable"
		return "", &c
	}
	return tok, err
}
