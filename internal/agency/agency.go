// Package agency is the tenant domain of Urbis: the agencies that issue
// credentials, the API keys they authenticate with, and the DIDs they
// hold, whose keys sit in kms custody. An agency sees only its own DIDs
// and keys: every lookup is scoped by agency id, and another agency's
// record is NotFound.
package agency

import (
	"context"
	"time"

	"github.com/urbis-id/urbis/kms"
)

// Agency is a tenant: a city agency that issues credentials.
type Agency struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// APIKey is the stored form of an agency's API key: its SHA-256 hash and
// a short prefix for display, never the key itself.
type APIKey struct {
	ID        string
	AgencyID  string
	Hash      string // hex SHA-256 of the key
	Prefix    string // the first characters of the key, for display
	CreatedAt time.Time
	RevokedAt time.Time // zero while the key is valid
}

// DID statuses.
const (
	StatusActive      = "active"
	StatusRotated     = "rotated"     // replaced by another DID; still resolves
	StatusDeactivated = "deactivated" // reserved for deactivation
)

// DID methods an agency can create.
const (
	MethodKey = "key"
	MethodJWK = "jwk"
)

// DIDRecord is a DID an agency holds, bound to a key in custody.
type DIDRecord struct {
	DID        string
	AgencyID   string
	Method     string // "key", "jwk" or "urbis"
	KeyID      string
	KeyType    kms.KeyType
	Status     string
	CreatedAt  time.Time
	ReplacedBy string // the DID that replaced this one, if rotated
}

// Store keeps agencies, API keys and DID records. Methods that write
// several rows do so in one transaction, so a failure leaves nothing
// half-written.
type Store interface {
	// CreateAgency stores a new agency with its first API key.
	CreateAgency(ctx context.Context, a Agency, key APIKey) error
	ListAgencies(ctx context.Context) ([]Agency, error)
	// Agency returns the agency id; NotFound if there is none.
	Agency(ctx context.Context, id string) (Agency, error)
	// CreateAPIKey stores another API key of an existing agency.
	CreateAPIKey(ctx context.Context, key APIKey) error
	// RevokeAPIKeys revokes, as of at, every valid API key of agencyID
	// and returns how many it revoked.
	RevokeAPIKeys(ctx context.Context, agencyID string, at time.Time) (int, error)
	// AgencyByAPIKeyHash returns the agency whose valid API key has the
	// hash; NotFound if no key has it or the key is revoked.
	AgencyByAPIKeyHash(ctx context.Context, hash string) (Agency, error)

	// CreateKeyAndDID stores a new key and the DID bound to it.
	CreateKeyAndDID(ctx context.Context, key kms.Record, d DIDRecord) error
	// AddDID records a DID bound to a key already in custody (did:urbis,
	// recorded once the chain has committed it).
	AddDID(ctx context.Context, d DIDRecord) error
	// RebindDIDKey binds the DID to newKeyID and marks oldKeyID rotated
	// (replaced by newKeyID), in one transaction (did:urbis rotation).
	RebindDIDKey(ctx context.Context, agencyID, did, oldKeyID, newKeyID string) error
	// DIDs returns the DIDs of agencyID, oldest first.
	DIDs(ctx context.Context, agencyID string) ([]DIDRecord, error)
	// DID returns agencyID's record of did; NotFound if there is none
	// or it is another agency's.
	DID(ctx context.Context, agencyID, did string) (DIDRecord, error)
	// RotateDID stores key and next, and marks agencyID's active DID old
	// rotated (replaced by next) and its key rotated (replaced by key):
	// NotFound if old is not agencyID's, Conflict if it is not active.
	RotateDID(ctx context.Context, agencyID, old string, key kms.Record, next DIDRecord) error
}
