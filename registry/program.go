package registry

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

// A Program adds operation kinds to the chain: a civic program (voting,
// land, currency...) keeps its domain rules in its own package and hands
// the machine the kinds it applies. Program kinds write state only
// through the Call they are given, into the programs' ordered key-value
// state, so the same blocks give the same state on every node and the
// state digest covers it. Apply must be deterministic: no clock, no
// randomness, no map iteration, nothing read but the Call.
type Program interface {
	Kinds() []ProgramKind
}

// ProgramKind is one operation kind of a program.
type ProgramKind struct {
	Kind Kind
	// Rels are the relationships whose keys may sign the operation;
	// capabilityInvocation or assertionMethod if empty.
	Rels []did.Relationship
	// Check decodes and checks the payload without state; the machine
	// calls it before anything else, and a submission it refuses is
	// answered at once. Nil accepts any JSON payload.
	Check func(payload json.RawMessage) error
	// Apply applies the operation once the signer's key, signature and
	// nonce are checked. It returns the effect to record (encoded in
	// canonical JSON; it feeds the state root), or an error that rejects
	// the operation, whose writes are then undone.
	Apply func(ctx context.Context, c *Call) (effect any, err error)
	// Precheck, if set, does ahead of the block, against the committed
	// state, the expensive pure checks Apply makes, through
	// Precall.Once, so that Apply's Call.Once finds them passed. Engines
	// run it at submission, in the submitter's goroutine (so on every
	// core), and the replay runs it on every core before a block. Its
	// error is ignored: Apply alone decides the operation, in the state
	// the block gives it, and makes every check again on a memo miss.
	Precheck func(ctx context.Context, pc *Precall) error
	// Reads, if set, names the state keys Apply will read, as far as the
	// payload tells: engines read them for a whole block in one
	// statement before applying it. A hint only: Apply's reads decide,
	// and a key it names but Apply does not read costs nothing else.
	Reads func(payload json.RawMessage) []string
}

func (pk ProgramKind) rels() []did.Relationship {
	if len(pk.Rels) == 0 {
		return schemaRels
	}
	return pk.Rels
}

// coreNamespaces are the kind prefixes the core owns; a program kind
// must live outside them.
var coreNamespaces = []string{"did.", "trust.", "schema.", "status.", "anchor."}

// validKindName reports whether k may name a program kind: lowercase
// letters, digits and dots, starting with a letter, at most 64 bytes,
// outside the core's namespaces.
func validKindName(k string) bool {
	if k == "" || len(k) > 64 || k[0] < 'a' || k[0] > 'z' || k[len(k)-1] == '.' {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.') {
			return false
		}
	}
	for _, ns := range coreNamespaces {
		if strings.HasPrefix(k, ns) || k+"." == ns {
			return false
		}
	}
	return true
}

// ProgramEntry is one key and its value in the programs' state.
type ProgramEntry struct {
	Key   string
	Value []byte
}

// MaxProgramKey is the longest key of the programs' state.
const MaxProgramKey = 512

// checkProgramKey accepts keys of printable ASCII other than space, of 1
// to MaxProgramKey bytes: they sort the same bytewise on every database.
func checkProgramKey(key string) error {
	if key == "" || len(key) > MaxProgramKey {
		return errkind.New(errkind.Invalid, "state key must have 1 to %d bytes; got %d", MaxProgramKey, len(key))
	}
	for i := 0; i < len(key); i++ {
		if key[i] <= ' ' || key[i] >= 0x7f {
			return errkind.New(errkind.Invalid, "state key %q holds byte %#x; want printable ASCII without spaces", key, key[i])
		}
	}
	return nil
}

// ProgramPrefixEnd returns the smallest key greater than every key that
// starts with prefix (prefix is printable ASCII).
func ProgramPrefixEnd(prefix string) string {
	return prefix + "\x7f"
}

// Call is one application of a program operation: what it may read of
// the operation and the block, and the state it may read and write.
type Call struct {
	c *call
}

// Kind returns the operation's kind.
func (pc *Call) Kind() Kind { return pc.c.p.Op.Kind }

// Payload returns the operation's payload, in canonical JSON.
func (pc *Call) Payload() json.RawMessage { return pc.c.p.Op.Payload }

// Signer returns the DID that signed the operation.
func (pc *Call) Signer() string { return pc.c.p.signerDID }

// SignerKey returns the DID URL of the key that signed the operation.
func (pc *Call) SignerKey() string { return pc.c.p.Op.Signer }

// OpHash returns the operation's hash.
func (pc *Call) OpHash() string { return pc.c.p.Hash }

// Height returns the height of the block being applied.
func (pc *Call) Height() uint64 { return pc.c.h.Height }

// Time returns the block time, UTC, to the microsecond.
func (pc *Call) Time() time.Time { return pc.c.t }

// IsGovernance reports whether d is a governance DID of the chain.
func (pc *Call) IsGovernance(d string) bool { return pc.c.m.gov[d] }

// Accredited reports whether issuer holds an accreditation active at
// block time for typ (any type if empty), delegation included.
func (pc *Call) Accredited(ctx context.Context, issuer, typ string) (bool, error) {
	return pc.c.accreditedFor(ctx, issuer, typ)
}

// Accreditations lists issuer's accreditations, oldest first.
func (pc *Call) Accreditations(ctx context.Context, issuer string) ([]Accreditation, error) {
	return pc.c.tx.Accreditations(ctx, issuer)
}

// Key returns the public key of kid (a DID URL) if the chain's state
// lists it under one of rels (any if none): the current version of a
// did:urbis DID, or the key a did:key or did:jwk names.
func (pc *Call) Key(ctx context.Context, kid string, rels ...did.Relationship) (crypto.PublicKey, error) {
	signerDID, err := signerOf(kid)
	if err != nil {
		return nil, err
	}
	if len(rels) == 0 {
		rels = []did.Relationship{did.CapabilityInvocation, did.AssertionMethod, did.Authentication}
	}
	return pc.c.m.signerKey(ctx, pc.c.tx, signerDID, kid, rels...)
}

// VerifyJWS verifies compact, a JWS (EdDSA or ES256) whose protected
// header's kid names a key that state lists under one of rels, and
// returns its payload and the signing DID. Programs use it for consents
// that travel inside an operation (a seller's signature on a transfer
// the registry submits, a meter's reading inside a trade).
func (pc *Call) VerifyJWS(ctx context.Context, compact string, rels ...did.Relationship) (payload []byte, signer string, err error) {
	msg, err := jws.Parse([]byte(compact))
	if err != nil || len(msg.Signatures()) != 1 {
		return nil, "", errkind.New(errkind.Invalid, "signature is not a compact JWS with one signature")
	}
	hdr := msg.Signatures()[0].ProtectedHeaders()
	kid := hdr.KeyID()
	if kid == "" {
		return nil, "", errkind.New(errkind.Invalid, "JWS header has no kid; it must name the signing key as a DID URL")
	}
	pub, err := pc.Key(ctx, kid, rels...)
	if err != nil {
		return nil, "", err
	}
	alg, err := algFor(pub)
	if err != nil || string(hdr.Algorithm()) != alg {
		return nil, "", errkind.New(errkind.Forbidden, "key %s cannot verify a %s signature", kid, hdr.Algorithm())
	}
	payload, err = jws.Verify([]byte(compact), jws.WithKey(jwa.SignatureAlgorithm(alg), pub))
	if err != nil {
		return nil, "", errkind.New(errkind.Forbidden, "signature does not verify with key %s", kid)
	}
	signer, _ = signerOf(kid)
	return payload, signer, nil
}

// Get decodes the value at key into v; NotFound if there is none.
func (pc *Call) Get(ctx context.Context, key string, v any) error {
	b, err := pc.c.tx.ProgramGet(ctx, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errkind.Wrap(errkind.Internal, err, "state at %s", key)
	}
	return nil
}

// GetRaw returns the canonical JSON stored at key (NotFound if there is
// none), for a program that keeps what it decoded from it: the same bytes
// decode to the same value. The caller must not modify them.
func (pc *Call) GetRaw(ctx context.Context, key string) ([]byte, error) {
	return pc.c.tx.ProgramGet(ctx, key)
}

// Has reports whether key holds a value.
func (pc *Call) Has(ctx context.Context, key string) (bool, error) {
	_, err := pc.c.tx.ProgramGet(ctx, key)
	if errors.Is(err, errkind.NotFound) {
		return false, nil
	}
	return err == nil, err
}

// Put stores v, encoded in canonical JSON, at key.
func (pc *Call) Put(ctx context.Context, key string, v any) error {
	if err := checkProgramKey(key); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return errkind.Wrap(errkind.Internal, err, "encode state at %s", key)
	}
	if b, err = canonicalJSON(b); err != nil {
		return err
	}
	return pc.c.tx.ProgramPut(ctx, key, b)
}

// Delete removes key (nothing if it holds no value).
func (pc *Call) Delete(ctx context.Context, key string) error {
	if err := checkProgramKey(key); err != nil {
		return err
	}
	return pc.c.tx.ProgramDelete(ctx, key)
}

// Scan returns up to limit entries whose keys start with prefix and sort
// after after (all if empty), in key order.
func (pc *Call) Scan(ctx context.Context, prefix, after string, limit int) ([]ProgramEntry, error) {
	return pc.c.tx.ProgramScan(ctx, prefix, after, limit)
}

// program applies an operation of a program kind: Check, the signer's
// key and signature, the nonce, then Apply.
func (c *call) program(ctx context.Context) error {
	pk, ok := c.m.kinds[c.p.Op.Kind]
	if !ok {
		return c.m.unknownKind(c.p.Op.Kind)
	}
	if pk.Check != nil && !c.p.checked {
		if err := pk.Check(c.p.Op.Payload); err != nil {
			return err
		}
	}
	if err := c.authorise(ctx, pk.rels()...); err != nil {
		return err
	}
	if err := c.checkNonce(ctx); err != nil {
		return err
	}
	eff, err := pk.Apply(ctx, &Call{c: c})
	if err != nil {
		return err
	}
	if eff == nil {
		return nil
	}
	b, err := json.Marshal(eff)
	if err != nil {
		return errkind.Wrap(errkind.Internal, err, "encode %s effect", c.p.Op.Kind)
	}
	if b, err = canonicalJSON(b); err != nil {
		return err
	}
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	c.eff.Program = b
	return nil
}

// Check refuses, without state, an operation this machine cannot apply:
// an unknown kind, or a program payload its Check refuses. Engines call
// it at submission so that such an operation is answered at once.
func (m *Machine) Check(op SignedOp) error {
	if newBody(op.Op.Kind) != nil {
		return nil
	}
	pk, ok := m.kinds[op.Op.Kind]
	if !ok {
		return m.unknownKind(op.Op.Kind)
	}
	if pk.Check != nil {
		return pk.Check(op.Op.Payload)
	}
	return nil
}

// unknownKind names the kinds this machine applies.
func (m *Machine) unknownKind(k Kind) error {
	names := make([]string, len(m.names))
	for i, k := range m.names {
		names[i] = string(k)
	}
	return errkind.Field(errkind.Invalid, "kind", "unknown operation kind %q; want one of %s", k, strings.Join(names, ", "))
}
