package wallet

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/bbs"
	"github.com/urbis-id/urbis/vc/ld"
)

// isBBS reports whether c is an ldp_vc credential signed with
// BbsBlsSignature2020, from which the wallet derives a proof that
// discloses only the requested claims.
func isBBS(c Credential) bool {
	if c.Format != FormatLDP {
		return false
	}
	var m map[string]any
	if json.Unmarshal(c.Raw, &m) != nil {
		return false
	}
	return bbs.IsBBS(m)
}

// bbsKeep are the members of a credential a derived credential keeps
// when the credential has them: what makes it a credential the verifier
// can check (issuer, validity, status, schema), never a claim about the
// holder.
var bbsKeep = []string{"id", "issuer", "issuanceDate", "validFrom", "expirationDate", "validUntil", "credentialStatus", "credentialSchema"}

// bbsFrame returns the JSON-LD frame that keeps from cred its type, the
// members of bbsKeep, and the claims at the paths of reveal (DCQL claim
// paths from the credential: ["credentialSubject", "district"]). A path
// through an array (an index or null) discloses the whole member that
// holds the array.
func bbsFrame(cred map[string]any, reveal [][]any) map[string]any {
	frame := map[string]any{"@context": cred["@context"], "type": cred["type"], "@explicit": true}
	for _, k := range bbsKeep {
		if _, ok := cred[k]; ok && k != "id" {
			frame[k] = map[string]any{}
		}
	}
	// The subject stays, with its id (JSON-LD framing keeps node ids),
	// which binds the derived credential to the holder.
	if _, ok := cred["credentialSubject"]; ok {
		frame["credentialSubject"] = map[string]any{"@explicit": true}
	}
	whole := map[string]bool{} // members disclosed whole, by path
	for _, p := range reveal {
		if len(p) > 0 && (p[0] == "type" || p[0] == "@context" || p[0] == "id") {
			continue // always shown; in a frame, type and @context select rather than reveal
		}
		node, at := frame, ""
		for i, seg := range p {
			name, ok := seg.(string)
			if !ok || whole[at] {
				break // an array, or a member already disclosed whole
			}
			at += "/" + name
			if _, isNext := next(p, i).(string); i == len(p)-1 || !isNext {
				node[name] = map[string]any{} // the member, whole
				whole[at] = true
				break
			}
			child, _ := node[name].(map[string]any)
			if child == nil {
				child = map[string]any{}
				node[name] = child
			}
			child["@explicit"] = true
			node = child
		}
	}
	return frame
}

func next(p []any, i int) any {
	if i+1 < len(p) {
		return p[i+1]
	}
	return nil
}

// deriveBBS derives from the BBS+ credential c a credential with a
// BbsBlsSignatureProof2020 proof that discloses only the claims at the
// paths of reveal, and checks that it discloses nothing else before it
// is returned. issuers resolves the issuer's DID for its BLS key.
func deriveBBS(ctx context.Context, c Credential, reveal [][]any, issuers did.Resolver) (map[string]any, error) {
	var cred map[string]any
	if err := json.Unmarshal(c.Raw, &cred); err != nil {
		return nil, err
	}
	derived, err := bbs.Derive(ctx, cred, bbsFrame(cred, reveal), nil, bbs.DIDKeyResolver(issuers, did.AssertionMethod), ld.Default())
	if err != nil {
		return nil, fmt.Errorf("derive a BBS+ proof: %w", err)
	}
	if extra := undisclosable(derived, reveal); len(extra) > 0 {
		return nil, errkind.New(errkind.Internal, "the derived credential would disclose %v, which the request does not ask for; nothing was sent", extra)
	}
	return derived, nil
}

// undisclosable lists the subject claims of a derived credential that no
// path of reveal asks for (the subject's id aside, which binds it to the
// holder).
func undisclosable(derived map[string]any, reveal [][]any) []string {
	asked, top := map[string]bool{}, map[string]bool{}
	for _, p := range reveal {
		if len(p) > 0 {
			if s, ok := p[0].(string); ok {
				top[s] = true
			}
		}
		if len(p) >= 2 && p[0] == "credentialSubject" {
			if s, ok := p[1].(string); ok {
				asked[s] = true
			}
		}
	}
	var extra []string
	check := func(s map[string]any) {
		for k := range s {
			if k != "id" && !asked[k] {
				extra = append(extra, "credentialSubject."+k)
			}
		}
	}
	switch s := derived["credentialSubject"].(type) {
	case map[string]any:
		check(s)
	case []any:
		for _, e := range s {
			if m, ok := e.(map[string]any); ok {
				check(m)
			}
		}
	}
	for k := range derived {
		if !top[k] && !slices.Contains(bbsKeep, k) && !slices.Contains([]string{"@context", "type", "proof", "credentialSubject"}, k) {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	return slices.Compact(extra)
}
