package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"gorm.io/gorm"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/verifiers/oid4vp"
)

var _ oid4vp.Store = (*DB)(nil)

type dbVPRequest struct {
	ID         string         `gorm:"column:id;primaryKey"`
	AgencyID   string         `gorm:"column:agency_id"`
	DID        string         `gorm:"column:did"`
	ClientID   string         `gorm:"column:client_id"`
	Nonce      string         `gorm:"column:nonce"`
	State      string         `gorm:"column:state"`
	Query      string         `gorm:"column:query"`
	Template   string         `gorm:"column:template"`
	WebhookURL string         `gorm:"column:webhook_url"`
	Object     string         `gorm:"column:object"`
	Status     string         `gorm:"column:status"`
	Outcome    sql.NullString `gorm:"column:outcome"`
	Claims     sql.NullString `gorm:"column:claims"`
	Webhook    string         `gorm:"column:webhook"`
	CreatedAt  time.Time      `gorm:"column:created_at;autoCreateTime:false"`
	ExpiresAt  time.Time      `gorm:"column:expires_at"`
}

func (dbVPRequest) TableName() string { return "vp_requests" }

func (m dbVPRequest) domain() (oid4vp.Request, error) {
	r := oid4vp.Request{
		ID: m.ID, AgencyID: m.AgencyID, DID: m.DID, ClientID: m.ClientID, Nonce: m.Nonce, State: m.State,
		Template: m.Template, WebhookURL: m.WebhookURL, Object: m.Object, Status: oid4vp.Status(m.Status),
		CreatedAt: m.CreatedAt.UTC(), ExpiresAt: m.ExpiresAt.UTC(),
	}
	if err := json.Unmarshal([]byte(m.Query), &r.Query); err != nil {
		return r, errkind.Wrap(errkind.Internal, err, "presentation request %s: query", m.ID)
	}
	if m.Outcome.Valid {
		if err := json.Unmarshal([]byte(m.Outcome.String), &r.Outcome); err != nil {
			return r, errkind.Wrap(errkind.Internal, err, "presentation request %s: outcome", m.ID)
		}
		r.Outcome.Webhook = m.Webhook
		if m.Claims.Valid {
			if err := json.Unmarshal([]byte(m.Claims.String), &r.Outcome.Claims); err != nil {
				return r, errkind.Wrap(errkind.Internal, err, "presentation request %s: claims", m.ID)
			}
		} else {
			r.Outcome.ClaimsErased = r.Status == oid4vp.StatusVerified
		}
	}
	return r, nil
}

// CreateVPRequest implements oid4vp.Store.
func (db *DB) CreateVPRequest(ctx context.Context, r oid4vp.Request) error {
	q, err := json.Marshal(r.Query)
	if err != nil {
		return errkind.Wrap(errkind.Internal, err, "encode query")
	}
	m := dbVPRequest{
		ID: r.ID, AgencyID: r.AgencyID, DID: r.DID, ClientID: r.ClientID, Nonce: r.Nonce, State: r.State,
		Query: string(q), Template: r.Template, WebhookURL: r.WebhookURL, Object: r.Object, Status: string(r.Status),
		CreatedAt: dbTime(r.CreatedAt), ExpiresAt: dbTime(r.ExpiresAt),
	}
	return fail(db.gorm.WithContext(ctx).Create(&m).Error, "presentation request "+r.ID)
}

// VPRequest implements oid4vp.Store.
func (db *DB) VPRequest(ctx context.Context, id string) (oid4vp.Request, error) {
	var m dbVPRequest
	if err := db.gorm.WithContext(ctx).Where("id = ?", id).Take(&m).Error; err != nil {
		return oid4vp.Request{}, fail(err, "presentation request "+id)
	}
	return m.domain()
}

// AnswerVPRequests implements oid4vp.Store: one transaction of
// conditional UPDATEs, so of two answers to a request (in one call or in
// concurrent ones) exactly one finds it pending.
func (db *DB) AnswerVPRequests(ctx context.Context, answers []oid4vp.Answer) ([]error, error) {
	type row struct {
		status, outcome string
		claims          sql.NullString
	}
	rows := make([]row, len(answers))
	for i, a := range answers {
		o := a.Outcome
		if o.Claims != nil {
			b, err := json.Marshal(o.Claims)
			if err != nil {
				return nil, errkind.Wrap(errkind.Internal, err, "encode claims")
			}
			rows[i].claims = sql.NullString{String: string(b), Valid: true}
		}
		o.Claims, o.ClaimsErased, o.Webhook = nil, false, ""
		b, err := json.Marshal(o)
		if err != nil {
			return nil, errkind.Wrap(errkind.Internal, err, "encode outcome")
		}
		rows[i].status, rows[i].outcome = string(o.Status), string(b)
	}
	errs := make([]error, len(answers))
	err := db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for i, a := range answers {
			res := tx.Model(&dbVPRequest{}).Where("id = ? AND status = ?", a.ID, string(oid4vp.StatusPending)).
				Updates(map[string]any{"status": rows[i].status, "outcome": rows[i].outcome, "claims": rows[i].claims})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 1 {
				continue
			}
			var n int64
			if err := tx.Model(&dbVPRequest{}).Where("id = ?", a.ID).Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				errs[i] = errkind.New(errkind.NotFound, "presentation request %s not found", a.ID)
			} else {
				errs[i] = errkind.New(errkind.Conflict, "presentation request %s was already answered", a.ID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fail(err, "answer presentation requests")
	}
	return errs, nil
}

// EraseVPClaims implements oid4vp.Store.
func (db *DB) EraseVPClaims(ctx context.Context, id string) error {
	res := db.gorm.WithContext(ctx).Model(&dbVPRequest{}).Where("id = ?", id).Update("claims", nil)
	if res.Error != nil {
		return fail(res.Error, "presentation request "+id)
	}
	if res.RowsAffected == 0 {
		return errkind.New(errkind.NotFound, "presentation request %s not found", id)
	}
	return nil
}

// SetVPWebhook implements oid4vp.Store.
func (db *DB) SetVPWebhook(ctx context.Context, id, status string, erase bool) error {
	set := map[string]any{"webhook": status}
	if erase {
		set["claims"] = nil
	}
	res := db.gorm.WithContext(ctx).Model(&dbVPRequest{}).Where("id = ?", id).Updates(set)
	if res.Error != nil {
		return fail(res.Error, "presentation request "+id)
	}
	if res.RowsAffected == 0 {
		return errkind.New(errkind.NotFound, "presentation request %s not found", id)
	}
	return nil
}

// PurgeVPRequests implements oid4vp.Store.
func (db *DB) PurgeVPRequests(ctx context.Context, before time.Time) (int, error) {
	res := db.gorm.WithContext(ctx).Where("expires_at < ?", dbTime(before)).Delete(&dbVPRequest{})
	if res.Error != nil {
		return 0, fail(res.Error, "purge presentation requests")
	}
	return int(res.RowsAffected), nil
}
