package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// exampleIssuerID is the issuer instance id of the openapi.yaml examples.
const exampleIssuerID = "iss_5rdqk3yqg2n7m4xw6c3b7y2h5a"

// oidFixture makes the OpenID4VCI examples of openapi.yaml runnable: a
// dc+sd-jwt issuer instance, an offer for the routes that name one, and a
// fresh code, access token and proof for each token or credential example.
type oidFixture struct {
	e        *env
	issuerID string
	offerRef string
}

func oid4vciFixture(t *testing.T, e *env) *oidFixture {
	t.Helper()
	f := &oidFixture{e: e, issuerID: e.createIssuer(t, e.key, e.newDID(t, e.key, "Ed25519"), "dc+sd-jwt", "ExampleDegreeCredential")}
	out := e.mustOffer(t, map[string]any{"issuerId": f.issuerID, "credentialSubject": map[string]any{"name": "Alice Example"}})
	f.offerRef = out["id"].(string)
	return f
}

// prepare rewrites the request of an OpenID4VCI example and returns its body.
func (f *oidFixture) prepare(t *testing.T, opID string, req *http.Request, body []byte) []byte {
	t.Helper()
	switch opID {
	case "createCredentialOffer":
		return bytes.ReplaceAll(body, []byte(exampleIssuerID), []byte(f.issuerID))
	case "oid4vciToken":
		var ex map[string]string
		json.Unmarshal(body, &ex)
		out := f.e.mustOffer(t, map[string]any{"issuerId": f.issuerID, "credentialSubject": map[string]any{"name": "A"}, "txCode": true})
		code, _ := newOIDWallet(t, f.e).fetchOffer(t, out["offerUri"].(string))
		form := url.Values{}
		for k, v := range ex {
			form.Set(k, v)
		}
		form.Set("pre-authorized_code", code)
		form.Set("tx_code", out["txCode"].(string))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return []byte(form.Encode())
	case "oid4vciCredential":
		out := f.e.mustOffer(t, map[string]any{"issuerId": f.issuerID, "credentialSubject": map[string]any{"name": "A"}})
		w := newOIDWallet(t, f.e)
		code, _ := w.fetchOffer(t, out["offerUri"].(string))
		req.Header.Set("Authorization", "Bearer "+w.accessToken(t, code, ""))
		var ex map[string]any
		json.Unmarshal(body, &ex)
		ex["credential_configuration_id"] = strings.ReplaceAll(ex["credential_configuration_id"].(string), exampleIssuerID, f.issuerID)
		ex["proofs"] = map[string]any{"jwt": []string{w.proof(t, proofOpts{nonce: w.nonce(t)})}}
		b, _ := json.Marshal(ex)
		return b
	}
	return body
}
