package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	urbis "github.com/urbis-id/urbis"
	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/civic"
	"github.com/urbis-id/urbis/civic/currency"
	"github.com/urbis-id/urbis/civic/energy"
	"github.com/urbis-id/urbis/civic/land"
	"github.com/urbis-id/urbis/civic/provenance"
	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/chainop"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/kms"
	"github.com/urbis-id/urbis/registry"
	"github.com/urbis-id/urbis/vc/issuer"
	"github.com/urbis-id/urbis/vc/oid4vci"
	"github.com/urbis-id/urbis/vc/statuslist"
	"github.com/urbis-id/urbis/verifiers"
	"github.com/urbis-id/urbis/verifiers/oid4vp"
	"github.com/urbis-id/urbis/web"
)

func (p *program) serveCommand() *cobra.Command {
	var cfg config
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Urbis service",
		Long: `Run the Urbis service. With no flags it keeps its data in ./data (SQLite in
WAL mode, a master key file with mode 0600) and listens on 127.0.0.1:8080.
On first start it creates the data directory, the database, the schema and
the master key, and logs each.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := p.loadConfig(cmd, &cfg, true); err != nil {
				return err
			}
			return p.serve(cmd.Context(), &cfg)
		},
	}
	cfg.bindStorage(cmd.Flags())
	cfg.bindServe(cmd.Flags())
	return cmd
}

// serve runs the service until ctx ends, then shuts down gracefully: it
// stops accepting, lets in-flight requests finish, and closes the database.
func (p *program) serve(ctx context.Context, cfg *config) error {
	log := p.logger(cfg)
	a, err := p.openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()

	genesis, validatorKey, err := loadChain(cfg.DataDir, log)
	if err != nil {
		return err
	}
	if head, err := a.db.Head(ctx); err == nil && head.Chain != genesis.ChainID {
		return fmt.Errorf("the database holds chain %q but %s is for chain %q; use the data directory that belongs to this database", head.Chain, filesIn(cfg.DataDir).Genesis, genesis.ChainID)
	}
	engine, err := registry.NewSolo(registry.SoloConfig{
		Store:        a.db,
		Genesis:      genesis,
		ValidatorID:  genesis.Validators[0].ID,
		ValidatorKey: validatorKey,
		Interval:     cfg.BlockInterval,
		MaxOps:       cfg.MaxBlockOps,
		Clock:        time.Now,
		Logger:       log,
		Programs:     civic.Programs(),
	})
	if err != nil {
		return err
	}
	// The engine outlives the HTTP server: requests waiting for a block
	// still get it during shutdown; then it commits what is pending.
	engineCtx, cancelEngine := context.WithCancel(context.WithoutCancel(ctx))
	var engineErr error
	engineStopped := make(chan struct{})
	go func() { engineErr = engine.Run(engineCtx); close(engineStopped) }()
	// The stop function stops the engine and waits for it; it runs
	// (again, at no cost) before the database closes on every return path.
	return p.serveAPI(ctx, cfg, log, a, genesis, runningEngine{
		registryEngine: engine,
		stopped:        engineStopped,
		stop: func() error {
			cancelEngine()
			<-engineStopped
			return engineErr
		},
	})
}

// registryEngine is the registry engine the service runs on: the solo
// engine (urbis serve) or a CometBFT validator's (urbis node start).
type registryEngine interface {
	Submit(ctx context.Context, compact string) (registry.OpStatus, error)
	Wait(ctx context.Context, hash string) (registry.OpStatus, error)
	Status(ctx context.Context, hash string) (registry.OpStatus, error)
	Proof(ctx context.Context, hash string) (registry.Proof, error)
}

// syncOf returns the engine's catching-up report, or nil for an engine
// that is never behind (the solo engine).
func syncOf(e registryEngine) api.Syncing {
	if s, ok := e.(api.Syncing); ok {
		return s
	}
	return nil
}

// runningEngine is an engine running in the background: stopped is
// closed when it stops, by itself or through stop, which stops it, waits
// for it and returns why it stopped (it may be called again, at no cost).
type runningEngine struct {
	registryEngine
	stopped <-chan struct{}
	stop    func() error
}

// serveAPI runs the REST API over a running engine until ctx ends or the
// engine stops, then shuts down gracefully: it stops accepting, lets
// in-flight requests finish, and stops the engine after them.
func (p *program) serveAPI(ctx context.Context, cfg *config, log *slog.Logger, a *app, genesis *registry.Genesis, eng runningEngine) error {
	engine, stopEngine := eng.registryEngine, eng.stop
	defer stopEngine()
	chain := chainAccess{engine: engine, db: a.db, chainID: genesis.ChainID}
	a.agencies.UseRegistry(chain)
	a.agencies.UseChainState(genesis, a.db)

	resolver, err := newResolver(cfg)
	if err != nil {
		return err
	}
	resolver.Register(registry.NewDIDMethod(a.db))
	trust := verifiers.NewTrust(a.db, a.db)
	lists, err := statuslist.NewAllocator(a.db, statuslist.Config{Clock: time.Now})
	if err != nil {
		return err
	}
	issuers := issuer.NewService(issuer.Config{
		Store: a.db, DIDs: a.agencies, Keys: custodyKeys(a.keys), Resolver: resolver, Trust: trust, Clock: time.Now,
		Lists: lists, Versions: a.db, Statuses: a.db, PublicURL: cfg.PublicURL, Chain: chain,
		Anchors: a.db, AnchorChain: chain,
	})
	// Every agency-side signer (schema registration, did:urbis rotation,
	// status changes and anchors, and the civic programs: a land
	// registry's titles, a treasury's mint, a grid operator's meters, an
	// election authority's operations) signs through a chainop.Submitter
	// taking the issuers' lock of the DID: one lock per DID in the
	// process keeps their nonces apart.
	a.agencies.UseSignerLocks(issuers)
	custody := &currency.Custody{Ops: chainop.New(chain, issuers,
		&chainop.Check{Machine: registry.NewMachine(genesis, civic.Programs()...), State: a.db, Clock: time.Now}, a.agencies)}
	anchorer, err := issuers.NewAnchorer(issuer.AnchorerConfig{Interval: cfg.AnchorInterval, MaxBatch: cfg.AnchorMaxBatch, Logger: log})
	if err != nil {
		return err
	}
	// The anchorer stops before the engine: its last anchor may still
	// get its block. Leaves it leaves pending are anchored on the next
	// start.
	anchorCtx, cancelAnchorer := context.WithCancel(context.WithoutCancel(ctx))
	anchorerStopped := make(chan struct{})
	go func() { anchorer.Run(anchorCtx); close(anchorerStopped) }()
	stopAnchorer := func() { cancelAnchorer(); <-anchorerStopped }
	defer stopAnchorer()
	verifier := verifiers.NewVerifier(resolver, trust, time.Now)
	statusLists, err := newStatusLists(cfg, issuers)
	if err != nil {
		return err
	}
	verifier.UseStatusLists(statusLists)
	oid := oid4vci.NewService(oid4vci.Config{
		Store: a.db, Issuer: issuers, Instances: issuers, Resolver: resolver, IssuerURL: cfg.PublicURL,
		OfferTTL: cfg.OfferTTL, TokenTTL: cfg.TokenTTL, NonceTTL: cfg.NonceTTL, BatchSize: cfg.BatchSize, Clock: time.Now,
	})
	vpRequests := oid4vp.NewService(oid4vp.Config{
		Store: a.db, DIDs: a.agencies, Keys: custodyKeys(a.keys), Resolver: resolver, Verifier: verifier,
		PublicURL: cfg.PublicURL, Clock: time.Now, TTL: cfg.VPRequestTTL, ResultTTL: cfg.VPResultTTL,
		Webhooks: oid4vp.NewWebhooks(0, cfg.VPWebhookPrivate),
	})
	go purgeVPRequests(ctx, vpRequests, log)
	titles := land.NewService(land.Config{Issuer: issuers, Signers: a.agencies, Chain: chain, State: a.db, Genesis: genesis, Clock: time.Now})
	elections := newElections(cfg, a, chain, verifier, trust, issuers)
	srv, err := api.NewServer(api.Config{
		MaxBodyBytes: cfg.MaxBodyBytes,
		RateLimit:    cfg.RateLimit,
		RateBurst:    cfg.RateBurst,
		Version:      version,
		ChainID:      genesis.ChainID,
	}, api.Deps{
		Agencies:   a.agencies,
		Resolver:   resolver,
		Registry:   engine,
		Chain:      a.db,
		Issuers:    issuers,
		Verifier:   verifier,
		OID4VCI:    oid,
		VPRequests: vpRequests,
		Land:       titles,
		Provenance: provenance.NewService(verifier, trust),
		Currency:   currency.NewService(a.db, custody, issuers, time.Now),
		Energy:     energy.NewService(a.db, custody),
		Elections:  elections,
		Ready:      a.db,
		Sync:       syncOf(engine),
		Cache:      resolver,
		Logger:     log,
		Spec:       urbis.OpenAPI,
	})
	if err != nil {
		return err
	}

	// The web pages (web/) are served next to the API, on the same port,
	// and read everything through the API's own handler.
	apiHandler := srv.Handler()
	site, err := web.New(web.Config{API: apiHandler, Logger: log})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another urbis running? pick another --addr)", cfg.Addr, err)
	}
	hs := &http.Server{
		Handler:           site.Mount(apiHandler),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	log.Info("urbis is serving", "addr", ln.Addr().String(), "url", scheme+"://"+ln.Addr().String(),
		"public_url", cfg.PublicURL, "database", a.db.Dialect(), "version", version)
	if p.onListen != nil {
		p.onListen(ln.Addr())
	}

	errc := make(chan error, 1)
	go func() {
		if cfg.TLSCert != "" {
			errc <- hs.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-eng.stopped:
		hs.Close()
		return fmt.Errorf("registry engine stopped: %w", stopEngine())
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	stopAnchorer()
	if err := stopEngine(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("registry engine: %w", err)
	}
	log.Info("stopped")
	return nil
}

// chainAccess gives the agency and issuer services the registry: the
// engine to submit to and the database to read the chain state from.
type chainAccess struct {
	engine  registryEngine
	db      *store.DB
	chainID string
}

func (c chainAccess) ChainID() string { return c.chainID }

func (c chainAccess) Submit(ctx context.Context, compact string) (registry.OpStatus, error) {
	return c.engine.Submit(ctx, compact)
}

func (c chainAccess) Wait(ctx context.Context, hash string) (registry.OpStatus, error) {
	return c.engine.Wait(ctx, hash)
}

func (c chainAccess) Nonce(ctx context.Context, signer string) (uint64, error) {
	return c.db.Nonce(ctx, signer)
}

func (c chainAccess) Anchor(ctx context.Context, root string) (registry.Anchor, error) {
	return c.db.Anchor(ctx, root)
}

func (c chainAccess) Proof(ctx context.Context, hash string) (registry.Proof, error) {
	return c.engine.Proof(ctx, hash)
}

func (c chainAccess) LatestDIDVersion(ctx context.Context, id string) (registry.DIDVersion, error) {
	return c.db.LatestDIDVersion(ctx, id)
}

// webRoots is the certificate pool for did:web hosts and status list
// servers: nil (the system pool) unless --did-web-ca-file adds some.
func webRoots(cfg *config) (*x509.CertPool, error) {
	if cfg.DIDWebCAFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(cfg.DIDWebCAFile)
	if err != nil {
		return nil, fmt.Errorf("--did-web-ca-file: %w", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--did-web-ca-file %s holds no PEM certificate", cfg.DIDWebCAFile)
	}
	return roots, nil
}

// newStatusLists is where the verifier gets status lists: this service's
// own from its database, any other over HTTPS with the did:web client's
// protections (and its --did-web-allow-private and --did-web-ca-file).
func newStatusLists(cfg *config, local verifiers.ListFetcher) (*verifiers.RemoteLists, error) {
	roots, err := webRoots(cfg)
	if err != nil {
		return nil, err
	}
	return verifiers.NewRemoteLists(verifiers.RemoteListsConfig{
		Fetcher:     did.NewFetcher(did.FetchOptions{AllowPrivate: cfg.DIDWebAllowPrivate, RootCAs: roots}),
		Local:       local,
		LocalPrefix: strings.TrimRight(cfg.PublicURL, "/") + "/status/",
		Clock:       time.Now,
	})
}

// newResolver builds the DID resolver with every method Urbis resolves.
func newResolver(cfg *config) (*did.MultiResolver, error) {
	roots, err := webRoots(cfg)
	if err != nil {
		return nil, err
	}
	web := did.NewWebMethod(did.WebOptions{
		AllowPrivate: cfg.DIDWebAllowPrivate,
		RootCAs:      roots,
		TTL:          cfg.DIDWebTTL,
	})
	// did:key and did:jwk documents are a pure function of the DID, so
	// caching them is always correct; it spares the point decompression
	// and X25519 derivation on repeated resolutions.
	return did.NewResolver(did.ResolverConfig{
		TTL: map[string]time.Duration{
			did.MethodWeb: cfg.DIDWebTTL,
			did.MethodKey: time.Hour,
			did.MethodJWK: time.Hour,
		},
	}, did.KeyMethod{}, did.JWKMethod{}, web), nil
}

// custodyKeys gives the issuance service signers from key custody.
func custodyKeys(c *kms.Custodian) issuer.Keys {
	return issuer.KeysFunc(func(ctx context.Context, agencyID, keyID string) (crypto.Signer, error) {
		s, err := c.Signer(ctx, agencyID, keyID)
		if err != nil {
			return nil, err // never a typed nil in the interface
		}
		return s, nil
	})
}

// purgeVPRequests deletes expired OpenID4VP requests and their unread
// results every minute until ctx ends.
func purgeVPRequests(ctx context.Context, s *oid4vp.Service, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.Purge(ctx); err != nil {
				log.Warn("purge presentation requests", "err", err)
			} else if n > 0 {
				log.Debug("purged presentation requests", "count", n)
			}
		}
	}
}
