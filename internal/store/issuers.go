package store

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
	"github.com/urbis-id/urbis/vc/issuer"
)

var _ issuer.Store = (*DB)(nil)

type dbIssuer struct {
	ID          string    `gorm:"column:id;primaryKey"`
	AgencyID    string    `gorm:"column:agency_id"`
	DID         string    `gorm:"column:did"`
	Format      string    `gorm:"column:format"`
	Cryptosuite string    `gorm:"column:cryptosuite"`
	Types       string    `gorm:"column:types"`           // JSON array
	Purposes    string    `gorm:"column:status_purposes"` // JSON array
	CreatedAt   time.Time `gorm:"column:created_at;autoCreateTime:false"`
}

func (dbIssuer) TableName() string { return "issuer_instances" }

func toDBIssuer(in issuer.Instance) (dbIssuer, error) {
	types, err := json.Marshal(in.Types)
	if err != nil {
		return dbIssuer{}, errkind.Wrap(errkind.Internal, err, "encode types")
	}
	ps := in.StatusPurposes
	if ps == nil {
		ps = []string{}
	}
	purposes, err := json.Marshal(ps)
	if err != nil {
		return dbIssuer{}, errkind.Wrap(errkind.Internal, err, "encode status purposes")
	}
	return dbIssuer{
		ID: in.ID, AgencyID: in.AgencyID, DID: in.DID, Format: string(in.Format),
		Cryptosuite: in.Cryptosuite, Types: string(types), Purposes: string(purposes), CreatedAt: dbTime(in.CreatedAt),
	}, nil
}

func (m dbIssuer) domain() (issuer.Instance, error) {
	var types []string
	if err := json.Unmarshal([]byte(m.Types), &types); err != nil {
		return issuer.Instance{}, errkind.Wrap(errkind.Internal, err, "issuer instance %s: types", m.ID)
	}
	purposes := []string{}
	if err := json.Unmarshal([]byte(m.Purposes), &purposes); err != nil {
		return issuer.Instance{}, errkind.Wrap(errkind.Internal, err, "issuer instance %s: status purposes", m.ID)
	}
	return issuer.Instance{
		ID: m.ID, AgencyID: m.AgencyID, DID: m.DID, Format: issuer.Format(m.Format),
		Cryptosuite: m.Cryptosuite, Types: types, StatusPurposes: purposes, CreatedAt: m.CreatedAt.UTC(),
	}, nil
}

// CreateIssuer implements issuer.Store.
func (db *DB) CreateIssuer(ctx context.Context, in issuer.Instance) error {
	m, err := toDBIssuer(in)
	if err != nil {
		return err
	}
	return fail(db.gorm.WithContext(ctx).Create(&m).Error, "issuer instance "+in.ID)
}

// Issuers implements issuer.Store.
func (db *DB) Issuers(ctx context.Context, agencyID string) ([]issuer.Instance, error) {
	var ms []dbIssuer
	if err := db.gorm.WithContext(ctx).Where("agency_id = ?", agencyID).Order("created_at, id").Find(&ms).Error; err != nil {
		return nil, fail(err, "issuer instances")
	}
	out := make([]issuer.Instance, 0, len(ms))
	for _, m := range ms {
		in, err := m.domain()
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

// Issuer implements issuer.Store: another agency's instance is NotFound.
func (db *DB) Issuer(ctx context.Context, agencyID, id string) (issuer.Instance, error) {
	var m dbIssuer
	if err := db.gorm.WithContext(ctx).Where("id = ? AND agency_id = ?", id, agencyID).Take(&m).Error; err != nil {
		return issuer.Instance{}, fail(err, "issuer instance "+id)
	}
	return m.domain()
}

// SchemasByType lists, for the verifiers package's trust checks, the schemas registered on
// chain for typ, oldest first. It reads the registry's schemas table.
func (db *DB) SchemasByType(ctx context.Context, typ string) ([]registry.Schema, error) {
	if s, ok := db.cache.schemas.get(typ); ok {
		return slices.Clone(s), nil
	}
	gen := db.cache.schemas.generation(typ)
	out, err := db.schemasByType(ctx, typ)
	if err == nil {
		db.cache.schemas.put(typ, gen, slices.Clone(out))
	}
	return out, err
}

func (db *DB) schemasByType(ctx context.Context, typ string) ([]registry.Schema, error) {
	rows, err := db.gorm.WithContext(ctx).Raw("SELECT "+schemaCols+" FROM schemas WHERE type = ? ORDER BY height, id", typ).Rows()
	if err != nil {
		return nil, fail(err, "schemas of type "+typ)
	}
	defer rows.Close()
	var out []registry.Schema
	for rows.Next() {
		var m dbSchema
		if err := m.scan(rows); err != nil {
			return nil, fail(err, "schemas of type "+typ)
		}
		out = append(out, m.domain())
	}
	return out, fail(rows.Err(), "schemas of type "+typ)
}
