package store

import (
	"database/sql"
	"encoding/json"
	"math"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// The rows of the registry tables, converted to and from the registry's
// domain types. Unlike the models in models.go they are scanned by hand,
// column by column, and not through gorm: the engine applies thousands of
// operations a second through them. JSON columns hold encoding/json's
// encoding of the domain value, which is deterministic.

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// toInt64 converts an unsigned height, version or nonce for a BIGINT
// column: Invalid above 2^63-1.
func toInt64(n uint64, what string) (int64, error) {
	if n > math.MaxInt64 {
		return 0, errkind.New(errkind.Invalid, "%s %d is too large to store", what, n)
	}
	return int64(n), nil
}

// corrupt is the error for a stored value that does not decode.
func corrupt(err error, what string) error {
	return errkind.Wrap(errkind.Internal, err, "stored %s does not decode", what)
}

const didVersionCols = "did, version, document, deactivated, height, time, op_hash"

type dbDIDVersion struct {
	DID         string
	Version     int64
	Document    string
	Deactivated bool
	Height      int64
	Time        time.Time
	OpHash      string
}

// storedDocument is what the document column holds: the version's
// DocumentSpec and, after the spec's members, the keys declared
// compromised by this version or an earlier one. Without compromised
// keys it is the DocumentSpec's encoding byte for byte, so that the
// state digest of a chain without them is what it was before they
// existed.
type storedDocument struct {
	registry.DocumentSpec
	Compromised []registry.CompromisedKey `json:"compromised,omitempty"`
}

func toDBDIDVersion(v registry.DIDVersion) (dbDIDVersion, error) {
	doc, err := json.Marshal(storedDocument{DocumentSpec: v.Document, Compromised: v.Compromised})
	if err != nil {
		return dbDIDVersion{}, errkind.Wrap(errkind.Invalid, err, "document of %s", v.DID)
	}
	m := dbDIDVersion{DID: v.DID, Document: string(doc), Deactivated: v.Deactivated, Time: dbTime(v.Time), OpHash: v.OpHash}
	if m.Version, err = toInt64(v.Version, "version"); err != nil {
		return m, err
	}
	m.Height, err = toInt64(v.Height, "height")
	return m, err
}

func (m *dbDIDVersion) args() []any {
	return []any{m.DID, m.Version, m.Document, m.Deactivated, m.Height, m.Time, m.OpHash}
}

func (m *dbDIDVersion) scan(s scanner) error {
	return s.Scan(&m.DID, &m.Version, &m.Document, &m.Deactivated, &m.Height, &m.Time, &m.OpHash)
}

func (m *dbDIDVersion) domain() (registry.DIDVersion, error) {
	v := registry.DIDVersion{
		DID: m.DID, Version: uint64(m.Version), Deactivated: m.Deactivated,
		Height: uint64(m.Height), Time: m.Time.UTC(), OpHash: m.OpHash,
	}
	var doc storedDocument
	if err := json.Unmarshal([]byte(m.Document), &doc); err != nil {
		return registry.DIDVersion{}, corrupt(err, "document of "+m.DID)
	}
	v.Document, v.Compromised = doc.DocumentSpec, doc.Compromised
	for i := range v.Compromised {
		v.Compromised[i].Time = v.Compromised[i].Time.UTC()
	}
	return v, nil
}

const accreditationCols = "id, issuer, accreditor, types, districts, valid_from, valid_until, may_delegate, delegated, status, height, time"

type dbAccreditation struct {
	ID          string
	Issuer      string
	Accreditor  string
	Types       string
	Districts   string
	ValidFrom   time.Time
	ValidUntil  sql.Null[time.Time]
	MayDelegate bool
	Delegated   bool
	Status      string
	Height      int64
	Time        time.Time
}

func toDBAccreditation(a registry.Accreditation) (dbAccreditation, error) {
	types, err := json.Marshal(a.Types)
	if err != nil {
		return dbAccreditation{}, errkind.Wrap(errkind.Invalid, err, "types of accreditation %s", a.ID)
	}
	districts, err := json.Marshal(a.Districts)
	if err != nil {
		return dbAccreditation{}, errkind.Wrap(errkind.Invalid, err, "districts of accreditation %s", a.ID)
	}
	m := dbAccreditation{
		ID: a.ID, Issuer: a.Issuer, Accreditor: a.Accreditor, Types: string(types), Districts: string(districts),
		ValidFrom: dbTime(a.ValidFrom), MayDelegate: a.MayDelegate, Delegated: a.Delegated,
		Status: a.Status, Time: dbTime(a.Time),
	}
	if !a.ValidUntil.IsZero() {
		m.ValidUntil = sql.Null[time.Time]{V: dbTime(a.ValidUntil), Valid: true}
	}
	m.Height, err = toInt64(a.Height, "height")
	return m, err
}

func (m *dbAccreditation) args() []any {
	return []any{m.ID, m.Issuer, m.Accreditor, m.Types, m.Districts, m.ValidFrom, m.ValidUntil,
		m.MayDelegate, m.Delegated, m.Status, m.Height, m.Time}
}

func (m *dbAccreditation) scan(s scanner) error {
	return s.Scan(&m.ID, &m.Issuer, &m.Accreditor, &m.Types, &m.Districts, &m.ValidFrom, &m.ValidUntil,
		&m.MayDelegate, &m.Delegated, &m.Status, &m.Height, &m.Time)
}

func (m *dbAccreditation) domain() (registry.Accreditation, error) {
	a := registry.Accreditation{
		ID: m.ID, Issuer: m.Issuer, Accreditor: m.Accreditor, ValidFrom: m.ValidFrom.UTC(),
		MayDelegate: m.MayDelegate, Delegated: m.Delegated, Status: m.Status,
		Height: uint64(m.Height), Time: m.Time.UTC(),
	}
	if m.ValidUntil.Valid {
		a.ValidUntil = m.ValidUntil.V.UTC()
	}
	if err := json.Unmarshal([]byte(m.Types), &a.Types); err != nil {
		return registry.Accreditation{}, corrupt(err, "types of accreditation "+m.ID)
	}
	if err := json.Unmarshal([]byte(m.Districts), &a.Districts); err != nil {
		return registry.Accreditation{}, corrupt(err, "districts of accreditation "+m.ID)
	}
	return a, nil
}

const accreditationEventCols = "accreditation, kind, by_did, reason, height, time, op_hash"

type dbAccreditationEvent struct {
	Accreditation string
	Kind          string
	By            string
	Reason        string
	Height        int64
	Time          time.Time
	OpHash        string
}

func toDBAccreditationEvent(e registry.AccreditationEvent) (dbAccreditationEvent, error) {
	h, err := toInt64(e.Height, "height")
	return dbAccreditationEvent{
		Accreditation: e.Accreditation, Kind: string(e.Kind), By: e.By, Reason: e.Reason,
		Height: h, Time: dbTime(e.Time), OpHash: e.OpHash,
	}, err
}

func (m *dbAccreditationEvent) args() []any {
	return []any{m.Accreditation, m.Kind, m.By, m.Reason, m.Height, m.Time, m.OpHash}
}

func (m *dbAccreditationEvent) scan(s scanner) error {
	return s.Scan(&m.Accreditation, &m.Kind, &m.By, &m.Reason, &m.Height, &m.Time, &m.OpHash)
}

func (m *dbAccreditationEvent) domain() registry.AccreditationEvent {
	return registry.AccreditationEvent{
		Accreditation: m.Accreditation, Kind: registry.Kind(m.Kind), By: m.By, Reason: m.Reason,
		Height: uint64(m.Height), Time: m.Time.UTC(), OpHash: m.OpHash,
	}
}

const schemaCols = "id, type, issuer, content, height, time, op_hash"

type dbSchema struct {
	ID      string
	Type    string
	Issuer  string
	Content string
	Height  int64
	Time    time.Time
	OpHash  string
}

func toDBSchema(s registry.Schema) (dbSchema, error) {
	h, err := toInt64(s.Height, "height")
	return dbSchema{
		ID: s.ID, Type: s.Type, Issuer: s.Issuer, Content: string(s.Content),
		Height: h, Time: dbTime(s.Time), OpHash: s.OpHash,
	}, err
}

func (m *dbSchema) args() []any {
	return []any{m.ID, m.Type, m.Issuer, m.Content, m.Height, m.Time, m.OpHash}
}

func (m *dbSchema) scan(s scanner) error {
	return s.Scan(&m.ID, &m.Type, &m.Issuer, &m.Content, &m.Height, &m.Time, &m.OpHash)
}

func (m *dbSchema) domain() registry.Schema {
	return registry.Schema{
		ID: m.ID, Type: m.Type, Issuer: m.Issuer, Content: json.RawMessage(m.Content),
		Height: uint64(m.Height), Time: m.Time.UTC(), OpHash: m.OpHash,
	}
}

const anchorCols = "root, issuer, count, type, height, time, op_hash"

type dbAnchor struct {
	Root   string
	Issuer string
	Count  int64
	Type   string
	Height int64
	Time   time.Time
	OpHash string
}

func toDBAnchor(a registry.Anchor) (dbAnchor, error) {
	h, err := toInt64(a.Height, "height")
	return dbAnchor{
		Root: a.Root, Issuer: a.Issuer, Count: int64(a.Count), Type: a.Type,
		Height: h, Time: dbTime(a.Time), OpHash: a.OpHash,
	}, err
}

func (m *dbAnchor) args() []any {
	return []any{m.Root, m.Issuer, m.Count, m.Type, m.Height, m.Time, m.OpHash}
}

func (m *dbAnchor) scan(s scanner) error {
	return s.Scan(&m.Root, &m.Issuer, &m.Count, &m.Type, &m.Height, &m.Time, &m.OpHash)
}

func (m *dbAnchor) domain() registry.Anchor {
	return registry.Anchor{
		Root: m.Root, Issuer: m.Issuer, Count: int(m.Count), Type: m.Type,
		Height: uint64(m.Height), Time: m.Time.UTC(), OpHash: m.OpHash,
	}
}

const opStatusCols = "hash, status, height, idx, kind, reason, time"

type dbOpStatus struct {
	Hash   string
	Status string
	Height sql.Null[int64]
	Index  sql.Null[int64]
	Kind   string
	Reason string
	Time   time.Time
}

func (m *dbOpStatus) scan(s scanner) error {
	return s.Scan(&m.Hash, &m.Status, &m.Height, &m.Index, &m.Kind, &m.Reason, &m.Time)
}

func (m *dbOpStatus) domain() registry.OpStatus {
	return registry.OpStatus{
		Hash: m.Hash, Status: m.Status, Height: uint64(m.Height.V), Index: int(m.Index.V),
		Kind: registry.Kind(m.Kind), Reason: m.Reason, Time: m.Time.UTC(),
	}
}

// dbBlock is a block's row. The header is kept as its canonical JSON,
// which Header.Hash hashes (a header holds no json.RawMessage, so that is
// encoding/json's); the other columns repeat its fields for queries.
type dbBlock struct {
	Height     int64
	Hash       string
	Previous   string
	Time       time.Time
	OpCount    int64
	OpsRoot    string
	StateRoot  string
	Proposer   string
	Header     string
	Signatures string
}

func toDBBlock(b registry.Block) (dbBlock, error) {
	h := b.Header
	h.Time = h.Time.UTC() // as Header.Hash encodes it
	header, err := json.Marshal(h)
	if err != nil {
		return dbBlock{}, errkind.Wrap(errkind.Invalid, err, "header of block %d", b.Header.Height)
	}
	sigs, err := json.Marshal(b.Signatures)
	if err != nil {
		return dbBlock{}, errkind.Wrap(errkind.Invalid, err, "signatures of block %d", b.Header.Height)
	}
	m := dbBlock{
		Hash: h.Hash(), Previous: h.Previous, Time: dbTime(h.Time), OpCount: int64(h.OpCount),
		OpsRoot: h.OpsRoot, StateRoot: h.StateRoot, Proposer: h.Proposer,
		Header: string(header), Signatures: string(sigs),
	}
	m.Height, err = toInt64(h.Height, "height")
	return m, err
}

func (m *dbBlock) args() []any {
	return []any{m.Height, m.Hash, m.Previous, m.Time, m.OpCount, m.OpsRoot, m.StateRoot, m.Proposer, m.Header, m.Signatures}
}

func decodeHeader(header string, height int64) (registry.Header, error) {
	var h registry.Header
	if err := json.Unmarshal([]byte(header), &h); err != nil {
		return registry.Header{}, corrupt(err, "header of block "+itoa(height))
	}
	return h, nil
}
