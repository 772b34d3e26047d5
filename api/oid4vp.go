package api

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/verifiers/oid4vp"
)

// VPRequests is what the API needs of the OpenID4VP verifier service.
type VPRequests interface {
	Create(ctx context.Context, agencyID string, in oid4vp.CreateRequest) (*oid4vp.Created, error)
	Object(ctx context.Context, id string) (string, error)
	PendingURI(ctx context.Context, id string) (string, time.Time, error)
	Result(ctx context.Context, agencyID, id string) (oid4vp.Request, error)
	Respond(ctx context.Context, id string, in oid4vp.Response) (*oid4vp.Outcome, error)
}

// ListVPTemplates lists the request templates with an example query each.
func (s *Server) ListVPTemplates(c *gin.Context) {
	out := VPTemplateList{Templates: []VPTemplate{}}
	for _, t := range oid4vp.Templates {
		q, err := t.Build(t.Example)
		if err != nil {
			s.abortWithError(c, errkind.Wrap(errkind.Internal, err, "template %s", t.Name))
			return
		}
		tb := VPTemplate{Name: t.Name, Description: t.Description}
		if err := convert(q, &tb.Example); err != nil {
			s.abortWithError(c, err)
			return
		}
		for _, p := range t.Params {
			tb.Params = append(tb.Params, struct {
				Description string `json:"description"`
				Name        string `json:"name"`
				Required    bool   `json:"required"`
			}{p.Description, p.Name, p.Required})
		}
		out.Templates = append(out.Templates, tb)
	}
	c.JSON(http.StatusOK, out)
}

// CreateVPRequest creates a signed presentation request for the caller.
func (s *Server) CreateVPRequest(c *gin.Context) {
	a, ok := s.caller(c)
	if !ok {
		return
	}
	if s.vp == nil {
		s.abortWithError(c, errkind.New(errkind.Unsupported, "OpenID4VP is not configured on this server"))
		return
	}
	var req CreateVPRequest
	if err := decodeJSON(c, &req); err != nil {
		s.abortWithError(c, err)
		return
	}
	in := oid4vp.CreateRequest{DID: req.Did}
	if req.PresentationDefinition != nil {
		b, err := json.Marshal(*req.PresentationDefinition)
		if err != nil {
			s.abortWithError(c, errkind.Field(errkind.Invalid, "/presentationDefinition", "%v", err))
			return
		}
		in.Definition = b
	}
	if req.DcqlQuery != nil {
		b, err := json.Marshal(*req.DcqlQuery)
		if err != nil {
			s.abortWithError(c, errkind.Field(errkind.Invalid, "/dcqlQuery", "%v", err))
			return
		}
		in.Query = b
	}
	if req.Template != nil {
		in.Template = *req.Template
	}
	if req.Params != nil {
		in.Params = *req.Params
	}
	if req.WebhookUrl != nil {
		in.WebhookURL = *req.WebhookUrl
	}
	created, err := s.vp.Create(c.Request.Context(), a.ID, in)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	r := created.Request
	out := VPRequestCreated{Id: r.ID, ClientId: r.ClientID, RequestUri: created.RequestURI, Uri: created.URI, QrUrl: created.QRURL, ExpiresAt: r.ExpiresAt}
	if req.QrCode != nil && *req.QrCode {
		png, err := qrPNG(created.URI)
		if err != nil {
			s.abortWithError(c, err)
			return
		}
		out.QrPng = &png
	}
	if r.Definition != nil {
		if err := convert(r.Definition, &out.PresentationDefinition); err != nil {
			s.abortWithError(c, err)
			return
		}
	} else if err := convert(r.Query, &out.DcqlQuery); err != nil {
		s.abortWithError(c, err)
		return
	}
	c.Header("Location", "/verifier/requests/"+r.ID)
	c.PureJSON(http.StatusCreated, out) // the uri's & stays readable, not \u0026
}

// GetVPRequest returns the status and result of the caller's request.
func (s *Server) GetVPRequest(c *gin.Context, requestID VPRequestID) {
	a, ok := s.caller(c)
	if !ok {
		return
	}
	if s.vp == nil {
		s.abortWithError(c, errkind.New(errkind.NotFound, "presentation request %s not found", requestID))
		return
	}
	r, err := s.vp.Result(c.Request.Context(), a.ID, requestID)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	out := VPResult{Id: r.ID, Status: VPResultStatus(r.Status), Checks: []string{}, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt}
	out.Errors = []struct {
		Check  string  `json:"check"`
		Detail string  `json:"detail"`
		Query  *string `json:"query,omitempty"`
	}{}
	if o := r.Outcome; o != nil {
		out.Checks = append(out.Checks, o.Checks...)
		for _, f := range o.Errors {
			e := struct {
				Check  string  `json:"check"`
				Detail string  `json:"detail"`
				Query  *string `json:"query,omitempty"`
			}{Check: f.Check, Detail: f.Detail}
			if f.Query != "" {
				q := f.Query
				e.Query = &q
			}
			out.Errors = append(out.Errors, e)
		}
		if o.Claims != nil {
			var vc map[string][]VPPresented
			if err := convert(o.Claims, &vc); err != nil {
				s.abortWithError(c, err)
				return
			}
			out.VerifiedClaims = &vc
		}
		if o.ClaimsErased {
			t := true
			out.ClaimsErased = &t
		}
		if o.Webhook != "" {
			w := o.Webhook
			out.Webhook = &w
		}
		if !o.AnsweredAt.IsZero() {
			at := o.AnsweredAt
			out.AnsweredAt = &at
		}
	}
	c.JSON(http.StatusOK, out)
}

// GetVPRequestObject serves the signed request object (the request_uri).
func (s *Server) GetVPRequestObject(c *gin.Context, requestID VPRequestID) {
	if s.vp == nil {
		s.oauthError(c, errkind.New(errkind.NotFound, "no presentation request %s", requestID).WithCode(oid4vp.ErrInvalidRequestURI))
		return
	}
	obj, err := s.vp.Object(c.Request.Context(), requestID)
	if err != nil {
		s.oauthError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/oauth-authz-req+jwt", []byte(obj))
}

// GetVPRequestQR serves the openid4vp URI of a pending request as a QR
// code PNG, rendered when fetched.
func (s *Server) GetVPRequestQR(c *gin.Context, requestID VPRequestID) {
	if s.vp == nil {
		s.abortWithError(c, errkind.New(errkind.NotFound, "presentation request %s not found", requestID))
		return
	}
	uri, expires, err := s.vp.PendingURI(c.Request.Context(), requestID)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	s.serveQR(c, uri, expires)
}

// PostVPResponse receives a wallet's direct_post answer.
func (s *Server) PostVPResponse(c *gin.Context, requestID VPRequestID) {
	if s.vp == nil {
		s.oauthError(c, errkind.New(errkind.Invalid, "no presentation request %s", requestID).WithCode(oid4vp.ErrInvalidRequest))
		return
	}
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		s.abortWithError(c, errkind.New(errkind.BadMediaType, "Content-Type %q: send the response as application/x-www-form-urlencoded (response mode direct_post)", c.GetHeader("Content-Type")))
		return
	}
	if err := c.Request.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.abortWithError(c, errkind.New(errkind.TooLarge, "request body exceeds the limit of %d bytes", tooBig.Limit))
			return
		}
		s.oauthError(c, errkind.Wrap(errkind.Invalid, err, "the form does not parse").WithCode(oid4vp.ErrInvalidRequest))
		return
	}
	f := c.Request.PostForm
	for _, k := range []string{"vp_token", "presentation_submission", "state", "error", "error_description"} {
		if len(f[k]) > 1 {
			s.oauthError(c, errkind.Field(errkind.Invalid, k, "is given %d times; give it once", len(f[k])).WithCode(oid4vp.ErrInvalidRequest))
			return
		}
	}
	_, err = s.vp.Respond(c.Request.Context(), requestID, oid4vp.Response{
		VPToken: f.Get("vp_token"), PresentationSubmission: f.Get("presentation_submission"), State: f.Get("state"), Error: f.Get("error"), ErrorDescription: f.Get("error_description"),
	})
	if err != nil {
		s.oauthError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{})
}

// oauthError renders err as problem+json with the OAuth error members. A
// protocol error (one with an OAuth code) that is a refusal of the
// wallet's input is 400; an unknown or expired request_uri keeps its
// 404 or 410.
func (s *Server) oauthError(c *gin.Context, err error) {
	var e *errkind.Error
	if !errors.As(err, &e) || e.Code == "" {
		s.abortWithError(c, err)
		return
	}
	p := problemFor(c, s.log, err)
	if e.Code == oid4vp.ErrInvalidRequest {
		p.Status = http.StatusBadRequest
		p.Title = kindStatus[errkind.Invalid].title
	}
	desc := ""
	if p.Detail != nil {
		desc = *p.Detail
	}
	body := OAuthProblem{Type: problemType + "oauth/" + e.Code, Title: p.Title, Status: p.Status, Detail: p.Detail,
		Field: p.Field, RequestId: p.RequestId, Error: OAuthProblemError(e.Code), ErrorDescription: &desc}
	c.Header("Content-Type", "application/problem+json")
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(p.Status, body)
}

// convert copies src into dst through JSON.
func convert(src, dst any) error {
	b, err := json.Marshal(src)
	if err != nil {
		return errkind.Wrap(errkind.Internal, err, "encode")
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return errkind.Wrap(errkind.Internal, err, "decode")
	}
	return nil
}
