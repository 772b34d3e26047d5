// Package registry is the registry chain: the city's shared truth, an
// append-only sequence of blocks of signed operations applied by a
// deterministic state machine. Operations are JWS-signed by the DID
// authorised to make them; authorisation is decided from chain state only.
//
// The state machine (Machine) is pure: no wall clock, no map iteration
// order, no randomness; block time comes from the block. It reads and
// writes state through the small StateTx interface that internal/store
// implements inside one database transaction per block, so the same code
// runs in the solo engine (this package) and, later, inside an ABCI
// application.
//
// This file is the contract between the pieces: the domain types, the
// state interfaces, and the engine's store interface.
package registry

import (
	"context"
	"encoding/json"
	"time"
)

// Kind names an operation.
type Kind string

// The operation kinds.
const (
	KindDIDCreate      Kind = "did.create"
	KindDIDUpdate      Kind = "did.update"
	KindDIDDeactivate  Kind = "did.deactivate"
	KindTrustAccredit  Kind = "trust.accredit"
	KindTrustSuspend   Kind = "trust.suspend"
	KindTrustReinstate Kind = "trust.reinstate"
	KindTrustRevoke    Kind = "trust.revoke"
	KindSchemaRegister Kind = "schema.register"
	KindAnchor         Kind = "anchor"
	KindStatusUpdate   Kind = "status.update"
)

// Operation is the payload of a signed operation (the JWS payload). Its
// canonical encoding is Go's encoding/json of this struct with Payload in
// canonical form (see Canonical); a submitted operation whose bytes differ
// from that encoding is refused, so every operation has one hash.
type Operation struct {
	// Chain is the chain id from genesis; an operation for another chain is refused.
	Chain string `json:"chain"`
	Kind  Kind   `json:"kind"`
	// Signer is the DID URL of the verification method that signed; it
	// equals the JWS header's kid.
	Signer string `json:"signer"`
	// Nonce is 1 + the number of operations the signer's DID has had
	// applied; a replay or a reordering is refused.
	Nonce   uint64          `json:"nonce"`
	Payload json.RawMessage `json:"payload"`
}

// SignedOp is an operation as submitted: a compact JWS whose payload is
// the canonical Operation. Hash is the hex SHA-256 of the compact JWS.
type SignedOp struct {
	JWS  string
	Hash string
	Op   Operation
}

// MethodSpec is a verification method in a did:urbis document as written
// in operations: its id is a fragment ("#key-1").
type MethodSpec struct {
	ID                 string `json:"id"`
	Type               string `json:"type"` // "Multikey"
	PublicKeyMultibase string `json:"publicKeyMultibase"`
}

// ServiceSpec is a service in a did:urbis document as written in operations.
type ServiceSpec struct {
	ID              string `json:"id"` // a fragment, "#files"
	Type            string `json:"type"`
	ServiceEndpoint string `json:"serviceEndpoint"`
}

// DocumentSpec is the content of a did:urbis document without its id:
// relationships list method fragments.
type DocumentSpec struct {
	VerificationMethod   []MethodSpec  `json:"verificationMethod"`
	Authentication       []string      `json:"authentication,omitempty"`
	AssertionMethod      []string      `json:"assertionMethod,omitempty"`
	KeyAgreement         []string      `json:"keyAgreement,omitempty"`
	CapabilityInvocation []string      `json:"capabilityInvocation"`
	CapabilityDelegation []string      `json:"capabilityDelegation,omitempty"`
	Service              []ServiceSpec `json:"service,omitempty"`
}

// DIDCreate is the payload of did.create. The new DID is
// did:urbis:<base58btc(sha256(canonical payload))>, so nobody can squat
// an identifier; the operation must be signed by one of the document's
// capabilityInvocation keys.
type DIDCreate struct {
	Document DocumentSpec `json:"document"`
}

// DIDUpdate is the payload of did.update: the whole new document, and the
// version it replaces (two updates from the same version: one wins).
// Compromised lists fragments of verification methods of the version
// replaced that the new document drops because their private key is
// compromised: from then on nothing they signed is trusted, whenever it
// was signed, and their keys may never return to the document.
type DIDUpdate struct {
	DID             string       `json:"did"`
	PreviousVersion uint64       `json:"previousVersion"`
	Document        DocumentSpec `json:"document"`
	Compromised     []string     `json:"compromised,omitempty"`
}

// DIDDeactivate is the payload of did.deactivate.
type DIDDeactivate struct {
	DID             string `json:"did"`
	PreviousVersion uint64 `json:"previousVersion"`
}

// TrustAccredit is the payload of trust.accredit: the signer (a governance
// DID, or an accredited authority whose accreditation has MayDelegate)
// accredits Issuer for credential Types, optionally limited to Districts,
// from ValidFrom (block time if empty) until ValidUntil (open if empty).
// A delegated accreditation can never itself delegate.
type TrustAccredit struct {
	Issuer      string   `json:"issuer"`
	Types       []string `json:"types"`
	Districts   []string `json:"districts,omitempty"`
	ValidFrom   string   `json:"validFrom,omitempty"`  // RFC 3339
	ValidUntil  string   `json:"validUntil,omitempty"` // RFC 3339
	MayDelegate bool     `json:"mayDelegate,omitempty"`
}

// TrustChange is the payload of trust.suspend, trust.reinstate and
// trust.revoke, made by the accreditor or a governance DID.
type TrustChange struct {
	Accreditation string `json:"accreditation"` // its id
	Reason        string `json:"reason,omitempty"`
}

// SchemaRegister is the payload of schema.register: an issuer accredited
// for Type registers a JSON Schema; its id is the hex SHA-256 of the
// canonical schema.
type SchemaRegister struct {
	Type   string          `json:"type"`
	Schema json.RawMessage `json:"schema"`
}

// AnchorPayload is the payload of anchor: a hash or Merkle root of issued
// credentials (never personal data), made by an accredited issuer.
type AnchorPayload struct {
	Root  string `json:"root"` // 64 hex characters
	Count int    `json:"count,omitempty"`
	Type  string `json:"type,omitempty"`
}

// The status purposes a status.update may set.
const (
	PurposeRevocation = "revocation"
	PurposeSuspension = "suspension"
)

// StatusUpdatePayload is the payload of status.update: the bit Index of
// the status list credential at List, for Purpose, is now Value. It
// holds no personal data. The first status.update of a list binds the
// list to its signer's DID; only that DID may update the list later.
type StatusUpdatePayload struct {
	List    string `json:"list"` // URL of the status list credential
	Index   int    `json:"index"`
	Purpose string `json:"purpose"` // revocation or suspension
	Value   bool   `json:"value"`
}

// Header is a block header. Its hash is the hex SHA-256 of its canonical
// JSON encoding.
type Header struct {
	Chain     string    `json:"chain"`
	Height    uint64    `json:"height"`
	Previous  string    `json:"previous"` // hash of the previous header; 64 zeros at height 1
	Time      time.Time `json:"time"`     // UTC, from the engine; the state machine's only clock
	OpCount   int       `json:"opCount"`
	OpsRoot   string    `json:"opsRoot"`   // Merkle root of the operation hashes
	StateRoot string    `json:"stateRoot"` // state root after applying the block
	Proposer  string    `json:"proposer"`  // validator id (the genesis's, or one the validator set gave it)
	// ConsensusHeight is the height of the consensus engine's block that
	// made this one (CometBFT's, under urbis node); 0 under the solo
	// engine, which has no other. Validator-set changes take effect by it.
	ConsensusHeight uint64 `json:"consensusHeight,omitempty"`
}

// Signature is a validator's signature over a header hash.
type Signature struct {
	Validator string `json:"validator"`
	Signature string `json:"signature"` // base64url Ed25519 signature of the header hash bytes
}

// Block is a header, its signatures and its operations in order.
type Block struct {
	Header     Header      `json:"header"`
	Signatures []Signature `json:"signatures"`
	Ops        []string    `json:"operations"` // compact JWS, in order
}

// DIDVersion is one version of a did:urbis document in state.
type DIDVersion struct {
	DID         string
	Version     uint64 // 1 for the create
	Document    DocumentSpec
	Deactivated bool
	Height      uint64    // block that made this version
	Time        time.Time // that block's time
	OpHash      string
	// Compromised lists every verification method that this version's
	// update or an earlier one declared compromised, oldest first. Empty
	// for most DIDs; omitted from the encoding then, so that the effects
	// and state of chains without compromised keys are what they were.
	Compromised []CompromisedKey `json:",omitempty"`
}

// CompromisedKey is a verification method that a did.update declared
// compromised.
type CompromisedKey struct {
	ID                 string    `json:"id"` // its fragment, "#key-1"
	PublicKeyMultibase string    `json:"publicKeyMultibase"`
	Version            uint64    `json:"version"` // the version whose update declared it
	Time               time.Time `json:"time"`    // that block's time
}

// Accreditation is the current state of one accreditation.
type Accreditation struct {
	ID          string // hash of the trust.accredit operation
	Issuer      string
	Accreditor  string // DID that signed the accredit
	Types       []string
	Districts   []string
	ValidFrom   time.Time
	ValidUntil  time.Time // zero: open-ended
	MayDelegate bool
	Delegated   bool   // made by an accredited authority, not governance
	Status      string // active, suspended, revoked
	Height      uint64 // last change
	Time        time.Time
}

// AccreditationEvent is one entry of an accreditation's history.
type AccreditationEvent struct {
	Accreditation string
	Kind          Kind // trust.accredit, trust.suspend, ...
	By            string
	Reason        string
	Height        uint64
	Time          time.Time
	OpHash        string
}

// Schema is a registered credential schema.
type Schema struct {
	ID      string // hex SHA-256 of the canonical schema
	Type    string
	Issuer  string
	Content json.RawMessage
	Height  uint64
	Time    time.Time
	OpHash  string
}

// Anchor is an anchored hash.
type Anchor struct {
	Root   string
	Issuer string
	Count  int
	Type   string
	Height uint64
	Time   time.Time
	OpHash string
}

// StatusUpdate is one status change anchored on the chain.
type StatusUpdate struct {
	List    string
	Index   int
	Purpose string
	Value   bool
	Issuer  string // the DID bound to the list
	Height  uint64
	Time    time.Time
	OpHash  string
}

// StateReader reads chain state. Every method returns an
// errkind.NotFound error when the thing is absent, except Nonce (0).
type StateReader interface {
	// LatestDIDVersion returns the current version of a did:urbis DID.
	LatestDIDVersion(ctx context.Context, did string) (DIDVersion, error)
	// DIDVersion returns version v of did.
	DIDVersion(ctx context.Context, did string, v uint64) (DIDVersion, error)
	// DIDVersionAt returns the version of did in force at t (the last one
	// whose block time is <= t).
	DIDVersionAt(ctx context.Context, did string, t time.Time) (DIDVersion, error)
	Nonce(ctx context.Context, signerDID string) (uint64, error)
	Accreditation(ctx context.Context, id string) (Accreditation, error)
	// Accreditations lists the accreditations of issuer, oldest first.
	Accreditations(ctx context.Context, issuer string) ([]Accreditation, error)
	AccreditationHistory(ctx context.Context, id string) ([]AccreditationEvent, error)
	Schema(ctx context.Context, id string) (Schema, error)
	Anchor(ctx context.Context, root string) (Anchor, error)
	// StatusListIssuer returns the DID bound to the status list at list
	// by its first status.update.
	StatusListIssuer(ctx context.Context, list string) (string, error)
	// StatusAt returns the value set by the last status.update of the bit
	// (list, index, purpose) whose block time is at or before t, and that
	// block's height; found is false (and err nil) if there is none.
	StatusAt(ctx context.Context, list string, index int, purpose string, t time.Time) (value bool, height uint64, found bool, err error)
	// ProgramGet returns the programs' state at key (canonical JSON);
	// NotFound if it holds none.
	ProgramGet(ctx context.Context, key string) ([]byte, error)
	// ProgramScan returns up to limit entries of the programs' state
	// whose keys start with prefix and sort bytewise after after (from
	// the first if empty), in key order.
	ProgramScan(ctx context.Context, prefix, after string, limit int) ([]ProgramEntry, error)
}

// StateTx reads and writes state inside the transaction of one block.
// Reads see the writes made earlier in the same transaction.
type StateTx interface {
	StateReader
	PutDIDVersion(ctx context.Context, v DIDVersion) error
	SetNonce(ctx context.Context, signerDID string, n uint64) error
	PutAccreditation(ctx context.Context, a Accreditation) error // insert or replace by ID
	AddAccreditationEvent(ctx context.Context, e AccreditationEvent) error
	PutSchema(ctx context.Context, s Schema) error
	PutAnchor(ctx context.Context, a Anchor) error
	// AddStatusUpdate records a status change after those recorded before.
	AddStatusUpdate(ctx context.Context, u StatusUpdate) error
	// ProgramPut stores value at key in the programs' state, replacing
	// what it held; ProgramDelete removes key.
	ProgramPut(ctx context.Context, key string, value []byte) error
	ProgramDelete(ctx context.Context, key string) error
}

// OpStatus is what became of a submitted operation.
type OpStatus struct {
	Hash   string
	Status string // pending, committed, rejected
	Height uint64 // committed: the block
	Index  int    // committed: position in the block
	Reason string // rejected: why
	Kind   Kind
	Time   time.Time // committed: block time; rejected: when
}

// BlockTx is the transaction in which the engine applies and stores one
// block. Savepoint/RollbackTo undo one rejected operation's writes.
type BlockTx interface {
	StateTx
	Savepoint(ctx context.Context, name string) error
	RollbackTo(ctx context.Context, name string) error
	// PutBlock stores the block and marks its operations committed.
	PutBlock(ctx context.Context, b Block, opHashes []string) error
	// PutOpStatus records a rejected operation (it is not in any block).
	PutOpStatus(ctx context.Context, s OpStatus) error
}

// LazyChainStore is a ChainStore whose block transactions can commit
// without waiting for the disk: InBlockTxLazy commits (readers see the
// block) and SyncBlocks makes every block committed so far durable. The
// solo engine applies the next block while the last ones are synced, and
// acknowledges their operations only once SyncBlocks returns.
type LazyChainStore interface {
	ChainStore
	InBlockTxLazy(ctx context.Context, fn func(tx BlockTx) error) error
	SyncBlocks(ctx context.Context) error
}

// ChainStore is what the engine needs of the database.
type ChainStore interface {
	StateReader
	// InBlockTx runs fn in one database transaction and commits it if fn
	// returns nil: the group commit of one block.
	InBlockTx(ctx context.Context, fn func(tx BlockTx) error) error
	// Head returns the latest header; NotFound before the first block.
	Head(ctx context.Context) (Header, error)
	Block(ctx context.Context, height uint64) (Block, error)
	// OpStatus returns a committed or rejected operation's status
	// (NotFound if the store has never seen it).
	OpStatus(ctx context.Context, hash string) (OpStatus, error)
	// StateDigest returns the hex SHA-256 of every state row (DID
	// versions, nonces, accreditations and their history, schemas,
	// anchors, status updates) in a fixed order, so two stores holding
	// the same state give the same digest: `urbis registry verify`
	// compares the live store's with that of a fresh replay, which
	// catches an edited state row.
	StateDigest(ctx context.Context) (string, error)
}
