package agency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/chainop"
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
	key, err := s.chainKey(ctx, agencyID, signer, "did")
	if err != nil {
		return registry.Schema{}, err
	}
	canon, err := registry.Canonical(schema)
	if err != nil {
		return registry.Schema{}, errkind.Field(errkind.Invalid, "schema", "is not valid JSON: %v", err)
	}
	ops := chainop.New(s.registry, s.locks, &chainop.Check{Machine: s.machine, State: s.state, Clock: s.clock}, nil)
	if _, err := ops.Submit(ctx, chainop.Op{Key: key, Kind: registry.KindSchemaRegister, Payload: registry.SchemaRegister{Type: typ, Schema: schema}}); err != nil {
		return registry.Schema{}, refusal(err)
	}
	sum := sha256.Sum256(canon)
	return s.state.Schema(ctx, hex.EncodeToString(sum[:]))
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
