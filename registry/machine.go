package registry

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

// Machine is the deterministic state machine of the chain: it applies
// one signed operation to state. It reads no clock (block time comes
// from the header), iterates no map and draws no random numbers, so every
// node that applies the same blocks reaches the same state. It is safe
// for concurrent use, though the operations of one chain are applied one
// at a time.
//
// Authorisation is decided from state: the signer's key is the current
// version's (did:urbis) or computed from the DID (did:key, did:jwk), and
// must be in the relationship the kind needs:
//
//   - did.*, trust.*: capabilityInvocation (the DID's authority to act).
//   - schema.register, anchor: capabilityInvocation or assertionMethod
//     (an issuer's assertion key, the one that signs its credentials,
//     may also register its schemas and anchor what it issued).
//   - status.update: capabilityInvocation or assertionMethod, of the DID
//     bound to the list (the signer of the list's first status.update).
type Machine struct {
	g     *Genesis
	gov   map[string]bool // looked up, never iterated
	sigs  *sigCache
	memo  *checkMemo           // passed pure checks of programs (Call.Once)
	kinds map[Kind]ProgramKind // the programs' kinds; looked up, never iterated
	names []Kind               // every kind the machine applies, core first

	zip215  bool        // the chain's signature rule is SignatureRuleZIP215
	batcher *sigBatcher // joins concurrent submissions' checks (zip215 only)
}

// NewMachine returns the state machine of the chain of g, applying the
// core kinds and those of programs. Every node of a chain must run the
// same programs. It panics if two programs claim one kind or a program
// claims a core kind: that is a wiring mistake, not an input.
func NewMachine(g *Genesis, programs ...Program) *Machine {
	gov := make(map[string]bool, len(g.Governance))
	for _, d := range g.Governance {
		gov[d] = true
	}
	m := &Machine{g: g, gov: gov, sigs: newSigCache(sigCacheSize), memo: newCheckMemo(memoSize), kinds: make(map[Kind]ProgramKind), names: slices.Clone(kinds),
		zip215: g.Params.SignatureRule == SignatureRuleZIP215}
	if m.zip215 {
		m.batcher = &sigBatcher{}
	}
	for _, p := range programs {
		for _, pk := range p.Kinds() {
			if newBody(pk.Kind) != nil || m.kinds[pk.Kind].Apply != nil || pk.Apply == nil || !validKindName(string(pk.Kind)) {
				panic(fmt.Sprintf("registry: program kind %q is a core kind, claimed twice, has no Apply, or is not a valid kind name", pk.Kind))
			}
			m.kinds[pk.Kind] = pk
			m.names = append(m.names, pk.Kind)
		}
	}
	return m
}

// Apply applies op in the block with header h through tx and returns the
// canonical encoding of what it wrote (the effect, which goes into the
// state root). Only op.JWS is read: it is parsed again as ParseSigned
// does. A rejected operation returns an error (Invalid, Forbidden,
// Conflict, NotFound...) and the caller rolls its writes back; Apply
// makes its checks before it writes, so a rejection normally leaves
// nothing to undo. Errors of the store pass through unchanged.
func (m *Machine) Apply(ctx context.Context, tx StateTx, h Header, op SignedOp) (effect []byte, err error) {
	p, err := parse(op.JWS)
	if err != nil {
		return nil, err
	}
	return m.apply(ctx, tx, h, p)
}

// call is one application of an operation.
type call struct {
	m   *Machine
	tx  StateTx
	h   Header
	t   time.Time // block time, UTC
	p   *parsed
	eff effect
}

// effect is what an operation wrote; its canonical encoding feeds the
// state root.
type effect struct {
	Op            string              `json:"op"`
	Kind          Kind                `json:"kind"`
	Signer        string              `json:"signer"`
	Nonce         uint64              `json:"nonce"`
	DIDVersion    *DIDVersion         `json:"didVersion,omitempty"`
	Accreditation *Accreditation      `json:"accreditation,omitempty"`
	Event         *AccreditationEvent `json:"event,omitempty"`
	Schema        *Schema             `json:"schema,omitempty"`
	Anchor        *Anchor             `json:"anchor,omitempty"`
	Status        *StatusUpdate       `json:"status,omitempty"`
	Program       json.RawMessage     `json:"program,omitempty"` // a program kind's own effect, canonical
}

func (m *Machine) apply(ctx context.Context, tx StateTx, h Header, p *parsed) ([]byte, error) {
	if h.Chain != m.g.ChainID {
		return nil, errkind.New(errkind.Invalid, "block header is of chain %q; this machine runs chain %q", h.Chain, m.g.ChainID)
	}
	if p.Op.Chain != m.g.ChainID {
		return nil, errkind.Field(errkind.Invalid, "chain", "operation is for chain %q; this is chain %q", p.Op.Chain, m.g.ChainID)
	}
	// State keeps times to the microsecond, which every database holds
	// exactly; the engines make block times coarser still.
	c := &call{m: m, tx: tx, h: h, t: h.Time.UTC().Truncate(time.Microsecond), p: p,
		eff: effect{Op: p.Hash, Kind: p.Op.Kind, Signer: p.signerDID, Nonce: p.Op.Nonce}}
	var err error
	switch p.Op.Kind {
	case KindDIDCreate:
		err = c.didCreate(ctx)
	case KindDIDUpdate:
		err = c.didUpdate(ctx)
	case KindDIDDeactivate:
		err = c.didDeactivate(ctx)
	case KindTrustAccredit:
		err = c.trustAccredit(ctx)
	case KindTrustSuspend, KindTrustReinstate, KindTrustRevoke:
		err = c.trustChange(ctx)
	case KindSchemaRegister:
		err = c.schemaRegister(ctx)
	case KindAnchor:
		err = c.anchor(ctx)
	case KindStatusUpdate:
		err = c.statusUpdate(ctx)
	default:
		err = c.program(ctx)
	}
	if err != nil {
		return nil, err
	}
	if err := tx.SetNonce(ctx, p.signerDID, p.Op.Nonce); err != nil {
		return nil, err
	}
	return Canonical(c.eff)
}

// authorise resolves the signer's key from state, checks that it is in
// one of rels, and verifies the signature with it.
func (c *call) authorise(ctx context.Context, rels ...did.Relationship) error {
	pub, err := c.m.signerKey(ctx, c.tx, c.p.signerDID, c.p.Op.Signer, rels...)
	if err != nil {
		return err
	}
	return c.m.checkSig(c.p, pub)
}

// signerKey returns the public key of kid, a DID URL of signerDID, if
// state lists it under one of rels.
func (m *Machine) signerKey(ctx context.Context, st StateReader, signerDID, kid string, rels ...did.Relationship) (crypto.PublicKey, error) {
	d, err := did.Parse(signerDID)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "signer")
	}
	frag := kid[len(signerDID):]
	switch d.Method {
	case MethodURBIS:
		v, err := st.LatestDIDVersion(ctx, signerDID)
		if errors.Is(err, errkind.NotFound) {
			return nil, errkind.New(errkind.Forbidden, "signer %s does not exist on this chain", signerDID)
		}
		if err != nil {
			return nil, err
		}
		if v.Deactivated {
			return nil, errkind.New(errkind.Forbidden, "signer %s is deactivated and can sign nothing", signerDID)
		}
		pub, ok := specKey(v.Document, frag, rels...)
		if !ok {
			return nil, notInRelationship(kid, rels, v.Version)
		}
		return pub, nil
	case did.MethodKey, did.MethodJWK:
		id := staticKeyID(kid, rels)
		if pub, ok := cachedStaticKey(id); ok {
			return pub, nil
		}
		var method did.Method = did.KeyMethod{}
		if d.Method == did.MethodJWK {
			method = did.JWKMethod{}
		}
		res, err := method.Resolve(ctx, d, did.ResolveOptions{NoEncryptionKeyDerivation: true})
		if err != nil {
			return nil, errkind.Wrap(errkind.Forbidden, err, "signer %s", signerDID)
		}
		listed := false
		for _, rel := range rels {
			listed = listed || res.Document.Authorizes(rel, kid)
		}
		vm, ok := res.Document.VerificationMethodByID(kid)
		if !listed || !ok {
			return nil, notInRelationship(kid, rels, 0)
		}
		pub, err := vm.PublicKey()
		if err != nil {
			return nil, errkind.Wrap(errkind.Forbidden, err, "signer %s", kid)
		}
		rememberStaticKey(id, pub)
		return pub, nil
	}
	return nil, errkind.New(errkind.Forbidden, "signers must be did:urbis, did:key or did:jwk; %s is a did:%s", signerDID, d.Method)
}

func notInRelationship(kid string, rels []did.Relationship, version uint64) error {
	names := ""
	for i, r := range rels {
		if i > 0 {
			names += " or "
		}
		names += string(r)
	}
	if version > 0 {
		return errkind.New(errkind.Forbidden, "key %s is not a %s key of the DID's current version %d", kid, names, version)
	}
	return errkind.New(errkind.Forbidden, "key %s is not a %s key of its DID", kid, names)
}

// checkSig verifies the operation's signature with pub, unless it was
// verified with pub before (see Preverify).
func (m *Machine) checkSig(p *parsed, pub crypto.PublicKey) error {
	if m.sigs.has(p.Hash, pub) {
		return nil
	}
	return p.verify(pub, m.zip215)
}

// checkNonce checks that the operation's nonce follows the signer's.
func (c *call) checkNonce(ctx context.Context) error {
	n, err := c.tx.Nonce(ctx, c.p.signerDID)
	if err != nil {
		return err
	}
	if c.p.Op.Nonce != n+1 {
		return errkind.Field(errkind.Conflict, "nonce", "replayed or out-of-order nonce: got %d, want %d", c.p.Op.Nonce, n+1)
	}
	return nil
}

// NextStateRoot returns the state root after a block: the hex SHA-256 of
// the previous root's bytes followed, for each operation in order, by its
// hash bytes and the SHA-256 of its effect. The state root before the
// first block is the genesis hash.
func NextStateRoot(prev string, opHashes []string, effects [][]byte) string {
	h := sha256.New()
	h.Write(hashBytes(prev))
	for i, op := range opHashes {
		h.Write(hashBytes(op))
		var e []byte
		if i < len(effects) {
			e = effects[i]
		}
		sum := sha256.Sum256(e)
		h.Write(sum[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// relsFor returns the relationships whose keys may sign operations of kind.
func (m *Machine) relsFor(kind Kind) []did.Relationship {
	if pk, ok := m.kinds[kind]; ok {
		return pk.rels()
	}
	if kind == KindSchemaRegister || kind == KindAnchor || kind == KindStatusUpdate {
		return schemaRels
	}
	return []did.Relationship{did.CapabilityInvocation}
}

// keyFor returns the key that must verify p's signature in state st: for
// did.create a capabilityInvocation key of the new document, otherwise
// the signer's key in the relationship the kind needs.
func (m *Machine) keyFor(ctx context.Context, st StateReader, p *parsed) (crypto.PublicKey, error) {
	if p.Op.Kind != KindDIDCreate {
		return m.signerKey(ctx, st, p.signerDID, p.Op.Signer, m.relsFor(p.Op.Kind)...)
	}
	body := p.body.(*DIDCreate)
	id, err := deriveDID(*body)
	if err != nil {
		return nil, err
	}
	if p.signerDID != id {
		return nil, errkind.Field(errkind.Forbidden, "signer", "did.create of %s must be signed by a capabilityInvocation key of the new document, as %s#<fragment>; the signer is %s", id, id, p.Op.Signer)
	}
	pub, ok := specKey(body.Document, p.Op.Signer[len(id):], did.CapabilityInvocation)
	if !ok {
		return nil, notInRelationship(p.Op.Signer, []did.Relationship{did.CapabilityInvocation}, 0)
	}
	return pub, nil
}
