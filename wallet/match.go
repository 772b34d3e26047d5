package wallet

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"sort"
	"strings"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/verifiers/oid4vp"
)

// match picks the most recently received credential that satisfies a
// DCQL credential query, and the claims it must disclose. With a
// pairwise DID, a credential bound to it comes first, and a credential
// bound to nothing may be presented as held by it.
func (w *Wallet) match(cq *oid4vp.CredentialQuery, pairwise ...string) (PlanItem, bool) {
	pw := ""
	if len(pairwise) > 0 {
		pw = pairwise[0]
	}
	return w.pick(cq.ID, []string{cq.Format}, pw, func(_ Credential, root map[string]any, vct string, types []string) ([][]any, []Claim, bool) {
		if !metaMatches(cq, vct, types) {
			return nil, nil, false
		}
		return matchClaims(cq, root)
	})
}

// selector says whether a credential (its claims as claimsOf reads them)
// answers a query, and which claim paths it must reveal for that, with
// the claims they show.
type selector func(c Credential, root map[string]any, vct string, types []string) (reveal [][]any, disclosed []Claim, ok bool)

// pick returns, for query id, the most recently received credential of
// one of formats that sel accepts and that the wallet can prove it
// holds; with a pairwise DID, those bound to it first.
func (w *Wallet) pick(id string, formats []string, pairwise string, sel selector) (PlanItem, bool) {
	if pairwise != "" {
		if it, ok := w.pickHeldBy(id, formats, pairwise, sel, func(h string) bool { return h == pairwise }); ok {
			return it, true
		}
	}
	return w.pickHeldBy(id, formats, pairwise, sel, func(string) bool { return true })
}

// pickHeldBy is pick among the credentials whose holder passes held; an
// unbound credential's holder is pairwise ("" if none).
func (w *Wallet) pickHeldBy(id string, formats []string, pairwise string, sel selector, held func(string) bool) (PlanItem, bool) {
	creds := w.Credentials()
	for i := len(creds) - 1; i >= 0; i-- {
		c := creds[i]
		if !slices.Contains(formats, c.Format) {
			continue
		}
		root, vct, types, err := claimsOf(c)
		if err != nil {
			continue
		}
		holder, err := w.holderOf(c)
		rebound := false
		if err != nil {
			if pairwise == "" || !unbound(c) {
				continue // not bound to a key of this wallet: it could not prove holding it
			}
			holder, rebound = pairwise, true
		}
		if !held(holder) {
			continue
		}
		reveal, disclosed, ok := sel(c, root, vct, types)
		if !ok {
			continue
		}
		it := PlanItem{Query: id, Credential: c, Selective: c.Format == FormatSDJWT || isBBS(c), reveal: reveal, Disclosed: disclosed,
			Holder: holder, Pairwise: rebound || (pairwise != "" && holder == pairwise)}
		switch {
		case !it.Selective:
			it.Disclosed = subjectClaims(root)
		case c.Format == FormatSDJWT:
			it.Always = clearClaims(c)
		default: // a BBS+ derived credential
			it.Always = []string{"type", "credentialSubject.id"}
			for _, k := range bbsKeep {
				if _, ok := root[k]; ok {
					it.Always = append(it.Always, k)
				}
			}
		}
		return it, true
	}
	return PlanItem{}, false
}

// matchDescriptor picks a credential for a Presentation Exchange input
// descriptor: one of its formats whose claims meet its fields (as the
// verifier evaluates them, oid4vp.InputDescriptor.Evaluate); with
// limit_disclosure required, only a credential that can hide the rest.
func (w *Wallet) matchDescriptor(d *oid4vp.InputDescriptor, pairwise string) (PlanItem, bool) {
	return w.pick(d.ID, d.Formats, pairwise, func(c Credential, root map[string]any, _ string, _ []string) ([][]any, []Claim, bool) {
		if d.LimitDisclosure && c.Format != FormatSDJWT && !isBBS(c) {
			return nil, nil, false
		}
		got, err := d.Evaluate(root)
		if err != nil {
			return nil, nil, false
		}
		var reveal [][]any
		var shown []Claim
		for _, g := range got {
			p := g.Path
			if i := slices.Index(p, any(nil)); i >= 0 {
				p = p[:i] // a wildcard: the whole array is revealed
			}
			if len(p) == 0 {
				return nil, nil, false // the whole credential: nothing selective about it
			}
			reveal = append(reveal, p)
			shown = append(shown, Claim{Path: g.Path, Value: g.Value})
		}
		return reveal, shown, true
	})
}

// metaMatches checks the query's vct_values or type_values.
func metaMatches(cq *oid4vp.CredentialQuery, vct string, types []string) bool {
	if cq.Format == FormatSDJWT {
		return len(cq.Meta.VCTValues) == 0 || slices.Contains(cq.Meta.VCTValues, vct)
	}
	if len(cq.Meta.TypeValues) == 0 {
		return true
	}
	for _, want := range cq.Meta.TypeValues {
		all := true
		for _, t := range want {
			all = all && slices.Contains(types, t)
		}
		if all {
			return true
		}
	}
	return false
}

// matchClaims returns the claim paths to reveal and the claims they
// show: all the query's claims, or the first claim set the credential
// satisfies.
func matchClaims(cq *oid4vp.CredentialQuery, root map[string]any) ([][]any, []Claim, bool) {
	try := func(claims []oid4vp.ClaimQuery) ([][]any, []Claim, bool) {
		var reveal [][]any
		var shown []Claim
		for _, q := range claims {
			got := selectValues(root, q.Path, nil)
			var kept []Claim
			for _, g := range got {
				if len(q.Values) == 0 || slices.ContainsFunc(q.Values, func(v any) bool { return equalScalar(v, g.Value) }) {
					kept = append(kept, g)
				}
			}
			if len(kept) == 0 {
				return nil, nil, false
			}
			reveal = append(reveal, q.Path)
			shown = append(shown, kept...)
		}
		return reveal, shown, true
	}
	if len(cq.ClaimSets) == 0 {
		return try(cq.Claims)
	}
	for _, set := range cq.ClaimSets {
		var claims []oid4vp.ClaimQuery
		for _, id := range set {
			i := slices.IndexFunc(cq.Claims, func(c oid4vp.ClaimQuery) bool { return c.ID == id })
			if i >= 0 {
				claims = append(claims, cq.Claims[i])
			}
		}
		if r, s, ok := try(claims); ok {
			return r, s, true
		}
	}
	return nil, nil, false
}

// selectValues follows a DCQL claim path (strings, indexes, null for
// every element) and returns each value found with its concrete path.
func selectValues(v any, path []any, at []any) []Claim {
	if len(path) == 0 {
		return []Claim{{Path: slices.Clone(at), Value: v}}
	}
	switch seg := path[0].(type) {
	case string:
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		x, ok := m[seg]
		if !ok {
			return nil
		}
		return selectValues(x, path[1:], append(at, seg))
	case float64:
		a, ok := v.([]any)
		if !ok || int(seg) < 0 || int(seg) >= len(a) {
			return nil
		}
		return selectValues(a[int(seg)], path[1:], append(at, seg))
	case nil:
		a, ok := v.([]any)
		if !ok {
			return nil
		}
		var out []Claim
		for i, x := range a {
			out = append(out, selectValues(x, path[1:], append(slices.Clone(at), float64(i)))...)
		}
		return out
	}
	return nil
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

// subjectClaims lists the subject claims of an ldp_vc or JWT-VC, all of
// which a presentation of it shows.
func subjectClaims(root map[string]any) []Claim {
	var out []Claim
	add := func(s map[string]any, at []any) {
		keys := make([]string, 0, len(s))
		for k := range s {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, Claim{Path: append(slices.Clone(at), k), Value: s[k]})
		}
	}
	switch s := root["credentialSubject"].(type) {
	case map[string]any:
		add(s, []any{"credentialSubject"})
	case []any:
		for i, e := range s {
			if m, ok := e.(map[string]any); ok {
				add(m, []any{"credentialSubject", float64(i)})
			}
		}
	}
	return out
}

// claimsOf returns what DCQL claim paths start at (the SD-JWT VC's
// claims with every disclosure applied; the credential for ldp_vc and
// JWT-VCs), its vct and its types.
func claimsOf(c Credential) (map[string]any, string, []string, error) {
	switch c.Format {
	case FormatLDP:
		var m map[string]any
		if err := json.Unmarshal(c.Raw, &m); err != nil {
			return nil, "", nil, err
		}
		return m, "", strs(m["type"]), nil
	case FormatJWT:
		var tok string
		if err := json.Unmarshal(c.Raw, &tok); err != nil {
			return nil, "", nil, err
		}
		payload, err := jwtPayload(tok)
		if err != nil {
			return nil, "", nil, err
		}
		m, _ := payload["vc"].(map[string]any)
		if m == nil {
			return nil, "", nil, errkind.New(errkind.Invalid, "the JWT-VC has no vc claim")
		}
		return m, "", strs(m["type"]), nil
	case FormatSDJWT:
		var tok string
		if err := json.Unmarshal(c.Raw, &tok); err != nil {
			return nil, "", nil, err
		}
		m, err := sdjwtClaims(tok)
		if err != nil {
			return nil, "", nil, err
		}
		vct, _ := m["vct"].(string)
		return m, vct, []string{vct}, nil
	}
	return nil, "", nil, errkind.New(errkind.Unsupported, "format %s", c.Format)
}

func jwtPayload(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errkind.New(errkind.Invalid, "not a compact JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "JWS payload")
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "JWS payload")
	}
	return m, nil
}

// sdjwtClaims applies every disclosure of an issued SD-JWT (the holder's
// own copy, trusted as received) to its payload.
func sdjwtClaims(tok string) (map[string]any, error) {
	segs := strings.Split(tok, "~")
	payload, err := jwtPayload(segs[0])
	if err != nil {
		return nil, err
	}
	byDigest := map[string][]any{}
	for _, d := range segs[1:] {
		if d == "" {
			continue
		}
		b, err := base64.RawURLEncoding.DecodeString(d)
		if err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "disclosure")
		}
		var arr []any
		if err := json.Unmarshal(b, &arr); err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "disclosure")
		}
		h := sha256.Sum256([]byte(d))
		byDigest[base64.RawURLEncoding.EncodeToString(h[:])] = arr
	}
	out, _ := resolveSD(payload, byDigest).(map[string]any)
	delete(out, "_sd_alg")
	return out, nil
}

func resolveSD(v any, byDigest map[string][]any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if k != "_sd" {
				out[k] = resolveSD(e, byDigest)
			}
		}
		for _, h := range strs(x["_sd"]) {
			if d, ok := byDigest[h]; ok && len(d) == 3 {
				if name, ok := d[1].(string); ok {
					out[name] = resolveSD(d[2], byDigest)
				}
			}
		}
		return out
	case []any:
		var out []any
		for _, e := range x {
			if m, ok := e.(map[string]any); ok && len(m) == 1 {
				if h, ok := m["..."].(string); ok {
					if d, ok := byDigest[h]; ok && len(d) == 2 {
						out = append(out, resolveSD(d[1], byDigest))
					}
					continue
				}
			}
			out = append(out, resolveSD(e, byDigest))
		}
		return out
	}
	return v
}

// holderOf returns the wallet DID a credential is bound to: the one it
// was received with, else its subject id, else the DID whose key is its
// cnf.jwk.
func (w *Wallet) holderOf(c Credential) (string, error) {
	held := func(id string) bool {
		return id != "" && slices.ContainsFunc(w.c.DIDs, func(d DID) bool { return d.DID == id })
	}
	if held(c.Holder) {
		return c.Holder, nil
	}
	root, _, _, err := claimsOf(c)
	if err != nil {
		return "", err
	}
	if sub, _ := root["sub"].(string); held(sub) {
		return sub, nil
	}
	if s, ok := root["credentialSubject"].(map[string]any); ok {
		if id, _ := s["id"].(string); held(id) {
			return id, nil
		}
	}
	if cnf, ok := root["cnf"].(map[string]any); ok {
		if jwk, ok := cnf["jwk"].(map[string]any); ok {
			x, _ := jwk["x"].(string)
			for _, d := range w.c.DIDs {
				k, err := w.key(d.KeyID)
				if err == nil && x != "" && base64.RawURLEncoding.EncodeToString(k.Public().(ed25519.PublicKey)) == x {
					return d.DID, nil
				}
			}
		}
	}
	return "", errkind.New(errkind.NotFound, "credential %s is bound to no DID or key of this wallet", c.ID)
}

// clearClaims lists the claim names an SD-JWT VC's issuer-signed JWT
// carries in the clear.
func clearClaims(c Credential) []string {
	var tok string
	if json.Unmarshal(c.Raw, &tok) != nil {
		return nil
	}
	jwt, _, _ := strings.Cut(tok, "~")
	payload, err := jwtPayload(jwt)
	if err != nil {
		return nil
	}
	var out []string
	for k := range payload {
		if k != "_sd" && k != "_sd_alg" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
