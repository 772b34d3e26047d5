package sdjwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

const (
	testAud   = "https://verifier.example"
	testNonce = "n-0S6_WzA2Mj"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newEd25519(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newP256(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// residentClaims is a resident credential with nested objects and arrays.
func residentClaims() map[string]any {
	return map[string]any{
		"vct":         "https://urbis.example/credentials/resident",
		"iss":         "did:example:city",
		"iat":         float64(testNow.Add(-time.Hour).Unix()),
		"exp":         float64(testNow.Add(24 * time.Hour).Unix()),
		"given_name":  "Ada",
		"family_name": "Lovelace",
		"birthdate":   "1815-12-10",
		"address": map[string]any{
			"street_address": "12 Harbour Road",
			"locality":       "Metropolis",
			"country":        "XX",
		},
		"nationalities": []any{"GB", "FR", "DE"},
	}
}

var residentPolicy = DisclosurePolicy{
	"/given_name", "/family_name", "/birthdate",
	"/address", "/address/street_address", "/address/locality",
	"/nationalities/*",
}

func keyFunc(pub crypto.PublicKey) func(map[string]any, map[string]any) (crypto.PublicKey, error) {
	return func(map[string]any, map[string]any) (crypto.PublicKey, error) { return pub, nil }
}

func verifyOpts(pub crypto.PublicKey) VerifyOptions {
	return VerifyOptions{
		IssuerKey:         keyFunc(pub),
		Type:              MediaType,
		RequireKeyBinding: true,
		Audience:          testAud,
		Nonce:             testNonce,
		Now:               func() time.Time { return testNow },
	}
}

func TestRFCDigests(t *testing.T) {
	raw, err := os.ReadFile("testdata/rfc9901_digests.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []struct {
			Disclosure string `json:"disclosure"`
			Contents   []any  `json:"contents"`
			Digest     string `json:"digest"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Cases {
		if got := digest(c.Disclosure); got != c.Digest {
			t.Errorf("digest(%s) = %s; want %s", c.Disclosure, got, c.Digest)
		}
		d, err := decodeDisclosure(c.Disclosure, 1)
		if err != nil {
			t.Fatalf("decodeDisclosure(%s) = %v", c.Disclosure, err)
		}
		got := []any{d.salt}
		if d.object {
			got = append(got, d.name)
		}
		got = append(got, d.value)
		if !reflect.DeepEqual(got, c.Contents) {
			t.Errorf("disclosure %s decodes to %v; want %v", c.Disclosure, got, c.Contents)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name           string
		issuer, holder crypto.Signer
		alg            string
	}{
		{"Ed25519", newEd25519(t), newEd25519(t), "EdDSA"},
		{"P-256", newP256(t), newP256(t), "ES256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			issued, err := Issue(residentClaims(), residentPolicy, tc.issuer, IssueOptions{
				KeyID: "did:example:city#key-1", HolderKey: tc.holder.Public(), Decoys: 2,
			})
			if err != nil {
				t.Fatalf("Issue = %v", err)
			}
			if got := strings.Count(issued, "~"); got != 10 {
				t.Errorf("issued SD-JWT has %d '~'; want 10 (9 disclosures)", got)
			}
			// The issuer-signed JWT hides everything in the policy.
			j, err := parseCompact(strings.Split(issued, "~")[0], "jwt")
			if err != nil {
				t.Fatal(err)
			}
			if j.header["alg"] != tc.alg || j.header["typ"] != MediaType || j.header["kid"] != "did:example:city#key-1" {
				t.Errorf("header = %v; want alg %s, typ %s, kid", j.header, tc.alg, MediaType)
			}
			for _, hidden := range []string{"given_name", "family_name", "birthdate", "address"} {
				if _, ok := j.payload[hidden]; ok {
					t.Errorf("payload shows %s in the clear", hidden)
				}
			}
			sd := j.payload["_sd"].([]any)
			if len(sd) != 4+2 || !slices.IsSortedFunc(sd, func(a, b any) int { return strings.Compare(a.(string), b.(string)) }) {
				t.Errorf("_sd = %v; want 6 sorted digests (4 claims, 2 decoys)", sd)
			}

			pres, err := Present(issued, []string{"/given_name", "/address/locality", "/nationalities/1"},
				&KeyBinding{Signer: tc.holder, Audience: testAud, Nonce: testNonce, IssuedAt: testNow})
			if err != nil {
				t.Fatalf("Present = %v", err)
			}
			v, err := Verify(pres, verifyOpts(tc.issuer.Public()))
			if err != nil {
				t.Fatalf("Verify = %v", err)
			}
			if !v.KeyBound {
				t.Errorf("KeyBound = false; want true")
			}
			want := map[string]any{
				"vct": "https://urbis.example/credentials/resident", "iss": "did:example:city",
				"iat": float64(testNow.Add(-time.Hour).Unix()), "exp": float64(testNow.Add(24 * time.Hour).Unix()),
				"given_name":    "Ada",
				"address":       map[string]any{"locality": "Metropolis", "country": "XX"},
				"nationalities": []any{"FR"},
			}
			got := normalize(t, v.Claims).(map[string]any)
			delete(got, "cnf")
			if !reflect.DeepEqual(got, want) {
				t.Errorf("claims = %v; want %v", got, want)
			}
			if v.HolderKey == nil {
				t.Errorf("HolderKey = nil; want the cnf key")
			}

			// Everything, no key binding.
			all, err := Verify(issued, VerifyOptions{IssuerKey: keyFunc(tc.issuer.Public()), Now: func() time.Time { return testNow }})
			if err != nil {
				t.Fatalf("Verify(issued) = %v", err)
			}
			full := normalize(t, residentClaims()).(map[string]any)
			got = normalize(t, all.Claims).(map[string]any)
			delete(got, "cnf")
			if !reflect.DeepEqual(got, full) {
				t.Errorf("all claims = %v; want %v", got, full)
			}
		})
	}
}

func TestIssueRejects(t *testing.T) {
	k := newEd25519(t)
	tests := []struct {
		name   string
		claims map[string]any
		policy DisclosurePolicy
		opts   IssueOptions
		want   string
	}{
		{"no vct", map[string]any{"a": 1}, nil, IssueOptions{}, "needs a vct"},
		{"unknown path", residentClaims(), DisclosurePolicy{"/nickname"}, IssueOptions{}, `"/nickname" matches no claim`},
		{"not a pointer", residentClaims(), DisclosurePolicy{"given_name"}, IssueOptions{}, "not a JSON Pointer"},
		{"vct hidden", residentClaims(), DisclosurePolicy{"/vct"}, IssueOptions{}, `claim "vct" of an SD-JWT VC must not be selectively disclosable`},
		{"reserved name", map[string]any{"vct": "x", "_sd": []any{}}, nil, IssueOptions{}, `claim name "_sd" is reserved`},
		{"_sd_alg given", map[string]any{"vct": "x", "_sd_alg": "sha-256"}, nil, IssueOptions{}, "is set by Issue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Issue(tt.claims, tt.policy, k, tt.opts)
			if err == nil || !errors.Is(err, errkind.Invalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Issue = %v; want Invalid containing %q", err, tt.want)
			}
		})
	}
}

// resign replaces the issuer-signed JWT of sdjwt by one over the mutated
// payload, signed with k, keeping the rest.
func resign(t *testing.T, sdjwt string, k crypto.Signer, mutate func(map[string]any)) string {
	t.Helper()
	i := strings.Index(sdjwt, "~")
	j, err := parseCompact(sdjwt[:i], "jwt")
	if err != nil {
		t.Fatal(err)
	}
	mutate(j.payload)
	b, _ := json.Marshal(j.payload)
	jwt, err := signCompact(j.header, b, k)
	if err != nil {
		t.Fatal(err)
	}
	return jwt + sdjwt[i:]
}

// encodeDisclosure encodes disclosure contents.
func encodeDisclosure(v ...any) string {
	b, _ := json.Marshal(v)
	return b64.EncodeToString(b)
}

func TestTamper(t *testing.T) {
	issuer, holder, other := newP256(t), newEd25519(t), newEd25519(t)
	claims := residentClaims()
	issued, err := Issue(claims, residentPolicy, issuer, IssueOptions{HolderKey: holder.Public()})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(issued, "~")
	jwt, discs := parts[0], parts[1:len(parts)-1]
	kbFor := func(pres string) string {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"iat": testNow.Unix(), "aud": testAud, "nonce": testNonce, "sd_hash": digest(pres)})
		kb, err := signCompact(map[string]any{"typ": KBType}, b, holder)
		if err != nil {
			t.Fatal(err)
		}
		return kb
	}
	withKB := func(pres string) string { return pres + kbFor(pres) }
	find := func(name string) (int, string) {
		for i, d := range discs {
			dd, _ := decodeDisclosure(d, i+1)
			if dd.object && dd.name == name {
				return i, d
			}
		}
		t.Fatalf("no disclosure for %s", name)
		return 0, ""
	}
	gi, given := find("given_name")
	join := func(ds ...string) string {
		var sb strings.Builder
		sb.WriteString(jwt + "~")
		for _, d := range ds {
			sb.WriteString(d + "~")
		}
		return sb.String()
	}
	unbound := func() VerifyOptions {
		o := verifyOpts(issuer.Public())
		o.RequireKeyBinding = false
		return o
	}

	changed := encodeDisclosure(strings.Split(string(must(b64.DecodeString(given))), `"`)[1], "given_name", "Eve")
	arrayElem := encodeDisclosure("c2FsdHNhbHRzYWx0", "FR")
	reserved := encodeDisclosure("c2FsdHNhbHRzYWx0", "_sd", "x")
	collide := encodeDisclosure("c2FsdHNhbHRzYWx0", "iss", "did:example:evil")

	goodKB := withKB(join(given))
	tests := []struct {
		name string
		pres string
		opts VerifyOptions
		kind errkind.Kind
		want string
	}{
		{"changed disclosure", withKB(join(changed)), verifyOpts(issuer.Public()), errkind.Invalid,
			`disclosure 1 (claim "given_name") is not referenced by any digest`},
		{"dropped digest", resign(t, withKB(join(given)), issuer, func(p map[string]any) {
			p["_sd"] = slices.DeleteFunc(p["_sd"].([]any), func(d any) bool { return d == digest(given) })
		}), func() VerifyOptions { o := verifyOpts(issuer.Public()); o.RequireKeyBinding = false; return o }(), errkind.Invalid,
			`disclosure 1 (claim "given_name") is not referenced by any digest`},
		{"duplicate disclosure", join(given, given), unbound(), errkind.Invalid,
			"disclosure 2 repeats disclosure 1"},
		{"duplicate digest", resign(t, join(given), issuer, func(p map[string]any) {
			p["address_copy"] = map[string]any{"_sd": []any{digest(given)}}
		}), unbound(), errkind.Invalid, "appears more than once"},
		{"wrong issuer key", goodKB, verifyOpts(other.Public()), errkind.Unauthorized,
			"issuer-signed JWT signature does not verify"},
		{"wrong issuer key type", goodKB, verifyOpts(newP256(t).Public()), errkind.Unauthorized,
			"issuer-signed JWT signature does not verify"},
		{"wrong nonce", goodKB, func() VerifyOptions { o := verifyOpts(issuer.Public()); o.Nonce = "other"; return o }(),
			errkind.Unauthorized, `Key Binding JWT nonce is "` + testNonce + `"; want "other"`},
		{"wrong audience", goodKB, func() VerifyOptions { o := verifyOpts(issuer.Public()); o.Audience = "https://evil.example"; return o }(),
			errkind.Unauthorized, `Key Binding JWT aud is "` + testAud + `"; want "https://evil.example"`},
		{"missing key binding", join(given), verifyOpts(issuer.Public()), errkind.Unauthorized,
			"key binding is required but the presentation has no Key Binding JWT"},
		{"bad sd_hash", join(given) + kbFor(join(given, discs[(gi+1)%len(discs)])), verifyOpts(issuer.Public()), errkind.Unauthorized,
			"sd_hash"},
		{"KB signed by another key", func() string {
			p, _ := Present(join(given), nil, &KeyBinding{Signer: other, Audience: testAud, Nonce: testNonce, IssuedAt: testNow})
			return p
		}(), verifyOpts(issuer.Public()), errkind.Unauthorized, "Key Binding JWT signature does not verify"},
		{"stale KB", func() string {
			p, _ := Present(join(given), nil, &KeyBinding{Signer: holder, Audience: testAud, Nonce: testNonce, IssuedAt: testNow.Add(-time.Hour)})
			return p
		}(), verifyOpts(issuer.Public()), errkind.Unauthorized, "more than 5m0s ago"},
		{"array element disclosure in _sd", resign(t, join(arrayElem), issuer, func(p map[string]any) {
			p["_sd"] = append(p["_sd"].([]any), digest(arrayElem))
		}), unbound(), errkind.Invalid, "is referenced from an _sd array but is an array element disclosure"},
		{"reserved claim name", resign(t, join(reserved), issuer, func(p map[string]any) {
			p["_sd"] = append(p["_sd"].([]any), digest(reserved))
		}), unbound(), errkind.Invalid, `claim name "_sd" is reserved`},
		{"claim name collision", resign(t, join(collide), issuer, func(p map[string]any) {
			p["_sd"] = append(p["_sd"].([]any), digest(collide))
		}), unbound(), errkind.Invalid, `disclosure 1 (claim "iss") collides with a claim of the same name`},
		{"... beside other members", resign(t, join(), issuer, func(p map[string]any) {
			p["list"] = []any{map[string]any{"...": digest(arrayElem), "x": 1}}
		}), unbound(), errkind.Invalid, `must have "..." as its only member`},
		{"_sd not an array", resign(t, join(), issuer, func(p map[string]any) { p["_sd"] = "abc" }), unbound(),
			errkind.Invalid, "/_sd: must be an array of digests"},
		{"unsupported _sd_alg", resign(t, join(), issuer, func(p map[string]any) { p["_sd_alg"] = "md5" }), unbound(),
			errkind.Unsupported, `hash algorithm "md5" is not supported`},
		{"expired", join(given), func() VerifyOptions {
			o := unbound()
			o.Now = func() time.Time { return testNow.Add(48 * time.Hour) }
			return o
		}(), errkind.Invalid, "SD-JWT expired at"},
		{"not yet valid", resign(t, join(given), issuer, func(p map[string]any) { p["nbf"] = float64(testNow.Add(time.Hour).Unix()) }),
			unbound(), errkind.Invalid, "SD-JWT is not valid before"},
		{"alg none", func() string {
			h := b64.EncodeToString([]byte(`{"alg":"none","typ":"dc+sd-jwt"}`))
			return h + "." + strings.Split(jwt, ".")[1] + ".~"
		}(), unbound(), errkind.Unauthorized, `alg "none" is not accepted`},
		{"wrong typ", goodKB, func() VerifyOptions { o := verifyOpts(issuer.Public()); o.Type = "vc+sd-jwt"; return o }(),
			errkind.Invalid, `typ is "dc+sd-jwt"; want "vc+sd-jwt"`},
		{"no separator", jwt, unbound(), errkind.Invalid, "no ~ separator"},
		{"garbage disclosure", join("%%%"), unbound(), errkind.Invalid, "disclosure 1 is not base64url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(tt.pres, tt.opts)
			if err == nil {
				t.Fatalf("Verify succeeded; want %s error containing %q", tt.kind, tt.want)
			}
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Verify = %v (kind %s); want %s containing %q", err, errkind.KindOf(err), tt.kind, tt.want)
			}
		})
	}

	// KB present but the SD-JWT has no cnf key.
	nocnf, err := Issue(residentClaims(), residentPolicy, issuer, IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Present(nocnf, []string{"/given_name"}, &KeyBinding{Signer: holder, Audience: testAud, Nonce: testNonce, IssuedAt: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(p, verifyOpts(issuer.Public())); err == nil || !strings.Contains(err.Error(), "has no cnf.jwk holder key") {
		t.Errorf("Verify(KB without cnf) = %v; want no cnf.jwk error", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestPresentSelection(t *testing.T) {
	issuer := newEd25519(t)
	issued, err := Issue(residentClaims(), residentPolicy, issuer, IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	opts := VerifyOptions{IssuerKey: keyFunc(issuer.Public()), Now: func() time.Time { return testNow }}
	tests := []struct {
		reveal []string
		want   map[string]any // the selectively disclosable part
	}{
		{nil, map[string]any{}},
		{[]string{"/address"}, map[string]any{"address": map[string]any{"street_address": "12 Harbour Road", "locality": "Metropolis", "country": "XX"}}},
		{[]string{"/address/country"}, map[string]any{"address": map[string]any{"country": "XX"}}},
		{[]string{"/nationalities/*", "/birthdate"}, map[string]any{"nationalities": []any{"GB", "FR", "DE"}, "birthdate": "1815-12-10"}},
		{[]string{"/nationalities/2"}, map[string]any{"nationalities": []any{"DE"}}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.reveal, ","), func(t *testing.T) {
			p, err := Present(issued, tt.reveal, nil)
			if err != nil {
				t.Fatalf("Present = %v", err)
			}
			v, err := Verify(p, opts)
			if err != nil {
				t.Fatalf("Verify = %v", err)
			}
			got := normalize(t, v.Claims).(map[string]any)
			for _, k := range []string{"vct", "iss", "iat", "exp"} {
				delete(got, k)
			}
			if _, ok := tt.want["nationalities"]; !ok {
				if n, _ := got["nationalities"].([]any); len(n) == 0 {
					delete(got, "nationalities")
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("claims = %v; want %v", got, tt.want)
			}
		})
	}
	if _, err := Present(issued, []string{"/nickname"}, nil); err == nil || !strings.Contains(err.Error(), `"/nickname" matches no claim`) {
		t.Errorf("Present(/nickname) = %v; want matches no claim", err)
	}
}

// TestClaimsTime: with ClaimsTime the issuer-signed JWT's times are
// checked then, and the Key Binding JWT at Now; an old credential with a
// fresh Key Binding JWT verifies, a stale Key Binding JWT does not.
func TestClaimsTime(t *testing.T) {
	iss, holder := newEd25519(t), newEd25519(t)
	issued, err := Issue(residentClaims(), residentPolicy, iss, IssueOptions{KeyID: "did:example:city#key-1", HolderKey: holder.Public()})
	if err != nil {
		t.Fatal(err)
	}
	later := testNow.Add(48 * time.Hour) // past the credential's exp
	for _, tc := range []struct {
		name     string
		kbAt     time.Time
		claimsAt time.Time
		wantErr  string
	}{
		{"fresh key binding, claims at issuance", later, testNow, ""},
		{"fresh key binding, claims now (expired)", later, time.Time{}, "exp"},
		{"stale key binding", testNow, testNow, "iat"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pres, err := Present(issued, []string{"/given_name"}, &KeyBinding{Signer: holder, Audience: testAud, Nonce: testNonce, IssuedAt: tc.kbAt})
			if err != nil {
				t.Fatal(err)
			}
			opts := verifyOpts(iss.Public())
			opts.Now = func() time.Time { return later }
			opts.ClaimsTime = tc.claimsAt
			_, err = Verify(pres, opts)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("got %v; want it verified", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("got %v; want an error naming %s", err, tc.wantErr)
			}
		})
	}
}
