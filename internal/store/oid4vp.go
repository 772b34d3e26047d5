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
	// The query column holds the DCQL query, or a presentation
	// definition as {"presentation_definition": ...}.
	var pe struct {
		Definition *oid4vp.Definition `json:"presentation_definition"`
	}
	if err := json.Unmarshal([]byte(m.Query), &pe); err != nil {
		return r, errkind.Wrap(errkind.Internal, err, "presentation request %s: presentation definition", m.ID)
	}
	if pe.Definition != nil {
		r.Definition = pe.Definition
	} else if err := json.Unmarshal([]byte(m.Query), &r.Query); err != nil {
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

// CreateVPRequest stores a request (one write of WriteVPRequests).
func (db *DB) CreateVPRequest(ctx context.Context, r oid4vp.Request) error {
	return db.writeOne(ctx, oid4vp.Write{Create: &r})
}

func toDBVPRequest(r oid4vp.Request) (dbVPRequest, error) {
	var q []byte
	var err error
	if r.Definition != nil {
		q, err = json.Marshal(map[string]any{"presentation_definition": r.Definition})
	} else {
		q, err = json.Marshal(r.Query)
	}
	if err != nil {
		return dbVPRequest{}, errkind.Wrap(errkind.Internal, err, "encode query")
	}
	return dbVPRequest{
		ID: r.ID, AgencyID: r.AgencyID, DID: r.DID, ClientID: r.ClientID, Nonce: r.Nonce, State: r.State,
		Query: string(q), Template: r.Template, WebhookURL: r.WebhookURL, Object: r.Object, Status: string(r.Status),
		CreatedAt: dbTime(r.CreatedAt), ExpiresAt: dbTime(r.ExpiresAt),
	}, nil
}

// VPRequest implements oid4vp.Store.
func (db *DB) VPRequest(ctx context.Context, id string) (oid4vp.Request, error) {
	var m dbVPRequest
	if err := db.gorm.WithContext(ctx).Where("id = ?", id).Take(&m).Error; err != nil {
		return oid4vp.Request{}, fail(err, "presentation request "+id)
	}
	return m.domain()
}

// AnswerVPRequests stores answers (writes of WriteVPRequests).
func (db *DB) AnswerVPRequests(ctx context.Context, answers []oid4vp.Answer) ([]error, error) {
	writes := make([]oid4vp.Write, len(answers))
	for i := range answers {
		writes[i] = oid4vp.Write{Answer: &answers[i]}
	}
	return db.WriteVPRequests(ctx, writes)
}

// EraseVPClaims deletes a request's claims (one write of WriteVPRequests).
func (db *DB) EraseVPClaims(ctx context.Context, id string) error {
	return db.writeOne(ctx, oid4vp.Write{Erase: id})
}

func (db *DB) writeOne(ctx context.Context, w oid4vp.Write) error {
	errs, err := db.WriteVPRequests(ctx, []oid4vp.Write{w})
	if err != nil {
		return err
	}
	return errs[0]
}

// vpAnswerRow is an answer encoded for its UPDATE.
type vpAnswerRow struct {
	status, outcome string
	claims          sql.NullString
}

func toVPAnswerRow(a oid4vp.Answer) (vpAnswerRow, error) {
	var row vpAnswerRow
	o := a.Outcome
	if o.Claims != nil {
		b, err := json.Marshal(o.Claims)
		if err != nil {
			return row, errkind.Wrap(errkind.Internal, err, "encode claims")
		}
		row.claims = sql.NullString{String: string(b), Valid: true}
	}
	o.Claims, o.ClaimsErased, o.Webhook = nil, false, ""
	b, err := json.Marshal(o)
	if err != nil {
		return row, errkind.Wrap(errkind.Internal, err, "encode outcome")
	}
	row.status, row.outcome = string(o.Status), string(b)
	return row, nil
}

// WriteVPRequests implements oid4vp.Store: one transaction, in order. An
// answer is a conditional UPDATE, so of two answers to a request (in one
// call or in concurrent ones) exactly one finds it pending.
func (db *DB) WriteVPRequests(ctx context.Context, writes []oid4vp.Write) ([]error, error) {
	creates := make([]*dbVPRequest, len(writes))
	rows := make([]vpAnswerRow, len(writes))
	for i, w := range writes {
		var err error
		switch {
		case w.Create != nil:
			var m dbVPRequest
			m, err = toDBVPRequest(*w.Create)
			creates[i] = &m
		case w.Answer != nil:
			rows[i], err = toVPAnswerRow(*w.Answer)
		}
		if err != nil {
			return nil, err
		}
	}
	errs := make([]error, len(writes))
	err := db.writeTx(ctx, func(tx *gorm.DB) error {
		for i, w := range writes {
			switch {
			case w.Create != nil:
				if err := tx.Create(creates[i]).Error; err != nil {
					return err
				}
			case w.Answer != nil:
				a := w.Answer
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
			case w.Erase != "":
				res := tx.Model(&dbVPRequest{}).Where("id = ?", w.Erase).Update("claims", nil)
				if res.Error != nil {
					return res.Error
				}
				if res.RowsAffected == 0 {
					errs[i] = errkind.New(errkind.NotFound, "presentation request %s not found", w.Erase)
				}
			default:
				errs[i] = errkind.New(errkind.Internal, "presentation request write %d is empty", i)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fail(err, "presentation requests")
	}
	return errs, nil
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
