package verifiers

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// Chain is what the trust checks read of the registry's trust state.
type Chain interface {
	// Accreditations lists the accreditations of issuer, oldest first.
	Accreditations(ctx context.Context, issuer string) ([]registry.Accreditation, error)
	AccreditationHistory(ctx context.Context, id string) ([]registry.AccreditationEvent, error)
}

// Schemas finds the schemas registered on chain for a credential type.
type Schemas interface {
	// SchemasByType returns the schemas registered for typ, oldest first;
	// none means the type is not governed.
	SchemasByType(ctx context.Context, typ string) ([]registry.Schema, error)
}

// Trust answers the trust-registry questions about a credential type:
// is it governed (a schema registered on chain), was an issuer accredited
// for it at a given time, and do claims match its schema.
type Trust struct {
	chain   Chain
	schemas Schemas

	mu       sync.Mutex
	compiled map[string]*jsonschema.Schema // by schema id
}

// NewTrust returns a Trust over chain state.
func NewTrust(chain Chain, schemas Schemas) *Trust {
	return &Trust{chain: chain, schemas: schemas, compiled: map[string]*jsonschema.Schema{}}
}

// Governing returns the schema that governs typ at t: the latest one
// registered at or before t, or else the first one registered. ok is
// false when no schema is registered for typ (an ungoverned type).
func (t *Trust) Governing(ctx context.Context, typ string, at time.Time) (registry.Schema, bool, error) {
	all, err := t.schemas.SchemasByType(ctx, typ)
	if err != nil || len(all) == 0 {
		return registry.Schema{}, false, err
	}
	best := all[0]
	for _, s := range all[1:] {
		if !s.Time.After(at) {
			best = s
		}
	}
	return best, true, nil
}

// AccreditedAt reports whether issuer held an accreditation for typ that
// was active at t, judged from the accreditation's history (so a later
// suspension or revocation does not undo an earlier issuance). A
// delegated accreditation counts only while its accreditor held an
// active, delegable accreditation for the type at t. When it was not,
// reason says why.
func (t *Trust) AccreditedAt(ctx context.Context, issuer, typ string, at time.Time) (ok bool, reason string, err error) {
	return t.accreditedAt(ctx, issuer, typ, at, true)
}

func (t *Trust) accreditedAt(ctx context.Context, issuer, typ string, at time.Time, followDelegation bool) (bool, string, error) {
	held, err := t.chain.Accreditations(ctx, issuer)
	if errkind.KindOf(err) == errkind.NotFound {
		held, err = nil, nil
	}
	if err != nil {
		return false, "", err
	}
	reason := fmt.Sprintf("%s holds no accreditation for %s", issuer, typ)
	for _, a := range held {
		if !slices.Contains(a.Types, typ) {
			continue
		}
		status, err := t.statusAt(ctx, a, at)
		if err != nil {
			return false, "", err
		}
		switch {
		case status != registry.StatusActive:
			reason = fmt.Sprintf("accreditation %s of %s for %s was %s at %s", a.ID, issuer, typ, orNot(status), at.UTC().Format(time.RFC3339))
			continue
		case at.Before(a.ValidFrom) || (!a.ValidUntil.IsZero() && !at.Before(a.ValidUntil)):
			reason = fmt.Sprintf("accreditation %s of %s for %s is valid from %s%s, not at %s", a.ID, issuer, typ, a.ValidFrom.UTC().Format(time.RFC3339), until(a.ValidUntil), at.UTC().Format(time.RFC3339))
			continue
		}
		if !a.Delegated {
			return true, "", nil
		}
		if !followDelegation {
			continue
		}
		ok, why, err := t.parentAllows(ctx, a, typ, at)
		if err != nil || ok {
			return ok, "", err
		}
		reason = why
	}
	return false, reason, nil
}

// parentAllows reports whether the accreditor of the delegated a held an
// active accreditation for typ that may delegate, at t.
func (t *Trust) parentAllows(ctx context.Context, a registry.Accreditation, typ string, at time.Time) (bool, string, error) {
	parents, err := t.chain.Accreditations(ctx, a.Accreditor)
	if err != nil && errkind.KindOf(err) != errkind.NotFound {
		return false, "", err
	}
	for _, p := range parents {
		if !p.MayDelegate || p.Delegated || !slices.Contains(p.Types, typ) {
			continue
		}
		st, err := t.statusAt(ctx, p, at)
		if err != nil {
			return false, "", err
		}
		if st == registry.StatusActive && !at.Before(p.ValidFrom) && (p.ValidUntil.IsZero() || at.Before(p.ValidUntil)) {
			return true, "", nil
		}
	}
	return false, fmt.Sprintf("accreditation %s was delegated by %s, which held no delegable accreditation for %s at %s", a.ID, a.Accreditor, typ, at.UTC().Format(time.RFC3339)), nil
}

// statusAt replays a's history up to t.
func (t *Trust) statusAt(ctx context.Context, a registry.Accreditation, at time.Time) (string, error) {
	events, err := t.chain.AccreditationHistory(ctx, a.ID)
	if err != nil {
		return "", err
	}
	status := ""
	for _, e := range events {
		if e.Time.After(at) {
			break
		}
		switch e.Kind {
		case registry.KindTrustAccredit, registry.KindTrustReinstate:
			status = registry.StatusActive
		case registry.KindTrustSuspend:
			status = registry.StatusSuspended
		case registry.KindTrustRevoke:
			status = registry.StatusRevoked
		}
	}
	return status, nil
}

// CheckIssuance implements issuer.Trust: every governed type among types
// needs an accreditation of issuerDID active at t (errkind.Forbidden with
// the reason), and every subject must match the type's schema
// (errkind.Unprocessable naming the field, a pointer relative to
// credentialSubject).
func (t *Trust) CheckIssuance(ctx context.Context, issuerDID string, types []string, subjects []map[string]any, at time.Time) error {
	for _, typ := range types {
		s, governed, err := t.Governing(ctx, typ, at)
		if err != nil {
			return err
		}
		if !governed {
			continue
		}
		ok, reason, err := t.AccreditedAt(ctx, issuerDID, typ, at)
		if err != nil {
			return err
		}
		if !ok {
			return errkind.New(errkind.Forbidden, "%s is a governed type (schema %s) and the issuer is not accredited for it: %s; the governance authority accredits with `urbis governance accredit`", typ, s.ID, reason)
		}
		if err := t.ValidateSubjects(s, subjects); err != nil {
			return err
		}
	}
	return nil
}

// ValidateSubjects checks each subject against the schema. The error is
// errkind.Unprocessable; its field is the failing member, a JSON pointer
// relative to credentialSubject ("/name", or "/1/name" when there are
// several subjects).
func (t *Trust) ValidateSubjects(s registry.Schema, subjects []map[string]any) error {
	sch, err := t.compile(s)
	if err != nil {
		return err
	}
	for i, sub := range subjects {
		err := sch.Validate(map[string]any(sub))
		if err == nil {
			continue
		}
		ve, ok := err.(*jsonschema.ValidationError)
		if !ok {
			return errkind.Wrap(errkind.Unprocessable, err, "credentialSubject does not match schema %s of %s", s.ID, s.Type)
		}
		leaf := ve
		for len(leaf.Causes) > 0 {
			leaf = leaf.Causes[0]
		}
		field := "/" + strings.Join(leaf.InstanceLocation, "/")
		if field == "/" {
			field = ""
		}
		if len(subjects) > 1 {
			field = fmt.Sprintf("/%d%s", i, field)
		}
		return errkind.Field(errkind.Unprocessable, field, "does not match schema %s of %s: %s", s.ID, s.Type, SchemaLeafMessage(leaf))
	}
	return nil
}

// SchemaLeafMessage is the last line of a leaf JSON Schema validation
// error, without its location prefix: "got number, want string".
func SchemaLeafMessage(e *jsonschema.ValidationError) string {
	msg := strings.TrimSpace(e.Error())
	if i := strings.LastIndex(msg, "\n"); i >= 0 {
		msg = msg[i+1:]
	}
	msg = strings.TrimPrefix(strings.TrimSpace(msg), "- ")
	if strings.HasPrefix(msg, "at '") {
		if j := strings.Index(msg, "': "); j >= 0 {
			msg = msg[j+3:]
		}
	}
	return msg
}

func (t *Trust) compile(s registry.Schema) (*jsonschema.Schema, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.compiled[s.ID]; ok {
		return c, nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(s.Content))
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "registered schema %s", s.ID)
	}
	comp := jsonschema.NewCompiler()
	comp.DefaultDraft(jsonschema.Draft2020)
	comp.UseLoader(refuseLoader{})
	url := "urn:urbis:schema:" + s.ID
	if err := comp.AddResource(url, doc); err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "registered schema %s", s.ID)
	}
	c, err := comp.Compile(url)
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "registered schema %s", s.ID)
	}
	t.compiled[s.ID] = c
	return c, nil
}

// refuseLoader refuses every external reference, as the registry does.
type refuseLoader struct{}

func (refuseLoader) Load(url string) (any, error) {
	return nil, errkind.New(errkind.Invalid, "schema refers to %s; registered schemas are self-contained", url)
}

func orNot(status string) string {
	if status == "" {
		return "not yet granted"
	}
	return status
}

func until(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return " until " + t.UTC().Format(time.RFC3339)
}
