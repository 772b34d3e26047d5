package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/oid4vci"
)

// problemType is the prefix of the type URI of Urbis' own problems.
const problemType = "https://urbis.city/problems/"

// didErrorType is the prefix of the DID Resolution error type URIs.
const didErrorType = "https://www.w3.org/ns/did#"

// kindStatus is the one table that maps error kinds to HTTP.
var kindStatus = map[errkind.Kind]struct {
	status int
	title  string
}{
	errkind.Invalid:       {http.StatusBadRequest, "Invalid request"},
	errkind.Unprocessable: {http.StatusUnprocessableEntity, "Unprocessable content"},
	errkind.NotFound:      {http.StatusNotFound, "Not found"},
	errkind.Conflict:      {http.StatusConflict, "Conflict"},
	errkind.Unauthorized:  {http.StatusUnauthorized, "Unauthorized"},
	errkind.Forbidden:     {http.StatusForbidden, "Forbidden"},
	errkind.Unsupported:   {http.StatusNotImplemented, "Not supported"},
	errkind.NotAcceptable: {http.StatusNotAcceptable, "Not acceptable"},
	errkind.BadMediaType:  {http.StatusUnsupportedMediaType, "Unsupported media type"},
	errkind.Gone:          {http.StatusGone, "Gone"},
	errkind.TooLarge:      {http.StatusRequestEntityTooLarge, "Too large"},
	errkind.RateLimited:   {http.StatusTooManyRequests, "Too many requests"},
	errkind.Unavailable:   {http.StatusBadGateway, "Upstream unavailable"},
	errkind.Internal:      {http.StatusInternalServerError, "Internal error"},
}

// didErrorTitles names the DID Resolution error codes for humans.
var didErrorTitles = map[string]string{
	"INVALID_DID":                  "Invalid DID",
	"INVALID_DID_URL":              "Invalid DID URL",
	"NOT_FOUND":                    "DID not found",
	"METHOD_NOT_SUPPORTED":         "DID method not supported",
	"REPRESENTATION_NOT_SUPPORTED": "Representation not supported",
	"INVALID_OPTIONS":              "Invalid resolution options",
	"INTERNAL_ERROR":               "Resolution failed",
}

// didErrorAliases maps method-specific resolution codes (the did:key
// specification's) to the DID Resolution error they are a case of, for the
// problem type; kind, when set, limits the alias to errors of that kind.
var didErrorAliases = map[string]struct {
	code string
	kind errkind.Kind
}{
	"INVALID_PUBLIC_KEY_TYPE":     {"INVALID_DID", errkind.Invalid},
	"INVALID_PUBLIC_KEY_LENGTH":   {"INVALID_DID", errkind.Invalid},
	"INVALID_PUBLIC_KEY":          {"INVALID_DID", errkind.Invalid},
	"UNSUPPORTED_PUBLIC_KEY_TYPE": {"INVALID_OPTIONS", ""},
}

// oauthTitles names the OAuth 2.0 and OpenID4VCI error codes for humans;
// an error with one of these codes gets the members error and
// error_description besides the problem members.
var oauthTitles = map[string]string{
	oid4vci.ErrInvalidRequest:           "Invalid request",
	oid4vci.ErrInvalidGrant:             "Invalid grant",
	oid4vci.ErrUnsupportedGrantType:     "Unsupported grant type",
	oid4vci.ErrInvalidToken:             "Invalid access token",
	oid4vci.ErrInvalidCredentialRequest: "Invalid credential request",
	oid4vci.ErrUnknownConfiguration:     "Unknown credential configuration",
	oid4vci.ErrInvalidProof:             "Invalid proof",
	oid4vci.ErrInvalidNonce:             "Invalid nonce",
	oid4vci.ErrCredentialRequestDenied:  "Credential request denied",
}

// problemFor converts err into a problem body. Internal errors are logged
// with the request id and the client sees only "internal error".
func problemFor(c *gin.Context, log *slog.Logger, err error) Problem {
	kind := errkind.KindOf(err)
	st := kindStatus[kind]
	p := Problem{
		Type:   problemType + strings.ReplaceAll(string(kind), "_", "-"),
		Title:  st.title,
		Status: st.status,
	}
	if rid := requestID(c); rid != "" {
		p.RequestId = &rid
	}
	if kind == errkind.Internal {
		log.ErrorContext(c.Request.Context(), "internal error", "request_id", requestID(c), "route", c.FullPath(), "err", err)
		detail := "internal error; the request id identifies it in the server log"
		p.Detail = &detail
		return p
	}
	detail := err.Error()
	p.Detail = &detail
	var e *errkind.Error
	if errors.As(err, &e) {
		if e.Field != "" {
			f := e.Field
			p.Field = &f
		}
		if title, ok := oauthTitles[e.Code]; ok {
			// OAuth and OpenID4VCI errors keep problem+json and add the
			// OAuth members (RFC 9457 extension members).
			code := e.Code
			p.Type = problemType + "oauth/" + code
			p.Title = title
			p.Error = &code
			p.ErrorDescription = &detail
			return p
		}
		if e.Code != "" {
			// The precise code goes in the resolution metadata; the problem
			// type is the DID Resolution error it belongs to.
			code := e.Code
			if alias, ok := didErrorAliases[code]; ok && (alias.kind == "" || alias.kind == kind) {
				code = alias.code
			}
			if title, ok := didErrorTitles[code]; ok {
				p.Type = didErrorType + code
				p.Title = title
				meta := map[string]any{"error": e.Code, "errorMessage": detail}
				p.DidResolutionMetadata = &meta
			}
		}
	}
	return p
}

// abortWithError renders err as application/problem+json and stops the chain.
func (s *Server) abortWithError(c *gin.Context, err error) {
	writeProblem(c, problemFor(c, s.log, err))
}

func writeProblem(c *gin.Context, p Problem) {
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(p.Status, p)
}
