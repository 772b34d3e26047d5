package store

import (
	"context"
	"slices"
	"strings"
	"time"

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
	out := make([]issuer.StatusRecord, len(ms))
	for i, m := range ms {
		out[i] = m.domain()
	}
	// Newest credential first, as the first query ordered them.
	slices.SortStableFunc(out, func(a, b issuer.StatusRecord) int { return order[a.CredentialID] - order[b.CredentialID] })
	return out, nil
}

// NoteStatus implements issuer.StatusStore.
func (db *DB) NoteStatus(ctx context.Context, agencyID, credentialID, purpose, reason string, at time.Time) error {
	t := dbTime(at)
	err := db.gorm.WithContext(ctx).Model(&dbCredentialStatus{}).
		Where("credential_id = ? AND purpose = ? AND agency_id = ?", credentialID, purpose, agencyID).
		Updates(map[string]any{"reason": reason, "changed_at": t}).Error
	return fail(err, "credential "+credentialID)
}

// likeEscape escapes the wildcards of a LIKE pattern with '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}
