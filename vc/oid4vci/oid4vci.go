package oid4vci

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/issuer"
)

// GrantPreAuthorizedCode is the grant type of the pre-authorized code flow.
const GrantPreAuthorizedCode = "urn:ietf:params:oauth:grant-type:pre-authorized_code"

// ProofType is the typ of a proof of possession JWT.
const ProofType = "openid4vci-proof+jwt"

// The OAuth 2.0 (RFC 6749, RFC 6750) and OID4VCI error codes.
const (
	ErrInvalidRequest           = "invalid_request"
	ErrInvalidGrant             = "invalid_grant"
	ErrUnsupportedGrantType     = "unsupported_grant_type"
	ErrInvalidToken             = "invalid_token"
	ErrInvalidCredentialRequest = "invalid_credential_request"
	ErrUnknownConfiguration     = "unknown_credential_configuration"
	ErrInvalidProof             = "invalid_proof"
	ErrInvalidNonce             = "invalid_nonce"
	ErrCredentialRequestDenied  = "credential_request_denied"
)

// Codes lists every error code above, for transports that render them.
var Codes = []string{ErrInvalidRequest, ErrInvalidGrant, ErrUnsupportedGrantType, ErrInvalidToken,
	ErrInvalidCredentialRequest, ErrUnknownConfiguration, ErrInvalidProof, ErrInvalidNonce, ErrCredentialRequestDenied}

// oauthError returns an error of kind k carrying an OAuth error code.
func oauthError(k errkind.Kind, code, format string, args ...any) error {
	return errkind.New(k, format, args...).WithCode(code)
}

// Defaults of Config.
const (
	DefaultOfferTTL  = 5 * time.Minute
	DefaultTokenTTL  = 5 * time.Minute
	DefaultNonceTTL  = 5 * time.Minute
	DefaultBatchSize = 10
	// DefaultMetadataTTL: instances are created now and then, and wallets
	// fetch the metadata for every offer.
	DefaultMetadataTTL = 5 * time.Second
	// MaxTxAttempts wrong transaction codes kill a pre-authorized code.
	MaxTxAttempts = 5
	// ProofSkew is how far in the future a proof's iat may be.
	ProofSkew = 60 * time.Second
)

// Offer is a credential offer with its pre-authorized code, as stored. The
// secret reference that names the offer in its URL, the code and the access
// token are stored only as SHA-256 hashes.
type Offer struct {
	ID                string // hex SHA-256 of the offer's reference
	AgencyID          string
	IssuerID          string   // the issuer instance
	Format            string   // the instance's format
	ConfigurationIDs  []string // offered credential configurations
	Claims            map[string]any
	CodeHash          string
	TxCodeHash        string // empty: no transaction code
	TxCodeLength      int
	TxCodeDescription string
	TxCodeAttempts    int
	ExpiresAt         time.Time // of the offer and its code
	Redeemed          bool      // the code was exchanged (or died)
	TokenHash         string
	TokenExpiresAt    time.Time
	Issued            []string // configurations already issued
	PurgeAt           time.Time
	CreatedAt         time.Time
}

// Store keeps offers and spent nonces. Single use is decided by the
// database: a redemption, a nonce use or an issued mark (see Write) does
// not apply when another request got there first.
type Store interface {
	// AllIssuers lists the issuer instances of every agency, oldest first.
	AllIssuers(ctx context.Context) ([]issuer.Instance, error)
	// Offer, OfferByCode and OfferByToken return NotFound when there is none.
	Offer(ctx context.Context, id string) (Offer, error)
	OfferByCode(ctx context.Context, codeHash string) (Offer, error)
	OfferByToken(ctx context.Context, tokenHash string) (Offer, error)
	// FailTxCode counts a wrong transaction code of an unredeemed offer;
	// at max attempts the code dies (Redeemed). It returns the count.
	FailTxCode(ctx context.Context, id string, max int) (int, error)
	// Apply commits groups of writes in one transaction, applying each
	// group all or nothing, in order: a redemption applies when the code
	// is unused and has had fewer than Max wrong transaction codes (it
	// stores the access token); a nonce use when the nonce (by hash) was
	// not spent before; an issued mark when the issued configurations are
	// Old (it sets New, and deletes the claims when ClearClaims). A group
	// stops at its first write that does not apply, and the groups after
	// it are still applied. A write that fails (an error, not a write that
	// does not apply) fails the call: then nothing was committed.
	Apply(ctx context.Context, groups [][]Write) ([]Applied, error)
	// Sweep deletes the offers purged before now and the spent nonces
	// expired before now.
	Sweep(ctx context.Context, now time.Time) error
}

// Issuer issues credentials (issuer.Service implements it).
type Issuer interface {
	Issue(ctx context.Context, agencyID, issuerID string, cred map[string]any, opts issuer.IssueOptions) (issuer.Issued, error)
}

// Instances finds an agency's issuer instance (issuer.Service implements it).
type Instances interface {
	Get(ctx context.Context, agencyID, id string) (issuer.Instance, error)
}

// Config holds the Service's settings and dependencies.
type Config struct {
	Store     Store
	Issuer    Issuer
	Instances Instances
	Resolver  did.Resolver
	// IssuerURL is the credential issuer identifier (the public URL);
	// the endpoints are under IssuerURL/oid4vci.
	IssuerURL string
	OfferTTL  time.Duration
	TokenTTL  time.Duration
	NonceTTL  time.Duration
	BatchSize int
	// MetadataTTL is how long the metadata is served from memory: 0 means
	// DefaultMetadataTTL, a negative value no caching. A new issuer
	// instance shows up in the metadata at most this late.
	MetadataTTL time.Duration
	// NonceKey keys the c_nonce MAC; nil means 32 random bytes, so nonces
	// do not survive a restart and are not shared between servers.
	NonceKey []byte
	Clock    func() time.Time
}

// Service runs the issuer side of OID4VCI.
type Service struct {
	cfg Config

	writes *writeBatcher

	mu        sync.Mutex
	meta      *Metadata
	metaUntil time.Time
	lastSweep time.Time
}

// NewService returns a Service; zero settings take their defaults.
func NewService(cfg Config) *Service {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.OfferTTL <= 0 {
		cfg.OfferTTL = DefaultOfferTTL
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.NonceTTL <= 0 {
		cfg.NonceTTL = DefaultNonceTTL
	}
	if cfg.MetadataTTL == 0 {
		cfg.MetadataTTL = DefaultMetadataTTL
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if len(cfg.NonceKey) == 0 {
		cfg.NonceKey = make([]byte, 32)
		rand.Read(cfg.NonceKey) // never fails
	}
	cfg.IssuerURL = strings.TrimRight(cfg.IssuerURL, "/")
	return &Service{cfg: cfg, writes: &writeBatcher{store: cfg.Store}}
}

// IssuerURL is the credential issuer identifier.
func (s *Service) IssuerURL() string { return s.cfg.IssuerURL }

func (s *Service) now() time.Time { return s.cfg.Clock().UTC() }

// randomToken returns n random bytes, base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashOf is the hex SHA-256 of a secret, as stored.
func hashOf(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// codeFor derives the pre-authorized code from the offer's reference, so
// the offer can be served again without storing the code.
func codeFor(ref string) string {
	m := hmac.New(sha256.New, []byte("urbis oid4vci pre-authorized code"))
	m.Write([]byte(ref))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
