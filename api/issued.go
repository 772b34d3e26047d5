package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/issuer"
)

// ListCredentials searches the calling agency's issued credentials that
// have status entries (GET /credentials).
func (s *Server) ListCredentials(c *gin.Context, params ListCredentialsParams) {
	a, ok := s.caller(c)
	if !ok {
		return
	}
	var f issuer.CredentialSearch
	if params.Q != nil {
		f.IDContains = *params.Q
	}
	if params.IssuerId != nil {
		f.IssuerID = *params.IssuerId
	}
	if params.Limit != nil {
		if *params.Limit < 1 || *params.Limit > issuer.MaxSearchLimit {
			s.abortWithError(c, errkind.Field(errkind.Invalid, "limit", "%d: want 1 to %d", *params.Limit, issuer.MaxSearchLimit))
			return
		}
		f.Limit = *params.Limit
	}
	if len(f.IDContains) > 200 {
		s.abortWithError(c, errkind.Field(errkind.Invalid, "q", "is %d bytes long; at most 200", len(f.IDContains)))
		return
	}
	if len(f.IssuerID) > 100 {
		s.abortWithError(c, errkind.Field(errkind.Invalid, "issuerId", "is %d bytes long; at most 100", len(f.IssuerID)))
		return
	}
	list, err := s.issuers.Credentials(c.Request.Context(), a.ID, f)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	items := make([]IssuedCredential, 0, len(list))
	for _, ic := range list {
		purposes := make([]IssuedCredentialStatusPurposes, 0, len(ic.Purposes))
		for _, p := range ic.Purposes {
			purposes = append(purposes, IssuedCredentialStatusPurposes(p))
		}
		it := IssuedCredential{Id: ic.ID, IssuerId: ic.IssuerID, IssuedAt: ic.IssuedAt.UTC(),
			StatusPurposes: purposes, Status: IssuedCredentialStatus(ic.Status)}
		if ic.Reason != "" {
			r := ic.Reason
			it.Reason = &r
		}
		if !ic.StatusChangedAt.IsZero() {
			t := ic.StatusChangedAt.UTC()
			it.StatusChangedAt = &t
		}
		items = append(items, it)
	}
	c.JSON(http.StatusOK, IssuedCredentialList{Items: items})
}

// ListSchemas answers the schemas registered on chain for a type.
func (s *Server) ListSchemas(c *gin.Context, params ListSchemasParams) {
	if params.Type == "" || len(params.Type) > 200 {
		s.abortWithError(c, errkind.Field(errkind.Invalid, "type", "must be 1 to 200 bytes long"))
		return
	}
	list, err := s.chain.SchemasByType(c.Request.Context(), params.Type)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	items := make([]Schema, 0, len(list))
	for _, sc := range list {
		b, err := schemaBody(sc)
		if err != nil {
			s.abortWithError(c, err)
			return
		}
		items = append(items, b)
	}
	c.JSON(http.StatusOK, SchemaList{Items: items})
}
