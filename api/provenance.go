package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/urbis-id/urbis/civic/provenance"
	"github.com/urbis-id/urbis/internal/errkind"
)

// Provenance is what the API needs of the provenance program
// (provenance.Service).
type Provenance interface {
	Verify(ctx context.Context, creds []any, leaf string) (provenance.Report, error)
}

// VerifyProvenance verifies a chain of provenance attestations: 200 when
// every link passes, 422 naming the failing links otherwise.
func (s *Server) VerifyProvenance(c *gin.Context) {
	var req VerifyProvenanceRequest
	if err := decodeJSON(c, &req); err != nil {
		s.abortWithError(c, err)
		return
	}
	if s.provenance == nil {
		s.abortWithError(c, errkind.New(errkind.Unsupported, "this server runs no provenance program"))
		return
	}
	rep, err := s.provenance.Verify(c.Request.Context(), req.Credentials, deref(req.Leaf))
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	out := ProvenanceReport{Verified: rep.Verified, Leaf: rep.Leaf, Links: make([]ProvenanceLink, len(rep.Links))}
	for i, l := range rep.Links {
		pl := ProvenanceLink{Index: l.Index, Hash: l.Hash, Verified: l.Verified, Checks: nonNil(l.Checks),
			Parents: nonNil(l.Parents), Errors: make([]ProvenanceFinding, len(l.Errors))}
		for j, f := range l.Errors {
			pl.Errors[j] = ProvenanceFinding{Check: f.Check, Detail: f.Detail}
		}
		for _, kv := range []struct {
			dst **string
			v   string
		}{{&pl.Format, l.Format}, {&pl.Issuer, l.Issuer}, {&pl.AttestationType, l.AttestationType}, {&pl.Batch, l.Batch}} {
			if kv.v != "" {
				v := kv.v
				*kv.dst = &v
			}
		}
		if !l.Issued.IsZero() {
			t := l.Issued
			pl.Issued = &t
		}
		out.Links[i] = pl
	}
	status := http.StatusOK
	if !rep.Verified {
		status = http.StatusUnprocessableEntity
	}
	c.JSON(status, out)
}
