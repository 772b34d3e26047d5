package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/urbis-id/urbis/vc/issuer"
)

var _ issuer.StatusStore = (*DB)(nil)

type dbCredentialStatus struct {
	CredentialID string    `gorm:"column:credential_id;primaryKey"`
	Purpose      string    `gorm:"column:purpose;primaryKey"`
	ListID       string    `gorm:"column:list_id"`
	Idx          int       `gorm:"column:idx"`
	AgencyID     string    `gorm:"column:agency_id"`
	IssuerID     string    `gorm:"column:issuer_id"`
	CreatedAt    time.Time `gorm:"column:created_at;autoCreateTime:false"`
}

func (dbCredentialStatus) TableName() string { return "credential_statuses" }

func (m dbCredentialStatus) domain() issuer.StatusRecord {
	return issuer.StatusRecord{CredentialID: m.CredentialID, Purpose: m.Purpose, ListID: m.ListID, Index: m.Idx,
		AgencyID: m.AgencyID, IssuerID: m.IssuerID, CreatedAt: m.CreatedAt.UTC()}
}

// AddStatuses implements issuer.StatusStore: Conflict if the credential
// already has an entry of a purpose.
func (db *DB) AddStatuses(ctx context.Context, recs []issuer.StatusRecord) error {
	return addStatuses(db.gorm.WithContext(ctx), recs)
}

// addStatuses inserts recs with g, a connection or a transaction.
func addStatuses(g *gorm.DB, recs []issuer.StatusRecord) error {
	if len(recs) == 0 {
		return nil
	}
	ms := make([]dbCredentialStatus, 0, len(recs))
	for _, r := range recs {
		ms = append(ms, dbCredentialStatus{CredentialID: r.CredentialID, Purpose: r.Purpose, ListID: r.ListID, Idx: r.Index,
			AgencyID: r.AgencyID, IssuerID: r.IssuerID, CreatedAt: dbTime(r.CreatedAt)})
	}
	return fail(g.Create(&ms).Error, "status of credential "+recs[0].CredentialID)
}

// Statuses implements issuer.StatusStore.
func (db *DB) Statuses(ctx context.Context, agencyID, credentialID string) ([]issuer.StatusRecord, error) {
	var ms []dbCredentialStatus
	if err := db.gorm.WithContext(ctx).Where("credential_id = ? AND agency_id = ?", credentialID, agencyID).Order("purpose").Find(&ms).Error; err != nil {
		return nil, fail(err, "credential "+credentialID)
	}
	if len(ms) == 0 {
		return nil, fail(gorm.ErrRecordNotFound, "credential "+credentialID)
	}
	out := make([]issuer.StatusRecord, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.domain())
	}
	return out, nil
}

// ListRecord implements issuer.StatusStore.
func (db *DB) ListRecord(ctx context.Context, listID string) (issuer.StatusRecord, error) {
	// Any entry of the list names its agency and issuer instance, which
	// never change: one read serves for good.
	if r, ok := db.cache.listOwner.get(listID); ok {
		return r, nil
	}
	var m dbCredentialStatus
	if err := db.gorm.WithContext(ctx).Where("list_id = ?", listID).Take(&m).Error; err != nil {
		return issuer.StatusRecord{}, fail(err, "status list "+listID)
	}
	r := m.domain()
	db.cache.listOwner.put(listID, 0, r)
	return r, nil
}
