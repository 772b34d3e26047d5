// Package issuer issues verifiable credentials for agencies, in the W3C
// VC-API sense: an agency creates issuer instances, each binding one of
// its DIDs to a proof format and the credential types it may issue, and
// issues credentials through them.
//
// Formats: ldp_vc (VC 2.0 with an eddsa-rdfc-2022 Data Integrity proof,
// or VC 1.1 with an Ed25519Signature2020 proof), jwt_vc_json (a VC 1.1
// JWT-VC), dc+sd-jwt (an SD-JWT VC whose subject claims are selectively
// disclosable) and ldp_vc-bbs (JSON-LD with a BbsBlsSignature2020 proof,
// from which the holder derives credentials that disclose chosen claims;
// see vc/bbs). Keys stay in custody: the package
// gets a crypto.Signer for the DID's key through the Keys interface.
//
// Governed types (a schema registered on chain for the type) are checked
// through the Trust interface: the issuer DID must be accredited for the
// type at issuance, and the claims must match the registered schema.
package issuer

import (
	"context"
	"crypto"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/agency"
	"github.com/urbis-id/urbis/internal/chainop"
	"github.com/urbis-id/urbis/internal/ttlcache"
	"github.com/urbis-id/urbis/vc/statuslist"
)

// Format is a credential format, named as in OpenID4VCI.
type Format string

// The formats.
const (
	FormatLDP   Format = "ldp_vc"      // JSON-LD, VC 2.0, Data Integrity eddsa-rdfc-2022
	FormatJWT   Format = "jwt_vc_json" // JWT-VC, VC 1.1
	FormatSDJWT Format = "dc+sd-jwt"   // SD-JWT VC
)

// Formats lists the formats in the order the API documents them.
var Formats = []Format{FormatLDP, FormatJWT, FormatSDJWT, FormatBBS}

// Instance is an issuer instance: an agency's DID bound to a format and
// the credential types it may issue (besides VerifiableCredential).
type Instance struct {
	ID          string
	AgencyID    string
	DID         string
	Format      Format
	Cryptosuite string // eddsa-rdfc-2022 or Ed25519Signature2020 (ldp_vc), BbsBlsSignature2020 (ldp_vc-bbs), or the JOSE alg of the JWT formats
	Types       []string
	// StatusPurposes are the credentialStatus entries the instance adds:
	// "revocation", "suspension", both, or none.
	StatusPurposes []string
	CreatedAt      time.Time
}

// Store keeps issuer instances. Lookups are scoped by agency: another
// agency's instance is NotFound.
type Store interface {
	CreateIssuer(ctx context.Context, in Instance) error
	// Issuers returns agencyID's instances, oldest first.
	Issuers(ctx context.Context, agencyID string) ([]Instance, error)
	// Issuer returns agencyID's instance id; NotFound if there is none or
	// it is another agency's.
	Issuer(ctx context.Context, agencyID, id string) (Instance, error)
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

// Trust checks governed credential types at issuance.
type Trust interface {
	// CheckIssuance returns nil when every governed type among types may
	// be issued by issuerDID at t with these subjects: errkind.Forbidden
	// (with the reason) when the DID is not accredited for a governed
	// type, errkind.Unprocessable naming the field when a subject breaks
	// the type's registered schema. Ungoverned types pass.
	CheckIssuance(ctx context.Context, issuerDID string, types []string, subjects []map[string]any, t time.Time) error
}

// Service creates issuer instances and issues credentials.
type Service struct {
	store    Store
	dids     DIDs
	keys     Keys
	resolver did.Resolver
	trust    Trust
	clock    func() time.Time

	lists    Lists
	versions ListVersions
	statuses StatusStore
	// statusWriter group-commits the entries of concurrent issuances.
	statusWriter *statusBatcher
	publicURL    string
	signed       *statuslist.Cache // signed list credentials by "listID@version"
	parsedLists  parsedLists       // their decoded JSON, by the same key

	chain      Chain
	chainLocks chainop.Locks      // one per DID, shared through LockSigner
	ops        *chainop.Submitter // signs status.update on chain; nil without one

	anchors     AnchorStore // nil: issued credentials are not anchored
	anchorChain AnchorChain

	signers   *ttlcache.LRU[cachedSigner] // by (agency, DID), SignerTTL
	instances *ttlcache.LRU[Instance]     // by (agency, instance id), InstanceTTL
	agencyIns *ttlcache.LRU[[]Instance]   // an agency's instances, InstanceTTL
}

// Config holds the Service's dependencies. A nil Clock means time.Now.
type Config struct {
	Store    Store
	DIDs     DIDs
	Keys     Keys
	Resolver did.Resolver
	Trust    Trust
	Clock    func() time.Time

	// Status lists: when Lists is nil, credentials get no credentialStatus.
	Lists     Lists
	Versions  ListVersions
	Statuses  StatusStore
	PublicURL string // status lists are published at PublicURL/status/{listId}
	// Chain, when set, anchors every status change as a status.update.
	Chain Chain
	// Anchors, when set, records the hash of every issued credential for
	// anchoring (see Anchorer); AnchorChain reads the anchors' proofs.
	Anchors     AnchorStore
	AnchorChain AnchorChain
}

// NewService returns a Service.
func NewService(cfg Config) *Service {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	signed, err := statuslist.NewCache(signedLists)
	if err != nil {
		panic(err) // signedLists is a valid constant configuration
	}
	s := &Service{signed: signed, store: cfg.Store, dids: cfg.DIDs, keys: cfg.Keys, resolver: cfg.Resolver, trust: cfg.Trust, clock: cfg.Clock,
		lists: cfg.Lists, versions: cfg.Versions, statuses: cfg.Statuses, publicURL: cfg.PublicURL, chain: cfg.Chain,
		anchors: cfg.Anchors, anchorChain: cfg.AnchorChain,
		signers:   ttlcache.New[cachedSigner](cacheCapacity, SignerTTL, cfg.Clock),
		instances: ttlcache.New[Instance](cacheCapacity, InstanceTTL, cfg.Clock),
		agencyIns: ttlcache.New[[]Instance](cacheCapacity, InstanceTTL, cfg.Clock)}
	s.statusWriter = &statusBatcher{write: s.writeIssued}
	if cfg.Chain != nil {
		s.ops = chainop.New(cfg.Chain, &s.chainLocks, nil, nil)
	}
	return s
}

func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Second) }
