package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/issuer"
	"github.com/urbis-id/urbis/vc/oid4vci"
)

var _ oid4vci.Store = (*DB)(nil)

type dbOffer struct {
	ID               string         `gorm:"column:id;primaryKey"`
	AgencyID         string         `gorm:"column:agency_id"`
	IssuerID         string         `gorm:"column:issuer_id"`
	Format           string         `gorm:"column:format"`
	ConfigurationIDs string         `gorm:"column:configuration_ids"` // JSON array
	Claims           sql.NullString `gorm:"column:claims"`            // JSON object
	CodeHash         string         `gorm:"column:code_hash"`
	TxCodeHash       string         `gorm:"column:tx_code_hash"`
	TxCodeLength     int            `gorm:"column:tx_code_length"`
	TxCodeText       string         `gorm:"column:tx_code_text"`
	TxAttempts       int            `gorm:"column:tx_attempts"`
	ExpiresAt        time.Time      `gorm:"column:expires_at"`
	Redeemed         bool           `gorm:"column:redeemed"`
	TokenHash        sql.NullString `gorm:"column:token_hash"`
	TokenExpiresAt   sql.NullTime   `gorm:"column:token_expires_at"`
	Issued           string         `gorm:"column:issued"` // JSON array
	PurgeAt          time.Time      `gorm:"column:purge_at"`
	CreatedAt        time.Time      `gorm:"column:created_at;autoCreateTime:false"`
}

func (dbOffer) TableName() string { return "oid4vci_offers" }

func toDBOffer(o oid4vci.Offer) (dbOffer, error) {
	ids, err := json.Marshal(o.ConfigurationIDs)
	if err != nil {
		return dbOffer{}, errkind.Wrap(errkind.Internal, err, "encode configuration ids")
	}
	issued := o.Issued
	if issued == nil {
		issued = []string{}
	}
	is, _ := json.Marshal(issued)
	m := dbOffer{
		ID: o.ID, AgencyID: o.AgencyID, IssuerID: o.IssuerID, Format: o.Format, ConfigurationIDs: string(ids),
		CodeHash: o.CodeHash, TxCodeHash: o.TxCodeHash, TxCodeLength: o.TxCodeLength, TxCodeText: o.TxCodeDescription, TxAttempts: o.TxCodeAttempts,
		ExpiresAt: dbTime(o.ExpiresAt), Redeemed: o.Redeemed, Issued: string(is), PurgeAt: dbTime(o.PurgeAt), CreatedAt: dbTime(o.CreatedAt),
	}
	if o.Claims != nil {
		c, err := json.Marshal(o.Claims)
		if err != nil {
			return dbOffer{}, errkind.Field(errkind.Invalid, "/credentialSubject", "cannot be encoded as JSON: %v", err)
		}
		m.Claims = sql.NullString{String: string(c), Valid: true}
	}
	if o.TokenHash != "" {
		m.TokenHash = sql.NullString{String: o.TokenHash, Valid: true}
		m.TokenExpiresAt = sql.NullTime{Time: dbTime(o.TokenExpiresAt), Valid: true}
	}
	return m, nil
}

func (m dbOffer) domain() (oid4vci.Offer, error) {
	o := oid4vci.Offer{
		ID: m.ID, AgencyID: m.AgencyID, IssuerID: m.IssuerID, Format: m.Format, CodeHash: m.CodeHash,
		TxCodeHash: m.TxCodeHash, TxCodeLength: m.TxCodeLength, TxCodeDescription: m.TxCodeText, TxCodeAttempts: m.TxAttempts,
		ExpiresAt: m.ExpiresAt.UTC(), Redeemed: m.Redeemed, TokenHash: m.TokenHash.String,
		PurgeAt: m.PurgeAt.UTC(), CreatedAt: m.CreatedAt.UTC(),
	}
	if m.TokenExpiresAt.Valid {
		o.TokenExpiresAt = m.TokenExpiresAt.Time.UTC()
	}
	if err := json.Unmarshal([]byte(m.ConfigurationIDs), &o.ConfigurationIDs); err != nil {
		return oid4vci.Offer{}, errkind.Wrap(errkind.Internal, err, "offer %s: configuration ids", m.ID)
	}
	if err := json.Unmarshal([]byte(m.Issued), &o.Issued); err != nil {
		return oid4vci.Offer{}, errkind.Wrap(errkind.Internal, err, "offer %s: issued", m.ID)
	}
	if m.Claims.Valid {
		if err := json.Unmarshal([]byte(m.Claims.String), &o.Claims); err != nil {
			return oid4vci.Offer{}, errkind.Wrap(errkind.Internal, err, "offer %s: claims", m.ID)
		}
	}
	return o, nil
}

// AllIssuers implements oid4vci.Store.
func (db *DB) AllIssuers(ctx context.Context) ([]issuer.Instance, error) {
	var ms []dbIssuer
	if err := db.gorm.WithContext(ctx).Order("created_at, id").Find(&ms).Error; err != nil {
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

// CreateOffer stores an offer (one group of Apply).
func (db *DB) CreateOffer(ctx context.Context, o oid4vci.Offer) error {
	_, err := db.applyOne(ctx, oid4vci.Write{Kind: oid4vci.WriteCreateOffer, Offer: o})
	return err
}

func (db *DB) offerWhere(ctx context.Context, col, v string) (oid4vci.Offer, error) {
	var m dbOffer
	if err := db.gorm.WithContext(ctx).Where(col+" = ?", v).Take(&m).Error; err != nil {
		return oid4vci.Offer{}, fail(err, "credential offer")
	}
	return m.domain()
}

// Offer implements oid4vci.Store.
func (db *DB) Offer(ctx context.Context, id string) (oid4vci.Offer, error) {
	return db.offerWhere(ctx, "id", id)
}

// OfferByCode implements oid4vci.Store.
func (db *DB) OfferByCode(ctx context.Context, codeHash string) (oid4vci.Offer, error) {
	return db.offerWhere(ctx, "code_hash", codeHash)
}

// OfferByToken implements oid4vci.Store.
func (db *DB) OfferByToken(ctx context.Context, tokenHash string) (oid4vci.Offer, error) {
	return db.offerWhere(ctx, "token_hash", tokenHash)
}

// FailTxCode implements oid4vci.Store: one UPDATE counts the attempt and,
// at max, kills the code.
func (db *DB) FailTxCode(ctx context.Context, id string, max int) (int, error) {
	g := db.gorm.WithContext(ctx)
	res := g.Exec("UPDATE oid4vci_offers SET tx_attempts = tx_attempts + 1, redeemed = (tx_attempts + 1 >= ?) WHERE id = ? AND NOT redeemed", max, id)
	if res.Error != nil {
		return 0, fail(res.Error, "credential offer")
	}
	var n int
	if err := g.Raw("SELECT tx_attempts FROM oid4vci_offers WHERE id = ?", id).Scan(&n).Error; err != nil {
		return 0, fail(err, "credential offer")
	}
	if res.RowsAffected == 0 {
		return max, nil // redeemed or killed meanwhile
	}
	return n, nil
}

// Redeem applies one redemption (one group of Apply); false when the
// code was used or killed before.
func (db *DB) Redeem(ctx context.Context, id, tokenHash string, tokenExpires, purgeAt time.Time, max int) (bool, error) {
	return db.applyOne(ctx, oid4vci.Write{Kind: oid4vci.WriteRedeem, ID: id, TokenHash: tokenHash, TokenExpires: tokenExpires, PurgeAt: purgeAt, Max: max})
}

// MarkIssued applies one issued mark (one group of Apply); false when the
// issued configurations are not old.
func (db *DB) MarkIssued(ctx context.Context, id string, old, new []string, clearClaims bool) (bool, error) {
	return db.applyOne(ctx, oid4vci.Write{Kind: oid4vci.WriteMarkIssued, ID: id, Old: old, New: new, ClearClaims: clearClaims})
}

// UseNonce applies one nonce use (one group of Apply); false when the
// nonce was spent before.
func (db *DB) UseNonce(ctx context.Context, hash string, expires time.Time) (bool, error) {
	return db.applyOne(ctx, oid4vci.Write{Kind: oid4vci.WriteUseNonce, NonceHash: hash, NonceExpires: expires})
}

func (db *DB) applyOne(ctx context.Context, w oid4vci.Write) (bool, error) {
	res, err := db.Apply(ctx, [][]oid4vci.Write{{w}})
	if err != nil {
		return false, err
	}
	return res[0].Failed < 0, nil
}

// errNotApplied rolls a group back when one of its writes did not apply.
var errNotApplied = errors.New("oid4vci: write did not apply")

// Apply implements oid4vci.Store: one transaction. Every write is one
// conditional statement, decided by the database, so single use holds
// within and across transactions. A group of several writes runs inside a
// savepoint, rolled back when one of its writes does not apply; a group of
// one needs none (a write that does not apply changed nothing).
func (db *DB) Apply(ctx context.Context, groups [][]oid4vci.Write) ([]oid4vci.Applied, error) {
	out := make([]oid4vci.Applied, len(groups))
	err := db.writeTx(ctx, func(tx *gorm.DB) error {
		for i, g := range groups {
			out[i] = oid4vci.Applied{Failed: -1}
			if len(g) > 1 {
				if err := tx.Exec("SAVEPOINT oid4vci_group").Error; err != nil {
					return err
				}
			}
			failed, err := applyGroup(tx, g)
			if err != nil && !errors.Is(err, errNotApplied) {
				return err
			}
			out[i].Failed = failed
			if len(g) == 1 {
				continue
			}
			if failed >= 0 {
				if err := tx.Exec("ROLLBACK TO SAVEPOINT oid4vci_group").Error; err != nil {
					return err
				}
			}
			if err := tx.Exec("RELEASE SAVEPOINT oid4vci_group").Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fail(err, "credential offers")
	}
	return out, nil
}

// applyGroup runs the writes of g in tx, stopping at the first that does
// not apply (its index) or fails.
func applyGroup(tx *gorm.DB, g []oid4vci.Write) (int, error) {
	for i, w := range g {
		ok, err := applyWrite(tx, w)
		if err != nil {
			return i, err
		}
		if !ok {
			return i, errNotApplied
		}
	}
	return -1, nil
}

func applyWrite(tx *gorm.DB, w oid4vci.Write) (bool, error) {
	var res *gorm.DB
	switch w.Kind {
	case oid4vci.WriteCreateOffer:
		m, err := toDBOffer(w.Offer)
		if err != nil {
			return false, err
		}
		if err := tx.Create(&m).Error; err != nil {
			return false, fail(err, "credential offer")
		}
		return true, nil
	case oid4vci.WriteRedeem:
		res = tx.Exec("UPDATE oid4vci_offers SET redeemed = ?, token_hash = ?, token_expires_at = ?, purge_at = ? "+
			"WHERE id = ? AND NOT redeemed AND tx_attempts < ?", true, w.TokenHash, dbTime(w.TokenExpires), dbTime(w.PurgeAt), w.ID, w.Max)
	case oid4vci.WriteMarkIssued:
		old := w.Old
		if old == nil {
			old = []string{}
		}
		o, _ := json.Marshal(old)
		n, _ := json.Marshal(w.New)
		q := "UPDATE oid4vci_offers SET issued = ? WHERE id = ? AND issued = ?"
		if w.ClearClaims {
			q = "UPDATE oid4vci_offers SET issued = ?, claims = NULL WHERE id = ? AND issued = ?"
		}
		res = tx.Exec(q, string(n), w.ID, string(o))
	case oid4vci.WriteUseNonce:
		// The primary key makes a second INSERT of one nonce do nothing.
		res = tx.Exec("INSERT INTO oid4vci_nonces (hash, expires_at) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING", w.NonceHash, dbTime(w.NonceExpires))
	default:
		return false, errkind.New(errkind.Internal, "oid4vci: unknown write kind %d", w.Kind)
	}
	if res.Error != nil {
		return false, fail(res.Error, "credential offer")
	}
	return res.RowsAffected == 1, nil
}

// Sweep implements oid4vci.Store.
func (db *DB) Sweep(ctx context.Context, now time.Time) error {
	g := db.gorm.WithContext(ctx)
	if err := g.Exec("DELETE FROM oid4vci_offers WHERE purge_at < ?", dbTime(now)).Error; err != nil {
		return fail(err, "credential offers")
	}
	return fail(g.Exec("DELETE FROM oid4vci_nonces WHERE expires_at < ?", dbTime(now)).Error, "c_nonces")
}
