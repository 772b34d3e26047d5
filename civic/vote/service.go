package vote

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/urbis-id/urbis/internal/chainop"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
	"github.com/urbis-id/urbis/verifiers"
)

// Chain is what the service needs of the registry: submit a signed
// operation, wait for its block, read a signer's nonce.
type Chain = chainop.Chain

// State reads the programs' state of the chain (committed blocks).
type State interface {
	ProgramGet(ctx context.Context, key string) ([]byte, error)
	ProgramScan(ctx context.Context, prefix, after string, limit int) ([]registry.ProgramEntry, error)
}

// Custody signs with an agency's DID key in custody.
type Custody interface {
	// ChainSigner returns the signer of agencyID's DID and the DID URL of
	// its key; NotFound if the DID is not the agency's.
	ChainSigner(ctx context.Context, agencyID, did string) (crypto.Signer, string, error)
}

// KeyRecord is an election's sealed RSA private key and whose it is.
type KeyRecord struct {
	Election string
	AgencyID string
	DID      string
	Sealed   []byte
}

// KeyStore keeps elections' sealed private keys, off chain.
type KeyStore interface {
	PutElectionKey(ctx context.Context, r KeyRecord) error
	// ElectionKey returns the record of election; NotFound if none.
	ElectionKey(ctx context.Context, election string) (KeyRecord, error)
}

// Presentations verifies presentations (verifiers.Verifier does).
type Presentations interface {
	VerifyPresentation(ctx context.Context, in any, opts verifiers.PresentationOptions) (*verifiers.PresentationResult, error)
}

// Trust answers whether a DID is accredited for a type at a time
// (verifiers.Trust does).
type Trust interface {
	AccreditedAt(ctx context.Context, issuer, typ string, at time.Time) (bool, string, error)
}

// Locks serialises the chain operations of a DID, so that two
// operations do not take the same nonce.
type Locks interface {
	LockSigner(did string) func()
}

// Config wires a Service.
type Config struct {
	Chain         Chain
	State         State
	Custody       Custody
	Keys          KeyStore
	Presentations Presentations
	Trust         Trust
	Locks         Locks            // nil: the service's own
	Clock         func() time.Time // nil: time.Now
	KeyBits       int              // RSA modulus of new elections; 0: 2048
}

// Service is the election authority's side: it creates elections, hands
// out blind-signed tokens to eligible residents, closes elections, and
// reads elections, counts and receipts from the chain.
type Service struct {
	cfg      Config
	ops      *chainop.Submitter // signs on Chain under Locks
	keys     sync.Map           // election id -> *rsa.PrivateKey, once unsealed
	creating sync.Mutex         // one Create at a time: between its check and its block, the id is its own
}

// NewService returns a Service.
func NewService(cfg Config) *Service {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.KeyBits == 0 {
		cfg.KeyBits = 2048
	}
	return &Service{cfg: cfg, ops: chainop.New(cfg.Chain, cfg.Locks, nil, nil)}
}

// CreateRequest is what an authority asks for an election: the payload
// of election.create without the key, which the service makes.
type CreateRequest struct {
	DID         string
	ID          string
	Title       string
	Options     []string
	Eligibility Rule
	Opens       string
	Closes      string
}

// Create makes the election's RSA key, seals it under the authority's
// custody key, and records the election on the chain with election.create
// signed by the authority's DID.
func (s *Service) Create(ctx context.Context, agencyID string, req CreateRequest) (Election, error) {
	if req.DID == "" {
		return Election{}, errkind.Field(errkind.Invalid, "did", "must name the authority's DID (one of the agency's DIDs)")
	}
	body := CreatePayload{ID: req.ID, Title: req.Title, Options: req.Options, Eligibility: req.Eligibility, Opens: req.Opens, Closes: req.Closes}
	// Everything but the key, which is made once the request is sound.
	dummy := body
	dummy.PublicKey = placeholderKey
	_, closes, err := dummy.Check()
	if err != nil {
		return Election{}, err
	}
	s.creating.Lock()
	defer s.creating.Unlock()
	now := s.cfg.Clock()
	if !closes.After(now) {
		return Election{}, errkind.Field(errkind.Invalid, "closes", "%s is already past", req.Closes)
	}
	if _, err := s.Election(ctx, req.ID); err == nil {
		return Election{}, errkind.Field(errkind.Conflict, "id", "election %s already exists; choose another id", req.ID)
	} else if !errors.Is(err, errkind.NotFound) {
		return Election{}, err
	}
	signer, kid, err := s.cfg.Custody.ChainSigner(ctx, agencyID, req.DID)
	if err != nil {
		return Election{}, err
	}
	if ok, reason, err := s.cfg.Trust.AccreditedAt(ctx, req.DID, AuthorityType, now); err != nil {
		return Election{}, err
	} else if !ok {
		return Election{}, errkind.Field(errkind.Forbidden, "did", "%s is not accredited for %s (%s); the governance authority accredits it with `urbis governance accredit --types %s`", req.DID, AuthorityType, reason, AuthorityType)
	}
	priv, err := rsa.GenerateKey(rand.Reader, s.cfg.KeyBits)
	if err != nil {
		return Election{}, errkind.Wrap(errkind.Internal, err, "generate the election key")
	}
	if body.PublicKey, err = EncodePublicKey(&priv.PublicKey); err != nil {
		return Election{}, err
	}
	sealed, err := sealKey(signer, req.ID, priv)
	if err != nil {
		return Election{}, err
	}
	if err := s.cfg.Keys.PutElectionKey(ctx, KeyRecord{Election: req.ID, AgencyID: agencyID, DID: req.DID, Sealed: sealed}); err != nil {
		return Election{}, err
	}
	if _, err := s.submit(ctx, signer, req.DID, kid, KindCreate, body); err != nil {
		return Election{}, err
	}
	s.keys.Store(req.ID, priv)
	return s.Election(ctx, req.ID)
}

// placeholderKey is a valid public key, to check a request before its
// key is made.
var placeholderKey = func() string {
	n := new(big.Int).Lsh(big.NewInt(1), MinKeyBits-1)
	n.Add(n, big.NewInt(1))
	k, _ := EncodePublicKey(&rsa.PublicKey{N: n, E: 65537})
	return k
}()

// submit signs an operation of kind with the DID's key in custody, with
// the DID's next nonce under its lock, submits it and waits for its
// block. A rejected operation is a Conflict carrying the chain's reason.
func (s *Service) submit(ctx context.Context, signer crypto.Signer, signerDID, kid string, kind registry.Kind, payload any) (registry.OpStatus, error) {
	return s.ops.Submit(ctx, chainop.Op{Key: chainop.Key{DID: signerDID, ID: kid, Signer: signer}, Kind: kind, Payload: payload})
}

// Election reads an election from the chain; NotFound if there is none.
func (s *Service) Election(ctx context.Context, id string) (Election, error) {
	var e Election
	if err := s.get(ctx, electionKey(id), &e); err != nil {
		if errors.Is(err, errkind.NotFound) {
			return e, errkind.New(errkind.NotFound, "no election %s on the chain", id)
		}
		return e, err
	}
	return e, nil
}

func (s *Service) get(ctx context.Context, key string, v any) error {
	b, err := s.cfg.State.ProgramGet(ctx, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errkind.Wrap(errkind.Internal, err, "state at %s", key)
	}
	return nil
}

// TokenRequest asks for a ballot token: a presentation proving
// eligibility, bound to the challenge Challenge(Blinded) and the domain
// Domain(election), and the blinded token.
type TokenRequest struct {
	Presentation any
	Blinded      []byte
}

// IssueToken checks a resident's eligibility, records on the chain that
// the resident got a token (election.token, one per resident and
// election), and only then returns the blind signature. The authority
// learns that this resident got a token, never which. A resident who
// asks again gets Conflict.
func (s *Service) IssueToken(ctx context.Context, election string, req TokenRequest) ([]byte, error) {
	e, err := s.Election(ctx, election)
	if err != nil {
		return nil, err
	}
	opens, closes, err := e.Check()
	if err != nil {
		return nil, err
	}
	if !s.cfg.Clock().Before(closes) {
		return nil, errkind.New(errkind.Conflict, "election %s closed at %s", e.ID, e.Closes)
	}
	pub, _ := ParsePublicKey(e.PublicKey)
	if err := checkBlinded(pub, req.Blinded); err != nil {
		return nil, err
	}
	if req.Presentation == nil {
		return nil, errkind.Field(errkind.Invalid, "presentation", "is required: a presentation of a %s bound to challenge %s and domain %s", e.Eligibility.CredentialType, Challenge(req.Blinded), Domain(e.ID))
	}
	res, err := s.cfg.Presentations.VerifyPresentation(ctx, req.Presentation, verifiers.PresentationOptions{Challenge: Challenge(req.Blinded), Domain: Domain(e.ID)})
	if err != nil {
		return nil, underPresentation(err)
	}
	subject, err := eligible(req.Presentation, res, e.Eligibility, opens)
	if err != nil {
		return nil, err
	}
	rec, err := s.cfg.Keys.ElectionKey(ctx, e.ID)
	if err != nil {
		if errors.Is(err, errkind.NotFound) {
			return nil, errkind.New(errkind.NotFound, "this server does not hold the key of election %s; ask its authority's server", e.ID)
		}
		return nil, err
	}
	signer, kid, err := s.cfg.Custody.ChainSigner(ctx, rec.AgencyID, rec.DID)
	if err != nil {
		return nil, err
	}
	priv, err := s.privateKey(signer, rec)
	if err != nil {
		return nil, err
	}
	resident := ResidentHash(e.ID, subject)
	if _, err := s.cfg.State.ProgramGet(ctx, tokenKey(e.ID, resident)); err == nil {
		return nil, errkind.Field(errkind.Conflict, "presentation", "this resident already received a ballot token for %s", e.ID)
	} else if !errors.Is(err, errkind.NotFound) {
		return nil, err
	}
	if _, err := s.submit(ctx, signer, rec.DID, kid, KindToken, TokenPayload{Election: e.ID, Resident: resident}); err != nil {
		if errkind.KindOf(err) == errkind.Conflict && strings.Contains(err.Error(), "already received") {
			return nil, errkind.Field(errkind.Conflict, "presentation", "this resident already received a ballot token for %s", e.ID)
		}
		return nil, err
	}
	return BlindSign(priv, req.Blinded)
}

func underPresentation(err error) error {
	var e *errkind.Error
	if errors.As(err, &e) && e.Field == "" {
		return errkind.Field(e.Kind, "presentation", "%s", e.Error())
	}
	return err
}

// checkBlinded refuses a blinded message the key cannot sign, before any
// token is recorded.
func checkBlinded(pub *rsa.PublicKey, blinded []byte) error {
	k := (pub.N.BitLen() + 7) / 8
	if len(blinded) != k || new(big.Int).SetBytes(blinded).Cmp(pub.N) >= 0 {
		return errkind.Field(errkind.Invalid, "blindedMessage", "must be a %d-byte RSA blinded message (RFC 9474) for the election's key", k)
	}
	return nil
}

func (s *Service) privateKey(signer crypto.Signer, rec KeyRecord) (*rsa.PrivateKey, error) {
	if k, ok := s.keys.Load(rec.Election); ok {
		return k.(*rsa.PrivateKey), nil
	}
	priv, err := openKey(signer, rec.Election, rec.Sealed)
	if err != nil {
		return nil, err
	}
	if e, err := s.Election(context.Background(), rec.Election); err != nil {
		return nil, err
	} else if pub, err := ParsePublicKey(e.PublicKey); err != nil || !pub.Equal(&priv.PublicKey) {
		return nil, errkind.New(errkind.Conflict, "the key this server holds for %s is not the election's (another server created it); ask its authority's server", rec.Election)
	}
	s.keys.Store(rec.Election, priv)
	return priv, nil
}
