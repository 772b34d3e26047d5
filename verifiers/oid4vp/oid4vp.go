package oid4vp

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/agency"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/ttlcache"
	"github.com/urbis-id/urbis/verifiers"
)

// Status is where a presentation request stands.
type Status string

// The statuses: pending until the wallet answers, then verified or failed.
const (
	StatusPending  Status = "pending"
	StatusVerified Status = "verified"
	StatusFailed   Status = "failed"
)

// ClientIDPrefix is the client identifier prefix of a verifier known by
// its DID (OpenID4VP 1.0 section 5.9.3).
const ClientIDPrefix = "decentralized_identifier:"

// VerifierDID returns the DID of a verifier's client_id: after
// ClientIDPrefix (OpenID4VP 1.0), or the client_id itself when it is a
// DID (the "did" client identifier scheme of the drafts, which Urbis uses
// for requests with a Presentation Exchange definition).
func VerifierDID(clientID string) (string, bool) {
	if d, ok := strings.CutPrefix(clientID, ClientIDPrefix); ok {
		return d, strings.HasPrefix(d, "did:")
	}
	return clientID, strings.HasPrefix(clientID, "did:")
}

// RequestObjectType is the typ of a signed request object (RFC 9101).
const RequestObjectType = "oauth-authz-req+jwt"

// Defaults.
const (
	DefaultTTL       = 5 * time.Minute
	DefaultResultTTL = time.Hour
)

// Request is a presentation request and, once answered, its outcome.
type Request struct {
	ID         string
	AgencyID   string
	DID        string // the verifier's DID, which signs the request object
	ClientID   string // ClientIDPrefix + DID; the DID itself for a Presentation Exchange request
	Nonce      string
	State      string
	Query      *Query      // the DCQL query; or
	Definition *Definition // the DIF Presentation Exchange definition
	Template   string      // the template it was built from, if any
	WebhookURL string
	Object     string // the signed request object, compact JWS
	Status     Status
	Outcome    *Outcome // nil while pending
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// Outcome is the result of a wallet's response: the requested claims of
// the credentials that verified, the checks that passed and the errors.
// It never holds the presentations themselves.
type Outcome struct {
	Status Status `json:"status"`
	// Claims are the presented credentials by credential query id: their
	// format, issuer and types and the requested claims only. Nil once
	// erased (fetched by the owner, delivered by webhook, or expired).
	Claims       map[string][]Presented `json:"claims,omitempty"`
	ClaimsErased bool                   `json:"claimsErased,omitempty"`
	Checks       []string               `json:"checks"`
	Errors       []Finding              `json:"errors"`
	Webhook      string                 `json:"webhook,omitempty"` // "delivered" or why delivery failed
	AnsweredAt   time.Time              `json:"answeredAt"`
}

// Presented is one presented credential, reduced to what was asked.
type Presented struct {
	Format string       `json:"format"`
	Issuer string       `json:"issuer"`
	Types  []string     `json:"types"`
	Claims []ClaimValue `json:"claims"`
}

// Finding is a failed check, with the credential query it is about.
type Finding struct {
	Query  string `json:"query,omitempty"`
	Check  string `json:"check"`
	Detail string `json:"detail"`
}

// The checks this package adds to those of the verifiers package.
const (
	CheckFormat  = "format"  // the presentation is in the format the query asked for
	CheckQuery   = "query"   // the credential satisfies the DCQL credential query
	CheckRequest = "request" // the credential sets of the query are satisfied
	CheckWallet  = "wallet"  // the wallet answered with an error
	CheckExpiry  = "expiry"  // fails when the request expired unanswered
)

// Store keeps presentation requests. AnswerVPRequests is the single-use
// guard: it must store an outcome only if the request is still pending,
// atomically, and answer Conflict otherwise.
type Store interface {
	// VPRequest returns the request id; NotFound if there is none.
	VPRequest(ctx context.Context, id string) (Request, error)
	// WriteVPRequests applies writes all in one transaction, in order: a
	// Create stores a new request; an Answer moves a pending request to
	// its outcome's status with the outcome (Claims included); an Erase
	// deletes the verified claims of a request. It returns one error per
	// write: nil, Conflict when an answered request is not pending any
	// more (also when an earlier answer of the same call took it),
	// NotFound when there is none; and an error of its own when the
	// transaction failed, so that none was stored. VPRequest returns the
	// outcome with ClaimsErased set when a verified request's claims are
	// gone.
	WriteVPRequests(ctx context.Context, writes []Write) ([]error, error)
	// SetVPWebhook records the webhook delivery of request id (Outcome's
	// Webhook) and, when erase is set, deletes its claims.
	SetVPWebhook(ctx context.Context, id, status string, erase bool) error
	// PurgeVPRequests deletes the requests that expired before t and
	// returns how many.
	PurgeVPRequests(ctx context.Context, before time.Time) (int, error)
}

// Answer is the outcome of request ID, to store.
type Answer struct {
	ID      string
	Outcome Outcome
}

// Write is one write of Store.WriteVPRequests: one of Create, Answer and
// Erase (the id of a request whose claims are deleted) is set.
type Write struct {
	Create *Request
	Answer *Answer
	Erase  string
}

// DIDs gives an agency's own DID records (agency.Service implements it).
type DIDs interface {
	DID(ctx context.Context, agencyID, id string) (agency.DIDRecord, error)
}

// Keys hands out signers for keys in custody, scoped by agency.
type Keys interface {
	Signer(ctx context.Context, agencyID, keyID string) (crypto.Signer, error)
}

// KeysFunc adapts a function to Keys.
type KeysFunc func(ctx context.Context, agencyID, keyID string) (crypto.Signer, error)

// Signer implements Keys.
func (f KeysFunc) Signer(ctx context.Context, agencyID, keyID string) (crypto.Signer, error) {
	return f(ctx, agencyID, keyID)
}

// Presentations verifies presentations (verifiers.Verifier implements it).
type Presentations interface {
	VerifyPresentation(ctx context.Context, in any, opts verifiers.PresentationOptions) (*verifiers.PresentationResult, error)
}

// Config holds the Service's dependencies and settings.
type Config struct {
	Store     Store
	DIDs      DIDs
	Keys      Keys
	Resolver  did.Resolver
	Verifier  Presentations
	PublicURL string // the request_uri and response_uri are under PublicURL/verifier/
	Clock     func() time.Time
	// TTL is how long a request may be answered; 0 means DefaultTTL.
	TTL time.Duration
	// ResultTTL is how long after its expiry a request and its verified
	// claims are kept when nobody fetched them; 0 means DefaultResultTTL.
	ResultTTL time.Duration
	// Webhooks posts results; nil means no webhooks are accepted.
	Webhooks *Webhooks
}

// Service is the verifier side of OpenID4VP.
type Service struct {
	cfg     Config
	writes  *writeBatcher
	pending pendingCache
	signers *ttlcache.LRU[requestSigner] // by (agency, DID), SignerTTL
}

// SignerTTL is how long the signer of a verifier DID, once read from the
// DID record and key custody, signs request objects without being read
// again: a DID rotated through another path than this Service (which
// forgets it at once, see ForgetDID) stops signing within SignerTTL.
const SignerTTL = 5 * time.Second

// signerCacheSize bounds the cached signers.
const signerCacheSize = 1024

// requestSigner is the signer of a verifier DID and the DID URL of its key.
type requestSigner struct {
	signer crypto.Signer
	kid    string
}

// NewService returns a Service.
func NewService(cfg Config) *Service {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.ResultTTL <= 0 {
		cfg.ResultTTL = DefaultResultTTL
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	return &Service{cfg: cfg, writes: &writeBatcher{store: cfg.Store}, signers: ttlcache.New[requestSigner](signerCacheSize, SignerTTL, cfg.Clock)}
}

// CreateRequest is what a service asks for: the DID that signs the
// request and a DCQL query, or a template name with its parameters.
type CreateRequest struct {
	DID        string
	Query      json.RawMessage   // a DCQL query; or
	Definition json.RawMessage   // a DIF Presentation Exchange definition; or
	Template   string            // a template name, with
	Params     map[string]string // its parameters
	WebhookURL string
}

// Created is a new request and how a wallet reaches it.
type Created struct {
	Request    Request
	RequestURI string // where the wallet GETs the request object
	URI        string // openid4vp://?client_id=...&request_uri=...&request_uri_method=get
	QRURL      string // where the QR code PNG of URI is served while the request is pending
}

// Create makes and stores a signed presentation request for agencyID.
func (s *Service) Create(ctx context.Context, agencyID string, in CreateRequest) (*Created, error) {
	var (
		q   *Query
		def *Definition
		err error
	)
	switch {
	case len(in.Query) > 0 && in.Template != "":
		return nil, errkind.Field(errkind.Invalid, "/template", "give either dcqlQuery or template, not both")
	case len(in.Definition) > 0 && (len(in.Query) > 0 || in.Template != ""):
		return nil, errkind.Field(errkind.Invalid, "/presentationDefinition", "give one of dcqlQuery, presentationDefinition and template")
	case len(in.Definition) > 0:
		def, err = ParseDefinition(in.Definition)
		if err != nil {
			return nil, under(err, "/presentationDefinition")
		}
	case len(in.Query) > 0:
		q, err = ParseQuery(in.Query)
		if err != nil {
			return nil, under(err, "/dcqlQuery")
		}
	case in.Template != "":
		t, ok := TemplateByName(in.Template)
		if !ok {
			return nil, errkind.Field(errkind.Invalid, "/template", "%q is not a template; GET /verifier/templates lists them", in.Template)
		}
		q, err = t.Build(in.Params)
		if err != nil {
			return nil, err
		}
	default:
		return nil, errkind.Field(errkind.Invalid, "/dcqlQuery", "is required: a DCQL query, or a template with its params")
	}
	if in.WebhookURL != "" {
		if s.cfg.Webhooks == nil {
			return nil, errkind.Field(errkind.Unsupported, "/webhookUrl", "webhooks are not enabled on this server")
		}
		if err := s.cfg.Webhooks.CheckURL(in.WebhookURL); err != nil {
			return nil, err
		}
	}
	if in.DID == "" {
		return nil, errkind.Field(errkind.Invalid, "/did", "is required: one of your DIDs, which signs the request")
	}
	signer, kid, err := s.signer(ctx, agencyID, in.DID)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Clock().UTC().Truncate(time.Second)
	clientID := ClientIDPrefix + in.DID
	if def != nil {
		// Presentation Exchange belongs to the drafts of OpenID4VP (up to
		// draft 25), where a verifier known by its DID has that DID as
		// client_id (the "did" client identifier scheme); wallets built
		// on them infer the draft from the request and refuse the
		// decentralized_identifier: prefix of 1.0 with a definition.
		clientID = in.DID
	}
	r := Request{
		ID: "vpr_" + random(16), AgencyID: agencyID, DID: in.DID, ClientID: clientID,
		Nonce: random(24), State: random(24), Query: q, Definition: def, Template: in.Template, WebhookURL: in.WebhookURL,
		Status: StatusPending, CreatedAt: now, ExpiresAt: now.Add(s.cfg.TTL),
	}
	r.Object, err = signObject(s.objectClaims(r), signer, kid)
	if err != nil {
		return nil, err
	}
	if err := s.writes.add(ctx, Write{Create: &r}); err != nil {
		return nil, err
	}
	s.pending.put(r, now)
	reqURI := s.RequestURI(r.ID)
	return &Created{Request: r, RequestURI: reqURI, URI: authorizationURI(r.ClientID, reqURI), QRURL: s.QRURL(r.ID)}, nil
}

// PendingURI returns the openid4vp:// authorization request of the
// request id and its expiry while a wallet may still answer it (for its
// QR code): NotFound for an unknown request, and for one that expired or
// was answered.
func (s *Service) PendingURI(ctx context.Context, id string) (string, time.Time, error) {
	r, err := s.open(ctx, id)
	if err != nil {
		if errkind.KindOf(err) == errkind.Gone {
			return "", time.Time{}, errkind.New(errkind.NotFound, "%v", err)
		}
		return "", time.Time{}, err
	}
	return authorizationURI(r.ClientID, s.RequestURI(r.ID)), r.ExpiresAt, nil
}

func authorizationURI(clientID, requestURI string) string {
	v := url.Values{"client_id": {clientID}, "request_uri": {requestURI}, "request_uri_method": {"get"}}
	return "openid4vp://?" + v.Encode()
}

// RequestURI is where the wallet fetches the request object of id.
func (s *Service) RequestURI(id string) string {
	return s.cfg.PublicURL + "/verifier/requests/" + id + "/object"
}

// QRURL is where the QR code PNG of the request id is served (rendered
// when fetched, while the request is pending).
func (s *Service) QRURL(id string) string {
	return s.cfg.PublicURL + "/verifier/requests/" + id + "/qr.png"
}

// ResponseURI is where the wallet posts its answer to id.
func (s *Service) ResponseURI(id string) string {
	return s.cfg.PublicURL + "/verifier/responses/" + id
}

// objectClaims are the request object's claims (OpenID4VP 1.0 section 5).
// There is no iss: neither OpenID4VP nor RFC 9101 requires one, and
// wallets built on @openid4vc/openid4vp refuse a request object whose iss
// is not the DID of the signing key, which the client_id (with its
// decentralized_identifier: prefix) is not.
func (s *Service) objectClaims(r Request) map[string]any {
	c := map[string]any{
		"aud":           "https://self-issued.me/v2",
		"client_id":     r.ClientID,
		"response_type": "vp_token",
		"response_mode": "direct_post",
		"response_uri":  s.ResponseURI(r.ID),
		"nonce":         r.Nonce,
		"state":         r.State,
		"iat":           r.CreatedAt.Unix(),
		"exp":           r.ExpiresAt.Unix(),
		"client_metadata": map[string]any{
			"vp_formats_supported": map[string]any{
				FormatSDJWT: map[string]any{"sd-jwt_alg_values": []string{"EdDSA", "ES256"}, "kb-jwt_alg_values": []string{"EdDSA", "ES256"}},
				FormatLDP:   map[string]any{"proof_type_values": []string{"DataIntegrityProof", "Ed25519Signature2020", "BbsBlsSignatureProof2020"}, "cryptosuite_values": []string{"eddsa-rdfc-2022"}},
				FormatJWT:   map[string]any{"alg_values": []string{"EdDSA", "ES256"}},
			},
		},
	}
	if r.Definition != nil {
		// Presentation Exchange belongs to the drafts of OpenID4VP, whose
		// wallets read vp_formats (vp_formats_supported is 1.0's) with the
		// PE format designations.
		c["presentation_definition"] = r.Definition
		c["client_metadata"] = map[string]any{"vp_formats": map[string]any{
			"vc+sd-jwt":   map[string]any{"sd-jwt_alg_values": []string{"EdDSA", "ES256"}, "kb-jwt_alg_values": []string{"EdDSA", "ES256"}},
			FormatSDJWT:   map[string]any{"sd-jwt_alg_values": []string{"EdDSA", "ES256"}, "kb-jwt_alg_values": []string{"EdDSA", "ES256"}},
			"jwt_vc_json": map[string]any{"alg": []string{"EdDSA", "ES256"}},
			"jwt_vp_json": map[string]any{"alg": []string{"EdDSA", "ES256"}},
			"ldp_vc":      map[string]any{"proof_type": []string{"DataIntegrityProof", "Ed25519Signature2020", "BbsBlsSignatureProof2020"}},
			"ldp_vp":      map[string]any{"proof_type": []string{"DataIntegrityProof", "Ed25519Signature2020"}},
		}}
	} else {
		c["dcql_query"] = r.Query
	}
	return c
}

// Object returns the signed request object of id for a wallet: NotFound
// for an unknown request, Gone for one that expired or was answered, both
// with the code invalid_request_uri.
func (s *Service) Object(ctx context.Context, id string) (string, error) {
	r, err := s.open(ctx, id)
	if err != nil {
		var e *errkind.Error
		if errors.As(err, &e) && (e.Kind == errkind.NotFound || e.Kind == errkind.Gone) {
			e.WithCode(ErrInvalidRequestURI)
		}
		return "", err
	}
	return r.Object, nil
}

// open returns the request id while a wallet may still answer it:
// NotFound for an unknown request, Gone for one that expired or was
// answered. A request this process created comes from memory.
func (s *Service) open(ctx context.Context, id string) (Request, error) {
	if r, ok := s.pending.get(id); ok && s.cfg.Clock().Before(r.ExpiresAt) {
		return r, nil
	}
	r, err := s.cfg.Store.VPRequest(ctx, id)
	if err != nil {
		if errkind.KindOf(err) == errkind.NotFound {
			return Request{}, errkind.New(errkind.NotFound, "no presentation request %s", id)
		}
		return Request{}, err
	}
	switch {
	case r.Status != StatusPending:
		return Request{}, errkind.New(errkind.Gone, "presentation request %s was already answered", id)
	case !s.cfg.Clock().Before(r.ExpiresAt):
		return Request{}, errkind.New(errkind.Gone, "presentation request %s expired at %s", id, r.ExpiresAt.Format(time.RFC3339))
	}
	return r, nil
}

// Result returns agencyID's request id with its outcome: NotFound for
// another agency's. A pending request past its expiry reads as failed.
// The verified claims are handed out once: reading them here erases them
// from storage (data minimisation), so the next read has ClaimsErased.
func (s *Service) Result(ctx context.Context, agencyID, id string) (Request, error) {
	r, err := s.cfg.Store.VPRequest(ctx, id)
	if err == nil && r.AgencyID != agencyID {
		err = errkind.New(errkind.NotFound, "presentation request %s not found", id)
	}
	if err != nil {
		return Request{}, err
	}
	now := s.cfg.Clock()
	if !now.Before(r.ExpiresAt.Add(s.cfg.ResultTTL)) {
		return Request{}, errkind.New(errkind.NotFound, "presentation request %s not found (results are kept %s after a request expires)", id, s.cfg.ResultTTL)
	}
	if r.Status == StatusPending && !now.Before(r.ExpiresAt) {
		r.Status = StatusFailed
		r.Outcome = &Outcome{Status: StatusFailed, Checks: []string{}, Errors: []Finding{{Check: CheckExpiry, Detail: "the request expired at " + r.ExpiresAt.Format(time.RFC3339) + " without an answer"}}}
		return r, nil
	}
	if r.Status != StatusPending {
		s.pending.drop(id)
	}
	if r.Outcome != nil && r.Outcome.Claims != nil {
		if err := s.writes.add(ctx, Write{Erase: id}); err != nil {
			return Request{}, err
		}
	}
	return r, nil
}

// Purge deletes the requests (and their outcomes) that expired more than
// ResultTTL ago, and returns how many.
func (s *Service) Purge(ctx context.Context) (int, error) {
	return s.cfg.Store.PurgeVPRequests(ctx, s.cfg.Clock().Add(-s.cfg.ResultTTL))
}

// ForgetDID drops the cached signer of agencyID's DID id: call it when
// the DID's key is rotated or the DID deactivated.
func (s *Service) ForgetDID(agencyID, id string) {
	s.signers.Remove(ttlcache.Key(agencyID, id))
}

// signer returns the signer of agencyID's DID id and the DID URL of its
// key in the DID document, cached for SignerTTL.
func (s *Service) signer(ctx context.Context, agencyID, id string) (crypto.Signer, string, error) {
	k := ttlcache.Key(agencyID, id)
	if c, ok := s.signers.Get(k); ok {
		return c.signer, c.kid, nil
	}
	signer, kid, err := s.loadSigner(ctx, agencyID, id)
	if err != nil {
		return nil, "", err
	}
	s.signers.Put(k, requestSigner{signer: signer, kid: kid})
	return signer, kid, nil
}

// loadSigner reads the signer of agencyID's DID id from the DID record
// and key custody, and the DID URL of its key in the DID document.
func (s *Service) loadSigner(ctx context.Context, agencyID, id string) (crypto.Signer, string, error) {
	rec, err := s.cfg.DIDs.DID(ctx, agencyID, id)
	if err != nil {
		if errkind.KindOf(err) == errkind.NotFound {
			return nil, "", errkind.Field(errkind.NotFound, "/did", "%s is not one of your DIDs", id)
		}
		return nil, "", err
	}
	if rec.Status != agency.StatusActive {
		return nil, "", errkind.Field(errkind.Conflict, "/did", "%s is %s; use its successor %s", id, rec.Status, rec.ReplacedBy)
	}
	signer, err := s.cfg.Keys.Signer(ctx, agencyID, rec.KeyID)
	if err != nil {
		return nil, "", err
	}
	res, err := s.cfg.Resolver.Resolve(ctx, id, did.ResolveOptions{})
	if err != nil {
		return nil, "", err
	}
	if res.Document == nil {
		return nil, "", errkind.New(errkind.Internal, "DID %s resolved to no document", id)
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return nil, "", errkind.New(errkind.Internal, "key %s has a public key of type %T", rec.KeyID, signer.Public())
	}
	for _, vm := range res.Document.VerificationMethod {
		if k, err := vm.PublicKey(); err == nil && pub.Equal(k) {
			kid := vm.ID
			if strings.HasPrefix(kid, "#") {
				kid = id + kid
			}
			return signer, kid, nil
		}
	}
	return nil, "", errkind.Field(errkind.Conflict, "/did", "the DID document of %s has no verification method with the key in custody", id)
}

func random(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func under(err error, p string) error {
	var e *errkind.Error
	if !errors.As(err, &e) {
		return err
	}
	c := *e
	c.Field = p + e.Field
	return &c
}
