package land

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/urbis-id/urbis/internal/chainop"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
	"github.com/urbis-id/urbis/vc/issuer"
	"github.com/urbis-id/urbis/vc/statuslist"
)

// Issuer is what the service needs of the issuance service: the
// agency's issuer instances, issuing, revoking, and the lock under which
// a DID's chain operations take their nonces.
type Issuer interface {
	List(ctx context.Context, agencyID string) ([]issuer.Instance, error)
	Issue(ctx context.Context, agencyID, issuerID string, cred map[string]any, opts issuer.IssueOptions) (issuer.Issued, error)
	SetStatus(ctx context.Context, agencyID, credentialID, status string) error
	LockSigner(did string) func()
}

// Signers gives the key in custody that signs chain operations for an
// agency's DID, and its verification method.
type Signers interface {
	ChainSigner(ctx context.Context, agencyID, did string) (kid string, key crypto.Signer, err error)
}

// Chain is what the service needs of the registry: submit, wait for the
// block, read nonces, and operations' inclusion proofs.
type Chain interface {
	chainop.Chain
	Proof(ctx context.Context, hash string) (registry.Proof, error)
}

// Config holds the Service's dependencies.
type Config struct {
	Issuer  Issuer
	Signers Signers
	Chain   Chain
	State   registry.StateReader // committed chain state
	Genesis *registry.Genesis
	Clock   func() time.Time // nil: time.Now
}

// Service registers parcels, transfers and encumbers them for agencies:
// it issues the credentials, signs the chain operation with the agency
// DID's custody key, and waits for its block.
type Service struct {
	cfg Config
	ops *chainop.Submitter // signs with the agency DIDs' keys, under the issuers' signer locks
}

// NewService returns a Service.
func NewService(cfg Config) *Service {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	check := &chainop.Check{Machine: registry.NewMachine(cfg.Genesis, Program{}), State: cfg.State, Clock: cfg.Clock}
	return &Service{cfg: cfg, ops: chainop.New(cfg.Chain, cfg.Issuer, check, cfg.Signers)}
}

// Result is what a change of a parcel did: the parcel after it, the
// credential issued (a title or a mortgage), the committed operation, and
// the credential revoked (the title replaced, the mortgage released).
type Result struct {
	Parcel       Parcel
	Issued       *issuer.Issued
	CredentialID string // id of the issued credential
	Hash         string // SHA-256 (hex) of the issued credential as issued
	Operation    registry.OpStatus
	Revoked      string   // id of the credential revoked
	Warnings     []string // what did not follow the committed operation
}

// RegisterRequest registers a parcel with its first owners.
type RegisterRequest struct {
	Registry  string // the land registry's DID, one of the agency's
	Parcel    string
	Cadastral string
	Owners    []Owner
	Format    issuer.Format // optional: which of the DID's LandTitle instances
}

// Register issues the parcel's first title credential and records it
// with a title.register. If the chain refuses the operation, the new
// credential is revoked.
func (s *Service) Register(ctx context.Context, agencyID string, r RegisterRequest) (Result, error) {
	if err := CheckID("parcel", r.Parcel); err != nil {
		return Result{}, err
	}
	body := RegisterPayload{Parcel: r.Parcel, Cadastral: r.Cadastral, Title: strings.Repeat("0", 64), TitleID: "urn:uuid:0", Owners: r.Owners}
	if err := body.check(); err != nil {
		return Result{}, err
	}
	if err := s.dryRun(ctx, agencyID, r.Registry, KindRegister, body); err != nil {
		return Result{}, err
	}
	iss, hash, id, err := s.issue(ctx, agencyID, r.Registry, TitleType, r.Format, titleSubject(r.Parcel, r.Cadastral, r.Owners))
	if err != nil {
		return Result{}, err
	}
	body.Title, body.TitleID = hash, id
	return s.commit(ctx, agencyID, r.Registry, KindRegister, body, r.Parcel, result{issued: &iss, hash: hash, id: id})
}

// TransferRequest transfers a parcel.
type TransferRequest struct {
	Registry string // the land registry's DID, one of the agency's: its signature is the approval
	Parcel   string
	Title    string   // the hash of the title presented, which must be current
	Buyers   []Owner  // the new owners
	Consents []string // one JWS per current owner over Consent{Parcel, Title, Buyers}
	Format   issuer.Format
}

// Transfer issues the buyers' title credential, then applies the
// transfer in one title.transfer, which commits only if r.Title is still
// the parcel's current title, the parcel has no mortgage and every owner
// consented. The order: the operation is first checked against current
// state (nothing is issued for a transfer the chain would refuse now);
// the new title is issued (with its revocation entry); the operation is
// submitted; once committed, the old title is revoked; if it is
// rejected (another transfer won the race), the new title is revoked
// and the chain's reason returned as a Conflict. Between the block and
// the revocation, the old credential still verifies: the chain, not the
// credential, says which title is current.
func (s *Service) Transfer(ctx context.Context, agencyID string, r TransferRequest) (Result, error) {
	if err := CheckID("parcel", r.Parcel); err != nil {
		return Result{}, err
	}
	body := TransferPayload{Parcel: r.Parcel, Title: r.Title, NewTitle: strings.Repeat("0", 64), NewTitleID: "urn:uuid:0", Buyers: r.Buyers, Consents: r.Consents}
	if err := body.check(); err != nil {
		return Result{}, err
	}
	cur, err := s.Parcel(ctx, r.Parcel)
	if err != nil {
		return Result{}, err
	}
	if err := s.dryRun(ctx, agencyID, r.Registry, KindTransfer, body); err != nil {
		return Result{}, err
	}
	iss, hash, id, err := s.issue(ctx, agencyID, r.Registry, TitleType, r.Format, titleSubject(r.Parcel, cur.Cadastral, r.Buyers))
	if err != nil {
		return Result{}, err
	}
	body.NewTitle, body.NewTitleID = hash, id
	return s.commit(ctx, agencyID, r.Registry, KindTransfer, body, r.Parcel, result{issued: &iss, hash: hash, id: id, revoke: cur.TitleID})
}

// EncumberRequest records a lender's mortgage on a parcel.
type EncumberRequest struct {
	Lender      string // the lender's DID, one of the agency's, accredited for Mortgage
	Parcel      string
	Encumbrance string         // an id of the lender's choosing, which the owners' consents name
	Terms       map[string]any // what the mortgage credential says besides the parcel (amount, ...)
	Consents    []string       // one JWS per current owner over MortgageConsent
	Format      issuer.Format
}

// Encumber issues the lender's Mortgage credential and records it on the
// parcel with a title.encumber, which carries every current owner's
// consent; from then on the parcel cannot be transferred until the lender
// releases it.
func (s *Service) Encumber(ctx context.Context, agencyID string, r EncumberRequest) (Result, error) {
	body := EncumberPayload{Parcel: r.Parcel, Encumbrance: r.Encumbrance, Credential: strings.Repeat("0", 64), CredentialID: "urn:uuid:0", Consents: r.Consents}
	if err := body.check(); err != nil {
		return Result{}, err
	}
	if err := s.dryRun(ctx, agencyID, r.Lender, KindEncumber, body); err != nil {
		return Result{}, err
	}
	subject := map[string]any{}
	for k, v := range r.Terms {
		subject[k] = v
	}
	subject["parcelId"], subject["encumbranceId"] = r.Parcel, r.Encumbrance
	iss, hash, id, err := s.issue(ctx, agencyID, r.Lender, MortgageType, r.Format, subject)
	if err != nil {
		return Result{}, err
	}
	body.Credential, body.CredentialID = hash, id
	return s.commit(ctx, agencyID, r.Lender, KindEncumber, body, r.Parcel, result{issued: &iss, hash: hash, id: id})
}

// Release lifts the lender's mortgage enc from parcel with a
// title.release, then revokes the mortgage credential.
func (s *Service) Release(ctx context.Context, agencyID, lender, parcel, enc string) (Result, error) {
	body := ReleasePayload{Parcel: parcel, Encumbrance: enc}
	if err := body.check(); err != nil {
		return Result{}, err
	}
	cur, err := s.Parcel(ctx, parcel)
	if err != nil {
		return Result{}, err
	}
	var credID string
	if i := slices.IndexFunc(cur.Encumbrances, func(e Encumbrance) bool { return e.ID == enc }); i >= 0 {
		credID = cur.Encumbrances[i].CredentialID
	}
	if err := s.dryRun(ctx, agencyID, lender, KindRelease, body); err != nil {
		return Result{}, err
	}
	return s.commit(ctx, agencyID, lender, KindRelease, body, parcel, result{revoke: credID})
}

// Parcel returns the committed state of parcel id.
func (s *Service) Parcel(ctx context.Context, id string) (Parcel, error) {
	if err := CheckID("parcelId", id); err != nil {
		return Parcel{}, err
	}
	b, err := s.cfg.State.ProgramGet(ctx, ParcelKey(id))
	if errors.Is(err, errkind.NotFound) {
		return Parcel{}, errkind.Field(errkind.NotFound, "parcelId", "parcel %s is not registered", id)
	}
	if err != nil {
		return Parcel{}, err
	}
	var p Parcel
	if err := decode(b, &p); err != nil {
		return Parcel{}, errkind.Wrap(errkind.Internal, err, "state of parcel %s", id)
	}
	return p, nil
}

// Entry is a history entry with the inclusion proof of its operation.
type Entry struct {
	Event
	Proof registry.Proof
}

// History returns every change of parcel id, oldest first, each with the
// inclusion proof of its operation, which anyone checks offline against
// the chain's genesis (registry.CheckProof).
func (s *Service) History(ctx context.Context, id string) ([]Entry, error) {
	if _, err := s.Parcel(ctx, id); err != nil {
		return nil, err
	}
	var out []Entry
	after := ""
	for {
		page, err := s.cfg.State.ProgramScan(ctx, HistoryPrefix(id), after, 100)
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			var ev Event
			if err := decode(e.Value, &ev); err != nil {
				return nil, errkind.Wrap(errkind.Internal, err, "history entry %s", e.Key)
			}
			p, err := s.cfg.Chain.Proof(ctx, ev.Operation)
			if err != nil {
				return nil, err
			}
			out = append(out, Entry{Event: ev, Proof: p})
		}
		if len(page) < 100 {
			return out, nil
		}
		after = page[len(page)-1].Key
	}
}

// titleSubject is the credentialSubject of a title credential.
func titleSubject(parcel, cadastral string, owners []Owner) map[string]any {
	list := make([]any, len(owners))
	for i, o := range owners {
		list[i] = map[string]any{"id": o.DID, "share": o.Share}
	}
	return map[string]any{"parcelId": parcel, "cadastralReference": cadastral, "owners": list, "encumbrances": []any{}}
}

// issue issues a credential of typ about subject with the agency's
// instance for DID that issues typ with a revocation entry, and returns
// it with its hash (as anchoring computes it) and id.
func (s *Service) issue(ctx context.Context, agencyID, id, typ string, f issuer.Format, subject map[string]any) (issuer.Issued, string, string, error) {
	ins, err := s.cfg.Issuer.List(ctx, agencyID)
	if err != nil {
		return issuer.Issued{}, "", "", err
	}
	var in *issuer.Instance
	for i := range ins {
		if ins[i].DID == id && slices.Contains(ins[i].Types, typ) && (f == "" || ins[i].Format == f) && ins[i].Format != issuer.FormatBBS {
			in = &ins[i]
			break
		}
	}
	if in == nil {
		return issuer.Issued{}, "", "", errkind.Field(errkind.NotFound, "format", "the agency has no issuer instance for %s that issues %s%s; create one with POST /issuers (types [%q], statusPurposes [\"revocation\"])", id, typ, formatNote(f), typ)
	}
	if !slices.Contains(in.StatusPurposes, statuslist.PurposeRevocation) {
		return issuer.Issued{}, "", "", errkind.Field(errkind.Invalid, "format", "issuer instance %s keeps no revocation list; a %s must be revocable: create an instance with statusPurposes [\"revocation\"]", in.ID, typ)
	}
	ctxs := []any{"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/undefined-terms/v2"}
	if in.Format == issuer.FormatJWT {
		ctxs = []any{"https://www.w3.org/2018/credentials/v1"}
	}
	credID := "urn:uuid:" + uuid()
	cred := map[string]any{"@context": ctxs, "id": credID, "type": []any{"VerifiableCredential", typ}, "issuer": id, "credentialSubject": subject}
	iss, err := s.cfg.Issuer.Issue(ctx, agencyID, in.ID, cred, issuer.IssueOptions{})
	if err != nil {
		return issuer.Issued{}, "", "", err
	}
	hash, err := issuer.LeafOf(iss)
	if err != nil {
		return issuer.Issued{}, "", "", err
	}
	return iss, hash, credID, nil
}

func formatNote(f issuer.Format) string {
	if f == "" {
		return ""
	}
	return " in format " + string(f)
}

func uuid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
