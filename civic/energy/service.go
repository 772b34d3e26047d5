package energy

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/urbis-id/urbis/civic/currency"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// Service reads the energy program's state and signs the grid
// operator's meter registrations with its DID in custody.
type Service struct {
	state   registry.StateReader
	custody *currency.Custody
}

// NewService returns a Service over st; custody may be nil (reads only).
func NewService(st registry.StateReader, custody *currency.Custody) *Service {
	return &Service{state: st, custody: custody}
}

// RegisterMeter registers m, signed by signerDID, one of agencyID's DIDs
// accredited for ProsumerCredential.
func (s *Service) RegisterMeter(ctx context.Context, agencyID, signerDID string, m Meter) (Registration, registry.OpStatus, error) {
	raw, _ := json.Marshal(m)
	if err := checkMeter(raw); err != nil {
		return Registration{}, registry.OpStatus{}, pointer(err)
	}
	st, err := s.custody.Submit(ctx, agencyID, signerDID, KindMeter, m)
	if err != nil {
		return Registration{}, st, pointer(err)
	}
	reg, err := s.Meter(ctx, m.Meter)
	return reg, st, err
}

// Meter returns a meter's registration; NotFound if there is none.
func (s *Service) Meter(ctx context.Context, meter string) (Registration, error) {
	var reg Registration
	return reg, s.get(ctx, meterKey(meter), &reg, "no meter "+meter+" is registered")
}

// Trade returns the trade settled by operation op; NotFound if none.
func (s *Service) Trade(ctx context.Context, op string) (Record, error) {
	var rec Record
	return rec, s.get(ctx, tradeKey(op), &rec, "no energy trade was settled by operation "+op)
}

func (s *Service) get(ctx context.Context, key string, v any, missing string) error {
	b, err := s.state.ProgramGet(ctx, key)
	if errors.Is(err, errkind.NotFound) {
		return errkind.New(errkind.NotFound, "%s", missing)
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Total sums a participant's trades in one currency.
type Total struct {
	Currency string `json:"currency"`
	SoldWh   int64  `json:"soldWh"`
	BoughtWh int64  `json:"boughtWh"`
	Received int64  `json:"received"`
	Paid     int64  `json:"paid"`
	// Net is Received - Paid.
	Net int64 `json:"net"`
}

// Report is a participant's settlement for a period: the trades settled
// in blocks whose time is in [From, Until), and their totals per
// currency.
type Report struct {
	Participant string
	From, Until time.Time
	Trades      []Record
	Totals      []Total
}

// MaxReportTrades bounds the trades of one report.
const MaxReportTrades = 10_000

// Settlement returns participant's settlement for [from, until).
func (s *Service) Settlement(ctx context.Context, participant string, from, until time.Time) (Report, error) {
	if err := currency.CheckAccount("did", participant); err != nil {
		return Report{}, err
	}
	if !until.After(from) {
		return Report{}, errkind.Field(errkind.Invalid, "until", "must be after from")
	}
	rep := Report{Participant: participant, From: from.UTC(), Until: until.UTC(), Trades: []Record{}, Totals: []Total{}}
	idx := map[string]int{}
	after := ""
	for {
		rows, err := s.state.ProgramScan(ctx, partPrefix(participant), after, 1000)
		if err != nil {
			return Report{}, err
		}
		for _, r := range rows {
			after = r.Key
			var rec Record
			if err := json.Unmarshal(r.Value, &rec); err != nil {
				return Report{}, errkind.Wrap(errkind.Internal, err, "trade %s", r.Key)
			}
			t, err := time.Parse(time.RFC3339Nano, rec.Time)
			if err != nil || t.Before(from) || !t.Before(until) {
				continue
			}
			if len(rep.Trades) == MaxReportTrades {
				return Report{}, errkind.Field(errkind.TooLarge, "from", "the period holds more than %d trades; ask for a shorter one", MaxReportTrades)
			}
			rep.Trades = append(rep.Trades, rec)
			i, ok := idx[rec.Currency]
			if !ok {
				i = len(rep.Totals)
				idx[rec.Currency] = i
				rep.Totals = append(rep.Totals, Total{Currency: rec.Currency})
			}
			tot := &rep.Totals[i]
			if rec.Seller == participant {
				tot.SoldWh += rec.Wh
				tot.Received += rec.Price
			} else {
				tot.BoughtWh += rec.Wh
				tot.Paid += rec.Price
			}
			tot.Net = tot.Received - tot.Paid
		}
		if len(rows) < 1000 {
			return rep, nil
		}
	}
}

// pointer turns a payload field into a JSON pointer into the request.
func pointer(err error) error {
	var e *errkind.Error
	if err == nil || !errors.As(err, &e) || e.Field == "" || e.Field[0] == '/' {
		return err
	}
	c := *e
	c.Field = "/" + c.Field
	return &c
}
