package agency

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"sync"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// UseChainState lets the service register schemas on the chain of g
// (through the Registry given to UseRegistry): it checks each operation
// with the chain's own state machine against st, the chain's current
// state, before submitting it, and reads the registered schema back from st.
func (s *Service) UseChainState(g *registry.Genesis, st registry.StateReader) {
	s.machine, s.state = registry.NewMachine(g), st
}

// RegisterSchema registers schema as the JSON Schema of credentials of
// type typ, in a schema.register operation signed with the custody key
// of agencyID's active DID signer, and returns the schema once its block
// is committed. Only a DID accredited for typ may register it.
//
// Errors: NotFound if signer is not one of agencyID's DIDs; Invalid
// (field type or schema) for a request no operation can carry; and the
// chain's own refusal, found by applying the signed operation to current
// state before submitting it: Forbidden when the DID holds no active
// accreditation for typ, Conflict when the schema is already registered,
// Unprocessable (field schema) when it is not a self-contained JSON
// Schema, TooLarge (field schema) when it does not fit in one operation.
// Nothing is submitted that the chain would refuse. The DID's signer lock
// (see UseSignerLocks) is held from reading its nonce to the block.
func (s *Service) RegisterSchema(ctx context.Context, agencyID, signer, typ string, schema json.RawMessage) (registry.Schema, error) {
	if strings.TrimSpace(typ) == "" {
		return registry.Schema{}, errkind.Field(errkind.Invalid, "type", "must name a credential type, such as ResidentCredential")
	}
	if t := bytes.TrimSpace(schema); len(t) == 0 || t[0] != '{' {
		return registry.Schema{}, errkind.Field(errkind.Invalid, "schema", "must be a JSON Schema object")
	}
	if s.registry == nil || s.machine == nil || s.state == nil {
		return registry.Schema{}, errkind.New(errkind.Unsupported, "this server runs no registry, so it cannot register schemas")
	}
	rec, err := s.store.DID(ctx, agencyID, signer)
	if err != nil {
		return registry.Schema{}, err
	}
	if rec.Status != StatusActive {
		return registry.Schema{}, errkind.Field(errkind.Conflict, "did", "%s is %s%s; sign with an active DID", rec.DID, rec.Status, successor(rec))
	}
	kid, err := signingKey(ctx, rec)
	if err != nil {
		return registry.Schema{}, err
	}
	key, err := s.keys.Signer(ctx, agencyID, rec.KeyID)
	if err != nil {
		return registry.Schema{}, err
	}
	canon, err := registry.Canonical(schema)
	if err != nil {
		return registry.Schema{}, errkind.Field(errkind.Invalid, "schema", "is not valid JSON: %v", err)
	}

	defer s.locks.LockSigner(rec.DID)()
	for attempt := 1; ; attempt++ {
		st, err := s.submitSchema(ctx, rec.DID, kid, key, registry.SchemaRegister{Type: typ, Schema: schema})
		if err != nil {
			return registry.Schema{}, err
		}
		if st.Status == registry.StatusCommitted {
			break
		}
		// An operation of the DID signed outside the lock (by another
		// process on the same chain, say) took the nonce between the check
		// and the block: sign again with the next one, and check again.
		if attempt == schemaAttempts {
			return registry.Schema{}, errkind.New(errkind.Conflict, "the registry rejected the schema.register operation %s: %s", st.Hash, st.Reason)
		}
	}
	sum := sha256.Sum256(canon)
	return s.state.Schema(ctx, hex.EncodeToString(sum[:]))
}

// schemaAttempts bounds how often a schema.register that the chain
// rejected after its check passed is signed again.
const schemaAttempts = 3

// submitSchema signs body with the DID's next nonce, checks it against
// current state, submits it and waits for its block: an error is the
// chain's refusal (or a failure); a rejected status means the state
// changed between the check and the block.
func (s *Service) submitSchema(ctx context.Context, signerDID, kid string, key crypto.Signer, body registry.SchemaRegister) (registry.OpStatus, error) {
	nonce, err := s.registry.Nonce(ctx, signerDID)
	if err != nil {
		return registry.OpStatus{}, err
	}
	op, err := registry.NewOperation(s.registry.ChainID(), registry.KindSchemaRegister, kid, nonce+1, body)
	if err != nil {
		return registry.OpStatus{}, err
	}
	signed, err := registry.Sign(op, key)
	if err != nil {
		return registry.OpStatus{}, refusal(err) // an oversize schema is refused here
	}
	err = s.dryRun(ctx, signed)
	if err == nil {
		var st registry.OpStatus
		if st, err = s.registry.Submit(ctx, signed.JWS); err == nil {
			return s.registry.Wait(ctx, st.Hash)
		}
	}
	if staleNonce(err) {
		return registry.OpStatus{Hash: signed.Hash, Status: registry.StatusRejected, Reason: err.Error()}, nil
	}
	return registry.OpStatus{}, refusal(err)
}

// staleNonce reports whether err is the chain's refusal of a nonce that
// another operation of the signer has taken.
func staleNonce(err error) bool {
	var e *errkind.Error
	return errors.As(err, &e) && e.Kind == errkind.Conflict && e.Field == "nonce"
}

// dryRun applies signed to a view of current state that keeps no writes,
// with the block time now, and returns the chain's verdict.
func (s *Service) dryRun(ctx context.Context, signed registry.SignedOp) error {
	h := registry.Header{Chain: s.registry.ChainID(), Time: s.clock().UTC()}
	_, err := s.machine.Apply(ctx, readOnly{s.state}, h, signed)
	return err
}

// refusal turns the chain's verdict on a schema.register into the
// service's: a schema or type the chain finds invalid is content the
// request carried (Unprocessable, the field a pointer into the request);
// authorisation and conflicts pass as they are; anything else the chain
// refuses (a did:urbis the chain does not know, say) is a Conflict with
// the chain's reason.
func refusal(err error) error {
	var e *errkind.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Kind {
	case errkind.Forbidden, errkind.Conflict, errkind.Internal, errkind.Unavailable:
		return err
	case errkind.Invalid, errkind.Unprocessable:
		c := *e
		c.Kind = errkind.Unprocessable
		if c.Field == "" {
			c.Field = "schema"
		}
		return &c
	case errkind.TooLarge:
		return &errkind.Error{Kind: errkind.TooLarge, Field: "schema", Msg: "is too large to register", Err: err}
	}
	return errkind.Wrap(errkind.Conflict, err, "the registry refuses the schema.register operation")
}

// signingKey returns the verification method (an absolute DID URL) whose
// key in custody signs for rec on the chain: the assertionMethod key of a
// did:key or did:jwk, the key's own fragment in a did:urbis document.
func signingKey(ctx context.Context, rec DIDRecord) (string, error) {
	if rec.Method == MethodUrbis {
		return rec.DID + "#" + rec.KeyID, nil
	}
	d, err := did.Parse(rec.DID)
	if err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "stored DID %s", rec.DID)
	}
	var m did.Method = did.KeyMethod{}
	if rec.Method == MethodJWK {
		m = did.JWKMethod{}
	}
	res, err := m.Resolve(ctx, d, did.ResolveOptions{NoEncryptionKeyDerivation: true})
	if err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "resolve %s", rec.DID)
	}
	for _, ref := range res.Document.Relationship(did.AssertionMethod) {
		if vm, ok := res.Document.VerificationMethodByID(ref.Ref); ok {
			if strings.HasPrefix(vm.ID, "#") {
				return rec.DID + vm.ID, nil
			}
			return vm.ID, nil
		}
	}
	return "", errkind.New(errkind.Internal, "%s has no assertionMethod key", rec.DID)
}

func successor(rec DIDRecord) string {
	if rec.ReplacedBy == "" {
		return ""
	}
	return " (replaced by " + rec.ReplacedBy + ")"
}

// readOnly is chain state whose writes go nowhere: the state machine
// checks an operation against it without changing anything.
type readOnly struct{ registry.StateReader }

func (readOnly) PutDIDVersion(context.Context, registry.DIDVersion) error       { return nil }
func (readOnly) SetNonce(context.Context, string, uint64) error                 { return nil }
func (readOnly) PutAccreditation(context.Context, registry.Accreditation) error { return nil }
func (readOnly) AddAccreditationEvent(context.Context, registry.AccreditationEvent) error {
	return nil
}
func (readOnly) PutSchema(context.Context, registry.Schema) error             { return nil }
func (readOnly) PutAnchor(context.Context, registry.Anchor) error             { return nil }
func (readOnly) AddStatusUpdate(context.Context, registry.StatusUpdate) error { return nil }
func (readOnly) ProgramPut(context.Context, string, []byte) error             { return nil }
func (readOnly) ProgramDelete(context.Context, string) error                  { return nil }

var _ registry.StateTx = readOnly{}

// SignerLocks serialises the chain operations signed for each DID, so
// that two of them do not take the same nonce: LockSigner takes the DID's
// lock and returns its release.
type SignerLocks interface {
	LockSigner(did string) func()
}

// UseSignerLocks makes the service take l's lock of a DID while it signs
// and submits an operation of that DID, instead of a lock of its own: give
// it the locks of every other service that signs operations of the
// agency's DIDs (the issuance service's status.update).
func (s *Service) UseSignerLocks(l SignerLocks) { s.locks = l }

// didLocks is the service's own SignerLocks.
type didLocks struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

// LockSigner implements SignerLocks.
func (l *didLocks) LockSigner(id string) func() {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[string]*sync.Mutex{}
	}
	m, ok := l.locks[id]
	if !ok {
		m = &sync.Mutex{}
		l.locks[id] = m
	}
	l.mu.Unlock()
	m.Lock()
	return m.Unlock
}
