package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/statuslist"
)

// GetStatusEntryAt answers whether an entry of one of this service's
// status lists was set at a time, from the status.update operations
// anchored on the chain, with the inclusion proof of the one in force.
func (s *Server) GetStatusEntryAt(c *gin.Context, listID string, rawIndex string, params GetStatusEntryAtParams) {
	ctx := c.Request.Context()
	index, err := strconv.Atoi(rawIndex)
	if err != nil || index < 0 || strconv.Itoa(index) != rawIndex {
		s.abortWithError(c, errkind.Field(errkind.Invalid, "index", "%q is not a status list index: want a decimal integer from 0, such as 94567", rawIndex))
		return
	}
	at := s.cfg.Clock().UTC()
	if params.At != nil {
		if at, err = time.Parse(time.RFC3339Nano, *params.At); err != nil {
			s.abortWithError(c, errkind.Field(errkind.Invalid, "at", "%q is not an RFC 3339 time such as 2026-03-01T10:00:00Z", *params.At))
			return
		}
	}
	if params.Purpose != nil {
		if err := statuslist.CheckPurpose(*params.Purpose); err != nil || *params.Purpose == "" {
			s.abortWithError(c, errkind.Field(errkind.Invalid, "purpose", "%q is not a status purpose: want revocation or suspension", *params.Purpose))
			return
		}
	}
	l, err := s.issuers.StatusList(ctx, listID)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	url, _ := l.Credential["id"].(string)
	subject, _ := l.Credential["credentialSubject"].(map[string]any)
	listPurpose, _ := subject["statusPurpose"].(string)
	encoded, _ := subject["encodedList"].(string)
	purpose := listPurpose
	if params.Purpose != nil && *params.Purpose != listPurpose {
		s.abortWithError(c, errkind.Field(errkind.Invalid, "purpose", "status list %s holds %s entries, not %s", listID, listPurpose, *params.Purpose))
		return
	}
	bits, err := statuslist.Decode(encoded)
	if err != nil {
		s.abortWithError(c, errkind.Wrap(errkind.Internal, err, "status list %s", listID))
		return
	}
	if index >= bits.Len() {
		s.abortWithError(c, errkind.Field(errkind.Invalid, "index", "%d is outside status list %s, which has %d entries", index, listID, bits.Len()))
		return
	}
	u, found, err := s.chain.StatusUpdateAt(ctx, url, index, purpose, at)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	body := StatusEntryAt{
		ListId: listID, List: url, Index: index, Purpose: StatusEntryAtPurpose(purpose), At: at, Value: found && u.Value,
	}
	if found {
		p, err := s.registry.Proof(ctx, u.OpHash)
		if err != nil {
			s.abortWithError(c, err)
			return
		}
		since, op, proof := u.Time, u.OpHash, proofBody(p)
		body.Since, body.Operation, body.Proof = &since, &op, &proof
	}
	c.JSON(http.StatusOK, body)
}
