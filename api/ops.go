package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/urbis-id/urbis/internal/errkind"
)

// GetHealthz answers while the process runs.
func (s *Server) GetHealthz(c *gin.Context) {
	c.JSON(http.StatusOK, Health{Status: "ok"})
}

// GetReadyz answers 200 when the database answers and is fully migrated
// and, on a validator, once it has caught up with the network.
func (s *Server) GetReadyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.ready.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "readiness: database unreachable", "err", err)
		s.notReady(c, "database unreachable")
		return
	}
	pending, err := s.ready.Pending(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "readiness: migration status unknown", "err", err)
		s.notReady(c, "migration status unknown")
		return
	}
	if pending > 0 {
		s.notReady(c, "migrations pending; run `urbis migrate up`")
		return
	}
	checks := map[string]string{"database": "ok", "migrations": "ok"}
	if s.sync != nil {
		if s.sync.CatchingUp() {
			s.notReady(c, "this validator is catching up with the network; it takes writes once it has")
			return
		}
		checks["consensus"] = "ok"
	}
	c.JSON(http.StatusOK, Health{Status: "ready", Checks: &checks})
}

func (s *Server) notReady(c *gin.Context, why string) {
	p := problemFor(c, s.log, errkind.New(errkind.Unavailable, "not ready: %s", why))
	p.Status = http.StatusServiceUnavailable
	p.Title = "Not ready"
	writeProblem(c, p)
}

// GetOpenAPI serves openapi.yaml.
func (s *Server) GetOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/yaml", s.spec)
}

// GetDocs serves the API reference page rendered from openapi.yaml.
func (s *Server) GetDocs(c *gin.Context) {
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	c.Data(http.StatusOK, "text/html; charset=utf-8", s.docsHTML)
}
