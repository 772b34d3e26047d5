package jwtvc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

const (
	issuerDID = "did:example:land-registry"
	issuerKid = issuerDID + "#key-1"
	holderDID = "did:example:citizen-7"
	holderKid = holderDID + "#key-1"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func titleCredential() map[string]any {
	return map[string]any{
		"@context":       []any{"https://www.w3.org/2018/credentials/v1"},
		"id":             "urn:uuid:5c1a3e2e-7f0a-4d1b-9c1e-2f0c1f9e8a01",
		"type":           []any{"VerifiableCredential", "LandTitleCredential"},
		"issuer":         issuerDID,
		"issuanceDate":   "2026-01-01T00:00:00Z",
		"expirationDate": "2046-01-01T00:00:00Z",
		"credentialSubject": map[string]any{
			"id":     holderDID,
			"parcel": "MTR-0042-17",
		},
		"proof": map[string]any{"type": "Ed25519Signature2020"},
	}
}

// keys maps kids to public keys, like a DID resolver would.
type keys map[string]crypto.PublicKey

func (k keys) lookup(kid string) (crypto.PublicKey, error) {
	if p, ok := k[kid]; ok {
		return p, nil
	}
	return nil, errkind.New(errkind.NotFound, "unknown key %s", kid)
}

func newKey(t *testing.T, kind string) crypto.Signer {
	t.Helper()
	if kind == "Ed25519" {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func header(t *testing.T, token string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func payload(t *testing.T, token string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct{ kind, alg string }{{"Ed25519", "EdDSA"}, {"P-256", "ES256"}} {
		t.Run(tc.kind, func(t *testing.T) {
			issuer, holder := newKey(t, tc.kind), newKey(t, tc.kind)
			ks := keys{issuerKid: issuer.Public(), holderKid: holder.Public()}
			tok, err := Sign(titleCredential(), issuer, issuerKid)
			if err != nil {
				t.Fatalf("Sign = %v", err)
			}
			h := header(t, tok)
			if h["alg"] != tc.alg || h["typ"] != "JWT" || h["kid"] != issuerKid {
				t.Errorf("header = %v; want alg %s, typ JWT, kid %s", h, tc.alg, issuerKid)
			}
			v, err := Verify(tok, ks.lookup, now)
			if err != nil {
				t.Fatalf("Verify = %v", err)
			}
			want := titleCredential()
			delete(want, "proof")
			if !reflect.DeepEqual(v.Credential, want) {
				t.Errorf("Credential = %v; want %v", v.Credential, want)
			}
			if v.Kid != issuerKid {
				t.Errorf("Kid = %q; want %q", v.Kid, issuerKid)
			}

			pres := map[string]any{
				"@context":             []any{"https://www.w3.org/2018/credentials/v1"},
				"type":                 []any{"VerifiablePresentation"},
				"verifiableCredential": []any{tok},
			}
			vpTok, err := SignPresentation(pres, holder, holderKid, "https://shop.example", "n-123", now)
			if err != nil {
				t.Fatalf("SignPresentation = %v", err)
			}
			vp, err := VerifyPresentation(vpTok, ks.lookup, "https://shop.example", "n-123", now.Add(time.Minute))
			if err != nil {
				t.Fatalf("VerifyPresentation = %v", err)
			}
			if vp.Holder != holderDID || vp.Presentation["holder"] != holderDID || len(vp.Credentials) != 1 {
				t.Errorf("VerifyPresentation = holder %q, vp.holder %v, %d credentials; want %s twice, 1", vp.Holder, vp.Presentation["holder"], len(vp.Credentials), holderDID)
			}
			if _, err := VerifyPresentation(vpTok, ks.lookup, "https://shop.example", "n-999", now); !errors.Is(err, errkind.Unauthorized) || !strings.Contains(err.Error(), `nonce is "n-123"; want "n-999"`) {
				t.Errorf("VerifyPresentation(wrong nonce) = %v; want Unauthorized nonce", err)
			}
			if _, err := VerifyPresentation(vpTok, ks.lookup, "https://bank.example", "n-123", now); !errors.Is(err, errkind.Unauthorized) || !strings.Contains(err.Error(), `does not include "https://bank.example"`) {
				t.Errorf("VerifyPresentation(wrong aud) = %v; want Unauthorized aud", err)
			}
			if _, err := VerifyPresentation(vpTok, ks.lookup, "https://shop.example", "n-123", now.Add(time.Hour)); !errors.Is(err, errkind.Invalid) || !strings.Contains(err.Error(), "presentation expired") {
				t.Errorf("VerifyPresentation(late) = %v; want Invalid expired", err)
			}
		})
	}
}

// signRaw signs arbitrary header and claims, bypassing Sign's checks.
func signRaw(t *testing.T, hdr, claims map[string]any, k crypto.Signer) string {
	t.Helper()
	hb, _ := json.Marshal(hdr)
	cb, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	if k == nil {
		return in + "."
	}
	sig, err := k.Sign(rand.Reader, []byte(in), crypto.Hash(0))
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestVerifyRejects(t *testing.T) {
	issuer := newKey(t, "Ed25519").(ed25519.PrivateKey)
	other := newKey(t, "Ed25519")
	ks := keys{issuerKid: issuer.Public(), "did:example:mallory#key-1": other.Public()}
	good, err := Sign(titleCredential(), issuer, issuerKid)
	if err != nil {
		t.Fatal(err)
	}
	claims := payload(t, good)
	hdr := header(t, good)
	with := func(mut func(h, c map[string]any)) string {
		h, c := map[string]any{}, map[string]any{}
		for k, v := range hdr {
			h[k] = v
		}
		b, _ := json.Marshal(claims)
		_ = json.Unmarshal(b, &c)
		mut(h, c)
		return signRaw(t, h, c, issuer)
	}
	parts := strings.Split(good, ".")
	tests := []struct {
		name  string
		token string
		at    time.Time
		kind  errkind.Kind
		want  string
	}{
		{"alg none", signRaw(t, map[string]any{"alg": "none", "kid": issuerKid}, claims, nil), now, errkind.Unauthorized, `alg "none" is not accepted`},
		{"alg HS256", with(func(h, c map[string]any) { h["alg"] = "HS256" }), now, errkind.Unauthorized, `alg "HS256" is not accepted`},
		{"kid missing", with(func(h, c map[string]any) { delete(h, "kid") }), now, errkind.Invalid, "kid: missing"},
		{"kid not a DID URL", with(func(h, c map[string]any) { h["kid"] = "key-1" }), now, errkind.Invalid, "is not a DID URL"},
		{"unknown kid", with(func(h, c map[string]any) { h["kid"] = "did:example:nobody#k" }), now, errkind.NotFound, "unknown key"},
		{"iss vs vc.issuer", with(func(h, c map[string]any) { c["vc"].(map[string]any)["issuer"] = "did:example:other" }), now, errkind.Invalid,
			`iss "did:example:land-registry" does not match vc.issuer "did:example:other"`},
		{"key of another DID", func() string {
			h := map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": "did:example:mallory#key-1"}
			return signRaw(t, h, claims, other)
		}(), now, errkind.Forbidden, "does not belong to issuer did:example:land-registry"},
		{"bad signature", parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 64)), now, errkind.Unauthorized, "signature does not verify"},
		{"tampered claims", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"did:example:land-registry"}`)) + "." + parts[2], now, errkind.Unauthorized, "signature does not verify"},
		{"expired", good, time.Date(2046, 2, 1, 0, 0, 0, 0, time.UTC), errkind.Invalid, "credential expired at 2046-01-01T00:00:00Z"},
		{"not yet valid", good, time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), errkind.Invalid, "credential is not valid before 2026-01-01T00:00:00Z"},
		{"no vc", with(func(h, c map[string]any) { delete(c, "vc") }), now, errkind.Invalid, "no vc claim"},
		{"sub mismatch", with(func(h, c map[string]any) { c["sub"] = "did:example:someone-else" }), now, errkind.Invalid, "does not match vc.credentialSubject.id"},
		{"nbf mismatch", with(func(h, c map[string]any) { c["nbf"] = c["nbf"].(float64) + 10 }), now, errkind.Invalid, "does not match vc.issuanceDate"},
		{"not a JWS", "abc", now, errkind.Invalid, "not a compact JWS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(tt.token, ks.lookup, tt.at)
			if err == nil {
				t.Fatalf("Verify succeeded; want %s containing %q", tt.kind, tt.want)
			}
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Verify = %v (kind %s); want %s containing %q", err, errkind.KindOf(err), tt.kind, tt.want)
			}
		})
	}
}

func TestSignRejects(t *testing.T) {
	k := newKey(t, "Ed25519")
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	mut := func(f func(c map[string]any)) map[string]any { c := titleCredential(); f(c); return c }
	tests := []struct {
		name   string
		cred   map[string]any
		signer crypto.Signer
		kid    string
		kind   errkind.Kind
		want   string
	}{
		{"kid missing", titleCredential(), k, "", errkind.Invalid, "kid: missing"},
		{"kid of another DID", titleCredential(), k, "did:example:other#k", errkind.Invalid, "does not belong to issuer"},
		{"no issuanceDate", mut(func(c map[string]any) { delete(c, "issuanceDate") }), k, issuerKid, errkind.Invalid, "issuanceDate: missing"},
		{"bad issuanceDate", mut(func(c map[string]any) { c["issuanceDate"] = "yesterday" }), k, issuerKid, errkind.Invalid, "not an XML Schema date-time"},
		{"no issuer", mut(func(c map[string]any) { delete(c, "issuer") }), k, issuerKid, errkind.Invalid, "issuer: missing"},
		{"not a VC", mut(func(c map[string]any) { c["type"] = []any{"Thing"} }), k, issuerKid, errkind.Invalid, `must include "VerifiableCredential"`},
		{"P-384 key", titleCredential(), p384, issuerKid, errkind.Unsupported, "want P-256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Sign(tt.cred, tt.signer, tt.kid)
			if !errors.Is(err, tt.kind) || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Sign = %v; want %s containing %q", err, tt.kind, tt.want)
			}
		})
	}
}

// fixedSeed is the Ed25519 seed of RFC 8032, section 7.1, test 1.
const fixedSeed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"

// TestFixedVector decodes a JWT-VC signed with a fixed Ed25519 key
// (testdata/title_ed25519.jwt) claim by claim, verifies it, and checks that
// Sign reproduces it byte for byte (Ed25519 signatures are deterministic).
func TestFixedVector(t *testing.T) {
	seed, _ := hex.DecodeString(fixedSeed)
	key := ed25519.NewKeyFromSeed(seed)
	again, err := Sign(titleCredential(), key, issuerKid)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("UPDATE_VECTORS") != "" {
		if err := os.WriteFile("testdata/title_ed25519.jwt", []byte(again+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile("testdata/title_ed25519.jwt")
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(string(raw))

	h := header(t, tok)
	if !reflect.DeepEqual(h, map[string]any{"alg": "EdDSA", "kid": issuerKid, "typ": "JWT"}) {
		t.Errorf("header = %v; want alg EdDSA, kid %s, typ JWT", h, issuerKid)
	}
	c := payload(t, tok)
	for _, w := range []struct {
		claim string
		want  any
	}{
		{"iss", issuerDID},
		{"sub", holderDID},
		{"jti", "urn:uuid:5c1a3e2e-7f0a-4d1b-9c1e-2f0c1f9e8a01"},
		{"nbf", float64(1767225600)}, // 2026-01-01T00:00:00Z
		{"iat", float64(1767225600)},
		{"exp", float64(2398377600)}, // 2046-01-01T00:00:00Z
	} {
		if got := c[w.claim]; got != w.want {
			t.Errorf("claim %s = %v; want %v", w.claim, got, w.want)
		}
	}
	vc := c["vc"].(map[string]any)
	if _, ok := vc["proof"]; ok {
		t.Errorf("vc carries a proof; want it removed")
	}
	if vc["issuer"] != issuerDID || vc["credentialSubject"].(map[string]any)["parcel"] != "MTR-0042-17" {
		t.Errorf("vc = %v; want the land title credential", vc)
	}
	if len(c) != 7 {
		t.Errorf("token has %d claims; want 7 (vc iss sub jti nbf iat exp)", len(c))
	}

	// The signature checks with the standard library alone, too.
	dot := strings.LastIndex(tok, ".")
	sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
	if err != nil || !ed25519.Verify(key.Public().(ed25519.PublicKey), []byte(tok[:dot]), sig) {
		t.Errorf("ed25519.Verify(fixed token) = false (%v); want true", err)
	}
	if _, err := Verify(tok, keys{issuerKid: key.Public()}.lookup, now); err != nil {
		t.Errorf("Verify(fixed) = %v", err)
	}
	if again != tok {
		t.Errorf("Sign(fixed key) =\n%s\nwant\n%s", again, tok)
	}
}

// TestMapBack verifies a JWT-VC whose vc claim leaves the registered
// properties to iss, sub, nbf, exp and jti, as VC 1.1 section 6.3.1 allows.
func TestMapBack(t *testing.T) {
	seed, _ := hex.DecodeString(fixedSeed)
	key := ed25519.NewKeyFromSeed(seed)
	vc := titleCredential()
	delete(vc, "proof")
	full, _ := json.Marshal(vc)
	for _, p := range []string{"issuer", "issuanceDate", "expirationDate", "id"} {
		delete(vc, p)
	}
	delete(vc["credentialSubject"].(map[string]any), "id")
	claims := map[string]any{"vc": vc, "iss": issuerDID, "sub": holderDID, "jti": "urn:uuid:5c1a3e2e-7f0a-4d1b-9c1e-2f0c1f9e8a01",
		"nbf": 1767225600, "exp": 2398377600}
	tok := signRaw(t, map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": issuerKid}, claims, key)
	v, err := Verify(tok, keys{issuerKid: key.Public()}.lookup, now)
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	var want map[string]any
	_ = json.Unmarshal(full, &want)
	if !reflect.DeepEqual(v.Credential, want) {
		t.Errorf("Credential = %v; want %v", v.Credential, want)
	}
}

// TestVerifyImpliedKid verifies JWT-VCs without a kid header from issuers
// whose DID has one key by construction (did-jwt-vc signs them so).
func TestVerifyImpliedKid(t *testing.T) {
	key := newKey(t, "Ed25519").(ed25519.PrivateKey)
	pub := key.Public().(ed25519.PublicKey)
	k, err := did.NewKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	didKey := k.String()
	didKeyKid := didKey + "#" + strings.TrimPrefix(didKey, "did:key:")
	didJWK := "did:jwk:eyJrdHkiOiJPS1AifQ"
	tests := []struct {
		name string
		iss  string
		kid  string // what Verify asks keyFor for; "" when it must fail
		want string
	}{
		{"did:key", didKey, didKeyKid, ""},
		{"did:jwk", didJWK, didJWK + "#0", ""},
		{"other method", "did:example:land-registry", "", "kid: missing"},
		{"did:key with a fragment", didKeyKid, "", "kid: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vc := titleCredential()
			delete(vc, "proof")
			vc["issuer"] = tt.iss
			claims := map[string]any{"vc": vc, "iss": tt.iss, "sub": holderDID, "nbf": 1767225600, "exp": 2398377600,
				"jti": "urn:uuid:5c1a3e2e-7f0a-4d1b-9c1e-2f0c1f9e8a01"}
			tok := signRaw(t, map[string]any{"alg": "EdDSA", "typ": "JWT"}, claims, key)
			var asked string
			v, err := Verify(tok, func(kid string) (crypto.PublicKey, error) { asked = kid; return pub, nil }, now)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("Verify = %v; want an error containing %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify = %v", err)
			}
			if asked != tt.kid || v.Kid != tt.kid {
				t.Errorf("key looked up %q, Kid %q; want %q", asked, v.Kid, tt.kid)
			}
		})
	}
}
