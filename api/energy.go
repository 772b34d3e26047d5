package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/urbis-id/urbis/civic/energy"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// Energy is what the API needs of energy trading.
type Energy interface {
	RegisterMeter(ctx context.Context, agencyID, did string, m energy.Meter) (energy.Registration, registry.OpStatus, error)
	Meter(ctx context.Context, meter string) (energy.Registration, error)
	Trade(ctx context.Context, op string) (energy.Record, error)
	Settlement(ctx context.Context, participant string, from, until time.Time) (energy.Report, error)
}

func (s *Server) energySvc(c *gin.Context) (Energy, bool) {
	if s.energy == nil {
		s.abortWithError(c, errkind.New(errkind.Unsupported, "this server runs no energy trading"))
		return nil, false
	}
	return s.energy, true
}

// RegisterMeter registers a meter, signed by the grid operator's DID.
func (s *Server) RegisterMeter(c *gin.Context) {
	svc, ok := s.energySvc(c)
	if !ok {
		return
	}
	a, ok := s.caller(c)
	if !ok {
		return
	}
	var req RegisterMeterRequest
	if err := decodeJSON(c, &req); err != nil {
		s.abortWithError(c, err)
		return
	}
	reg, _, err := svc.RegisterMeter(c.Request.Context(), a.ID, req.Did,
		energy.Meter{Meter: req.Meter, Prosumer: req.Prosumer, Zone: req.Zone, CapacityW: req.CapacityW})
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.JSON(http.StatusCreated, meterBody(reg))
}

// GetMeter answers a meter's registration.
func (s *Server) GetMeter(c *gin.Context, meter string) {
	svc, ok := s.energySvc(c)
	if !ok {
		return
	}
	reg, err := svc.Meter(c.Request.Context(), meter)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.JSON(http.StatusOK, meterBody(reg))
}

// GetEnergyTrade answers a settled trade.
func (s *Server) GetEnergyTrade(c *gin.Context, operation string) {
	svc, ok := s.energySvc(c)
	if !ok {
		return
	}
	rec, err := svc.Trade(c.Request.Context(), operation)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.JSON(http.StatusOK, tradeBody(rec))
}

// GetSettlement answers a participant's settlement report.
func (s *Server) GetSettlement(c *gin.Context, did string, params GetSettlementParams) {
	svc, ok := s.energySvc(c)
	if !ok {
		return
	}
	from, until := time.Unix(0, 0).UTC(), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	if params.From != nil {
		from = *params.From
	}
	if params.Until != nil {
		until = *params.Until
	}
	rep, err := svc.Settlement(c.Request.Context(), did, from, until)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	out := Settlement{Participant: rep.Participant, From: rep.From, Until: rep.Until, Trades: make([]EnergyTrade, len(rep.Trades))}
	for i, t := range rep.Trades {
		out.Trades[i] = tradeBody(t)
	}
	out.Totals = make([]SettlementTotal, len(rep.Totals))
	for i, t := range rep.Totals {
		out.Totals[i] = SettlementTotal{Currency: t.Currency, SoldWh: t.SoldWh, BoughtWh: t.BoughtWh, Received: t.Received, Paid: t.Paid, Net: t.Net}
	}
	c.JSON(http.StatusOK, out)
}

func meterBody(r energy.Registration) Meter {
	return Meter{Meter: r.Meter.Meter, Prosumer: r.Prosumer, Zone: r.Zone, CapacityW: r.CapacityW, Operator: r.Operator, Height: int64(r.Height)}
}

func tradeBody(r energy.Record) EnergyTrade {
	from, _ := time.Parse(time.RFC3339, r.From)
	until, _ := time.Parse(time.RFC3339, r.Until)
	at, _ := time.Parse(time.RFC3339Nano, r.Time)
	return EnergyTrade{Operation: r.Op, Seller: r.Seller, Buyer: r.Buyer, Meter: r.Meter, Zone: r.Zone, Currency: r.Currency,
		Wh: r.Wh, Price: r.Price, Reading: r.Reading, From: from, Until: until, Height: int64(r.Height), Time: at}
}
