package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/oid4vci"
)

// OID4VCI is what the API needs of the OpenID4VCI issuer service.
type OID4VCI interface {
	Metadata(ctx context.Context) (*oid4vci.Metadata, error)
	AuthServerMetadata() oid4vci.AuthServerMetadata
	CreateOffer(ctx context.Context, agencyID string, req oid4vci.OfferRequest) (oid4vci.Created, error)
	Offer(ctx context.Context, ref string) (oid4vci.CredentialOffer, error)
	OfferLink(ctx context.Context, ref string) (string, time.Time, error)
	Token(ctx context.Context, req oid4vci.TokenRequest) (oid4vci.Token, error)
	Nonce() string
	Credential(ctx context.Context, accessToken string, req oid4vci.CredentialRequest) ([]any, error)
}

var _ OID4VCI = (*oid4vci.Service)(nil)

// oid4vciReady answers 501 when the server runs without OpenID4VCI.
func (s *Server) oid4vciReady(c *gin.Context) bool {
	if s.oid4vci == nil {
		s.abortWithError(c, errkind.New(errkind.Unsupported, "OpenID4VCI is not configured on this server"))
		return false
	}
	return true
}

// GetCredentialIssuerMetadata serves the credential issuer metadata.
func (s *Server) GetCredentialIssuerMetadata(c *gin.Context) {
	if !s.oid4vciReady(c) {
		return
	}
	m, err := s.oid4vci.Metadata(c.Request.Context())
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.JSON(http.StatusOK, m)
}

// GetAuthorizationServerMetadata serves the OAuth authorization server metadata.
func (s *Server) GetAuthorizationServerMetadata(c *gin.Context) {
	if !s.oid4vciReady(c) {
		return
	}
	c.JSON(http.StatusOK, s.oid4vci.AuthServerMetadata())
}

// createdOffer is the body of 201 to POST /oid4vci/offers.
type createdOffer struct {
	ID                 string                  `json:"id"`
	CredentialOffer    oid4vci.CredentialOffer `json:"credentialOffer"`
	CredentialOfferURI string                  `json:"credentialOfferUri"`
	OfferURI           string                  `json:"offerUri"`
	QRURL              string                  `json:"qrUrl"`
	TxCode             string                  `json:"txCode,omitempty"`
	ExpiresAt          time.Time               `json:"expiresAt"`
}

// CreateCredentialOffer makes a credential offer for the calling agency.
func (s *Server) CreateCredentialOffer(c *gin.Context) {
	if !s.oid4vciReady(c) {
		return
	}
	a, ok := s.caller(c)
	if !ok {
		return
	}
	var req CreateOfferRequest
	if err := decodeJSON(c, &req); err != nil {
		s.abortWithError(c, err)
		return
	}
	or := oid4vci.OfferRequest{Claims: req.CredentialSubject}
	if req.IssuerId != nil {
		or.IssuerID = *req.IssuerId
	}
	if req.CredentialConfigurationIds != nil {
		or.ConfigurationIDs = *req.CredentialConfigurationIds
	}
	if req.ExpiresIn != nil {
		if *req.ExpiresIn < 1 {
			s.abortWithError(c, errkind.Field(errkind.Invalid, "/expiresIn", "must be at least 1 second"))
			return
		}
		or.ExpiresIn = time.Duration(*req.ExpiresIn) * time.Second
	}
	if req.TxCode != nil {
		raw, _ := req.TxCode.MarshalJSON()
		switch t := strings.TrimSpace(string(raw)); t {
		case "true":
			or.TxCode = true
		case "false", "null":
		default:
			var opts TxCodeOptions
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&opts); err != nil {
				s.abortWithError(c, errkind.Field(errkind.Invalid, "/txCode", "must be true, false or an object with length (4 to 8) and description: %v", err))
				return
			}
			or.TxCode = true
			if opts.Length != nil {
				or.TxCodeLength = *opts.Length
			}
			if opts.Description != nil {
				or.TxCodeDescription = *opts.Description
			}
		}
	}
	out, err := s.oid4vci.CreateOffer(c.Request.Context(), a.ID, or)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, createdOffer{
		ID: out.Ref, CredentialOffer: out.Offer, CredentialOfferURI: out.OfferURI, OfferURI: out.URI,
		QRURL: out.OfferURI + "/qr.png", TxCode: out.TxCode, ExpiresAt: out.ExpiresAt,
	})
}

// GetCredentialOffer serves an offer by reference to the wallet.
func (s *Server) GetCredentialOffer(c *gin.Context, offerID OfferID) {
	if !s.oid4vciReady(c) {
		return
	}
	o, err := s.oid4vci.Offer(c.Request.Context(), offerID)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, o)
}

// GetCredentialOfferQR serves a PNG QR code of an offer's URI, rendered
// when fetched.
func (s *Server) GetCredentialOfferQR(c *gin.Context, offerID OfferID) {
	if !s.oid4vciReady(c) {
		return
	}
	link, expires, err := s.oid4vci.OfferLink(c.Request.Context(), offerID)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	s.serveQR(c, link, expires)
}

// Oid4vciToken is the token endpoint of the pre-authorized code grant.
func (s *Server) Oid4vciToken(c *gin.Context) {
	if !s.oid4vciReady(c) {
		return
	}
	c.Header("Cache-Control", "no-store")
	form, err := readForm(c)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	for k, v := range form {
		if len(v) > 1 {
			s.abortWithError(c, errkind.New(errkind.Invalid, "parameter %s is repeated", k).WithCode(oid4vci.ErrInvalidRequest))
			return
		}
	}
	tok, err := s.oid4vci.Token(c.Request.Context(), oid4vci.TokenRequest{
		GrantType: form.Get("grant_type"), Code: form.Get("pre-authorized_code"), TxCode: form.Get("tx_code"),
	})
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.Header("Pragma", "no-cache")
	c.JSON(http.StatusOK, TokenResponse{AccessToken: tok.AccessToken, TokenType: "Bearer", ExpiresIn: tok.ExpiresIn})
}

// readForm reads an application/x-www-form-urlencoded body.
func readForm(c *gin.Context) (url.Values, error) {
	ct := c.GetHeader("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, errkind.New(errkind.BadMediaType, "Content-Type %q is not supported; send the parameters as application/x-www-form-urlencoded", ct)
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errkind.New(errkind.TooLarge, "request body exceeds the limit of %d bytes", tooBig.Limit)
		}
		return nil, errkind.Wrap(errkind.Invalid, err, "reading request body")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errkind.New(errkind.Invalid, "malformed form body: %v", err).WithCode(oid4vci.ErrInvalidRequest)
	}
	return form, nil
}

// Oid4vciNonce is the nonce endpoint.
func (s *Server) Oid4vciNonce(c *gin.Context) {
	if !s.oid4vciReady(c) {
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, NonceResponse{CNonce: s.oid4vci.Nonce()})
}

// credentialRequest is the body of the credential endpoint; decoded
// strictly, so a member Urbis does not know is an error.
type credentialRequest struct {
	ConfigurationID      string              `json:"credential_configuration_id"`
	CredentialIdentifier string              `json:"credential_identifier"`
	Proofs               map[string][]string `json:"proofs"`
	Proof                json.RawMessage     `json:"proof"`
}

type issuedCredential struct {
	Credential any `json:"credential"`
}

// Oid4vciCredential is the credential endpoint.
func (s *Server) Oid4vciCredential(c *gin.Context) {
	if !s.oid4vciReady(c) {
		return
	}
	c.Header("Cache-Control", "no-store")
	token := ""
	if scheme, v, ok := strings.Cut(c.GetHeader("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		token = strings.TrimSpace(v)
	}
	var req credentialRequest
	if token != "" {
		if err := decodeJSON(c, &req); err != nil {
			if k := errkind.KindOf(err); k == errkind.Invalid {
				err = errkind.New(errkind.Invalid, "%s", err.Error()).WithCode(oid4vci.ErrInvalidCredentialRequest)
			}
			s.abortWithError(c, err)
			return
		}
	}
	creds, err := s.oid4vci.Credential(c.Request.Context(), token, oid4vci.CredentialRequest{
		ConfigurationID: req.ConfigurationID, CredentialIdentifier: req.CredentialIdentifier,
		Proofs: req.Proofs, SingleProof: len(req.Proof) > 0,
	})
	if err != nil {
		var e *errkind.Error
		if errors.As(err, &e) && e.Code == oid4vci.ErrInvalidToken {
			c.Header("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		s.abortWithError(c, err)
		return
	}
	out := make([]issuedCredential, 0, len(creds))
	for _, cr := range creds {
		out = append(out, issuedCredential{Credential: cr})
	}
	c.JSON(http.StatusOK, gin.H{"credentials": out})
}
