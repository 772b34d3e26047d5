package wallet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/sdjwt"
	"github.com/urbis-id/urbis/verifiers/oid4vp"
)

// clientFunc is a Client answering from a function.
type clientFunc func(*http.Request) (*http.Response, error)

func (f clientFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

func answer(status int, body string) *http.Response {
	return &http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}}
}

// heldSDJWT stores in w an SD-JWT VC bound to w's default DID's key.
func heldSDJWT(t *testing.T, w *Wallet) Credential {
	t.Helper()
	d, err := w.NewDIDKey("")
	if err != nil {
		t.Fatal(err)
	}
	hk, _, err := w.Signer(d.DID)
	if err != nil {
		t.Fatal(err)
	}
	_, issKey, _ := ed25519.GenerateKey(rand.Reader)
	claims := map[string]any{"iss": "did:example:registry", "vct": "ResidentCredential", "iat": 1700000000,
		"name": "Alice", "district": "Eixample", "age_equal_or_over": map[string]any{"18": true, "65": false}}
	tok, err := sdjwt.Issue(claims, sdjwt.DisclosurePolicy{"/name", "/district", "/age_equal_or_over/18", "/age_equal_or_over/65"}, issKey,
		sdjwt.IssueOptions{KeyID: "did:example:registry#1", HolderKey: hk.Public()})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(tok)
	c, err := w.AddCredential(raw)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMatch(t *testing.T) {
	w, _ := newWallet(t)
	c := heldSDJWT(t, w)
	for _, tc := range []struct {
		name  string
		query string
		want  []string // disclosed claims as path=value; nil: no match
	}{
		{"two claims", `{"id":"q","format":"dc+sd-jwt","meta":{"vct_values":["ResidentCredential"]},
			"claims":[{"path":["age_equal_or_over","18"],"values":[true]},{"path":["district"]}]}`,
			[]string{"age_equal_or_over.18=true", `district="Eixample"`}},
		{"value not held", `{"id":"q","format":"dc+sd-jwt","claims":[{"path":["district"],"values":["Gracia"]}]}`, nil},
		{"claim not held", `{"id":"q","format":"dc+sd-jwt","claims":[{"path":["birthDate"]}]}`, nil},
		{"other vct", `{"id":"q","format":"dc+sd-jwt","meta":{"vct_values":["LandTitle"]},"claims":[{"path":["district"]}]}`, nil},
		{"other format", `{"id":"q","format":"ldp_vc","claims":[{"path":["credentialSubject","district"]}]}`, nil},
		{"claim sets: the first satisfiable", `{"id":"q","format":"dc+sd-jwt","claims":[{"id":"b","path":["birthDate"]},{"id":"a","path":["age_equal_or_over","65"]}],
			"claim_sets":[["b"],["a"]]}`, []string{"age_equal_or_over.65=false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cq oid4vp.CredentialQuery
			if err := json.Unmarshal([]byte(tc.query), &cq); err != nil {
				t.Fatal(err)
			}
			it, ok := w.match(&cq)
			if tc.want == nil {
				if ok {
					t.Errorf("got a match %+v; want none", it.Disclosed)
				}
				return
			}
			if !ok || it.Credential.ID != c.ID || !it.Selective {
				t.Fatalf("got %v, %+v; want credential %s, selectively", ok, it, c.ID)
			}
			var got []string
			for _, d := range it.Disclosed {
				v, _ := json.Marshal(d.Value)
				got = append(got, d.PathString()+"="+string(v))
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("disclosed %v; want %v", got, tc.want)
			}
		})
	}
}

// verifierSite serves request objects signed by a did:key verifier.
type verifierSite struct {
	key    ed25519.PrivateKey
	did    string
	object string
	posted url.Values
}

func newVerifierSite(t *testing.T) *verifierSite {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	id, err := did.NewKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return &verifierSite{key: key, did: id.String()}
}

func (v *verifierSite) sign(typ string, claims map[string]any) string {
	enc := base64.RawURLEncoding.EncodeToString
	h, _ := json.Marshal(map[string]any{"alg": "EdDSA", "typ": typ, "kid": v.did + "#" + strings.TrimPrefix(v.did, "did:key:")})
	p, _ := json.Marshal(claims)
	in := enc(h) + "." + enc(p)
	return in + "." + enc(ed25519.Sign(v.key, []byte(in)))
}

func (v *verifierSite) claims(exp time.Time) map[string]any {
	return map[string]any{"client_id": oid4vp.ClientIDPrefix + v.did, "response_type": "vp_token", "response_mode": "direct_post",
		"response_uri": "https://shop.example/response", "nonce": "n-1", "state": "s-1", "exp": exp.Unix(),
		"dcql_query": map[string]any{"credentials": []any{map[string]any{"id": "q", "format": "dc+sd-jwt",
			"meta": map[string]any{"vct_values": []any{"ResidentCredential"}}, "claims": []any{map[string]any{"path": []any{"district"}}}}}}}
}

func (v *verifierSite) Do(r *http.Request) (*http.Response, error) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/object":
		return answer(http.StatusOK, v.object), nil
	case r.Method == http.MethodPost && r.URL.Path == "/response":
		b, _ := io.ReadAll(r.Body)
		v.posted, _ = url.ParseQuery(string(b))
		return answer(http.StatusOK, "{}"), nil
	}
	return answer(http.StatusNotFound, `{"error":"invalid_request_uri"}`), nil
}

func (v *verifierSite) uri() string {
	return "openid4vp://?client_id=" + url.QueryEscape(oid4vp.ClientIDPrefix+v.did) + "&request_uri=" + url.QueryEscape("https://shop.example/object")
}

func TestPlanAndPresent(t *testing.T) {
	w, _ := newWallet(t)
	heldSDJWT(t, w)
	v := newVerifierSite(t)
	w.SetClient(v)
	now := time.Now()
	tamper := func(s string) string {
		parts := strings.Split(s, ".")
		c := v.claims(now.Add(time.Minute))
		c["response_uri"] = "https://thief.example/response"
		p, _ := json.Marshal(c)
		return parts[0] + "." + base64.RawURLEncoding.EncodeToString(p) + "." + parts[2]
	}
	for _, tc := range []struct {
		name, object, want string
	}{
		{"bad signature", tamper(v.sign(oid4vp.RequestObjectType, v.claims(now.Add(time.Minute)))), "signature does not verify"},
		{"wrong typ", v.sign("JWT", v.claims(now.Add(time.Minute))), "typ"},
		{"expired", v.sign(oid4vp.RequestObjectType, v.claims(now.Add(-time.Minute))), "expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v.object = tc.object
			p, err := w.PlanPresentation(context.Background(), v.uri())
			if err == nil || !strings.Contains(err.Error(), tc.want) || p != nil {
				t.Errorf("got %v, %v; want refused with %q", p, err, tc.want)
			}
		})
	}

	v.object = v.sign(oid4vp.RequestObjectType, v.claims(now.Add(time.Minute)))
	p, err := w.PlanPresentation(context.Background(), v.uri())
	if err != nil {
		t.Fatal(err)
	}
	if p.Verifier != v.did || p.Resolved != "locally" || len(p.Items) != 1 || len(p.Items[0].Disclosed) != 1 {
		t.Fatalf("plan: got %+v; want the verifier %s and one credential disclosing district", p, v.did)
	}
	if _, err := w.Present(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	var tok map[string][]string
	if err := json.Unmarshal([]byte(v.posted.Get("vp_token")), &tok); err != nil || v.posted.Get("state") != "s-1" || len(tok["q"]) != 1 {
		t.Fatalf("posted %v; want vp_token with q and state s-1", v.posted)
	}
	got, err := sdjwtClaims(strings.TrimSuffix(tok["q"][0], tok["q"][0][strings.LastIndexByte(tok["q"][0], '~')+1:]))
	if err != nil {
		t.Fatal(err)
	}
	age, _ := got["age_equal_or_over"].(map[string]any)
	if got["district"] != "Eixample" || got["name"] != nil || len(age) != 0 {
		t.Errorf("presented claims %v; want district only", got)
	}
}

func TestOAuthErrors(t *testing.T) {
	for _, tc := range []struct {
		path, body string
		kind       errkind.Kind
		want       string
	}{
		{"/oid4vci/token", `{"error":"invalid_grant","error_description":"wrong transaction code; 4 attempts left"}`, errkind.Unauthorized, "the transaction code is wrong"},
		{"/oid4vci/token", `{"error":"invalid_grant","error_description":"the pre-authorized code was already used (or killed by wrong transaction codes)"}`, errkind.Unauthorized, "the offer cannot be redeemed"},
		{"/oid4vci/credential", `{"error":"invalid_nonce","error_description":"spent"}`, errkind.Unauthorized, "proof of possession"},
		{"/oid4vci/credential", `{"error":"credential_request_denied","error_description":"not accredited"}`, errkind.Forbidden, "declined to issue: not accredited"},
		{"/x", `not json`, errkind.Invalid, "not json"},
	} {
		req, _ := http.NewRequest(http.MethodPost, "https://issuer.example"+tc.path, nil)
		err := oauthError(req, 400, []byte(tc.body))
		var e *errkind.Error
		if !errors.As(err, &e) || e.Kind != tc.kind || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: got %v; want %s containing %q", tc.path, tc.body, err, tc.kind, tc.want)
		}
	}
}

func TestNeeded(t *testing.T) {
	no := false
	for _, tc := range []struct {
		name    string
		query   oid4vp.Query
		matched []string
		want    string // the queries answered, or the error
	}{
		{"all queries", oid4vp.Query{Credentials: []oid4vp.CredentialQuery{{ID: "a"}, {ID: "b"}}}, []string{"a", "b"}, "a b"},
		{"one missing", oid4vp.Query{Credentials: []oid4vp.CredentialQuery{{ID: "a"}, {ID: "b"}}}, []string{"a"}, "no credential for b"},
		{"alternatives: the first the wallet can answer, only", oid4vp.Query{Credentials: []oid4vp.CredentialQuery{{ID: "sd"}, {ID: "ldp"}},
			CredentialSets: []oid4vp.CredentialSet{{Options: [][]string{{"sd"}, {"ldp"}}}}}, []string{"sd", "ldp"}, "sd"},
		{"alternatives: the second", oid4vp.Query{Credentials: []oid4vp.CredentialQuery{{ID: "sd"}, {ID: "ldp"}},
			CredentialSets: []oid4vp.CredentialSet{{Options: [][]string{{"sd"}, {"ldp"}}}}}, []string{"ldp"}, "ldp"},
		{"an optional set is not answered", oid4vp.Query{Credentials: []oid4vp.CredentialQuery{{ID: "a"}, {ID: "extra"}},
			CredentialSets: []oid4vp.CredentialSet{{Options: [][]string{{"a"}}}, {Options: [][]string{{"extra"}}, Required: &no}}}, []string{"a", "extra"}, "a"},
		{"no option", oid4vp.Query{Credentials: []oid4vp.CredentialQuery{{ID: "sd"}, {ID: "ldp"}},
			CredentialSets: []oid4vp.CredentialSet{{Options: [][]string{{"sd"}, {"ldp"}}}}}, nil, "no credentials for any of sd, ldp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]PlanItem{}
			for _, id := range tc.matched {
				m[id] = PlanItem{Query: id}
			}
			need, err := needed(&tc.query, m)
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				var ids []string
				for _, cq := range tc.query.Credentials {
					if need[cq.ID] {
						ids = append(ids, cq.ID)
					}
				}
				got = strings.Join(ids, " ")
			}
			if !strings.Contains(got, tc.want) || (err == nil && got != tc.want) {
				t.Errorf("got %q; want %q", got, tc.want)
			}
		})
	}
}
