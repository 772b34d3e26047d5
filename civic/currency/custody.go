package currency

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/agency"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
	"github.com/urbis-id/urbis/vc/issuer"
)

// Chain is what an agency-side service needs of the registry: submit a
// signed operation, wait for its block, and read a signer's nonce.
type Chain interface {
	ChainID() string
	Submit(ctx context.Context, compact string) (registry.OpStatus, error)
	Wait(ctx context.Context, hash string) (registry.OpStatus, error)
	Nonce(ctx context.Context, signerDID string) (uint64, error)
}

// DIDs finds an agency's DID records.
type DIDs interface {
	DID(ctx context.Context, agencyID, id string) (agency.DIDRecord, error)
}

// Locks serialises the chain operations signed for each DID (the
// issuance service's), so that two of them do not take the same nonce.
type Locks interface {
	LockSigner(did string) func()
}

// Custody signs program operations with the key in custody of one of an
// agency's DIDs: it checks each with the chain's state machine against
// current state (so that a refusal keeps its kind: Forbidden, Conflict,
// NotFound), then submits it and waits for its block.
type Custody struct {
	Chain   Chain
	Machine *registry.Machine // with the programs the chain runs
	State   registry.StateReader
	DIDs    DIDs
	Keys    issuer.Keys
	Locks   Locks
	Clock   func() time.Time
}

// custodyAttempts bounds how often an operation the chain rejected after
// its check passed (a nonce taken in between) is signed again.
const custodyAttempts = 3

// Submit signs kind with payload as signerDID, one of agencyID's active
// DIDs, and returns its committed status. Errors: NotFound (field did)
// if the DID is not the agency's; the chain's refusal, with its kind.
func (k *Custody) Submit(ctx context.Context, agencyID, signerDID string, kind registry.Kind, payload any) (registry.OpStatus, error) {
	if k == nil || k.Chain == nil {
		return registry.OpStatus{}, errkind.New(errkind.Unsupported, "this server runs no registry chain")
	}
	if signerDID == "" {
		return registry.OpStatus{}, errkind.Field(errkind.Invalid, "/did", "is required: the agency's DID that signs the operation")
	}
	rec, err := k.DIDs.DID(ctx, agencyID, signerDID)
	if err != nil {
		if errors.Is(err, errkind.NotFound) {
			return registry.OpStatus{}, errkind.Field(errkind.NotFound, "/did", "%s is not a DID of this agency", signerDID)
		}
		return registry.OpStatus{}, err
	}
	if rec.Status != agency.StatusActive {
		return registry.OpStatus{}, errkind.Field(errkind.Conflict, "/did", "%s is %s; sign with an active DID", rec.DID, rec.Status)
	}
	kid, err := keyURL(ctx, rec)
	if err != nil {
		return registry.OpStatus{}, err
	}
	key, err := k.Keys.Signer(ctx, agencyID, rec.KeyID)
	if err != nil {
		return registry.OpStatus{}, err
	}
	if k.Locks != nil {
		defer k.Locks.LockSigner(rec.DID)()
	}
	for attempt := 1; ; attempt++ {
		nonce, err := k.Chain.Nonce(ctx, rec.DID)
		if err != nil {
			return registry.OpStatus{}, err
		}
		op, err := registry.NewOperation(k.Chain.ChainID(), kind, kid, nonce+1, payload)
		if err != nil {
			return registry.OpStatus{}, err
		}
		signed, err := registry.Sign(op, key)
		if err != nil {
			return registry.OpStatus{}, err
		}
		clock := k.Clock
		if clock == nil {
			clock = time.Now
		}
		h := registry.Header{Chain: k.Chain.ChainID(), Time: clock().UTC()}
		if _, err := k.Machine.Apply(ctx, readOnly{k.State}, h, signed); err != nil && !staleNonce(err) {
			return registry.OpStatus{}, err
		}
		st, err := k.Chain.Submit(ctx, signed.JWS)
		if err == nil {
			st, err = k.Chain.Wait(ctx, st.Hash)
		}
		switch {
		case err != nil && !staleNonce(err):
			return registry.OpStatus{}, err
		case err == nil && st.Status == registry.StatusCommitted:
			return st, nil
		case attempt == custodyAttempts:
			reason := st.Reason
			if err != nil {
				reason = err.Error()
			}
			return registry.OpStatus{}, errkind.New(errkind.Conflict, "the registry rejected the %s operation: %s", kind, reason)
		}
	}
}

// staleNonce reports whether err is the chain's refusal of a nonce that
// another operation of the signer took.
func staleNonce(err error) bool {
	var e *errkind.Error
	return errors.As(err, &e) && e.Kind == errkind.Conflict && e.Field == "nonce"
}

// keyURL returns the DID URL of the key in custody that signs for rec:
// the key's fragment in a did:urbis document, the assertionMethod key of
// a did:key or did:jwk.
func keyURL(ctx context.Context, rec agency.DIDRecord) (string, error) {
	if rec.Method == agency.MethodUrbis {
		return rec.DID + "#" + rec.KeyID, nil
	}
	d, err := did.Parse(rec.DID)
	if err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "stored DID %s", rec.DID)
	}
	var m did.Method = did.KeyMethod{}
	if rec.Method == agency.MethodJWK {
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
