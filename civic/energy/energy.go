// Package energy is peer-to-peer energy trading between prosumers: a
// grid operator accredited for ProsumerCredential registers each smart
// meter (its own did:key) to a prosumer DID, and a trade — seller, buyer,
// energy, price and the seller's meter reading signed by the meter — is
// one chain operation, energy.trade, that records the energy and pays
// the seller in the city currency at once: a trade whose reading does not
// match, or whose buyer cannot pay, changes nothing.
package energy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/urbis-id/urbis/civic/currency"
	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// OperatorType is the credential type a grid operator is accredited for:
// it issues ProsumerCredentials and registers meters.
const OperatorType = "ProsumerCredential"

// Operation kinds of the energy program.
const (
	KindMeter registry.Kind = "energy.meter"
	KindTrade registry.Kind = "energy.trade"
)

// MaxWh bounds energy amounts and capacities (in Wh and W).
const MaxWh = 1 << 40

// Meter is the payload of energy.meter: the operator binds a meter's
// did:key to the prosumer it measures.
type Meter struct {
	Meter     string `json:"meter"`
	Prosumer  string `json:"prosumer"`
	Zone      string `json:"zone"`
	CapacityW int64  `json:"capacityW"`
}

// Registration is a registered meter.
type Registration struct {
	Meter
	Operator string `json:"operator"`
	Height   uint64 `json:"height"`
}

// Reading is what a meter signs: the energy it exported to the grid
// between From and Until (RFC 3339).
type Reading struct {
	Meter    string `json:"meter"`
	From     string `json:"from"`
	Until    string `json:"until"`
	ExportWh int64  `json:"exportWh"`
}

// Consent is what the seller signs: this reading's energy, to this buyer,
// at this price.
type Consent struct {
	Buyer    string `json:"buyer"`
	Currency string `json:"currency"`
	Wh       int64  `json:"wh"`
	Price    int64  `json:"price"`
	// Reading is ReadingHash of the meter's signed reading.
	Reading string `json:"reading"`
}

// Trade is the payload of energy.trade, signed by the buyer: Wh of the
// seller's energy for Price minor units of Currency.
type Trade struct {
	Seller   string `json:"seller"`
	Currency string `json:"currency"`
	Wh       int64  `json:"wh"`
	Price    int64  `json:"price"`
	// Reading is the meter's reading, a compact JWS by the meter's key.
	Reading string `json:"reading"`
	// Consent is the seller's Consent, a compact JWS by its DID's key.
	Consent string `json:"consent"`
}

// Record is a settled trade.
type Record struct {
	Op       string `json:"op"`
	Seller   string `json:"seller"`
	Buyer    string `json:"buyer"`
	Meter    string `json:"meter"`
	Zone     string `json:"zone"`
	Currency string `json:"currency"`
	Wh       int64  `json:"wh"`
	Price    int64  `json:"price"`
	Reading  string `json:"reading"`
	From     string `json:"from"`
	Until    string `json:"until"`
	Height   uint64 `json:"height"`
	Time     string `json:"time"`
}

// ReadingHash is the hex SHA-256 of a reading's JWS payload: the
// reading's identity, used once.
func ReadingHash(payload []byte) string {
	sum := sha256.Sum256(payload)
	return hex.EncodeToString(sum[:])
}

// Keys of the energy program's state.
func meterKey(meter string) string   { return "energy/meter/" + meter }
func readingKey(hash string) string  { return "energy/reading/" + hash }
func tradeKey(op string) string      { return "energy/trade/" + op }
func partPrefix(party string) string { return "energy/part/" + party + "/" }
func partKey(party string, height uint64, op string) string {
	return fmt.Sprintf("%s%012d/%s", partPrefix(party), height, op[:min(len(op), 16)])
}

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errkind.New(errkind.Invalid, "payload: %v", err)
	}
	if dec.More() {
		return errkind.New(errkind.Invalid, "payload holds more than one JSON value")
	}
	return nil
}

func checkWh(field string, v int64) error {
	if v <= 0 || v > MaxWh {
		return errkind.Field(errkind.Invalid, field, "must be a whole number from 1 to %d; got %d", int64(MaxWh), v)
	}
	return nil
}

func checkMeter(raw json.RawMessage) error {
	var p Meter
	if err := decodeStrict(raw, &p); err != nil {
		return err
	}
	d, err := did.Parse(p.Meter)
	if err == nil && d.Method == did.MethodKey {
		_, err = did.KeyMethod{}.Resolve(context.Background(), d, did.ResolveOptions{NoEncryptionKeyDerivation: true})
	}
	if err != nil || d.Method != did.MethodKey {
		return errkind.Field(errkind.Invalid, "meter", "must be the meter's did:key, which names its public key; got %q", p.Meter)
	}
	if err := currency.CheckAccount("prosumer", p.Prosumer); err != nil {
		return err
	}
	if p.Zone == "" || len(p.Zone) > 64 {
		return errkind.Field(errkind.Invalid, "zone", "must name the tariff zone in 1 to 64 bytes")
	}
	return checkWh("capacityW", p.CapacityW)
}

func checkTrade(raw json.RawMessage) error {
	var p Trade
	if err := decodeStrict(raw, &p); err != nil {
		return err
	}
	if err := currency.CheckAccount("seller", p.Seller); err != nil {
		return err
	}
	if err := currency.CheckCode(p.Currency); err != nil {
		return errkind.Field(errkind.Invalid, "currency", "%v", err)
	}
	if err := checkWh("wh", p.Wh); err != nil {
		return err
	}
	if err := currency.CheckAmount("price", p.Price); err != nil {
		return err
	}
	if p.Reading == "" {
		return errkind.Field(errkind.Invalid, "reading", "is required: the seller's meter reading, signed by the meter")
	}
	if p.Consent == "" {
		return errkind.Field(errkind.Invalid, "consent", "is required: the seller's consent, signed by the seller")
	}
	return nil
}

// parseReading decodes and checks a reading's payload.
func parseReading(b []byte) (Reading, time.Time, time.Time, error) {
	var r Reading
	if err := decodeStrict(b, &r); err != nil {
		return r, time.Time{}, time.Time{}, errkind.Field(errkind.Invalid, "reading", "%v", err)
	}
	from, err1 := time.Parse(time.RFC3339, r.From)
	until, err2 := time.Parse(time.RFC3339, r.Until)
	if err1 != nil || err2 != nil || !until.After(from) {
		return r, from, until, errkind.Field(errkind.Invalid, "reading", "from and until must be RFC 3339 times, until after from; got %q and %q", r.From, r.Until)
	}
	if err := checkWh("reading", r.ExportWh); err != nil {
		return r, from, until, err
	}
	return r, from, until, nil
}
