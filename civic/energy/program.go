package energy

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/urbis-id/urbis/civic/currency"
	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// MaxPeriod is the longest period one reading may cover.
const MaxPeriod = 31 * 24 * time.Hour

// Program applies the energy program's operation kinds on the chain. It
// settles in the currency program's state, so a chain that runs it runs
// currency.Program too.
type Program struct{}

var _ registry.Program = Program{}

// Kinds implements registry.Program. The Apply functions decode the
// payload with plain json.Unmarshal: the machine runs Check, which decodes
// it strictly, just before.
func (Program) Kinds() []registry.ProgramKind {
	return []registry.ProgramKind{
		{Kind: KindMeter, Check: checkMeter, Apply: applyMeter},
		{Kind: KindTrade, Check: checkTrade, Apply: applyTrade},
	}
}

func applyMeter(ctx context.Context, c *registry.Call) (any, error) {
	var p Meter
	if err := json.Unmarshal(c.Payload(), &p); err != nil {
		return nil, err
	}
	ok, err := c.Accredited(ctx, c.Signer(), OperatorType)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errkind.New(errkind.Forbidden, "%s holds no accreditation for %s; only a grid operator accredited for it registers meters", c.Signer(), OperatorType)
	}
	var prev Registration
	switch err := c.Get(ctx, meterKey(p.Meter), &prev); {
	case err == nil:
		return nil, errkind.Field(errkind.Conflict, "meter", "meter %s is already registered to %s by %s", p.Meter, prev.Prosumer, prev.Operator)
	case !errors.Is(err, errkind.NotFound):
		return nil, err
	}
	reg := Registration{Meter: p, Operator: c.Signer(), Height: c.Height()}
	if err := c.Put(ctx, meterKey(p.Meter), reg); err != nil {
		return nil, err
	}
	return map[string]any{"meter": p.Meter, "prosumer": p.Prosumer}, nil
}

// applyTrade settles a trade: the reading is the seller's meter's,
// matches the energy, and is unused; the seller consented to this buyer,
// energy and price; the buyer pays. Any refusal undoes every write.
func applyTrade(ctx context.Context, c *registry.Call) (any, error) {
	var p Trade
	if err := json.Unmarshal(c.Payload(), &p); err != nil {
		return nil, err
	}
	buyer := c.Signer()
	if buyer == p.Seller {
		return nil, errkind.Field(errkind.Invalid, "seller", "is the buyer itself")
	}
	body, meter, err := c.VerifyJWS(ctx, p.Reading, did.AssertionMethod, did.Authentication)
	if err != nil {
		return nil, errkind.Wrap(errkind.Forbidden, err, "reading")
	}
	r, from, until, err := parseReading(body)
	if err != nil {
		return nil, err
	}
	if r.Meter != meter {
		return nil, errkind.Field(errkind.Forbidden, "reading", "names meter %s but is signed by %s", r.Meter, meter)
	}
	var reg Registration
	if err := c.Get(ctx, meterKey(meter), &reg); err != nil {
		if errors.Is(err, errkind.NotFound) {
			return nil, errkind.Field(errkind.Forbidden, "reading", "meter %s is not registered by a grid operator", meter)
		}
		return nil, err
	}
	if reg.Prosumer != p.Seller {
		return nil, errkind.Field(errkind.Forbidden, "reading", "meter %s measures %s, not the seller %s", meter, reg.Prosumer, p.Seller)
	}
	switch ok, err := c.Accredited(ctx, reg.Operator, OperatorType); {
	case err != nil:
		return nil, err
	case !ok:
		return nil, errkind.Field(errkind.Forbidden, "reading", "meter %s was registered by %s, which no longer holds an accreditation for %s", meter, reg.Operator, OperatorType)
	}
	switch period := until.Sub(from); {
	case until.After(c.Time()):
		return nil, errkind.Field(errkind.Invalid, "reading", "ends at %s, after the block time %s", r.Until, c.Time().Format(time.RFC3339))
	case period > MaxPeriod:
		return nil, errkind.Field(errkind.Invalid, "reading", "covers %s; at most %s", period, MaxPeriod)
	case r.ExportWh*3600 > reg.CapacityW*int64(period/time.Second):
		return nil, errkind.Field(errkind.Forbidden, "reading", "%d Wh in %s exceeds the meter's registered capacity of %d W", r.ExportWh, period, reg.CapacityW)
	}
	if r.ExportWh != p.Wh {
		return nil, errkind.Field(errkind.Conflict, "wh", "the trade sells %d Wh but the reading exported %d Wh", p.Wh, r.ExportWh)
	}
	rh := ReadingHash(body)
	var used Record
	switch err := c.Get(ctx, readingKey(rh), &used); {
	case err == nil:
		return nil, errkind.Field(errkind.Conflict, "reading", "was sold already, in trade %s", used.Op)
	case !errors.Is(err, errkind.NotFound):
		return nil, err
	}
	cbody, consenter, err := c.VerifyJWS(ctx, p.Consent, did.AssertionMethod, did.Authentication, did.CapabilityInvocation)
	if err != nil {
		return nil, errkind.Wrap(errkind.Forbidden, err, "consent")
	}
	var cs Consent
	if err := decodeStrict(cbody, &cs); err != nil {
		return nil, errkind.Field(errkind.Invalid, "consent", "%v", err)
	}
	want := Consent{Buyer: buyer, Currency: p.Currency, Wh: p.Wh, Price: p.Price, Reading: rh}
	if consenter != p.Seller || cs != want {
		return nil, errkind.Field(errkind.Forbidden, "consent", "is not the seller's consent to this trade: signed by %s for %+v; want %s for %+v", consenter, cs, p.Seller, want)
	}
	if _, _, err := currency.Move(ctx, c, p.Currency, buyer, p.Seller, p.Price, "energy "+rh[:16]); err != nil {
		return nil, err
	}
	rec := Record{Op: c.OpHash(), Seller: p.Seller, Buyer: buyer, Meter: meter, Zone: reg.Zone, Currency: p.Currency,
		Wh: p.Wh, Price: p.Price, Reading: rh, From: r.From, Until: r.Until, Height: c.Height(), Time: c.Time().Format(time.RFC3339Nano)}
	for _, k := range []string{readingKey(rh), tradeKey(c.OpHash()), partKey(p.Seller, c.Height(), c.OpHash()), partKey(buyer, c.Height(), c.OpHash())} {
		if err := c.Put(ctx, k, rec); err != nil {
			return nil, err
		}
	}
	return map[string]any{"seller": p.Seller, "buyer": buyer, "wh": p.Wh, "price": p.Price, "reading": rh}, nil
}
