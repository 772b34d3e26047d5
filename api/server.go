// Package api is the HTTP transport of Urbis: gin handlers for the routes
// generated from openapi.yaml, authentication, rate limiting, metrics and
// problem+json errors. It holds no business logic; handlers decode,
// validate, call a domain service and render.
package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/agency"
	"github.com/urbis-id/urbis/registry"
)

// Agencies is what the API needs of the agency service.
type Agencies interface {
	Authenticate(ctx context.Context, apiKey string) (agency.Agency, error)
	CreateDID(ctx context.Context, agencyID, method, keyType string) (agency.DIDRecord, error)
	ListDIDs(ctx context.Context, agencyID string) ([]agency.DIDRecord, error)
	DID(ctx context.Context, agencyID, id string) (agency.DIDRecord, error)
	// RegisterSchema registers a credential schema signed by one of the
	// agency's DIDs and returns it once committed.
	RegisterSchema(ctx context.Context, agencyID, did, typ string, schema json.RawMessage) (registry.Schema, error)
	RotateDIDWith(ctx context.Context, agencyID, id string, opts agency.RotateOptions) (agency.DIDRecord, error)
}

// Resolver is what the API needs of the DID resolver. ResolveEncoded also
// returns the JSON encoding, which the resolver makes once per cached result.
type Resolver interface {
	Resolve(ctx context.Context, did string, opts did.ResolveOptions) (*did.Resolution, error)
	ResolveEncoded(ctx context.Context, did string, opts did.ResolveOptions, bare bool) (*did.Resolution, []byte, error)
}

// Readiness reports whether the database answers and is fully migrated.
type Readiness interface {
	Ping(ctx context.Context) error
	Pending(ctx context.Context) (int, error)
}

// Syncing reports whether the registry engine is still catching up with
// the network (a validator fetching blocks it missed); it takes no
// writes until it has.
type Syncing interface {
	CatchingUp() bool
}

// CacheStats reports resolver cache hits and misses for the metrics.
type CacheStats interface {
	Stats() (hits, misses uint64)
}

// Config holds the transport settings.
type Config struct {
	// MaxBodyBytes limits request bodies; larger ones get 413.
	MaxBodyBytes int64
	// RateLimit is the sustained requests per second one client may make
	// to public endpoints; 0 turns rate limiting off.
	RateLimit float64
	// RateBurst is the burst a client may make above RateLimit.
	RateBurst int
	// Version is reported in logs and metrics.
	Version string
	// ChainID is the registry's chain id, reported before the first block.
	ChainID string
	// Clock gives the time of requests that ask about "now" (time.Now if nil).
	Clock func() time.Time
}

// Server implements the generated ServerInterface.
type Server struct {
	cfg      Config
	agencies Agencies
	resolver Resolver
	registry Registry
	chain    Chain
	issuers  Issuers
	verifier Verifier
	oid4vci  OID4VCI
	vp       VPRequests
	currency Currencies
	energy   Energy
	ready    Readiness
	sync     Syncing
	log      *slog.Logger
	metrics  *metrics
	limiter  *limiter
	docsHTML []byte
	spec     []byte
	// secured holds "METHOD /gin/:route" for each operation openapi.yaml
	// secures with bearerAuth.
	secured map[string]bool
	// The civic programs; nil answers their routes 501.
	land       Land
	provenance Provenance

	// elections is the elections program; nil answers its routes 501.
	elections Elections
}

var _ ServerInterface = (*Server)(nil)

// Deps are the services the API calls.
type Deps struct {
	Agencies Agencies
	Resolver Resolver
	Registry Registry
	Chain    Chain
	Issuers  Issuers
	Verifier Verifier
	OID4VCI  OID4VCI // nil: the OpenID4VCI routes answer 501
	Ready    Readiness
	Sync     Syncing    // may be nil: the engine is never behind (the solo engine)
	Cache    CacheStats // may be nil
	Logger   *slog.Logger
	Spec     []byte // openapi.yaml
	// VPRequests is the OpenID4VP verifier; nil answers its routes 501/404.
	VPRequests VPRequests
	Land       Land       // the land program; nil answers its routes 501
	Provenance Provenance // the provenance program; nil answers its route 501
	// Currency is the city currency; nil answers its routes 501.
	Currency Currencies
	// Energy is energy trading; nil answers its routes 501.
	Energy Energy

	// Elections is the elections program; nil answers its routes 501.
	Elections Elections
}

// NewServer returns a Server. Call Handler to get its http.Handler.
func NewServer(cfg Config, deps Deps) (*Server, error) {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	docs, secured, err := readSpec(deps.Spec)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		agencies: deps.Agencies,
		resolver: deps.Resolver,
		registry: deps.Registry,
		chain:    deps.Chain,
		issuers:  deps.Issuers,
		verifier: deps.Verifier,
		oid4vci:  deps.OID4VCI,
		vp:       deps.VPRequests,
		currency: deps.Currency,
		energy:   deps.Energy,
		ready:    deps.Ready,
		sync:     deps.Sync,
		log:      log,
		metrics:  newMetrics(deps.Cache),
		limiter:  newLimiter(cfg.RateLimit, cfg.RateBurst, time.Now),
		docsHTML: docs,
		secured:  secured,
		spec:     deps.Spec,
	}
	s.land, s.provenance = deps.Land, deps.Provenance
	s.elections = deps.Elections
	return s, nil
}

// Registry is the Prometheus registry behind /metrics.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.registry }

// Handler returns the HTTP handler with every route of openapi.yaml.
func (s *Server) Handler() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// DIDs carry percent-encoded characters (did:web ports are %3A) that
	// must reach the handler as sent.
	r.UseRawPath = true
	r.UnescapePathValues = false
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.HandleMethodNotAllowed = true
	r.Use(s.withRequestID, s.withLogging, s.withRecovery, s.withMetrics, s.withBodyLimit)
	r.NoRoute(func(c *gin.Context) {
		s.abortWithError(c, notFoundRoute(c))
	})
	r.NoMethod(s.methodNotAllowed)
	RegisterHandlersWithOptions(r, s, GinServerOptions{
		Middlewares:  []MiddlewareFunc{s.withAuthOrRateLimit},
		ErrorHandler: s.paramError,
	})
	return r
}
