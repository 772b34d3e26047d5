package api

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/issuer"
)

// GetCredentialAnchor answers with the anchoring proof of one of the
// calling agency's credentials: 200 once anchored, 202 while pending.
func (s *Server) GetCredentialAnchor(c *gin.Context, rawID string) {
	a, ok := s.caller(c)
	if !ok {
		return
	}
	id, err := url.PathUnescape(rawID)
	if err != nil {
		s.abortWithError(c, errkind.Field(errkind.Invalid, "id", "is not validly percent-encoded: %v", err))
		return
	}
	st, err := s.issuers.AnchorProof(c.Request.Context(), a.ID, id)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	body := anchorBody(st)
	if st.Proof == nil {
		c.JSON(http.StatusAccepted, body)
		return
	}
	c.JSON(http.StatusOK, body)
}

func anchorBody(st issuer.AnchorState) CredentialAnchor {
	r := st.Record
	out := CredentialAnchor{Status: CredentialAnchorStatusPending, Leaf: r.Leaf, Issuer: r.IssuerDID, RecordedAt: r.CreatedAt}
	if r.CredentialID != "" {
		out.CredentialId = &r.CredentialID
	}
	p := st.Proof
	if p == nil {
		return out
	}
	op := p.Operation
	height := int64(op.Header.Height)
	path := nonNil(p.MerklePath)
	out.Status = CredentialAnchorStatusAnchored
	out.LeafIndex, out.BatchSize, out.MerklePath = &p.LeafIndex, &p.BatchSize, &path
	out.Root, out.OpHash, out.Height, out.Time = &p.Root, &op.Hash, &height, &op.Header.Time
	body := proofBody(op)
	out.Proof = &body
	return out
}
