package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/urbis-id/urbis/vc/issuer"
)

// SearchStatuses implements issuer.StatusStore: the entries of at most
// f.Limit of agencyID's credentials, newest first. The same query runs on
// SQLite and PostgreSQL: LOWER(...) LIKE LOWER(?) with '\' escaping, so
// that matching ignores case on both.
func (db *DB) SearchStatuses(ctx context.Context, agencyID string, f issuer.CredentialSearch) ([]issuer.StatusRecord, error) {
	g := db.gorm.WithContext(ctx)
	q := g.Model(&dbCredentialStatus{}).Select("credential_id").Where("agency_id = ?", agencyID)
	if f.IssuerID != "" {
		q = q.Where("issuer_id = ?", f.IssuerID)
	}
	if f.IDContains != "" {
		q = q.Where(`LOWER(credential_id) LIKE LOWER(?) ESCAPE '\'`, "%"+likeEscape(f.IDContains)+"%")
	}
	var ids []string
	if err := q.Group("credential_id").Order("MAX(created_at) DESC, credential_id").Limit(f.Limit).Pluck("credential_id", &ids).Error; err != nil {
		return nil, fail(err, "credentials of agency "+agencyID)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	order := make(map[string]int, len(ids))
	list := make([]string, 0, len(ids))
	for i, id := range ids {
		order[id] = i
		list = append(list, id)
	}
	var ms []dbCredentialStatus
	if err := g.Where("agency_id = ? AND credential_id IN ?", agencyID, list).Order("credential_id, purpose").Find(&ms).Error; err != nil {
		return nil, fail(err, "credentials of agency "+agencyID)
	}
	var notes []dbStatusNote
	if err := g.Where("agency_id = ? AND credential_id IN ?", agencyID, list).Find(&notes).Error; err != nil {
		return nil, fail(err, "credentials of agency "+agencyID)
	}
	byEntry := make(map[[2]string]dbStatusNote, len(notes))
	for _, n := range notes {
		byEntry[[2]string{n.CredentialID, n.Purpose}] = n
	}
	out := make([]issuer.StatusRecord, len(ms))
	for i, m := range ms {
		out[i] = m.domain()
		if n, ok := byEntry[[2]string{m.CredentialID, m.Purpose}]; ok {
			out[i].Reason, out[i].ChangedAt = n.Reason, n.ChangedAt.UTC()
		}
	}
	// Newest credential first, as the first query ordered them.
	slices.SortStableFunc(out, func(a, b issuer.StatusRecord) int { return order[a.CredentialID] - order[b.CredentialID] })
	return out, nil
}

// dbStatusNote is the reason and time of the last change of a status
// entry (credential_status_notes).
type dbStatusNote struct {
	CredentialID string    `gorm:"column:credential_id;primaryKey"`
	Purpose      string    `gorm:"column:purpose;primaryKey"`
	AgencyID     string    `gorm:"column:agency_id"`
	Reason       string    `gorm:"column:reason"`
	ChangedAt    time.Time `gorm:"column:changed_at;autoCreateTime:false"`
}

func (dbStatusNote) TableName() string { return "credential_status_notes" }

// NoteStatus implements issuer.StatusStore: it keeps the last note of
// agencyID's entry, and nothing when the agency has no such entry.
func (db *DB) NoteStatus(ctx context.Context, agencyID, credentialID, purpose, reason string, at time.Time) error {
	err := db.writeTx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&dbCredentialStatus{}).Where("credential_id = ? AND purpose = ? AND agency_id = ?", credentialID, purpose, agencyID).Count(&n).Error; err != nil || n == 0 {
			return err
		}
		note := dbStatusNote{CredentialID: credentialID, Purpose: purpose, AgencyID: agencyID, Reason: reason, ChangedAt: dbTime(at)}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "credential_id"}, {Name: "purpose"}},
			DoUpdates: clause.AssignmentColumns([]string{"reason", "changed_at"}),
		}).Create(&note).Error
	})
	return fail(err, "credential "+credentialID)
}

// likeEscape escapes the wildcards of a LIKE pattern with '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}
