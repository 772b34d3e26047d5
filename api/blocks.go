package api

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// listBlocksMax bounds GET /registry/blocks' limit.
const listBlocksMax = 100

// ListBlocks answers with the latest blocks' headers, newest first.
func (s *Server) ListBlocks(c *gin.Context, params ListBlocksParams) {
	limit := 10
	if params.Limit != nil {
		limit = *params.Limit
	}
	if limit < 1 || limit > listBlocksMax {
		s.abortWithError(c, errkind.Field(errkind.Invalid, "limit", "limit must be from 1 to %d, not %d", listBlocksMax, limit))
		return
	}
	if params.Before != nil && *params.Before < 1 {
		s.abortWithError(c, errkind.Field(errkind.Invalid, "before", "block heights start at 1, not %d", *params.Before))
		return
	}
	ctx := c.Request.Context()
	out := BlockList{Chain: s.cfg.ChainID, Items: []BlockSummary{}}
	head, err := s.chain.Head(ctx)
	if errors.Is(err, errkind.NotFound) {
		c.JSON(http.StatusOK, out)
		return
	}
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	out.Chain, out.Height = head.Chain, int64(head.Height)
	top := head.Height
	if params.Before != nil && uint64(*params.Before) <= top {
		top = uint64(*params.Before) - 1
	}
	for h := top; h >= 1 && len(out.Items) < limit; h-- {
		var hdr registry.Header
		if h == head.Height {
			hdr = head
		} else {
			b, err := s.chain.Block(ctx, h)
			if err != nil {
				s.abortWithError(c, err)
				return
			}
			hdr = b.Header
		}
		out.Items = append(out.Items, BlockSummary{Hash: hdr.Hash(), Header: headerBody(hdr)})
	}
	c.JSON(http.StatusOK, out)
}
