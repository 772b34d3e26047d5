package issuer

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/statuslist"
)

// CredentialSearch selects an agency's issued credentials.
type CredentialSearch struct {
	// IDContains matches any part of the credential's id, ignoring case;
	// empty matches all.
	IDContains string
	// IssuerID, when set, keeps only the credentials of that instance.
	IssuerID string
	// Limit is the most credentials to return.
	Limit int
}

// Search limits.
const (
	DefaultSearchLimit = 50
	MaxSearchLimit     = 200
	maxReason          = 300
)

// IssuedCredential is what the issuing agency keeps about a credential
// with status entries: no claims, only where its status lives.
type IssuedCredential struct {
	ID              string
	IssuerID        string
	IssuedAt        time.Time
	Purposes        []string
	Status          string // StatusActive, StatusSuspended or StatusRevoked
	Reason          string // of its last status change
	StatusChangedAt time.Time
}

// Credentials returns agencyID's issued credentials with status entries
// that match f, newest first, each with its current status.
func (s *Service) Credentials(ctx context.Context, agencyID string, f CredentialSearch) ([]IssuedCredential, error) {
	switch {
	case f.Limit == 0:
		f.Limit = DefaultSearchLimit
	case f.Limit < 0 || f.Limit > MaxSearchLimit:
		return nil, errkind.Field(errkind.Invalid, "limit", "%d: want 1 to %d", f.Limit, MaxSearchLimit)
	}
	if s.statuses == nil || s.versions == nil {
		return []IssuedCredential{}, nil
	}
	recs, err := s.statuses.SearchStatuses(ctx, agencyID, f)
	if err != nil {
		return nil, err
	}
	bits := map[string]statuslist.List{} // the lists read so far, by id
	bit := func(r StatusRecord) (bool, error) {
		l, ok := bits[r.ListID]
		if !ok {
			var err error
			if l, err = s.versions.List(ctx, r.ListID); err != nil {
				return false, err
			}
			bits[r.ListID] = l
		}
		return l.Bits.Get(r.Index)
	}
	out := []IssuedCredential{}
	at := map[string]int{}
	for _, r := range recs {
		i, ok := at[r.CredentialID]
		if !ok {
			i = len(out)
			at[r.CredentialID] = i
			out = append(out, IssuedCredential{ID: r.CredentialID, IssuerID: r.IssuerID, IssuedAt: r.CreatedAt, Status: StatusActive})
		}
		c := &out[i]
		c.Purposes = append(c.Purposes, r.Purpose)
		set, err := bit(r)
		if err != nil {
			return nil, err
		}
		switch {
		case set && r.Purpose == statuslist.PurposeRevocation:
			c.Status = StatusRevoked
		case set && r.Purpose == statuslist.PurposeSuspension && c.Status != StatusRevoked:
			c.Status = StatusSuspended
		}
		if r.ChangedAt.After(c.StatusChangedAt) {
			c.StatusChangedAt, c.Reason = r.ChangedAt, r.Reason
		}
	}
	return out, nil
}

// SetStatusReason is SetStatus that also records, off chain, why the
// status changed and when (listed by Credentials). The reason is for the
// agency's records; it goes nowhere else.
func (s *Service) SetStatusReason(ctx context.Context, agencyID, credentialID, status, reason string) error {
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > maxReason {
		return errkind.Field(errkind.Invalid, "reason", "is %d characters long; at most %d", utf8.RuneCountInString(reason), maxReason)
	}
	if err := s.SetStatus(ctx, agencyID, credentialID, status); err != nil {
		return err
	}
	purpose := statuslist.PurposeSuspension
	if status == StatusRevoked {
		purpose = statuslist.PurposeRevocation
	}
	return s.statuses.NoteStatus(ctx, agencyID, credentialID, purpose, reason, s.clock().UTC().Truncate(time.Microsecond))
}
