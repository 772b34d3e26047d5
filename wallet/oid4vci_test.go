package wallet

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/vc/oid4vci"
)

// issuerSite is an OpenID4VCI issuer as the wallet sees it.
type issuerSite struct {
	t      *testing.T
	proofs []string
	txCode string
}

func (s *issuerSite) Do(r *http.Request) (*http.Response, error) {
	const iss = "https://issuer.example"
	switch r.URL.Path {
	case "/.well-known/openid-credential-issuer":
		return answer(200, `{"credential_issuer":"`+iss+`","credential_endpoint":"`+iss+`/credential","nonce_endpoint":"`+iss+`/nonce"}`), nil
	case "/.well-known/oauth-authorization-server":
		return answer(200, `{"issuer":"`+iss+`","token_endpoint":"`+iss+`/token"}`), nil
	case "/token":
		r.ParseForm()
		if r.Form.Get("pre-authorized_code") != "code-1" || r.Form.Get("grant_type") != oid4vci.GrantPreAuthorizedCode {
			return answer(400, `{"error":"invalid_grant","error_description":"unknown code"}`), nil
		}
		if r.Form.Get("tx_code") != s.txCode {
			return answer(400, `{"error":"invalid_grant","error_description":"wrong transaction code; 4 attempts left"}`), nil
		}
		return answer(200, `{"access_token":"at-1","token_type":"Bearer"}`), nil
	case "/nonce":
		return answer(200, `{"c_nonce":"cn-1"}`), nil
	case "/credential":
		if r.Header.Get("Authorization") != "Bearer at-1" {
			return answer(401, `{"error":"invalid_token","error_description":"no token"}`), nil
		}
		var req struct {
			Proofs struct{ JWT []string } `json:"proofs"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		s.proofs = append(s.proofs, req.Proofs.JWT...)
		enc := base64.RawURLEncoding.EncodeToString
		tok := enc([]byte(`{"alg":"EdDSA"}`)) + "." + enc([]byte(`{"iss":"did:example:registry","vc":{"type":["VerifiableCredential","ResidentCredential"]}}`)) + "." + enc([]byte("sig"))
		return answer(200, `{"credentials":[{"credential":"`+tok+`"}]}`), nil
	}
	return answer(404, `{"error":"not_found"}`), nil
}

func TestReceive(t *testing.T) {
	w, _ := newWallet(t)
	d, err := w.NewDIDKey("")
	if err != nil {
		t.Fatal(err)
	}
	site := &issuerSite{t: t, txCode: "493817"}
	w.SetClient(site)
	offer := `{"credential_issuer":"https://issuer.example","credential_configuration_ids":["iss_1:ResidentCredential"],
		"grants":{"` + oid4vci.GrantPreAuthorizedCode + `":{"pre-authorized_code":"code-1","tx_code":{"length":6,"description":"The code in your letter"}}}}`
	uri := "openid-credential-offer://?credential_offer=" + url.QueryEscape(offer)

	for _, tc := range []struct{ name, uri, tx, want string }{
		{"not an offer", "https://issuer.example/offer", "", "not an openid-credential-offer:// URI"},
		{"no PIN", uri, "", "The code in your letter"},
		{"wrong PIN", uri, "000000", "the transaction code is wrong"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := w.Receive(context.Background(), tc.uri, tc.tx, ""); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v; want %q", err, tc.want)
			}
		})
	}
	got, err := w.Receive(context.Background(), uri, "493817", "")
	if err != nil || len(got) != 1 || got[0].Holder != d.DID || got[0].Format != FormatJWT {
		t.Fatalf("got %+v, %v; want one jwt_vc_json credential held by %s", got, err, d.DID)
	}
	if len(site.proofs) != 1 {
		t.Fatalf("got %d proofs; want 1", len(site.proofs))
	}
	parts := strings.Split(site.proofs[0], ".")
	var hdr, claims map[string]any
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	c, _ := base64.RawURLEncoding.DecodeString(parts[1])
	json.Unmarshal(h, &hdr)
	json.Unmarshal(c, &claims)
	if hdr["typ"] != oid4vci.ProofType || hdr["kid"] != d.VerificationMethod() || hdr["alg"] != "EdDSA" ||
		claims["aud"] != "https://issuer.example" || claims["nonce"] != "cn-1" || claims["iat"] == nil {
		t.Errorf("proof header %v, claims %v; want typ %s, kid %s, aud the issuer, the c_nonce and iat", hdr, claims, oid4vci.ProofType, d.VerificationMethod())
	}
	if n := len(w.Credentials()); n != 1 {
		t.Errorf("the wallet holds %d credentials; want 1", n)
	}
}
