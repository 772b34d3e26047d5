package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

// The statuses of an accreditation.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusRevoked   = "revoked"
)

// Limits on trust payloads.
const (
	maxTypes     = 32
	maxDistricts = 64
	maxNameLen   = 256
	maxReasonLen = 1024
)

// trustAccredit applies trust.accredit. A governance DID may accredit
// anyone for anything. Otherwise the signer must hold an accreditation,
// made by governance (delegation is one level deep), that is active at
// block time, has mayDelegate, covers every requested type, covers the
// requested districts if it is limited to districts, and whose period
// contains the new one; the new accreditation is then delegated and may
// not delegate.
func (c *call) trustAccredit(ctx context.Context) error {
	body := c.p.body.(*TrustAccredit)
	from, until, err := c.checkAccredit(body)
	if err != nil {
		return err
	}
	if err := c.authorise(ctx, did.CapabilityInvocation); err != nil {
		return err
	}
	if err := c.checkNonce(ctx); err != nil {
		return err
	}
	a := Accreditation{
		ID: c.p.Hash, Issuer: body.Issuer, Accreditor: c.p.signerDID,
		Types: body.Types, Districts: body.Districts, ValidFrom: from, ValidUntil: until,
		MayDelegate: body.MayDelegate, Status: StatusActive,
	}
	if !c.m.gov[c.p.signerDID] {
		ok, err := c.mayDelegate(ctx, a)
		if err != nil {
			return err
		}
		if !ok {
			return errkind.New(errkind.Forbidden, "signer %s is not a governance DID and holds no accreditation, active now, with mayDelegate, that covers types %s%s from %s%s",
				c.p.signerDID, strings.Join(a.Types, ", "), districtsText(a.Districts), from.Format(time.RFC3339), untilText(until))
		}
		a.Delegated, a.MayDelegate = true, false
	}
	return c.putAccreditation(ctx, a, "")
}

// checkAccredit validates a trust.accredit payload and returns its period.
func (c *call) checkAccredit(b *TrustAccredit) (from, until time.Time, err error) {
	if _, err := did.Parse(b.Issuer); err != nil {
		return from, until, errkind.Wrap(errkind.Invalid, err, "issuer")
	}
	if err := checkNames("types", b.Types, maxTypes, true); err != nil {
		return from, until, err
	}
	if err := checkNames("districts", b.Districts, maxDistricts, false); err != nil {
		return from, until, err
	}
	from = c.t
	if b.ValidFrom != "" {
		if from, err = wholeSeconds("validFrom", b.ValidFrom); err != nil {
			return from, until, err
		}
	}
	if b.ValidUntil != "" {
		if until, err = wholeSeconds("validUntil", b.ValidUntil); err != nil {
			return from, until, err
		}
		if !until.After(from) {
			return from, until, errkind.Field(errkind.Invalid, "validUntil", "validUntil %s is not after validFrom %s", b.ValidUntil, from.Format(time.RFC3339))
		}
	}
	return from, until, nil
}

// wholeSeconds parses an RFC 3339 time without fractional seconds (which
// databases would round differently) and returns it in UTC.
func wholeSeconds(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.Nanosecond() != 0 {
		return t, errkind.Field(errkind.Invalid, field, "%q is not an RFC 3339 time in whole seconds, such as 2030-01-02T15:04:05Z", s)
	}
	return t.UTC(), nil
}

// checkNames checks a list of types or districts: unique non-empty
// strings of at most maxNameLen bytes, at most max of them.
func checkNames(field string, names []string, limit int, required bool) error {
	if required && len(names) == 0 {
		return errkind.Field(errkind.Invalid, field, "at least one is required")
	}
	if len(names) > limit {
		return errkind.Field(errkind.Invalid, field, "%d given; at most %d", len(names), limit)
	}
	for i, n := range names {
		if n == "" || len(n) > maxNameLen {
			return errkind.Field(errkind.Invalid, fmt.Sprintf("%s/%d", field, i), "must be 1 to %d characters", maxNameLen)
		}
		if slices.Index(names, n) != i {
			return errkind.Field(errkind.Invalid, fmt.Sprintf("%s/%d", field, i), "%q is listed twice", n)
		}
	}
	return nil
}

// mayDelegate reports whether the signer holds an accreditation that lets
// it make a.
func (c *call) mayDelegate(ctx context.Context, a Accreditation) (bool, error) {
	held, err := c.tx.Accreditations(ctx, c.p.signerDID)
	if err != nil {
		return false, err
	}
	for _, p := range held {
		if !p.MayDelegate || p.Delegated || !activeAt(p, c.t) || !subset(a.Types, p.Types) {
			continue
		}
		if len(p.Districts) > 0 && (len(a.Districts) == 0 || !subset(a.Districts, p.Districts)) {
			continue
		}
		if a.ValidFrom.Before(p.ValidFrom) {
			continue
		}
		if !p.ValidUntil.IsZero() && (a.ValidUntil.IsZero() || a.ValidUntil.After(p.ValidUntil)) {
			continue
		}
		return true, nil
	}
	return false, nil
}

// activeAt reports whether a is active and in its period at t.
func activeAt(a Accreditation, t time.Time) bool {
	return a.Status == StatusActive && !t.Before(a.ValidFrom) && (a.ValidUntil.IsZero() || t.Before(a.ValidUntil))
}

func subset(sub, set []string) bool {
	for _, s := range sub {
		if !slices.Contains(set, s) {
			return false
		}
	}
	return true
}

func districtsText(d []string) string {
	if len(d) == 0 {
		return " in every district"
	}
	return " in districts " + strings.Join(d, ", ")
}

func untilText(t time.Time) string {
	if t.IsZero() {
		return " with no end"
	}
	return " until " + t.Format(time.RFC3339)
}

// trustChange applies trust.suspend, trust.reinstate and trust.revoke,
// made by the accreditor or a governance DID: active -> suspended,
// suspended -> active, active or suspended -> revoked (final).
func (c *call) trustChange(ctx context.Context) error {
	body := c.p.body.(*TrustChange)
	if !isHash(body.Accreditation) {
		return errkind.Field(errkind.Invalid, "accreditation", "%q is not an accreditation id (the 64 hex characters of its trust.accredit operation hash)", body.Accreditation)
	}
	if len(body.Reason) > maxReasonLen {
		return errkind.Field(errkind.Invalid, "reason", "reason has %d bytes; at most %d", len(body.Reason), maxReasonLen)
	}
	if err := c.authorise(ctx, did.CapabilityInvocation); err != nil {
		return err
	}
	if err := c.checkNonce(ctx); err != nil {
		return err
	}
	a, err := c.tx.Accreditation(ctx, body.Accreditation)
	if errors.Is(err, errkind.NotFound) {
		return errkind.Field(errkind.NotFound, "accreditation", "accreditation %s does not exist", body.Accreditation)
	}
	if err != nil {
		return err
	}
	if c.p.signerDID != a.Accreditor && !c.m.gov[c.p.signerDID] {
		return errkind.New(errkind.Forbidden, "only the accreditor %s or a governance DID may %s accreditation %s; the signer is %s", a.Accreditor, c.p.Op.Kind, a.ID, c.p.signerDID)
	}
	next, err := transition(c.p.Op.Kind, a)
	if err != nil {
		return err
	}
	a.Status = next
	return c.putAccreditation(ctx, a, body.Reason)
}

// transition returns the status kind gives a, or a Conflict error.
func transition(kind Kind, a Accreditation) (string, error) {
	if a.Status == StatusRevoked {
		return "", errkind.New(errkind.Conflict, "accreditation %s is revoked; revocation is final", a.ID)
	}
	switch {
	case kind == KindTrustSuspend && a.Status == StatusActive:
		return StatusSuspended, nil
	case kind == KindTrustReinstate && a.Status == StatusSuspended:
		return StatusActive, nil
	case kind == KindTrustRevoke:
		return StatusRevoked, nil
	case kind == KindTrustSuspend:
		return "", errkind.New(errkind.Conflict, "accreditation %s is %s; only an active accreditation can be suspended", a.ID, a.Status)
	}
	return "", errkind.New(errkind.Conflict, "accreditation %s is %s; only a suspended accreditation can be reinstated", a.ID, a.Status)
}

func (c *call) putAccreditation(ctx context.Context, a Accreditation, reason string) error {
	a.Height, a.Time = c.h.Height, c.t
	ev := AccreditationEvent{Accreditation: a.ID, Kind: c.p.Op.Kind, By: c.p.signerDID, Reason: reason,
		Height: c.h.Height, Time: c.t, OpHash: c.p.Hash}
	if err := c.tx.PutAccreditation(ctx, a); err != nil {
		return err
	}
	if err := c.tx.AddAccreditationEvent(ctx, ev); err != nil {
		return err
	}
	c.eff.Accreditation, c.eff.Event = &a, &ev
	return nil
}

// accreditedFor reports whether issuer holds an accreditation active at t
// for typ (for any type if typ is empty). A delegated accreditation
// counts only while its accreditor still holds an active accreditation
// with mayDelegate for the type.
func (c *call) accreditedFor(ctx context.Context, issuer, typ string) (bool, error) {
	held, err := c.tx.Accreditations(ctx, issuer)
	if err != nil {
		return false, err
	}
	for _, a := range held {
		if !activeAt(a, c.t) || (typ != "" && !slices.Contains(a.Types, typ)) {
			continue
		}
		if !a.Delegated {
			return true, nil
		}
		parents, err := c.tx.Accreditations(ctx, a.Accreditor)
		if err != nil {
			return false, err
		}
		for _, p := range parents {
			if p.MayDelegate && !p.Delegated && activeAt(p, c.t) && slices.ContainsFunc(a.Types, func(t string) bool {
				return (typ == "" || t == typ) && slices.Contains(p.Types, t)
			}) {
				return true, nil
			}
		}
	}
	return false, nil
}
