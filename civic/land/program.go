package land

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// Program is the land program's operation kinds on the registry chain.
type Program struct{}

var _ registry.Program = Program{}

// Kinds implements registry.Program.
func (Program) Kinds() []registry.ProgramKind {
	return []registry.ProgramKind{
		{Kind: KindRegister, Check: checkWith[RegisterPayload], Apply: applyRegister},
		{Kind: KindTransfer, Check: checkWith[TransferPayload], Apply: applyTransfer},
		{Kind: KindEncumber, Check: checkWith[EncumberPayload], Apply: applyEncumber},
		{Kind: KindRelease, Check: checkWith[ReleasePayload], Apply: applyRelease},
	}
}

func checkWith[T any, P interface {
	*T
	check() error
}](raw json.RawMessage) error {
	var p T
	if err := decode(raw, &p); err != nil {
		return err
	}
	return P(&p).check()
}

// payload decodes the call's payload (Check has accepted it).
func payload[T any](c *registry.Call) (*T, error) {
	var p T
	if err := decode(c.Payload(), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// accredited refuses a signer that holds no active accreditation for typ.
func accredited(ctx context.Context, c *registry.Call, typ, what string) error {
	ok, err := c.Accredited(ctx, c.Signer(), typ)
	if err != nil {
		return err
	}
	if !ok {
		return errkind.New(errkind.Forbidden, "%s holds no active accreditation for %s; only an accredited %s may sign a %s", c.Signer(), typ, what, c.Kind())
	}
	return nil
}

// parcel reads the current state of parcel id; NotFound names it.
func parcel(ctx context.Context, c *registry.Call, id string) (*Parcel, error) {
	var p Parcel
	if err := c.Get(ctx, ParcelKey(id), &p); err != nil {
		if errors.Is(err, errkind.NotFound) {
			return nil, errkind.Field(errkind.NotFound, "parcel", "parcel %s is not registered", id)
		}
		return nil, err
	}
	return &p, nil
}

// save writes p as changed by the call, and its history entry.
func save(ctx context.Context, c *registry.Call, p *Parcel, encumbrance string) (any, error) {
	p.Height, p.Updated = c.Height(), c.Time()
	if p.Encumbrances == nil {
		p.Encumbrances = []Encumbrance{}
	}
	if err := c.Put(ctx, ParcelKey(p.ID), p); err != nil {
		return nil, err
	}
	ev := Event{Parcel: p.ID, Kind: string(c.Kind()), Operation: c.OpHash(), Height: c.Height(), Time: c.Time(),
		Signer: c.Signer(), Title: p.Title, Owners: p.Owners, Encumbrance: encumbrance}
	if err := c.Put(ctx, historyKey(p.ID, c.Height(), c.OpHash()), ev); err != nil {
		return nil, err
	}
	return map[string]any{"parcel": p.ID, "title": p.Title}, nil
}

func applyRegister(ctx context.Context, c *registry.Call) (any, error) {
	p, err := payload[RegisterPayload](c)
	if err != nil {
		return nil, err
	}
	if err := accredited(ctx, c, TitleType, "land registry"); err != nil {
		return nil, err
	}
	if ok, err := c.Has(ctx, ParcelKey(p.Parcel)); err != nil {
		return nil, err
	} else if ok {
		return nil, errkind.Field(errkind.Conflict, "parcel", "parcel %s is already registered; change its owners with a title.transfer", p.Parcel)
	}
	return save(ctx, c, &Parcel{ID: p.Parcel, Cadastral: p.Cadastral, Registry: c.Signer(), Title: p.Title, TitleID: p.TitleID, Owners: p.Owners}, "")
}

func applyTransfer(ctx context.Context, c *registry.Call) (any, error) {
	p, err := payload[TransferPayload](c)
	if err != nil {
		return nil, err
	}
	if err := accredited(ctx, c, TitleType, "land registry"); err != nil {
		return nil, err
	}
	cur, err := parcel(ctx, c, p.Parcel)
	if err != nil {
		return nil, err
	}
	if cur.Title != p.Title {
		return nil, errkind.Field(errkind.Conflict, "title", "title %s is not the current title of parcel %s (the current one is %s): the parcel has changed hands since; read it again", p.Title, p.Parcel, cur.Title)
	}
	if len(cur.Encumbrances) > 0 {
		e := cur.Encumbrances[0]
		return nil, errkind.New(errkind.Conflict, "parcel %s is encumbered by %s %s of %s; it cannot be transferred until the lender releases it", p.Parcel, e.Type, e.ID, e.Lender)
	}
	if err := checkConsents(ctx, c, cur, p.Consents, func(got *Consent) bool {
		return got.Parcel == p.Parcel && got.Title == p.Title && sameOwners(got.Buyers, p.Buyers)
	}, "this parcel, its current title and exactly these buyers"); err != nil {
		return nil, err
	}
	cur.Title, cur.TitleID, cur.Owners = p.NewTitle, p.NewTitleID, p.Buyers
	return save(ctx, c, cur, "")
}

// checkConsents requires one consent per current owner, each a JWS by a
// key of that owner's DID whose payload, decoded strictly into a fresh
// T, is what want says: a consent to a transfer is no consent to a
// mortgage, nor to another transfer.
func checkConsents[T any](ctx context.Context, c *registry.Call, cur *Parcel, consents []string, want func(*T) bool, what string) error {
	consented := map[string]bool{}
	for i, compact := range consents {
		body, signer, err := c.VerifyJWS(ctx, compact, did.Authentication, did.AssertionMethod)
		if err != nil {
			return consentErr(i, err)
		}
		if !slices.ContainsFunc(cur.Owners, func(o Owner) bool { return o.DID == signer }) {
			return errkind.Field(errkind.Forbidden, consentField(i), "signed by %s, who is not an owner of parcel %s", signer, cur.ID)
		}
		if consented[signer] {
			return errkind.Field(errkind.Invalid, consentField(i), "%s consents twice", signer)
		}
		var got T
		if err := decode(body, &got); err != nil || !want(&got) {
			return errkind.Field(errkind.Forbidden, consentField(i), "%s consented to something else; the consent must name %s", signer, what)
		}
		consented[signer] = true
	}
	for _, o := range cur.Owners {
		if !consented[o.DID] {
			return errkind.Field(errkind.Forbidden, "consents", "owner %s of parcel %s has not consented; every current owner signs", o.DID, cur.ID)
		}
	}
	return nil
}

func consentField(i int) string { return "consents/" + strconv.Itoa(i) }

func consentErr(i int, err error) error {
	var e *errkind.Error
	if errors.As(err, &e) {
		c := *e
		c.Field = consentField(i)
		return &c
	}
	return err
}

func applyEncumber(ctx context.Context, c *registry.Call) (any, error) {
	p, err := payload[EncumberPayload](c)
	if err != nil {
		return nil, err
	}
	if err := accredited(ctx, c, MortgageType, "lender"); err != nil {
		return nil, err
	}
	cur, err := parcel(ctx, c, p.Parcel)
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(cur.Encumbrances, func(e Encumbrance) bool { return e.ID == p.Encumbrance }) {
		return nil, errkind.Field(errkind.Conflict, "encumbrance", "parcel %s already has encumbrance %s", p.Parcel, p.Encumbrance)
	}
	if err := checkConsents(ctx, c, cur, p.Consents, func(got *MortgageConsent) bool {
		return got.Parcel == p.Parcel && got.Title == cur.Title && got.Encumbrance == p.Encumbrance && got.Lender == c.Signer()
	}, "this parcel, its current title, this mortgage id and this lender"); err != nil {
		return nil, err
	}
	cur.Encumbrances = append(cur.Encumbrances, Encumbrance{ID: p.Encumbrance, Type: "mortgage", Lender: c.Signer(),
		Credential: p.Credential, CredentialID: p.CredentialID, Height: c.Height(), Since: c.Time()})
	return save(ctx, c, cur, p.Encumbrance)
}

func applyRelease(ctx context.Context, c *registry.Call) (any, error) {
	p, err := payload[ReleasePayload](c)
	if err != nil {
		return nil, err
	}
	cur, err := parcel(ctx, c, p.Parcel)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(cur.Encumbrances, func(e Encumbrance) bool { return e.ID == p.Encumbrance })
	if i < 0 {
		return nil, errkind.Field(errkind.NotFound, "encumbrance", "parcel %s has no active encumbrance %s", p.Parcel, p.Encumbrance)
	}
	if l := cur.Encumbrances[i].Lender; l != c.Signer() {
		return nil, errkind.New(errkind.Forbidden, "encumbrance %s of parcel %s is %s's; only that lender may release it", p.Encumbrance, p.Parcel, l)
	}
	cur.Encumbrances = slices.Delete(cur.Encumbrances, i, i+1)
	return save(ctx, c, cur, p.Encumbrance)
}
