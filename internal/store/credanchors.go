package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/issuer"
)

var _ issuer.AnchorStore = (*DB)(nil)

type dbCredentialAnchor struct {
	Seq          int64     `gorm:"column:seq;primaryKey;autoIncrement"`
	AgencyID     string    `gorm:"column:agency_id"`
	IssuerID     string    `gorm:"column:issuer_id"`
	IssuerDID    string    `gorm:"column:issuer_did"`
	CredentialID *string   `gorm:"column:credential_id"`
	Leaf         string    `gorm:"column:leaf"`
	CreatedAt    time.Time `gorm:"column:created_at;autoCreateTime:false"`
	BatchRoot    *string   `gorm:"column:batch_root"`
	LeafIndex    *int      `gorm:"column:leaf_index"`
	BatchSize    *int      `gorm:"column:batch_size"`
	OpHash       *string   `gorm:"column:op_hash"`
}

func (dbCredentialAnchor) TableName() string { return "credential_anchors" }

func (m dbCredentialAnchor) domain() issuer.IssuedLeaf {
	l := issuer.IssuedLeaf{Seq: m.Seq, AgencyID: m.AgencyID, IssuerID: m.IssuerID, IssuerDID: m.IssuerDID,
		Leaf: m.Leaf, CreatedAt: m.CreatedAt.UTC()}
	if m.CredentialID != nil {
		l.CredentialID = *m.CredentialID
	}
	if m.BatchRoot != nil && m.OpHash != nil && m.LeafIndex != nil && m.BatchSize != nil {
		l.Root, l.OpHash, l.Index, l.Size = *m.BatchRoot, *m.OpHash, *m.LeafIndex, *m.BatchSize
	}
	return l
}

// AddIssued implements issuer.AnchorStore. The leaves are appended to
// issued_leaves, which has no secondary index: on the issuance path a
// leaf costs a sequential page, not a random page of each lookup index
// (that tripled the cost of the group commit); FileIssued moves them to
// the indexed credential_anchors once per anchoring round. They go in
// with plain multi-row INSERTs: gorm's Create would read back every seq
// (RETURNING), which cost more than the insert itself.
func (db *DB) AddIssued(ctx context.Context, statuses []issuer.StatusRecord, leaves []issuer.IssuedLeaf) error {
	if len(leaves) == 0 {
		return db.AddStatuses(ctx, statuses)
	}
	return db.writeTx(ctx, func(tx *gorm.DB) error {
		if err := addStatuses(tx, statuses); err != nil {
			return err
		}
		for chunk := range slices.Chunk(leaves, leafChunk) {
			var q strings.Builder
			q.WriteString("INSERT INTO issued_leaves (agency_id, issuer_id, issuer_did, credential_id, leaf, created_at) VALUES ")
			args := make([]any, 0, 6*len(chunk))
			for i, l := range chunk {
				if i > 0 {
					q.WriteByte(',')
				}
				q.WriteString("(?, ?, ?, ?, ?, ?)")
				args = append(args, l.AgencyID, l.IssuerID, l.IssuerDID, nullString(l.CredentialID), l.Leaf, dbTime(l.CreatedAt))
			}
			if err := tx.Exec(q.String(), args...).Error; err != nil {
				return fail(err, "anchoring record of credential "+chunk[0].Leaf)
			}
		}
		return nil
	})
}

// leafChunk bounds the rows of one INSERT of leaves (6 parameters each).
const leafChunk = 1000

// FileIssued implements issuer.AnchorStore: it moves the rows of
// issued_leaves to credential_anchors in one transaction. Only rows it
// copied are deleted, so a row committed meanwhile (PostgreSQL) stays for
// the next round.
func (db *DB) FileIssued(ctx context.Context) (int, error) {
	var n int64
	err := db.writeTx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`INSERT INTO credential_anchors (seq, agency_id, issuer_id, issuer_did, credential_id, leaf, created_at)
SELECT seq, agency_id, issuer_id, issuer_did, credential_id, leaf, created_at FROM issued_leaves l
WHERE NOT EXISTS (SELECT 1 FROM credential_anchors c WHERE c.seq = l.seq) ORDER BY seq`)
		if res.Error != nil {
			return fail(res.Error, "filing issued leaves")
		}
		n = res.RowsAffected
		err := tx.Exec(`DELETE FROM issued_leaves WHERE EXISTS (SELECT 1 FROM credential_anchors c WHERE c.seq = issued_leaves.seq)`).Error
		return fail(err, "filing issued leaves")
	})
	return int(n), err
}

// PendingSigners implements issuer.AnchorStore.
func (db *DB) PendingSigners(ctx context.Context) ([]issuer.AnchorSigner, error) {
	var rows []struct {
		AgencyID  string `gorm:"column:agency_id"`
		IssuerDID string `gorm:"column:issuer_did"`
	}
	err := db.gorm.WithContext(ctx).Raw(`SELECT DISTINCT agency_id, issuer_did FROM credential_anchors WHERE batch_root IS NULL ORDER BY agency_id, issuer_did`).Scan(&rows).Error
	if err != nil {
		return nil, fail(err, "pending anchors")
	}
	out := make([]issuer.AnchorSigner, 0, len(rows))
	for _, r := range rows {
		out = append(out, issuer.AnchorSigner{AgencyID: r.AgencyID, IssuerDID: r.IssuerDID})
	}
	return out, nil
}

// PendingLeaves implements issuer.AnchorStore.
func (db *DB) PendingLeaves(ctx context.Context, s issuer.AnchorSigner, limit int) ([]issuer.IssuedLeaf, error) {
	var ms []dbCredentialAnchor
	err := db.gorm.WithContext(ctx).Where("agency_id = ? AND issuer_did = ? AND batch_root IS NULL", s.AgencyID, s.IssuerDID).
		Order("seq").Limit(limit).Find(&ms).Error
	if err != nil {
		return nil, fail(err, "pending anchors of "+s.IssuerDID)
	}
	out := make([]issuer.IssuedLeaf, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.domain())
	}
	return out, nil
}

// markChunk bounds the seqs of one UPDATE (SQLite allows 32,766 bound
// parameters, PostgreSQL 65,535).
const markChunk = 5000

// MarkAnchored implements issuer.AnchorStore: the leaves' index is their
// rank in b.Seqs, which must be ascending (the order PendingLeaves
// returns); Conflict, and nothing written, if a leaf is anchored already
// or missing.
func (db *DB) MarkAnchored(ctx context.Context, b issuer.AnchorBatch) error {
	if len(b.Seqs) == 0 {
		return nil
	}
	if !slices.IsSorted(b.Seqs) {
		return errkind.New(errkind.Internal, "anchor batch %s: leaves not in issuance order", b.Root)
	}
	return db.writeTx(ctx, func(tx *gorm.DB) error {
		for seqs := range slices.Chunk(b.Seqs, markChunk) {
			res := tx.Exec(`UPDATE credential_anchors SET batch_root = ?, op_hash = ?, batch_size = ? WHERE batch_root IS NULL AND seq IN ?`,
				b.Root, b.OpHash, len(b.Seqs), seqs)
			if res.Error != nil {
				return fail(res.Error, "anchor batch "+b.Root)
			}
			if res.RowsAffected != int64(len(seqs)) {
				return errkind.New(errkind.Conflict, "anchor batch %s: %d of %d leaves are no longer pending", b.Root, int64(len(seqs))-res.RowsAffected, len(seqs))
			}
		}
		err := tx.Exec(`UPDATE credential_anchors SET leaf_index = r.i
FROM (SELECT seq, row_number() OVER (ORDER BY seq) - 1 AS i FROM credential_anchors WHERE batch_root = ?) AS r
WHERE credential_anchors.seq = r.seq`, b.Root).Error
		return fail(err, "anchor batch "+b.Root)
	})
}

// IssuedByCredential implements issuer.AnchorStore.
func (db *DB) IssuedByCredential(ctx context.Context, agencyID, credentialID string) (issuer.IssuedLeaf, error) {
	return db.issuedWhere(ctx, "agency_id = ? AND credential_id = ?", agencyID, credentialID, "credential "+credentialID)
}

// IssuedByLeaf implements issuer.AnchorStore.
func (db *DB) IssuedByLeaf(ctx context.Context, agencyID, leaf string) (issuer.IssuedLeaf, error) {
	return db.issuedWhere(ctx, "agency_id = ? AND leaf = ?", agencyID, leaf, "credential with leaf "+leaf)
}

// issuedWhere looks in credential_anchors, then in the (small,
// unindexed) issued_leaves not yet filed.
func (db *DB) issuedWhere(ctx context.Context, where, agencyID, v, what string) (issuer.IssuedLeaf, error) {
	var m dbCredentialAnchor
	err := db.gorm.WithContext(ctx).Where(where, agencyID, v).Order("seq").Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		err = db.gorm.WithContext(ctx).Table("issued_leaves").Select("seq, agency_id, issuer_id, issuer_did, credential_id, leaf, created_at").
			Where(where, agencyID, v).Order("seq").Take(&m).Error
	}
	if err != nil {
		return issuer.IssuedLeaf{}, fail(err, what)
	}
	return m.domain(), nil
}

// BatchLeaves implements issuer.AnchorStore.
func (db *DB) BatchLeaves(ctx context.Context, root string) ([]string, error) {
	var leaves []string
	err := db.gorm.WithContext(ctx).Model(&dbCredentialAnchor{}).Where("batch_root = ?", root).Order("leaf_index").Pluck("leaf", &leaves).Error
	if err != nil {
		return nil, fail(err, "anchor batch "+root)
	}
	return leaves, nil
}
