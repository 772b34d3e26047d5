package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/vc/bbs"
	"github.com/urbis-id/urbis/vc/ld"
)

// DeriveCredential derives from a BBS+ credential one that discloses only
// the claims of a JSON-LD frame (W3C VC-API holder derive).
func (s *Server) DeriveCredential(c *gin.Context) {
	var req DeriveCredentialRequest
	if err := decodeJSON(c, &req); err != nil {
		s.abortWithError(c, err)
		return
	}
	var nonce []byte
	if req.Options != nil && req.Options.Nonce != nil {
		nonce = []byte(*req.Options.Nonce)
	}
	keys := bbs.DIDKeyResolver(s.resolver, did.AssertionMethod)
	out, err := bbs.Derive(c.Request.Context(), req.VerifiableCredential, req.Frame, nonce, keys, ld.Default())
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.JSON(http.StatusCreated, DeriveCredentialResponse{VerifiableCredential: out})
}
