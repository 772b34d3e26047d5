package wallet

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/kms"
	"github.com/urbis-id/urbis/vc/oid4vci"
)

// Client is how the wallet talks to issuers and verifiers; nil means
// http.DefaultClient.
type Client interface {
	Do(*http.Request) (*http.Response, error)
}

// SetClient makes the wallet use c for OpenID4VCI and OpenID4VP.
func (w *Wallet) SetClient(c Client) { w.http = c }

// SetResolver makes the wallet resolve verifiers' did:urbis and did:web
// DIDs with the Urbis service at base (GET base/1.0/identifiers/{did})
// instead of the host that serves each request.
func (w *Wallet) SetResolver(base string) { w.resolver = base }

func (w *Wallet) client() Client {
	if w.http == nil {
		return http.DefaultClient
	}
	return w.http
}

// Receive redeems an OpenID4VCI credential offer (openid-credential-offer://
// with credential_offer or credential_offer_uri, pre-authorized code
// flow): it takes an access token with the pre-authorized code and txCode
// (the PIN the holder was given, when the offer asks for one), then asks
// for each offered configuration with a proof of possession signed by the
// key of holderDID (the default DID when empty), and stores the
// credentials, which the issuer binds to that DID or its key.
func (w *Wallet) Receive(ctx context.Context, offerURI, txCode, holderDID string) ([]Credential, error) {
	offer, err := w.readOffer(ctx, offerURI)
	if err != nil {
		return nil, err
	}
	grant, ok := offer.Grants[oid4vci.GrantPreAuthorizedCode]
	if !ok || grant.Code == "" {
		return nil, errkind.New(errkind.Unsupported, "the offer has no pre-authorized code; only the pre-authorized code flow is supported")
	}
	if grant.TxCode != nil && txCode == "" {
		what := "a transaction code"
		if grant.TxCode.Description != "" {
			what += " (" + grant.TxCode.Description + ")"
		}
		return nil, errkind.Field(errkind.Invalid, "tx_code", "the offer asks for %s; pass it with --tx-code", what)
	}
	if grant.TxCode == nil {
		txCode = ""
	}
	if holderDID == "" {
		d, err := w.DefaultDID()
		if err != nil {
			return nil, err
		}
		holderDID = d.DID
	}
	signer, vm, err := w.Signer(holderDID)
	if err != nil {
		return nil, err
	}
	iss := strings.TrimRight(offer.CredentialIssuer, "/")
	var meta oid4vci.Metadata
	if err := w.getJSON(ctx, iss+"/.well-known/openid-credential-issuer", &meta); err != nil {
		return nil, fmt.Errorf("issuer metadata: %w", err)
	}
	var as oid4vci.AuthServerMetadata
	if err := w.getJSON(ctx, iss+"/.well-known/oauth-authorization-server", &as); err != nil {
		return nil, fmt.Errorf("authorization server metadata: %w", err)
	}
	form := url.Values{"grant_type": {oid4vci.GrantPreAuthorizedCode}, "pre-authorized_code": {grant.Code}}
	if txCode != "" {
		form.Set("tx_code", txCode)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := w.post(ctx, as.TokenEndpoint, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), "", &tok); err != nil {
		return nil, err
	}
	var out []Credential
	for _, id := range offer.ConfigurationIDs {
		var n struct {
			CNonce string `json:"c_nonce"`
		}
		if err := w.post(ctx, meta.NonceEndpoint, "", nil, "", &n); err != nil {
			return out, err
		}
		proof, err := proofJWT(signer, vm, offer.CredentialIssuer, n.CNonce, w.now().Unix())
		if err != nil {
			return out, err
		}
		body, _ := json.Marshal(map[string]any{"credential_configuration_id": id, "proofs": map[string]any{"jwt": []string{proof}}})
		var resp struct {
			Credentials []struct {
				Credential json.RawMessage `json:"credential"`
			} `json:"credentials"`
		}
		if err := w.post(ctx, meta.CredentialEndpoint, "application/json", bytes.NewReader(body), tok.AccessToken, &resp); err != nil {
			return out, fmt.Errorf("%s: %w", id, err)
		}
		for _, c := range resp.Credentials {
			cr, err := w.addCredential(c.Credential, holderDID)
			if err != nil {
				return out, fmt.Errorf("%s: the issuer's credential: %w", id, err)
			}
			out = append(out, cr)
		}
	}
	return out, nil
}

// readOffer parses an offer URI and fetches its offer when by reference.
func (w *Wallet) readOffer(ctx context.Context, uri string) (*oid4vci.CredentialOffer, error) {
	u, err := url.Parse(strings.TrimSpace(uri))
	if err != nil || u.Scheme != "openid-credential-offer" {
		return nil, errkind.New(errkind.Invalid, "%q is not an openid-credential-offer:// URI", uri)
	}
	q := u.Query()
	var offer oid4vci.CredentialOffer
	switch {
	case q.Get("credential_offer") != "":
		if err := json.Unmarshal([]byte(q.Get("credential_offer")), &offer); err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "the offer's credential_offer is not JSON")
		}
	case q.Get("credential_offer_uri") != "":
		if err := w.getJSON(ctx, q.Get("credential_offer_uri"), &offer); err != nil {
			return nil, fmt.Errorf("the offer: %w", err)
		}
	default:
		return nil, errkind.New(errkind.Invalid, "the offer URI has neither credential_offer nor credential_offer_uri")
	}
	if offer.CredentialIssuer == "" || len(offer.ConfigurationIDs) == 0 {
		return nil, errkind.New(errkind.Invalid, "the offer names no credential_issuer or no credential_configuration_ids")
	}
	return &offer, nil
}

// proofJWT signs an OpenID4VCI proof of possession: typ
// openid4vci-proof+jwt, kid the verification method, aud the credential
// issuer, iat and the c_nonce.
func proofJWT(signer crypto.Signer, kid, aud, nonce string, iat int64) (string, error) {
	alg, err := kms.AlgorithmOf(signer.Public())
	if err != nil {
		return "", err
	}
	hdr := jws.NewHeaders()
	for k, v := range map[string]any{jws.TypeKey: oid4vci.ProofType, jws.KeyIDKey: kid} {
		if err := hdr.Set(k, v); err != nil {
			return "", err
		}
	}
	payload, err := json.Marshal(map[string]any{"aud": aud, "iat": iat, "nonce": nonce})
	if err != nil {
		return "", err
	}
	b, err := jws.Sign(payload, jws.WithKey(jwa.SignatureAlgorithm(alg), signer, jws.WithProtectedHeaders(hdr)))
	return string(b), err
}

func (w *Wallet) getJSON(ctx context.Context, u string, v any) error {
	return getJSON(ctx, w.client(), u, v)
}

func getJSON(ctx context.Context, c Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return errkind.Wrap(errkind.Invalid, err, "GET %s", u)
	}
	return do(c, req, v)
}

func (w *Wallet) post(ctx context.Context, u, ctype string, body io.Reader, bearer string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, body)
	if err != nil {
		return errkind.Wrap(errkind.Invalid, err, "POST %s", u)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return do(w.client(), req, v)
}

// do sends req and decodes a 2xx answer into v; an error answer becomes
// an error saying what the OAuth error code means for the holder.
func do(c Client, req *http.Request, v any) error {
	resp, err := c.Do(req)
	if err != nil {
		return errkind.Wrap(errkind.Unavailable, err, "%s %s", req.Method, req.URL.Redacted())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode/100 != 2 {
		return oauthError(req, resp.StatusCode, b)
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errkind.Wrap(errkind.Invalid, err, "%s %s: the answer is not the JSON expected", req.Method, req.URL.Redacted())
	}
	return nil
}

// oauthError turns an error answer into an error for the holder.
func oauthError(req *http.Request, status int, body []byte) error {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		Detail      string `json:"detail"`
	}
	json.Unmarshal(body, &e)
	desc := e.Description
	if desc == "" {
		desc = e.Detail
	}
	if desc == "" {
		desc = strings.TrimSpace(string(body))
	}
	tokenCall := strings.HasSuffix(req.URL.Path, "/token")
	switch {
	case tokenCall && e.Error == oid4vci.ErrInvalidGrant && strings.HasPrefix(desc, "wrong transaction code"):
		return errkind.New(errkind.Unauthorized, "the transaction code is wrong (%s)", desc)
	case tokenCall && e.Error == oid4vci.ErrInvalidGrant:
		return errkind.New(errkind.Unauthorized, "the offer cannot be redeemed: %s", desc)
	case e.Error == oid4vci.ErrInvalidToken:
		return errkind.New(errkind.Unauthorized, "the issuer refused the access token: %s", desc)
	case e.Error == oid4vci.ErrInvalidProof || e.Error == oid4vci.ErrInvalidNonce:
		return errkind.New(errkind.Unauthorized, "the issuer refused the wallet's proof of possession (%s): %s", e.Error, desc)
	case e.Error == oid4vci.ErrCredentialRequestDenied:
		return errkind.New(errkind.Forbidden, "the issuer declined to issue: %s", desc)
	case e.Error != "":
		return errkind.New(errkind.Invalid, "%s %s: %d %s: %s", req.Method, req.URL.Redacted(), status, e.Error, desc)
	}
	return errkind.New(errkind.Invalid, "%s %s: %d %s", req.Method, req.URL.Redacted(), status, desc)
}
