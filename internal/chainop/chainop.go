// Package chainop signs registry operations with keys in custody and
// submits them: the one place where an agency-side service (schema
// registration, status changes, anchors, the civic programs) takes a
// DID's next nonce under the DID's lock, checks the operation against
// current state, submits it, waits for its block and turns the chain's
// rejection into an errkind error.
package chainop

import (
	"context"
	"crypto"
	"errors"
	"sync"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// Chain is what a Submitter needs of the registry: submit a signed
// operation, wait for its block, and read a signer's nonce.
type Chain interface {
	ChainID() string
	Submit(ctx context.Context, compact string) (registry.OpStatus, error)
	Wait(ctx context.Context, hash string) (registry.OpStatus, error)
	Nonce(ctx context.Context, signerDID string) (uint64, error)
}

// Locker serialises the chain operations signed for each DID, so that
// two of them do not take the same nonce: LockSigner takes the DID's
// lock and returns its release. Every signer of a DID in a process must
// take the same Locker's lock.
type Locker interface {
	LockSigner(did string) func()
}

// Custody finds the key in custody that signs chain operations for one
// of an agency's DIDs, and its verification method (agency.Service
// does). NotFound if the DID is not the agency's.
type Custody interface {
	ChainSigner(ctx context.Context, agencyID, did string) (kid string, key crypto.Signer, err error)
}

// Key is what signs for a DID: the DID (whose nonce and lock the
// operation takes), the verification method (an absolute DID URL) and
// the key behind it.
type Key struct {
	DID    string
	ID     string
	Signer crypto.Signer
}

// Check is the state machine a Submitter checks operations with before
// submitting them, and the committed state it checks them against.
type Check struct {
	Machine *registry.Machine // with the programs whose operations are checked
	State   registry.StateReader
	Clock   func() time.Time // the block time of the check; nil: time.Now
}

// Op is an operation to sign and submit.
type Op struct {
	Key     Key
	Kind    registry.Kind
	Payload any
	// What names the operation in a rejection ("the status.update of
	// list L index 3"); "": "the <kind> operation".
	What string
}

// Submitter signs operations with the next nonce of their DID, under the
// DID's lock, and submits them.
type Submitter struct {
	chain   Chain
	locks   Locker
	check   *Check
	custody Custody
}

// New returns a Submitter on chain. locks nil: a Locker of its own (give
// it the locks of every other signer of the same DIDs instead); check
// nil: operations are not checked before they are submitted; custody
// nil: Key finds no key.
func New(chain Chain, locks Locker, check *Check, custody Custody) *Submitter {
	if locks == nil {
		locks = &Locks{}
	}
	return &Submitter{chain: chain, locks: locks, check: check, custody: custody}
}

// Attempts bounds how often an operation is signed again when another
// operation of its DID, signed outside the lock (by another process on
// the same chain, say), took its nonce.
const Attempts = 3

// Key returns the key in custody that signs for agencyID's DID did; the
// error is the Custody's (NotFound, Conflict for a DID not active).
func (s *Submitter) Key(ctx context.Context, agencyID, did string) (Key, error) {
	if s.custody == nil {
		return Key{}, errkind.New(errkind.Unsupported, "this server holds no agency keys to sign chain operations with")
	}
	kid, key, err := s.custody.ChainSigner(ctx, agencyID, did)
	if err != nil {
		return Key{}, err
	}
	return Key{DID: did, ID: kid, Signer: key}, nil
}

// LockSigner takes the lock of did that Submit takes, for a caller that
// reads chain state the operation depends on before SubmitLocked.
func (s *Submitter) LockSigner(did string) func() { return s.locks.LockSigner(did) }

// Submit signs op with its DID's next nonce under the DID's lock, checks
// it against current state (when the Submitter has a Check), submits it
// and waits for its block, and returns its committed status. The
// chain's refusal keeps its kind (Forbidden, Conflict, NotFound, ...); an
// operation rejected in its block is a Conflict carrying the chain's
// reason. An operation whose nonce was taken meanwhile is signed again
// (at most Attempts times); so is, when checked, one rejected in its
// block, since the state changed between the check and the block.
func (s *Submitter) Submit(ctx context.Context, op Op) (registry.OpStatus, error) {
	defer s.locks.LockSigner(op.Key.DID)()
	return s.SubmitLocked(ctx, op)
}

// SubmitLocked is Submit for a caller that holds the DID's lock.
func (s *Submitter) SubmitLocked(ctx context.Context, op Op) (registry.OpStatus, error) {
	for attempt := 1; ; attempt++ {
		signed, err := s.sign(ctx, op)
		if err != nil {
			return registry.OpStatus{}, err
		}
		var st registry.OpStatus
		if err = s.dryRun(ctx, signed); err == nil {
			if st, err = s.chain.Submit(ctx, signed.JWS); err == nil {
				st, err = s.chain.Wait(ctx, st.Hash)
			}
		}
		switch {
		case err == nil && st.Status == registry.StatusCommitted:
			return st, nil
		case err != nil && !StaleNonce(err):
			return registry.OpStatus{}, err
		case err == nil && s.check == nil:
			// Unchecked, the block's reason is the refusal.
			return registry.OpStatus{}, rejected(op, st.Hash, st.Reason)
		case attempt == Attempts:
			if err != nil {
				return registry.OpStatus{}, rejected(op, signed.Hash, err.Error())
			}
			return registry.OpStatus{}, rejected(op, st.Hash, st.Reason)
		}
	}
}

// DryRun signs op with its DID's next nonce and checks it against
// current state without submitting it, nor taking the DID's lock: what
// the chain would refuse is refused before anything else is done. Nil
// if the Submitter has no Check. Without the lock, another operation of
// the DID may take the nonce between its read and the check; then the
// nonce is read again (at most Attempts times in all), so that the
// verdict is on the operation, not on a nonce that Submit would pick
// afresh anyway.
func (s *Submitter) DryRun(ctx context.Context, op Op) error {
	if s.check == nil {
		return nil
	}
	for attempt := 1; ; attempt++ {
		signed, err := s.sign(ctx, op)
		if err != nil {
			return err
		}
		if err := s.dryRun(ctx, signed); err == nil || !StaleNonce(err) || attempt == Attempts {
			return err
		}
	}
}

// sign signs op with the DID's next nonce.
func (s *Submitter) sign(ctx context.Context, op Op) (registry.SignedOp, error) {
	nonce, err := s.chain.Nonce(ctx, op.Key.DID)
	if err != nil {
		return registry.SignedOp{}, err
	}
	o, err := registry.NewOperation(s.chain.ChainID(), op.Kind, op.Key.ID, nonce+1, op.Payload)
	if err != nil {
		return registry.SignedOp{}, err
	}
	return registry.Sign(o, op.Key.Signer)
}

// dryRun applies signed to a view of current state that keeps no
// writes, with the block time now, and returns the chain's verdict.
func (s *Submitter) dryRun(ctx context.Context, signed registry.SignedOp) error {
	if s.check == nil {
		return nil
	}
	clock := s.check.Clock
	if clock == nil {
		clock = time.Now
	}
	h := registry.Header{Chain: s.chain.ChainID(), Time: clock().UTC()}
	_, err := s.check.Machine.Apply(ctx, readOnly{s.check.State}, h, signed)
	return err
}

func rejected(op Op, hash, reason string) error {
	what := op.What
	if what == "" {
		what = "the " + string(op.Kind) + " operation"
	}
	return errkind.New(errkind.Conflict, "the registry rejected %s: %s (operation %s)", what, reason, hash)
}

// StaleNonce reports whether err is the chain's refusal of a nonce that
// another operation of the signer has taken.
func StaleNonce(err error) bool {
	var e *errkind.Error
	return errors.As(err, &e) && e.Kind == errkind.Conflict && e.Field == "nonce"
}

// Locks is one lock per DID. The zero value is ready to use.
type Locks struct {
	mu sync.Mutex
	m  map[string]*sync.Mutex
}

// LockSigner implements Locker.
func (l *Locks) LockSigner(did string) func() {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*sync.Mutex{}
	}
	m, ok := l.m[did]
	if !ok {
		m = &sync.Mutex{}
		l.m[did] = m
	}
	l.mu.Unlock()
	m.Lock()
	return m.Unlock
}

var _ Locker = (*Locks)(nil)

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
