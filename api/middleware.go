package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/urbis-id/urbis/internal/agency"
	"github.com/urbis-id/urbis/internal/errkind"
)

const (
	ctxRequestID = "urbis.request_id"
	ctxAgency    = "urbis.agency"
)

// withRequestID takes the client's X-Request-Id when it is sane, or makes one.
func (s *Server) withRequestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if len(id) == 0 || len(id) > 64 || strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(ctxRequestID, id)
	c.Header("X-Request-Id", id)
	c.Next()
}

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// routeOf names the route template of the request for logs and metrics;
// requests that match no route share one name, so paths never become labels.
func routeOf(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

// withLogging writes one structured line per request. It never logs
// headers or bodies, so API keys and personal data stay out of the log.
func (s *Server) withLogging(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := routeOf(c)
	level := slog.LevelInfo
	if c.Writer.Status() >= 500 {
		level = slog.LevelError
	}
	s.log.LogAttrs(c.Request.Context(), level, "request",
		slog.String("request_id", requestID(c)),
		slog.String("method", c.Request.Method),
		slog.String("route", route),
		slog.Int("status", c.Writer.Status()),
		slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
		slog.Int("bytes", c.Writer.Size()),
	)
}

// withRecovery turns a panic into a logged internal error.
func (s *Server) withRecovery(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.abortWithError(c, errkind.New(errkind.Internal, "panic: %v", v))
		}
	}()
	c.Next()
}

// withBodyLimit caps request bodies at cfg.MaxBodyBytes.
func (s *Server) withBodyLimit(c *gin.Context) {
	if c.Request.ContentLength > s.cfg.MaxBodyBytes {
		s.abortWithError(c, errkind.New(errkind.TooLarge, "request body of %d bytes exceeds the limit of %d bytes", c.Request.ContentLength, s.cfg.MaxBodyBytes))
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBodyBytes)
	c.Next()
}

// withAuthOrRateLimit runs inside each generated route. Routes that
// openapi.yaml secures need an agency API key; the others are public and
// rate limited per client address, except the health probes.
func (s *Server) withAuthOrRateLimit(c *gin.Context) {
	if s.secured[c.Request.Method+" "+c.FullPath()] {
		s.authenticate(c)
		return
	}
	switch c.FullPath() {
	case "/healthz", "/readyz", "/metrics":
		return
	}
	if wait, ok := s.limiter.allow(c.ClientIP()); !ok {
		c.Header("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		s.abortWithError(c, errkind.New(errkind.RateLimited, "rate limit of %g requests per second exceeded; retry after %s", s.cfg.RateLimit, wait.Round(time.Millisecond)))
	}
}

func (s *Server) authenticate(c *gin.Context) {
	h := c.GetHeader("Authorization")
	scheme, key, ok := strings.Cut(h, " ")
	if h == "" {
		c.Header("WWW-Authenticate", `Bearer realm="urbis"`)
		s.abortWithError(c, errkind.New(errkind.Unauthorized, "missing Authorization header; send \"Authorization: Bearer <api key>\" with the key printed by `urbis agency create`"))
		return
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
		c.Header("WWW-Authenticate", `Bearer realm="urbis", error="invalid_request"`)
		s.abortWithError(c, errkind.New(errkind.Unauthorized, "malformed Authorization header; expected \"Bearer <api key>\""))
		return
	}
	a, err := s.agencies.Authenticate(c.Request.Context(), strings.TrimSpace(key))
	if err != nil {
		c.Header("WWW-Authenticate", `Bearer realm="urbis", error="invalid_token"`)
		s.abortWithError(c, err)
		return
	}
	c.Set(ctxAgency, a)
}

// caller returns the agency authenticated for this request. If there is
// none (a route openapi.yaml forgot to secure), it answers 401 and
// reports false, so no handler ever acts for an unknown agency.
func (s *Server) caller(c *gin.Context) (agency.Agency, bool) {
	a, _ := c.Get(ctxAgency)
	ag, ok := a.(agency.Agency)
	if !ok || ag.ID == "" {
		s.abortWithError(c, errkind.New(errkind.Unauthorized, "this endpoint needs an agency API key"))
		return agency.Agency{}, false
	}
	return ag, true
}

// paramError renders parameter binding failures from the generated code.
func (s *Server) paramError(c *gin.Context, err error, status int) {
	kind := errkind.Invalid
	if status != http.StatusBadRequest {
		kind = errkind.KindOf(err)
	}
	s.abortWithError(c, errkind.Wrap(kind, err, "bad parameter"))
}

func notFoundRoute(c *gin.Context) error {
	return errkind.New(errkind.NotFound, "no route %s %s; see /docs for the API", c.Request.Method, c.Request.URL.Path)
}

// methodNotAllowed answers 405 for a known route with another method.
func (s *Server) methodNotAllowed(c *gin.Context) {
	detail := fmt.Sprintf("method %s is not allowed on %s; see /docs for the API", c.Request.Method, c.Request.URL.Path)
	rid := requestID(c)
	writeProblem(c, Problem{
		Type:      problemType + "method-not-allowed",
		Title:     "Method not allowed",
		Status:    http.StatusMethodNotAllowed,
		Detail:    &detail,
		RequestId: &rid,
	})
}
