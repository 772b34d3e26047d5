package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// urbisServer is `urbis serve` running as a child process of the test,
// with an agency whose API key the test holds.
type urbisServer struct {
	base, key, dataDir, bin string
}

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// buildUrbis builds cmd/urbis once for the package's tests.
func buildUrbis(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "urbis-interop-"); buildErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "urbis"), "github.com/urbis-id/urbis/cmd/urbis").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build cmd/urbis: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "urbis")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// startUrbis builds cmd/urbis, runs `urbis serve` on a free loopback port
// with its data in a temporary directory, and creates an agency.
func startUrbis(t *testing.T) *urbisServer {
	t.Helper()
	dir := t.TempDir()
	bin := buildUrbis(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &urbisServer{base: "http://" + addr, dataDir: filepath.Join(dir, "data"), bin: bin}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "serve", "--addr", addr, "--public-url", s.base, "--data-dir", s.dataDir,
		"--rate-limit", "0", "--log-level", "error")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("urbis serve logs:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("urbis serve is not ready after 60s: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, err := exec.Command(bin, "agency", "create", "--name", "Interop Agency", "--output", "key", "--data-dir", s.dataDir).Output()
	if err != nil {
		t.Fatalf("urbis agency create: %v", err)
	}
	s.key = strings.TrimSpace(string(out))
	return s
}

// do sends body (JSON) to path with the agency's API key and decodes the
// answer into out; want is the status it must have.
func (s *urbisServer) do(t *testing.T, method, path string, body any, want int, out any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, s.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d; want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// vciCase is a case for js/oid4vci-wallet.mjs.
type vciCase struct {
	Name      string `json:"name"`
	Offer     string `json:"offer"`
	TxCode    string `json:"txCode"`
	Alg       string `json:"alg,omitempty"`
	KeyMethod string `json:"keyMethod,omitempty"`
	Batch     int    `json:"batch,omitempty"`
}

// jsHolder is a holder key the JS wallet made, with its private JWK so
// that the OpenID4VP wallet can present with it.
type jsHolder struct {
	Alg        string         `json:"alg"`
	JWK        map[string]any `json:"jwk"`
	DID        string         `json:"did"`
	Kid        string         `json:"kid"`
	PrivateJWK map[string]any `json:"privateJwk"`
}

// vciResult is what js/oid4vci-wallet.mjs prints for a case.
type vciResult struct {
	Name             string `json:"name"`
	CredentialIssuer string `json:"credentialIssuer"`
	Issued           []struct {
		ConfigurationID string     `json:"configurationId"`
		Format          string     `json:"format"`
		Credentials     []any      `json:"credentials"`
		Holders         []jsHolder `json:"holders"`
	} `json:"issued"`
	Error string `json:"error"`
}

// heldCredential is a credential the JS wallet holds.
type heldCredential struct {
	Format     string   `json:"format"`
	Credential any      `json:"credential"`
	Holder     jsHolder `json:"holder"`
}

// vpCase is a case for js/oid4vp-wallet.mjs.
type vpCase struct {
	Name        string           `json:"name"`
	Request     string           `json:"request"`
	Credentials []heldCredential `json:"credentials"`
	OtherKey    bool             `json:"otherKey,omitempty"`
}

// vpResult is what js/oid4vp-wallet.mjs prints for a case.
type vpResult struct {
	Name     string   `json:"name"`
	ClientID string   `json:"clientId"`
	Nonce    string   `json:"nonce"`
	Signer   string   `json:"signer"`
	Answered []string `json:"answered"`
	Status   int      `json:"status"`
	Body     any      `json:"body"`
	Error    string   `json:"error"`
}

// TestOpenID4VCWallet drives Urbis' OpenID4VCI issuer and OpenID4VP
// verifier with an independent wallet built on @openid4vc/openid4vci,
// @openid4vc/oauth2 and @openid4vc/openid4vp: the wallet redeems
// credential offers (pre-authorized code with transaction code, nonce
// endpoint, proofs.jwt) and Urbis verifies what it received; then the
// wallet answers presentation requests with those credentials (request
// object verified against the verifier's DID, direct_post) and Urbis
// reports the requested claims verified.
func TestOpenID4VCWallet(t *testing.T) {
	needNode(t)
	s := startUrbis(t)

	var d struct {
		DID string `json:"did"`
	}
	s.do(t, "POST", "/dids", map[string]any{"method": "key", "keyType": "Ed25519"}, http.StatusCreated, &d)
	var p256 struct {
		DID string `json:"did"`
	}
	s.do(t, "POST", "/dids", map[string]any{"method": "key", "keyType": "P-256"}, http.StatusCreated, &p256)
	instances := map[string]string{}
	for _, f := range []string{"dc+sd-jwt", "jwt_vc_json", "ldp_vc"} {
		var in struct {
			ID string `json:"id"`
		}
		s.do(t, "POST", "/issuers", map[string]any{"did": d.DID, "format": f, "types": []string{"ResidentCredential"}}, http.StatusCreated, &in)
		instances[f] = in.ID
	}
	offer := func(format string) (uri, txCode string) {
		var o struct {
			OfferURI string `json:"offerUri"`
			TxCode   string `json:"txCode"`
		}
		s.do(t, "POST", "/oid4vci/offers", map[string]any{
			"issuerId": instances[format], "txCode": true,
			"credentialSubject": map[string]any{"name": "Alice", "district": "Eixample"},
		}, http.StatusCreated, &o)
		return o.OfferURI, o.TxCode
	}

	// Issuance: one offer per case.
	type vciWant struct {
		format  string
		n       int    // credentials
		binding string // "jwk": cnf.jwk; "did": the holder's did:key; "did:jwk": the did:jwk of the proof's key
		errHas  string // the wallet must fail with this in its error
	}
	vciTests := []struct {
		c    vciCase
		want vciWant
	}{
		{vciCase{Name: "dc+sd-jwt, jwk proof, EdDSA"}, vciWant{format: "dc+sd-jwt", n: 1, binding: "jwk"}},
		{vciCase{Name: "dc+sd-jwt, did:key proofs, ES256, batch of 2", Alg: "ES256", KeyMethod: "did", Batch: 2}, vciWant{format: "dc+sd-jwt", n: 2, binding: "jwk"}},
		{vciCase{Name: "jwt_vc_json, did:key proof", KeyMethod: "did"}, vciWant{format: "jwt_vc_json", n: 1, binding: "did"}},
		{vciCase{Name: "jwt_vc_json, jwk proof", KeyMethod: "jwk"}, vciWant{format: "jwt_vc_json", n: 1, binding: "did:jwk"}},
		{vciCase{Name: "ldp_vc, did:key proof", KeyMethod: "did"}, vciWant{format: "ldp_vc", n: 1, binding: "did"}},
		{vciCase{Name: "wrong transaction code"}, vciWant{format: "dc+sd-jwt", errHas: "invalid_grant"}},
	}
	vciCases := make([]vciCase, len(vciTests))
	for i, tt := range vciTests {
		tt.c.Offer, tt.c.TxCode = offer(tt.want.format)
		if tt.want.errHas == "invalid_grant" {
			tt.c.TxCode = wrongCode(tt.c.TxCode)
		}
		vciCases[i] = tt.c
	}
	var issued []vciResult
	runNode(t, "oid4vci-wallet.mjs", vciCases, &issued)
	if len(issued) != len(vciTests) {
		t.Fatalf("js/oid4vci-wallet.mjs gave %d results; want %d", len(issued), len(vciTests))
	}
	held := map[string]heldCredential{} // by case name: the first credential
	for i, tt := range vciTests {
		t.Run("OID4VCI/"+tt.c.Name, func(t *testing.T) {
			got := issued[i]
			if tt.want.errHas != "" {
				if !strings.Contains(got.Error, tt.want.errHas) {
					t.Errorf("JS wallet error %q; want one with %q", got.Error, tt.want.errHas)
				}
				return
			}
			if got.Error != "" {
				t.Fatalf("JS wallet: %s", got.Error)
			}
			if got.CredentialIssuer != s.base {
				t.Errorf("credential_issuer %q; want %q", got.CredentialIssuer, s.base)
			}
			if len(got.Issued) != 1 || got.Issued[0].Format != tt.want.format || len(got.Issued[0].Credentials) != tt.want.n || len(got.Issued[0].Holders) != tt.want.n {
				t.Fatalf("issued %+v; want one configuration of format %s with %d credentials", got.Issued, tt.want.format, tt.want.n)
			}
			is := got.Issued[0]
			for j, cred := range is.Credentials {
				var v struct {
					Verified bool     `json:"verified"`
					Format   string   `json:"format"`
					Checks   []string `json:"checks"`
					Errors   []any    `json:"errors"`
				}
				s.do(t, "POST", "/credentials/verify", map[string]any{"verifiableCredential": cred}, http.StatusOK, &v)
				if !v.Verified || v.Format != tt.want.format {
					t.Errorf("credential %d: Urbis verified %v as %s, errors %v; want verified as %s", j, v.Verified, v.Format, v.Errors, tt.want.format)
				}
				checkBinding(t, tt.want.format, tt.want.binding, cred, is.Holders[j])
			}
			held[tt.c.Name] = heldCredential{Format: is.Format, Credential: is.Credentials[0], Holder: is.Holders[0]}
		})
	}

	// Presentation: the JS wallet answers Urbis' requests with what it
	// received.
	need := func(names ...string) []heldCredential {
		var out []heldCredential
		for _, n := range names {
			h, ok := held[n]
			if !ok {
				t.Fatalf("the JS wallet did not receive the credential of %q", n)
			}
			out = append(out, h)
		}
		return out
	}
	type request struct {
		ID  string `json:"id"`
		URI string `json:"uri"`
	}
	create := func(body map[string]any) request {
		if body["did"] == nil {
			body["did"] = d.DID
		}
		var r request
		s.do(t, "POST", "/verifier/requests", body, http.StatusCreated, &r)
		return r
	}
	residency := map[string]any{"template": "residency", "params": map[string]any{"districts": "Eixample"}}
	dcql := func(id, format string, meta map[string]any, path ...any) map[string]any {
		return map[string]any{"dcqlQuery": map[string]any{"credentials": []any{map[string]any{
			"id": id, "format": format, "meta": meta, "claims": []any{map[string]any{"path": path}},
		}}}}
	}
	vct := map[string]any{"vct_values": []any{"ResidentCredential"}}
	types := map[string]any{"type_values": []any{[]any{"ResidentCredential"}}}

	// A request object with a claim changed after Urbis signed it, served
	// from elsewhere: the wallet must refuse it.
	forged := create(dcql("resident", "dc+sd-jwt", vct, "name"))
	forgery := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(s.base + "/verifier/requests/" + forged.ID + "/object")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		w.Header().Set("Content-Type", "application/oauth-authz-req+jwt")
		_, _ = io.WriteString(w, forgeObject(string(b), "http://127.0.0.1:1/steal"))
	}))
	defer forgery.Close()
	u, err := url.Parse(forged.URI)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("request_uri", forgery.URL+"/object")
	u.RawQuery = q.Encode()
	forgedURI := u.String()

	vpTests := []struct {
		name     string
		req      request
		creds    []string
		otherKey bool
		uri      string
		// want: the HTTP status of Urbis' answer and the request's
		// outcome with the verified claims, per query id: path -> value.
		status  int
		outcome string
		claims  map[string]map[string]any
		errHas  string // the wallet must fail with this in its error
		// verifier is the DID that signs the request (d.DID when empty).
		verifier string
		// didClientID: the client_id is the verifier's DID itself, as the
		// drafts with Presentation Exchange have it.
		didClientID bool
	}{
		{
			name: "residency template: dc+sd-jwt and ldp_vc", req: create(residency),
			creds:  []string{"dc+sd-jwt, jwk proof, EdDSA", "ldp_vc, did:key proof"},
			status: http.StatusOK, outcome: "verified",
			claims: map[string]map[string]any{"residency_sd_jwt": {"district": "Eixample"}, "residency_ldp": {"credentialSubject.district": "Eixample"}},
		},
		{
			name: "DCQL dc+sd-jwt, ES256 holder", req: create(dcql("resident", "dc+sd-jwt", vct, "name")),
			creds:  []string{"dc+sd-jwt, did:key proofs, ES256, batch of 2"},
			status: http.StatusOK, outcome: "verified",
			claims: map[string]map[string]any{"resident": {"name": "Alice"}},
		},
		{
			name: "DCQL dc+sd-jwt, request object signed with ES256", req: create(withDID(dcql("resident", "dc+sd-jwt", vct, "district"), p256.DID)),
			creds: []string{"dc+sd-jwt, jwk proof, EdDSA"}, verifier: p256.DID,
			status: http.StatusOK, outcome: "verified",
			claims: map[string]map[string]any{"resident": {"district": "Eixample"}},
		},
		{
			name: "DCQL jwt_vc_json", req: create(dcql("resident_jwt", "jwt_vc_json", types, "credentialSubject", "district")),
			creds:  []string{"jwt_vc_json, did:key proof"},
			status: http.StatusOK, outcome: "verified",
			claims: map[string]map[string]any{"resident_jwt": {"credentialSubject.district": "Eixample"}},
		},
		{
			name: "Presentation Exchange: dc+sd-jwt, limit_disclosure required", req: create(map[string]any{"presentationDefinition": map[string]any{
				"id": "pe-interop", "input_descriptors": []any{map[string]any{"id": "resident", "format": map[string]any{"dc+sd-jwt": map[string]any{}},
					"constraints": map[string]any{"limit_disclosure": "required", "fields": []any{
						map[string]any{"path": []any{"$.district"}, "filter": map[string]any{"type": "string", "const": "Eixample"}}}}}}}}),
			creds: []string{"dc+sd-jwt, jwk proof, EdDSA"}, didClientID: true,
			status: http.StatusOK, outcome: "verified",
			claims: map[string]map[string]any{"resident": {"district": "Eixample"}},
		},
		{
			name: "Presentation Exchange: jwt_vc_json, evaluated by presexch", req: create(map[string]any{"presentationDefinition": map[string]any{
				"id": "pe-interop-jwt", "input_descriptors": []any{map[string]any{"id": "resident", "format": map[string]any{"jwt_vc_json": map[string]any{}},
					"constraints": map[string]any{"fields": []any{
						map[string]any{"path": []any{"$.credentialSubject.district"}, "filter": map[string]any{"type": "string", "const": "Eixample"}}}}}}}}),
			creds: []string{"jwt_vc_json, did:key proof"}, didClientID: true,
			status: http.StatusOK, outcome: "verified",
			claims: map[string]map[string]any{"resident": {"credentialSubject.district": "Eixample"}},
		},
		{
			name: "Key Binding JWT signed by another key", req: create(dcql("resident", "dc+sd-jwt", vct, "district")),
			creds: []string{"dc+sd-jwt, jwk proof, EdDSA"}, otherKey: true,
			status: http.StatusBadRequest, outcome: "failed",
		},
		{
			name: "forged request object", req: forged, uri: forgedURI,
			creds: []string{"dc+sd-jwt, jwk proof, EdDSA"}, errHas: "verif", outcome: "pending",
		},
	}
	vpCases := make([]vpCase, len(vpTests))
	for i, tt := range vpTests {
		uri := tt.req.URI
		if tt.uri != "" {
			uri = tt.uri
		}
		vpCases[i] = vpCase{Name: tt.name, Request: uri, Credentials: need(tt.creds...), OtherKey: tt.otherKey}
	}
	var answered []vpResult
	runNode(t, "oid4vp-wallet.mjs", vpCases, &answered)
	if len(answered) != len(vpTests) {
		t.Fatalf("js/oid4vp-wallet.mjs gave %d results; want %d", len(answered), len(vpTests))
	}
	for i, tt := range vpTests {
		t.Run("OID4VP/"+tt.name, func(t *testing.T) {
			got := answered[i]
			if tt.errHas != "" {
				if !strings.Contains(strings.ToLower(got.Error), tt.errHas) {
					t.Errorf("JS wallet error %q; want one with %q", got.Error, tt.errHas)
				}
				t.Logf("JS wallet refused: %s", got.Error)
			} else {
				if got.Error != "" {
					t.Fatalf("JS wallet: %s", got.Error)
				}
				verifier := d.DID
				if tt.verifier != "" {
					verifier = tt.verifier
				}
				want := "decentralized_identifier:" + verifier
				if tt.didClientID {
					want = verifier
				}
				if got.ClientID != want || !strings.HasPrefix(got.Signer, verifier+"#") {
					t.Errorf("client_id %q signed by %q; want %q signed by a key of %s", got.ClientID, got.Signer, want, verifier)
				}
				if got.Status != tt.status {
					t.Errorf("Urbis answered the wallet %d %v; want %d", got.Status, got.Body, tt.status)
				}
			}
			var res struct {
				Status         string                    `json:"status"`
				VerifiedClaims map[string][]verifiedCred `json:"verifiedClaims"`
				Errors         []any                     `json:"errors"`
			}
			s.do(t, "GET", "/verifier/requests/"+tt.req.ID, nil, http.StatusOK, &res)
			if res.Status != tt.outcome {
				t.Fatalf("request %s; want %s (errors %v)", res.Status, tt.outcome, res.Errors)
			}
			if tt.outcome == "failed" && len(res.Errors) == 0 {
				t.Errorf("the request failed without errors")
			}
			if tt.outcome == "failed" {
				t.Logf("Urbis refused: %v", res.Errors)
			}
			got2 := map[string]map[string]any{}
			for q, creds := range res.VerifiedClaims {
				for _, c := range creds {
					for _, cl := range c.Claims {
						if got2[q] == nil {
							got2[q] = map[string]any{}
						}
						got2[q][joinPath(cl.Path)] = cl.Value
					}
				}
			}
			if tt.claims != nil && !reflect.DeepEqual(got2, tt.claims) {
				t.Errorf("verified claims %v; want %v", got2, tt.claims)
			}
		})
	}
}

type verifiedCred struct {
	Format string `json:"format"`
	Claims []struct {
		Path  []any `json:"path"`
		Value any   `json:"value"`
	} `json:"claims"`
}

func joinPath(p []any) string {
	s := make([]string, len(p))
	for i, e := range p {
		s[i] = fmt.Sprint(e)
	}
	return strings.Join(s, ".")
}

// checkBinding checks that an issued credential is bound to the JS
// wallet's key: cnf.jwk for dc+sd-jwt, the subject's DID for the others.
func checkBinding(t *testing.T, format, binding string, cred any, h jsHolder) {
	t.Helper()
	var subject string
	switch format {
	case "dc+sd-jwt":
		tok, _ := cred.(string)
		payload := jwtPayload(t, strings.Split(tok, "~")[0])
		cnf, _ := payload["cnf"].(map[string]any)
		jwk, _ := cnf["jwk"].(map[string]any)
		for _, k := range []string{"kty", "crv", "x", "y"} {
			if jwk[k] != h.JWK[k] {
				t.Errorf("cnf.jwk %v; want the wallet's key %v", jwk, h.JWK)
				break
			}
		}
		return
	case "jwt_vc_json":
		tok, _ := cred.(string)
		subject, _ = jwtPayload(t, tok)["sub"].(string)
	case "ldp_vc":
		m, _ := cred.(map[string]any)
		cs, _ := m["credentialSubject"].(map[string]any)
		subject, _ = cs["id"].(string)
	}
	want := h.DID
	if binding == "did:jwk" {
		if !strings.HasPrefix(subject, "did:jwk:") {
			t.Errorf("subject %q; want the did:jwk of the wallet's key", subject)
			return
		}
		enc, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(subject, "did:jwk:"))
		var got map[string]any
		if err := json.Unmarshal(enc, &got); err != nil || got["x"] != h.JWK["x"] || got["crv"] != h.JWK["crv"] {
			t.Errorf("subject %q is the did:jwk of %s; want of the wallet's key %v", subject, enc, h.JWK)
		}
		return
	}
	if subject != want {
		t.Errorf("subject %q; want the wallet's DID %q", subject, want)
	}
}

func jwtPayload(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWT: %.40q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// forgeObject changes the response_uri of a signed request object and
// keeps its signature.
func forgeObject(obj, responseURI string) string {
	parts := strings.Split(obj, ".")
	if len(parts) != 3 {
		return obj
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return obj
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return obj
	}
	m["response_uri"] = responseURI
	b, _ = json.Marshal(m)
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

// wrongCode is a transaction code of the same length that is not code.
func wrongCode(code string) string {
	b := []byte(code)
	for i := range b {
		b[i] = '0' + (b[i]-'0'+1)%10
	}
	return string(b)
}

// jsVerifierResult is the last line js/oid4vp-verifier.mjs prints, per
// case.
type jsVerifierResult struct {
	Name          string `json:"name"`
	Answered      bool   `json:"answered"`
	Verified      bool   `json:"verified"`
	Presentations map[string][]struct {
		Format   string         `json:"format"`
		Verified bool           `json:"verified"`
		Error    string         `json:"error"`
		Claims   map[string]any `json:"claims"`
	} `json:"presentations"`
	Error string `json:"error"`
}

// TestOpenID4VPVerifierJS has a verifier built on @openid4vc/openid4vp
// ask Urbis' test wallet (`urbis holder oid4vp`) for credentials that
// Urbis issued to it: the wallet checks the library's signed request
// object against the verifier's did:key, presents with holder binding to
// the request's nonce and client_id and posts to the response_uri; the
// library parses the answer and the JavaScript credential libraries
// verify each presentation.
func TestOpenID4VPVerifierJS(t *testing.T) {
	needNode(t)
	s := startUrbis(t)
	dir := t.TempDir()
	holderKey := filepath.Join(dir, "holder.key")
	out, err := exec.Command(s.bin, "holder", "did", "--key", holderKey).Output()
	if err != nil {
		t.Fatalf("urbis holder did: %v", err)
	}
	holder := strings.TrimSpace(string(out))

	var d struct {
		DID string `json:"did"`
	}
	s.do(t, "POST", "/dids", map[string]any{"method": "key", "keyType": "Ed25519"}, http.StatusCreated, &d)
	formats := []string{"dc+sd-jwt", "ldp_vc", "jwt_vc_json"}
	for _, f := range formats {
		// No status list: @digitalbazaar/vc verifies a credentialStatus
		// only with a status checker of the caller's.
		s.do(t, "POST", "/issuers", map[string]any{"did": d.DID, "format": f, "types": []string{"ResidentCredential"}, "statusPurposes": []string{}}, http.StatusCreated, nil)
	}
	// issue writes a credential of each format about subject to files.
	issue := func(subject string) map[string]string {
		files := map[string]string{}
		for _, f := range formats {
			contexts := []any{ctxV2}
			switch f {
			case "ldp_vc":
				contexts = append(contexts, ctxUndefined)
			case "jwt_vc_json":
				contexts = []any{ctxV1}
			}
			var issued map[string]any
			s.do(t, "POST", "/credentials/issue", map[string]any{
				"credential": map[string]any{
					"@context": contexts, "type": []any{"VerifiableCredential", "ResidentCredential"},
					"issuer": d.DID, "credentialSubject": map[string]any{"id": subject, "name": "Alice", "district": "Mitte"},
				},
				"options": map[string]any{"format": f, "keyBinding": f == "dc+sd-jwt"},
			}, http.StatusCreated, &issued)
			b, _ := json.Marshal(issued)
			files[f] = filepath.Join(dir, strings.ReplaceAll(subject, ":", "_")+"-"+strings.ReplaceAll(f, "+", "_")+".json")
			if err := os.WriteFile(files[f], b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return files
	}
	files := issue(holder)

	// Urbis' own wallet (urbis wallet), holding the same credentials
	// issued to its DID.
	walletEnv := append(os.Environ(), "URBIS_WALLET_DIR="+filepath.Join(dir, "wallet"), "URBIS_WALLET_PASSPHRASE=correct horse battery")
	urbisWallet := func(args ...string) (string, error) {
		cmd := exec.Command(s.bin, append([]string{"wallet"}, args...)...)
		cmd.Env = walletEnv
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	init, err := urbisWallet("init")
	walletDID := ""
	for _, f := range strings.Fields(init) {
		if strings.HasPrefix(f, "did:key:") {
			walletDID = strings.TrimRight(f, ".,:;)")
		}
	}
	if err != nil || walletDID == "" {
		t.Fatalf("urbis wallet init: %q, %v", init, err)
	}
	for f, file := range issue(walletDID) {
		if out, err := urbisWallet("add", file); err != nil || !strings.Contains(out, "stored "+f) {
			t.Fatalf("urbis wallet add %s: %q, %v", f, out, err)
		}
	}

	query := func(id, format string, meta map[string]any, path ...any) map[string]any {
		return map[string]any{"credentials": []any{map[string]any{
			"id": id, "format": format, "meta": meta, "claims": []any{map[string]any{"path": path}},
		}}}
	}
	types := map[string]any{"type_values": []any{[]any{"ResidentCredential"}}}
	tests := []struct {
		name, format string
		dcql         map[string]any // or {"presentation_definition": ...}
		id           string
		// want: the claims the verifier must see, and those it must not.
		want     map[string]any
		withheld string
		// replayOf names an earlier case: the wallet's answer to that
		// request is posted to this one's response_uri, and must fail.
		replayOf string
		// urbisWallet: the request is answered by `urbis wallet present`
		// (the wallet package) instead of the test holder.
		urbisWallet bool
	}{
		{"dc+sd-jwt, district only", "dc+sd-jwt", query("resident", "dc+sd-jwt", map[string]any{"vct_values": []any{"ResidentCredential"}}, "district"), "resident",
			map[string]any{"district": "Mitte", "sub": holder}, "name", "", false},
		{"ldp_vc", "ldp_vc", query("resident_ldp", "ldp_vc", types, "credentialSubject", "district"), "resident_ldp",
			map[string]any{"district": "Mitte", "id": holder}, "", "", false},
		{"jwt_vc_json", "jwt_vc_json", query("resident_jwt", "jwt_vc_json", types, "credentialSubject", "district"), "resident_jwt",
			map[string]any{"district": "Mitte", "id": holder}, "", "", false},
		{"an answer to another request", "dc+sd-jwt", query("resident", "dc+sd-jwt", map[string]any{"vct_values": []any{"ResidentCredential"}}, "district"), "resident",
			nil, "", "dc+sd-jwt, district only", false},
		{"urbis wallet present: dc+sd-jwt, district only", "dc+sd-jwt", query("resident", "dc+sd-jwt", map[string]any{"vct_values": []any{"ResidentCredential"}}, "district"), "resident",
			map[string]any{"district": "Mitte", "sub": walletDID}, "name", "", true},
		{"urbis wallet present: ldp_vc", "ldp_vc", query("resident_ldp", "ldp_vc", types, "credentialSubject", "district"), "resident_ldp",
			map[string]any{"district": "Mitte", "id": walletDID}, "", "", true},
		{"urbis wallet present: jwt_vc_json", "jwt_vc_json", query("resident_jwt", "jwt_vc_json", types, "credentialSubject", "district"), "resident_jwt",
			map[string]any{"district": "Mitte", "id": walletDID}, "", "", true},
		{"urbis wallet present: Presentation Exchange, dc+sd-jwt", "dc+sd-jwt", map[string]any{"presentation_definition": map[string]any{
			"id": "pe-js", "input_descriptors": []any{map[string]any{"id": "resident", "format": map[string]any{"dc+sd-jwt": map[string]any{}},
				"constraints": map[string]any{"limit_disclosure": "required", "fields": []any{map[string]any{"path": []any{"$.district"}}}}}}}}, "resident",
			map[string]any{"district": "Mitte", "sub": walletDID}, "name", "", true},
	}
	type jsCase struct {
		Name string         `json:"name"`
		DCQL map[string]any `json:"dcql_query,omitempty"`
		PD   any            `json:"presentation_definition,omitempty"`
	}
	cases := make([]jsCase, len(tests))
	for i, tt := range tests {
		cases[i] = jsCase{Name: tt.name, DCQL: tt.dcql}
		if pd, ok := tt.dcql["presentation_definition"]; ok {
			cases[i] = jsCase{Name: tt.name, PD: pd}
		}
	}
	b, _ := json.Marshal(cases)
	casesFile := filepath.Join(dir, "cases.json")
	if err := os.WriteFile(casesFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join("js", "oid4vp-verifier.mjs"), casesFile)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<20), 1<<24)
	next := func() []byte {
		if !lines.Scan() {
			t.Fatalf("js/oid4vp-verifier.mjs stopped: %v\nstderr:\n%s", lines.Err(), stderr.String())
		}
		return lines.Bytes()
	}
	wallet := map[string]string{} // what urbis holder oid4vp printed, or the replay's answer
	uris := map[string]string{}
	for _, tt := range tests {
		var r struct{ Name, URI string }
		if err := json.Unmarshal(next(), &r); err != nil || r.Name != tt.name {
			t.Fatalf("js/oid4vp-verifier.mjs request line for %q: %+v, %v", tt.name, r, err)
		}
		uris[tt.name] = r.URI
		if tt.replayOf != "" {
			wallet[tt.name] = replay(t, s.bin, holderKey, uris[tt.replayOf], files[tt.format], r.URI)
			continue
		}
		if tt.urbisWallet {
			out, err := urbisWallet("present", "--yes", r.URI)
			if err != nil {
				out += " (" + err.Error() + ")"
			}
			wallet[tt.name] = out
			continue
		}
		out, err := exec.Command(s.bin, "holder", "oid4vp", "--key", holderKey, r.URI, files[tt.format]).CombinedOutput()
		wallet[tt.name] = strings.TrimSpace(string(out))
		if err != nil {
			wallet[tt.name] += " (" + err.Error() + ")"
		}
	}
	var results []jsVerifierResult
	if err := json.Unmarshal(next(), &results); err != nil || len(results) != len(tests) {
		t.Fatalf("js/oid4vp-verifier.mjs results: %d, %v; want %d", len(results), err, len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := results[i]
			if tt.replayOf != "" {
				if !strings.HasPrefix(wallet[tt.name], "400 ") || got.Verified || !strings.Contains(got.Error, "state") {
					t.Errorf("replayed answer: the verifier answered %q, verified %v, error %q; want 400, not verified, for its state", wallet[tt.name], got.Verified, got.Error)
				}
				t.Logf("JS verifier refused: %s", got.Error)
				return
			}
			switch {
			case tt.urbisWallet:
				// The wallet showed the JS verifier's DID, checked its
				// request object's signature, and sent.
				for _, want := range []string{"verifier: did:key:", "signature checked (DID resolved locally)", "sent; the verifier answered 200 {}"} {
					if !strings.Contains(wallet[tt.name], want) {
						t.Errorf("urbis wallet present printed %q; want %q", wallet[tt.name], want)
					}
				}
				if tt.withheld != "" && strings.Contains(wallet[tt.name], tt.withheld+":") {
					t.Errorf("urbis wallet present would disclose %s: %q", tt.withheld, wallet[tt.name])
				}
			case wallet[tt.name] != "200 {}":
				t.Errorf("urbis holder oid4vp printed %q; want 200 {}", wallet[tt.name])
			}
			if !got.Answered || !got.Verified || got.Error != "" {
				t.Fatalf("JS verifier: answered %v, verified %v, error %q, presentations %+v; want verified", got.Answered, got.Verified, got.Error, got.Presentations)
			}
			ps := got.Presentations[tt.id]
			if len(ps) != 1 || ps[0].Format != tt.format || !ps[0].Verified {
				t.Fatalf("presentations %+v; want one verified %s for %s", got.Presentations, tt.format, tt.id)
			}
			for k, v := range tt.want {
				if ps[0].Claims[k] != v {
					t.Errorf("claim %s = %v; want %v (claims %v)", k, ps[0].Claims[k], v, ps[0].Claims)
				}
			}
			if _, ok := ps[0].Claims[tt.withheld]; tt.withheld != "" && ok {
				t.Errorf("claim %s was disclosed; the query asked only for %v", tt.withheld, tt.dcql)
			}
		})
	}
}

// replay has Urbis' test wallet answer the request of uri (--print, not
// posted) and posts that answer to the response_uri of the JS verifier's
// request other instead; it returns the status and body of the answer.
func replay(t *testing.T, bin, holderKey, uri, file, other string) string {
	t.Helper()
	form, err := exec.Command(bin, "holder", "oid4vp", "--key", holderKey, "--print", uri, file).Output()
	if err != nil {
		t.Fatalf("urbis holder oid4vp --print: %v", err)
	}
	u, err := url.Parse(other)
	if err != nil {
		t.Fatal(err)
	}
	responseURI := strings.Replace(u.Query().Get("request_uri"), "/request/", "/response/", 1)
	resp, err := http.Post(responseURI, "application/x-www-form-urlencoded", bytes.NewReader(bytes.TrimSpace(form)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, b)
}

// withDID sets the DID of a presentation request body.
func withDID(body map[string]any, did string) map[string]any {
	body["did"] = did
	return body
}
