package agency

import (
	"context"
	"crypto"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/chainop"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/kms"
	"github.com/urbis-id/urbis/registry"
)

// MethodUrbis is the registry's own DID method: its DIDs live on the chain
// and keep their identifier when their key rotates.
const MethodUrbis = "urbis"

// Registry is what the service needs of the registry chain to create and
// rotate did:urbis DIDs: submit a signed operation and wait for its block,
// and read the DID's current version and its signer nonce.
type Registry interface {
	ChainID() string
	Submit(ctx context.Context, compact string) (registry.OpStatus, error)
	Wait(ctx context.Context, hash string) (registry.OpStatus, error)
	Nonce(ctx context.Context, signerDID string) (uint64, error)
	LatestDIDVersion(ctx context.Context, did string) (registry.DIDVersion, error)
}

// UseRegistry lets the service create did:urbis DIDs on r.
func (s *Service) UseRegistry(r Registry) { s.registry = r }

// urbisDocument is the document of a did:urbis DID controlled by one key.
func urbisDocument(fragment string, pub crypto.PublicKey) (registry.DocumentSpec, error) {
	mk, err := did.EncodeMultikey(pub)
	if err != nil {
		return registry.DocumentSpec{}, errkind.Wrap(errkind.Internal, err, "encode key")
	}
	ref := []string{"#" + fragment}
	return registry.DocumentSpec{
		VerificationMethod:   []registry.MethodSpec{{ID: "#" + fragment, Type: did.TypeMultikey, PublicKeyMultibase: mk}},
		Authentication:       ref,
		AssertionMethod:      ref,
		CapabilityInvocation: ref,
	}, nil
}

// createUrbis creates a did:urbis on the chain, signed by a new key in
// custody, and records it once its block is committed. If the chain
// refuses it, only an unused key remains.
func (s *Service) createUrbis(ctx context.Context, agencyID string, t kms.KeyType) (DIDRecord, error) {
	if s.registry == nil {
		return DIDRecord{}, errkind.New(errkind.Unsupported, "this server runs no registry, so it cannot create did:urbis DIDs")
	}
	key, err := s.keys.Generate(ctx, agencyID, t)
	if err != nil {
		return DIDRecord{}, err
	}
	signer, err := s.keys.Signer(ctx, agencyID, key.ID)
	if err != nil {
		return DIDRecord{}, err
	}
	spec, err := urbisDocument(key.ID, key.Public)
	if err != nil {
		return DIDRecord{}, err
	}
	id, payload, err := registry.NewDIDCreate(spec)
	if err != nil {
		return DIDRecord{}, err
	}
	// A new DID's first operation takes nonce 1.
	if _, err := s.ops().Submit(ctx, chainop.Op{Key: chainop.Key{DID: id, ID: id + "#" + key.ID, Signer: signer}, Kind: registry.KindDIDCreate, Payload: payload}); err != nil {
		return DIDRecord{}, err
	}
	rec := DIDRecord{DID: id, AgencyID: agencyID, Method: MethodUrbis, KeyID: key.ID, KeyType: t, Status: StatusActive, CreatedAt: s.now()}
	if err := s.store.AddDID(ctx, rec); err != nil {
		return DIDRecord{}, err
	}
	return rec, nil
}

// rotateUrbis replaces the key of a did:urbis with a new key in custody
// through a did.update signed by the old key. The DID keeps its
// identifier; its old version stays resolvable with versionId or
// versionTime. With compromised, the update declares the old key
// compromised, and verifiers refuse everything it signed.
func (s *Service) rotateUrbis(ctx context.Context, old DIDRecord, compromised bool) (DIDRecord, error) {
	if s.registry == nil {
		return DIDRecord{}, errkind.New(errkind.Unsupported, "this server runs no registry, so it cannot rotate did:urbis DIDs")
	}
	signer, err := s.keys.Signer(ctx, old.AgencyID, old.KeyID)
	if err != nil {
		return DIDRecord{}, err
	}
	cur, err := s.registry.LatestDIDVersion(ctx, old.DID)
	if err != nil {
		return DIDRecord{}, err
	}
	if cur.Deactivated {
		return DIDRecord{}, errkind.New(errkind.Conflict, "%s is deactivated", old.DID)
	}
	ops := s.ops()
	defer ops.LockSigner(old.DID)()
	key, err := s.keys.Generate(ctx, old.AgencyID, old.KeyType)
	if err != nil {
		return DIDRecord{}, err
	}
	spec, err := urbisDocument(key.ID, key.Public)
	if err != nil {
		return DIDRecord{}, err
	}
	update := registry.DIDUpdate{DID: old.DID, PreviousVersion: cur.Version, Document: spec}
	if compromised {
		update.Compromised = []string{"#" + old.KeyID}
	}
	if _, err := ops.SubmitLocked(ctx, chainop.Op{Key: chainop.Key{DID: old.DID, ID: old.DID + "#" + old.KeyID, Signer: signer}, Kind: registry.KindDIDUpdate, Payload: update}); err != nil {
		return DIDRecord{}, err
	}
	if err := s.store.RebindDIDKey(ctx, old.AgencyID, old.DID, old.KeyID, key.ID); err != nil {
		return DIDRecord{}, err
	}
	return s.store.DID(ctx, old.AgencyID, old.DID)
}

// ops signs operations of the agency's DIDs on the registry, under the
// DIDs' signer locks (see UseSignerLocks), unchecked: the chain's
// refusal is its verdict.
func (s *Service) ops() *chainop.Submitter { return chainop.New(s.registry, s.locks, nil, s) }
