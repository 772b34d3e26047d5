package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/statuslist"
)

// statusListMaxAge is how long a status list may be cached, in seconds.
const statusListMaxAge = 60

// UpdateCredentialStatus revokes, suspends or reinstates a credential of
// the calling agency (VC-API POST /credentials/status).
func (s *Server) UpdateCredentialStatus(c *gin.Context) {
	a, ok := s.caller(c)
	if !ok {
		return
	}
	var req UpdateCredentialStatusRequest
	if err := decodeJSON(c, &req); err != nil {
		s.abortWithError(c, err)
		return
	}
	if len(req.CredentialStatus) != 1 {
		s.abortWithError(c, errkind.Field(errkind.Invalid, "/credentialStatus", "has %d entries; want one", len(req.CredentialStatus)))
		return
	}
	switch t := string(req.CredentialStatus[0].Type); t {
	case statuslist.TypeEntry, statuslist.TypeListCredential:
	default:
		s.abortWithError(c, errkind.Field(errkind.Invalid, "/credentialStatus/0/type", "%q; want %s", t, statuslist.TypeEntry))
		return
	}
	reason := ""
	if req.Reason != nil {
		reason = *req.Reason
	}
	err := s.issuers.SetStatusReason(c.Request.Context(), a.ID, req.CredentialId, string(req.CredentialStatus[0].Status), reason)
	if err != nil {
		s.abortWithError(c, bodyPointer(err))
		return
	}
	c.Status(http.StatusOK)
}

// GetStatusList serves a signed status list credential, or, when the
// request accepts application/statuslist+jwt, the list's Status List
// Token.
func (s *Server) GetStatusList(c *gin.Context, listID string, params GetStatusListParams) {
	c.Header("Vary", "Accept")
	if params.Accept != nil && strings.Contains(*params.Accept, statuslist.TokenMediaType) {
		tok, version, err := s.issuers.StatusListToken(c.Request.Context(), listID)
		if err != nil {
			s.abortWithError(c, err)
			return
		}
		if notModified(c, `"`+strconv.FormatUint(version, 10)+`-jwt"`, params.IfNoneMatch) {
			return
		}
		c.Data(http.StatusOK, statuslist.TokenMediaType, []byte(tok))
		return
	}
	l, err := s.issuers.StatusList(c.Request.Context(), listID)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	if notModified(c, `"`+strconv.FormatUint(l.Version, 10)+`"`, params.IfNoneMatch) {
		return
	}
	c.Data(http.StatusOK, "application/vc+ld+json", l.JSON)
}

// notModified sets the caching headers of a status list and answers 304
// when ifNoneMatch is etag.
func notModified(c *gin.Context, etag string, ifNoneMatch *string) bool {
	c.Header("ETag", etag)
	c.Header("Cache-Control", "public, max-age="+strconv.Itoa(statusListMaxAge))
	if ifNoneMatch != nil && *ifNoneMatch == etag {
		c.Status(http.StatusNotModified)
		return true
	}
	return false
}
