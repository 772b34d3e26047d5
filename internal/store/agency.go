package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/urbis-id/urbis/internal/agency"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/kms"
)

var _ agency.Store = (*DB)(nil)

// CreateAgency implements agency.Store: the agency and its first API key
// are stored in one transaction.
func (db *DB) CreateAgency(ctx context.Context, a agency.Agency, key agency.APIKey) error {
	return db.writeTx(ctx, func(tx *gorm.DB) error {
		m := toDBAgency(a)
		if err := tx.Create(&m).Error; err != nil {
			return fail(err, "agency "+a.ID)
		}
		k := toDBAPIKey(key)
		return fail(tx.Create(&k).Error, "API key "+key.ID)
	})
}

// ListAgencies implements agency.Store.
func (db *DB) ListAgencies(ctx context.Context) ([]agency.Agency, error) {
	var ms []dbAgency
	if err := db.gorm.WithContext(ctx).Order("created_at, id").Find(&ms).Error; err != nil {
		return nil, fail(err, "agencies")
	}
	out := make([]agency.Agency, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.domain())
	}
	return out, nil
}

// Agency implements agency.Store.
func (db *DB) Agency(ctx context.Context, id string) (agency.Agency, error) {
	var m dbAgency
	if err := db.gorm.WithContext(ctx).Where("id = ?", id).Take(&m).Error; err != nil {
		return agency.Agency{}, fail(err, "agency "+id)
	}
	return m.domain(), nil
}

// CreateAPIKey implements agency.Store.
func (db *DB) CreateAPIKey(ctx context.Context, key agency.APIKey) error {
	m := toDBAPIKey(key)
	return fail(db.gorm.WithContext(ctx).Create(&m).Error, "API key "+key.ID+" of agency "+key.AgencyID)
}

// RevokeAPIKeys implements agency.Store.
func (db *DB) RevokeAPIKeys(ctx context.Context, agencyID string, at time.Time) (int, error) {
	res := db.gorm.WithContext(ctx).Model(&dbAPIKey{}).
		Where("agency_id = ? AND revoked_at IS NULL", agencyID).
		Update("revoked_at", dbTime(at))
	if res.Error != nil {
		return 0, fail(res.Error, "API keys of agency "+agencyID)
	}
	return int(res.RowsAffected), nil
}

// AgencyByAPIKeyHash implements agency.Store: NotFound if no valid key
// has the hash.
func (db *DB) AgencyByAPIKeyHash(ctx context.Context, hash string) (agency.Agency, error) {
	var m dbAgency
	err := db.gorm.WithContext(ctx).
		Joins("JOIN api_keys ON api_keys.agency_id = agencies.id").
		Where("api_keys.hash = ? AND api_keys.revoked_at IS NULL", hash).
		Take(&m).Error
	if err != nil {
		return agency.Agency{}, fail(err, "API key") // never name the hash
	}
	return m.domain(), nil
}

// CreateKeyAndDID implements agency.Store: the key and the DID are
// stored in one transaction.
func (db *DB) CreateKeyAndDID(ctx context.Context, key kms.Record, d agency.DIDRecord) error {
	return db.writeTx(ctx, func(tx *gorm.DB) error {
		if err := createKey(tx, key); err != nil {
			return err
		}
		return createDID(tx, d)
	})
}

func createDID(tx *gorm.DB, d agency.DIDRecord) error {
	m := toDBDID(d)
	return fail(tx.Create(&m).Error, d.DID)
}

// didRows selects DIDs with the type of their key.
func didRows(tx *gorm.DB) *gorm.DB {
	return tx.Table("dids").
		Select("dids.did, dids.agency_id, dids.method, dids.key_id, dids.created_at, dids.status, dids.replaced_by, keys.type AS key_type").
		Joins("JOIN keys ON keys.id = dids.key_id")
}

// DIDs implements agency.Store.
func (db *DB) DIDs(ctx context.Context, agencyID string) ([]agency.DIDRecord, error) {
	var rows []dbDIDRow
	err := didRows(db.gorm.WithContext(ctx)).
		Where("dids.agency_id = ?", agencyID).
		Order("dids.created_at, dids.did").
		Scan(&rows).Error
	if err != nil {
		return nil, fail(err, "DIDs of agency "+agencyID)
	}
	out := make([]agency.DIDRecord, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.domain())
	}
	return out, nil
}

// DID implements agency.Store: NotFound if did is absent or another
// agency's.
func (db *DB) DID(ctx context.Context, agencyID, did string) (agency.DIDRecord, error) {
	return findDID(db.gorm.WithContext(ctx), agencyID, did)
}

func findDID(tx *gorm.DB, agencyID, did string) (agency.DIDRecord, error) {
	var rows []dbDIDRow
	err := didRows(tx).
		Where("dids.did = ? AND dids.agency_id = ?", did, agencyID).
		Limit(1).
		Scan(&rows).Error
	if err != nil {
		return agency.DIDRecord{}, fail(err, did)
	}
	if len(rows) == 0 {
		return agency.DIDRecord{}, errkind.New(errkind.NotFound, "%s not found", did)
	}
	return rows[0].domain(), nil
}

// RotateDID implements agency.Store: in one transaction it stores the new
// key and DID, marks the old DID rotated (replaced by next) and marks
// the old DID's key rotated (replaced by key) unless that key was
// already rotated on its own.
func (db *DB) RotateDID(ctx context.Context, agencyID, old string, key kms.Record, next agency.DIDRecord) error {
	return db.writeTx(ctx, func(tx *gorm.DB) error {
		prev, err := findDID(tx, agencyID, old)
		if err != nil {
			return err
		}
		if err := createKey(tx, key); err != nil {
			return err
		}
		if err := createDID(tx, next); err != nil {
			return err
		}
		res := tx.Model(&dbDID{}).
			Where("did = ? AND agency_id = ? AND status = ?", old, agencyID, agency.StatusActive).
			Updates(map[string]any{"status": agency.StatusRotated, "replaced_by": next.DID})
		if res.Error != nil {
			return fail(res.Error, old)
		}
		if res.RowsAffected != 1 {
			return errkind.New(errkind.Conflict, "%s is no longer active; it was rotated or deactivated meanwhile", old)
		}
		return markKeyRotated(tx, agencyID, prev.KeyID, key.ID, false)
	})
}

// AddDID implements agency.Store: it records a DID bound to a key that is
// already in custody.
func (db *DB) AddDID(ctx context.Context, d agency.DIDRecord) error {
	return createDID(db.gorm.WithContext(ctx), d)
}

// RebindDIDKey implements agency.Store: in one transaction it binds did to
// newKeyID and marks oldKeyID rotated, replaced by newKeyID.
func (db *DB) RebindDIDKey(ctx context.Context, agencyID, did, oldKeyID, newKeyID string) error {
	return db.writeTx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&dbDID{}).
			Where("did = ? AND agency_id = ? AND key_id = ?", did, agencyID, oldKeyID).
			Update("key_id", newKeyID)
		if res.Error != nil {
			return fail(res.Error, did)
		}
		if res.RowsAffected != 1 {
			return errkind.New(errkind.Conflict, "%s is no longer bound to key %s; it was rotated meanwhile", did, oldKeyID)
		}
		return markKeyRotated(tx, agencyID, oldKeyID, newKeyID, true)
	})
}
