package store

import (
	"time"

	"github.com/urbis-id/urbis/internal/agency"
	"github.com/urbis-id/urbis/kms"
)

// The gorm models: one per table, unexported, converted to and from the
// domain types below. Their tags name columns only; the schema itself is
// in migrations/.

type dbAgency struct {
	ID        string    `gorm:"column:id;primaryKey"`
	Name      string    `gorm:"column:name"`
	CreatedAt time.Time `gorm:"column:created_at;autoCreateTime:false"`
}

func (dbAgency) TableName() string { return "agencies" }

type dbAPIKey struct {
	ID        string     `gorm:"column:id;primaryKey"`
	AgencyID  string     `gorm:"column:agency_id"`
	Hash      string     `gorm:"column:hash"`
	Prefix    string     `gorm:"column:prefix"`
	CreatedAt time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	RevokedAt *time.Time `gorm:"column:revoked_at"`
}

func (dbAPIKey) TableName() string { return "api_keys" }

type dbKey struct {
	ID         string    `gorm:"column:id;primaryKey"`
	AgencyID   string    `gorm:"column:agency_id"`
	Type       string    `gorm:"column:type"`
	PublicKey  []byte    `gorm:"column:public_key"`
	WrappedDEK []byte    `gorm:"column:wrapped_dek"`
	Sealed     []byte    `gorm:"column:sealed"`
	CreatedAt  time.Time `gorm:"column:created_at;autoCreateTime:false"`
	Status     string    `gorm:"column:status"`
	ReplacedBy *string   `gorm:"column:replaced_by"`
}

func (dbKey) TableName() string { return "keys" }

type dbDID struct {
	DID        string    `gorm:"column:did;primaryKey"`
	AgencyID   string    `gorm:"column:agency_id"`
	Method     string    `gorm:"column:method"`
	KeyID      string    `gorm:"column:key_id"`
	CreatedAt  time.Time `gorm:"column:created_at;autoCreateTime:false"`
	Status     string    `gorm:"column:status"`
	ReplacedBy *string   `gorm:"column:replaced_by"`
}

func (dbDID) TableName() string { return "dids" }

// dbDIDRow is a DID joined with the type of its key.
type dbDIDRow struct {
	D       dbDID  `gorm:"embedded"` // exported: gorm skips unexported embedded structs
	KeyType string `gorm:"column:key_type"`
}

// dbTime is how times are written: UTC with microsecond precision, which
// both dialects keep exactly and which sorts as text in SQLite.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func toDBAgency(a agency.Agency) dbAgency {
	return dbAgency{ID: a.ID, Name: a.Name, CreatedAt: dbTime(a.CreatedAt)}
}

func (m dbAgency) domain() agency.Agency {
	return agency.Agency{ID: m.ID, Name: m.Name, CreatedAt: m.CreatedAt.UTC()}
}

func toDBAPIKey(k agency.APIKey) dbAPIKey {
	m := dbAPIKey{ID: k.ID, AgencyID: k.AgencyID, Hash: k.Hash, Prefix: k.Prefix, CreatedAt: dbTime(k.CreatedAt)}
	if !k.RevokedAt.IsZero() {
		t := dbTime(k.RevokedAt)
		m.RevokedAt = &t
	}
	return m
}

func toDBKey(r kms.Record) dbKey {
	return dbKey{
		ID:         r.ID,
		AgencyID:   r.AgencyID,
		Type:       string(r.Type),
		PublicKey:  r.Public,
		WrappedDEK: r.WrappedDEK,
		Sealed:     r.Sealed,
		CreatedAt:  dbTime(r.CreatedAt),
		Status:     r.Status,
		ReplacedBy: nullString(r.ReplacedBy),
	}
}

func (m dbKey) domain() kms.Record {
	return kms.Record{
		ID:         m.ID,
		AgencyID:   m.AgencyID,
		Type:       kms.KeyType(m.Type),
		Public:     m.PublicKey,
		WrappedDEK: m.WrappedDEK,
		Sealed:     m.Sealed,
		CreatedAt:  m.CreatedAt.UTC(),
		Status:     m.Status,
		ReplacedBy: deref(m.ReplacedBy),
	}
}

func toDBDID(d agency.DIDRecord) dbDID {
	return dbDID{
		DID:        d.DID,
		AgencyID:   d.AgencyID,
		Method:     d.Method,
		KeyID:      d.KeyID,
		CreatedAt:  dbTime(d.CreatedAt),
		Status:     d.Status,
		ReplacedBy: nullString(d.ReplacedBy),
	}
}

func (r dbDIDRow) domain() agency.DIDRecord {
	m := r.D
	return agency.DIDRecord{
		DID:        m.DID,
		AgencyID:   m.AgencyID,
		Method:     m.Method,
		KeyID:      m.KeyID,
		KeyType:    kms.KeyType(r.KeyType),
		Status:     m.Status,
		CreatedAt:  m.CreatedAt.UTC(),
		ReplacedBy: deref(m.ReplacedBy),
	}
}
