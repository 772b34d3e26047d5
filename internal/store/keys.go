package store

import (
	"context"

	"gorm.io/gorm"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/kms"
)

var _ kms.Store = (*DB)(nil)

// CreateKey implements kms.Store.
func (db *DB) CreateKey(ctx context.Context, r kms.Record) error {
	return createKey(db.gorm.WithContext(ctx), r)
}

func createKey(tx *gorm.DB, r kms.Record) error {
	m := toDBKey(r)
	return fail(tx.Create(&m).Error, "key "+r.ID+" of agency "+r.AgencyID)
}

// Key implements kms.Store: NotFound if the key is absent or belongs to
// another agency.
func (db *DB) Key(ctx context.Context, agencyID, id string) (kms.Record, error) {
	var m dbKey
	err := db.gorm.WithContext(ctx).Where("id = ? AND agency_id = ?", id, agencyID).Take(&m).Error
	if err != nil {
		return kms.Record{}, fail(err, "key "+id)
	}
	return m.domain(), nil
}

// ListKeys implements kms.Store.
func (db *DB) ListKeys(ctx context.Context, agencyID string) ([]kms.Record, error) {
	var ms []dbKey
	err := db.gorm.WithContext(ctx).Where("agency_id = ?", agencyID).Order("created_at, id").Find(&ms).Error
	if err != nil {
		return nil, fail(err, "keys of agency "+agencyID)
	}
	out := make([]kms.Record, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.domain())
	}
	return out, nil
}

// RotateKey implements kms.Store: it stores next and marks oldID rotated
// in one transaction.
func (db *DB) RotateKey(ctx context.Context, agencyID, oldID string, next kms.Record) error {
	return db.writeTx(ctx, func(tx *gorm.DB) error {
		if err := createKey(tx, next); err != nil {
			return err
		}
		return markKeyRotated(tx, agencyID, oldID, next.ID, true)
	})
}

// markKeyRotated marks agencyID's active key id rotated, replaced by
// nextID. If strict, a key that is not active is a Conflict; otherwise it
// is left as it is.
func markKeyRotated(tx *gorm.DB, agencyID, id, nextID string, strict bool) error {
	res := tx.Model(&dbKey{}).
		Where("id = ? AND agency_id = ? AND status = ?", id, agencyID, kms.StatusActive).
		Updates(map[string]any{"status": kms.StatusRotated, "replaced_by": nextID})
	if res.Error != nil {
		return fail(res.Error, "key "+id)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	var m dbKey
	if err := tx.Where("id = ? AND agency_id = ?", id, agencyID).Take(&m).Error; err != nil {
		return fail(err, "key "+id)
	}
	if !strict {
		return nil
	}
	return errkind.New(errkind.Conflict, "key %s is already %s (replaced by %s)", id, m.Status, deref(m.ReplacedBy))
}
