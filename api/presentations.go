package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/urbis-id/urbis/verifiers"
)

// VerifyPresentation verifies a presentation and the credentials in it.
func (s *Server) VerifyPresentation(c *gin.Context) {
	var req VerifyPresentationRequest
	if err := decodeJSON(c, &req); err != nil {
		s.abortWithError(c, err)
		return
	}
	var opts verifiers.PresentationOptions
	if o := req.Options; o != nil {
		if o.Challenge != nil {
			opts.Challenge = *o.Challenge
		}
		if o.Domain != nil {
			opts.Domain = *o.Domain
		}
	}
	res, err := s.verifier.VerifyPresentation(c.Request.Context(), req.VerifiablePresentation, opts)
	if err != nil {
		s.abortWithError(c, fieldUnder(err, "/verifiablePresentation"))
		return
	}
	body := PresentationVerificationResult{
		Verified:    res.Verified,
		Checks:      append([]string{}, res.Checks...),
		Warnings:    findings(res.Warnings, "Warning"),
		Errors:      findings(res.Errors, "Check failed"),
		Credentials: make([]VerificationResult, 0, len(res.Credentials)),
	}
	if res.Format != "" {
		f := PresentationVerificationResultFormat(res.Format)
		body.Format = &f
	}
	for _, cr := range res.Credentials {
		body.Credentials = append(body.Credentials, verificationBody(cr))
	}
	status := http.StatusOK
	if !res.Verified {
		status = http.StatusUnprocessableEntity
	}
	c.JSON(status, body)
}
