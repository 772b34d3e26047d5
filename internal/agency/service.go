package agency

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/chainop"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/kms"
	"github.com/urbis-id/urbis/registry"
)

// MaxNameLen is the longest agency name, in characters.
const MaxNameLen = 200

// APIKeyPrefix starts every API key, so that a leaked key is easy to
// recognise (by secret scanners, say).
const APIKeyPrefix = "urbis_"

// apiKeyLen is the length of an API key: the prefix and 32 random bytes
// in unpadded base64url.
var apiKeyLen = len(APIKeyPrefix) + base64.RawURLEncoding.EncodedLen(32)

// displayPrefixLen is how much of a key is kept in the clear for display.
const displayPrefixLen = 12

// Service manages agencies, their API keys and their DIDs.
type Service struct {
	store    Store
	keys     *kms.Custodian
	clock    func() time.Time
	registry Registry // nil: no did:urbis

	// machine and state check schema.register operations before they are
	// submitted (UseChainState); locks serialise each DID's operations.
	machine *registry.Machine
	state   registry.StateReader
	locks   SignerLocks

	authMu sync.Mutex
	auth   map[string]authEntry // by key hash: agencies Authenticate found lately
}

// authTTL is how long Authenticate trusts an API key it found, without
// reading the store again: a key revoked by another process (`urbis
// agency revoke-key` beside a running service) stops working within it;
// one revoked through this Service stops at once. authCacheSize bounds
// the keys remembered.
const (
	authTTL       = 2 * time.Second
	authCacheSize = 4096
)

type authEntry struct {
	agency Agency
	until  time.Time
}

// NewService returns a Service over store that keeps DID keys in keys. A
// nil clock means time.Now.
func NewService(store Store, keys *kms.Custodian, clock func() time.Time) *Service {
	if clock == nil {
		clock = time.Now
	}
	return &Service{store: store, keys: keys, clock: clock, locks: &chainop.Locks{}}
}

// Create registers an agency named name (trimmed; 1 to 200 characters)
// and returns it with its first API key. The key is shown only here:
// Urbis keeps only its hash.
func (s *Service) Create(ctx context.Context, name string) (Agency, string, error) {
	name, err := validName(name)
	if err != nil {
		return Agency{}, "", err
	}
	a := Agency{ID: newID("agy_"), Name: name, CreatedAt: s.now()}
	key, rec := s.newAPIKey(a.ID)
	if err := s.store.CreateAgency(ctx, a, rec); err != nil {
		return Agency{}, "", err
	}
	return a, key, nil
}

func validName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case !utf8.ValidString(name):
		return "", errkind.Field(errkind.Invalid, "name", "must be valid UTF-8")
	case n == 0:
		return "", errkind.Field(errkind.Invalid, "name", "must not be empty")
	case n > MaxNameLen:
		return "", errkind.Field(errkind.Invalid, "name", "has %d characters; at most %d are allowed", n, MaxNameLen)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", errkind.Field(errkind.Invalid, "name", "must not contain control characters")
	}
	return name, nil
}

// List returns every agency, oldest first.
func (s *Service) List(ctx context.Context) ([]Agency, error) {
	return s.store.ListAgencies(ctx)
}

// Get returns the agency id; NotFound if there is none.
func (s *Service) Get(ctx context.Context, id string) (Agency, error) {
	return s.store.Agency(ctx, id)
}

// IssueKey creates another API key for agencyID and returns it. The key
// is shown only here.
func (s *Service) IssueKey(ctx context.Context, agencyID string) (string, error) {
	if _, err := s.store.Agency(ctx, agencyID); err != nil {
		return "", err
	}
	key, rec := s.newAPIKey(agencyID)
	if err := s.store.CreateAPIKey(ctx, rec); err != nil {
		return "", err
	}
	return key, nil
}

// RevokeKeys revokes every valid API key of agencyID and returns how many
// it revoked.
func (s *Service) RevokeKeys(ctx context.Context, agencyID string) (int, error) {
	if _, err := s.store.Agency(ctx, agencyID); err != nil {
		return 0, err
	}
	n, err := s.store.RevokeAPIKeys(ctx, agencyID, s.now())
	s.authMu.Lock()
	clear(s.auth) // whatever happened: no key is trusted from memory now
	s.authMu.Unlock()
	return n, err
}

// Authenticate returns the agency that holds the valid API key apiKey;
// Unauthorized if the key is missing, malformed, unknown or revoked. Keys
// are looked up by their SHA-256 hash, so no comparison of secrets leaks
// timing; a key found is trusted for authTTL without reading the store.
func (s *Service) Authenticate(ctx context.Context, apiKey string) (Agency, error) {
	if apiKey == "" {
		return Agency{}, errkind.New(errkind.Unauthorized, "missing API key")
	}
	if len(apiKey) != apiKeyLen || !strings.HasPrefix(apiKey, APIKeyPrefix) {
		return Agency{}, errkind.New(errkind.Unauthorized, "malformed API key; want %s followed by 43 characters", APIKeyPrefix)
	}
	hash := HashAPIKey(apiKey)
	now := s.clock()
	s.authMu.Lock()
	e, ok := s.auth[hash]
	s.authMu.Unlock()
	if ok && now.Before(e.until) {
		return e.agency, nil
	}
	a, err := s.store.AgencyByAPIKeyHash(ctx, hash)
	if errors.Is(err, errkind.NotFound) {
		return Agency{}, errkind.New(errkind.Unauthorized, "unknown or revoked API key")
	}
	if err != nil {
		return Agency{}, err
	}
	s.authMu.Lock()
	if s.auth == nil || len(s.auth) >= authCacheSize {
		s.auth = make(map[string]authEntry)
	}
	s.auth[hash] = authEntry{agency: a, until: now.Add(authTTL)}
	s.authMu.Unlock()
	return a, nil
}

// HashAPIKey returns the hex SHA-256 of key, the form in which API keys
// are stored and looked up.
func HashAPIKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

func (s *Service) newAPIKey(agencyID string) (string, APIKey) {
	b := make([]byte, 32)
	rand.Read(b) // never fails
	key := APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return key, APIKey{
		ID:        newID("apk_"),
		AgencyID:  agencyID,
		Hash:      HashAPIKey(key),
		Prefix:    key[:displayPrefixLen],
		CreatedAt: s.now(),
	}
}

// CreateDID generates a key of keyType ("Ed25519", "P-256", or
// "Bls12381G2" for did:key only) in custody for agencyID and creates the
// DID of method ("key", "jwk" or "urbis") bound to it. The key and the DID are stored together or not at all.
func (s *Service) CreateDID(ctx context.Context, agencyID, method, keyType string) (DIDRecord, error) {
	if err := validMethod(method); err != nil {
		return DIDRecord{}, err
	}
	t, err := kms.ParseKeyType(keyType)
	if err != nil {
		return DIDRecord{}, err
	}
	if err := checkMethodKey(method, t); err != nil {
		return DIDRecord{}, err
	}
	if method == MethodUrbis {
		return s.createUrbis(ctx, agencyID, t)
	}
	key, rec, err := s.newDID(agencyID, method, t)
	if err != nil {
		return DIDRecord{}, err
	}
	if err := s.store.CreateKeyAndDID(ctx, key, rec); err != nil {
		return DIDRecord{}, err
	}
	return rec, nil
}

func validMethod(method string) error {
	if method != MethodKey && method != MethodJWK && method != MethodUrbis {
		return errkind.Field(errkind.Invalid, "method", "unknown DID method %q; allowed values are key, jwk and urbis", method)
	}
	return nil
}

// newDID generates a sealed key of type t for agencyID and the record of
// its DID of method, storing neither.
func (s *Service) newDID(agencyID, method string, t kms.KeyType) (kms.Record, DIDRecord, error) {
	rec, key, err := s.keys.NewRecord(agencyID, t)
	if err != nil {
		return kms.Record{}, DIDRecord{}, err
	}
	id, err := deriveDID(method, key.Public)
	if err != nil {
		return kms.Record{}, DIDRecord{}, err
	}
	return rec, DIDRecord{
		DID:       id,
		AgencyID:  agencyID,
		Method:    method,
		KeyID:     rec.ID,
		KeyType:   t,
		Status:    StatusActive,
		CreatedAt: rec.CreatedAt,
	}, nil
}

func deriveDID(method string, pub crypto.PublicKey) (string, error) {
	var (
		d   did.DID
		err error
	)
	switch method {
	case MethodKey:
		d, err = did.NewKey(pub)
	case MethodJWK:
		d, err = did.NewJWK(pub)
	default:
		return "", validMethod(method)
	}
	if err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "derive did:%s", method)
	}
	return d.String(), nil
}

// ListDIDs returns agencyID's DIDs, oldest first.
func (s *Service) ListDIDs(ctx context.Context, agencyID string) ([]DIDRecord, error) {
	return s.store.DIDs(ctx, agencyID)
}

// DID returns agencyID's record of id; NotFound if there is none or it
// belongs to another agency.
func (s *Service) DID(ctx context.Context, agencyID, id string) (DIDRecord, error) {
	return s.store.DID(ctx, agencyID, id)
}

// RotateDID replaces agencyID's active DID id with a new DID of the same
// method on a new key of the same type. did:key and did:jwk identifiers
// are immutable, so rotation means a new identifier: the old record is
// marked rotated (replaced by the new one) and its key rotated; both
// stay resolvable. Conflict if id is already rotated.
func (s *Service) RotateDID(ctx context.Context, agencyID, id string) (DIDRecord, error) {
	return s.RotateDIDWith(ctx, agencyID, id, RotateOptions{})
}

// RotateOptions modify a rotation.
type RotateOptions struct {
	// Compromised declares the old key compromised (did:urbis only): the
	// did.update marks it so, and verifiers refuse everything it signed,
	// even before the rotation.
	Compromised bool
}

// RotateDIDWith is RotateDID with options. Compromised on a did:key or
// did:jwk is Invalid: they have no history in which to declare it.
func (s *Service) RotateDIDWith(ctx context.Context, agencyID, id string, opts RotateOptions) (DIDRecord, error) {
	old, err := s.store.DID(ctx, agencyID, id)
	if err != nil {
		return DIDRecord{}, err
	}
	if old.Status != StatusActive {
		if old.ReplacedBy != "" {
			return DIDRecord{}, errkind.New(errkind.Conflict, "%s is %s (replaced by %s); rotate its successor instead", old.DID, old.Status, old.ReplacedBy)
		}
		return DIDRecord{}, errkind.New(errkind.Conflict, "%s is %s", old.DID, old.Status)
	}
	if old.Method == MethodUrbis {
		return s.rotateUrbis(ctx, old, opts.Compromised)
	}
	if opts.Compromised {
		return DIDRecord{}, errkind.Field(errkind.Invalid, "compromised", "did:%s DIDs have no history in which to declare a key compromised; rotate without it and revoke what the old DID issued (only did:urbis DIDs can declare a key compromised)", old.Method)
	}
	key, next, err := s.newDID(agencyID, old.Method, old.KeyType)
	if err != nil {
		return DIDRecord{}, err
	}
	if err := s.store.RotateDID(ctx, agencyID, old.DID, key, next); err != nil {
		return DIDRecord{}, err
	}
	return next, nil
}

// now returns the clock's time in UTC with microsecond precision, the
// precision every supported database keeps.
func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

// newID returns prefix followed by 16 random bytes (128 bits) in
// lowercase base32 without padding.
func newID(prefix string) string {
	b := make([]byte, 16)
	rand.Read(b) // never fails
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}
