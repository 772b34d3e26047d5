package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// KindValidatorSet is the operation by which a governance DID adds a
// validator, changes its voting power, or removes it (power 0). The
// change reaches CometBFT as a validator update of the block that
// commits it, and takes effect two blocks later.
const KindValidatorSet registry.Kind = "validator.set"

// GenesisPower is the voting power of each genesis validator.
const GenesisPower = 10

// maxPower bounds one validator's voting power.
const maxPower = 1_000_000

// validatorPrefix is where the program keeps the validators the
// governance has set: validator/<id> holds a validatorState.
const validatorPrefix = "validator/"

// ValidatorSet is the payload of validator.set.
type ValidatorSet struct {
	ID        string `json:"id"`        // the registry validator id, as in the genesis
	PublicKey string `json:"publicKey"` // Ed25519 Multikey: the validator's CometBFT key
	Power     int64  `json:"power"`     // 0 removes the validator
}

type validatorState struct {
	PublicKey string `json:"publicKey"`
	Power     int64  `json:"power"`
}

// ValidatorProgram is the program of validator.set for the chain of g.
// Every validator of a chain runs it (urbis node start does).
func ValidatorProgram(g *registry.Genesis) registry.Program { return validatorProgram{g: g} }

type validatorProgram struct{ g *registry.Genesis }

// Kinds implements registry.Program.
func (vp validatorProgram) Kinds() []registry.ProgramKind {
	return []registry.ProgramKind{{
		Kind:  KindValidatorSet,
		Rels:  []did.Relationship{did.CapabilityInvocation},
		Check: func(p json.RawMessage) error { _, _, err := decodeValidatorSet(p); return err },
		Apply: vp.apply,
	}}
}

// ValidatorChange implements registry.ValidatorSetter: the change of an
// accepted validator.set, which registry.Verify follows (it takes effect
// two consensus heights after its block, as CometBFT applies the
// validator updates FinalizeBlock returns).
func (vp validatorProgram) ValidatorChange(k registry.Kind, p json.RawMessage) (registry.ValidatorChange, bool) {
	if k != KindValidatorSet {
		return registry.ValidatorChange{}, false
	}
	v, _, err := decodeValidatorSet(p)
	if err != nil {
		return registry.ValidatorChange{}, false // accepted, so it decodes
	}
	return registry.ValidatorChange{Validator: registry.Validator{ID: v.ID, PublicKey: v.PublicKey}, Power: v.Power}, true
}

func decodeValidatorSet(p json.RawMessage) (ValidatorSet, ed25519.PublicKey, error) {
	var v ValidatorSet
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, nil, errkind.Wrap(errkind.Invalid, err, "validator.set payload")
	}
	ok := v.ID != "" && len(v.ID) <= 64
	for _, r := range v.ID {
		ok = ok && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}
	if !ok {
		return v, nil, errkind.Field(errkind.Invalid, "payload/id", "validator id %q must be 1 to 64 letters, digits, \"-\", \"_\" or \".\"", v.ID)
	}
	pub, err := validatorPub(registry.Validator{ID: v.ID, PublicKey: v.PublicKey})
	if err != nil {
		return v, nil, errkind.Field(errkind.Invalid, "payload/publicKey", "%v", err)
	}
	if v.Power < 0 || v.Power > maxPower {
		return v, nil, errkind.Field(errkind.Invalid, "payload/power", "power %d must be 0 (remove) to %d", v.Power, maxPower)
	}
	return v, pub, nil
}

// member is one validator of the current set.
type member struct {
	id string
	validatorState
}

// currentSet returns the validators in force: the genesis's, then those
// the governance has set, in that order (removed ones with power 0).
func (vp validatorProgram) currentSet(ctx context.Context, st interface {
	Scan(ctx context.Context, prefix, after string, limit int) ([]registry.ProgramEntry, error)
}) ([]member, error) {
	var set []member
	for _, v := range vp.g.Validators {
		set = append(set, member{v.ID, validatorState{PublicKey: v.PublicKey, Power: GenesisPower}})
	}
	after := ""
	for {
		es, err := st.Scan(ctx, validatorPrefix, after, 1000)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			var s validatorState
			if err := json.Unmarshal(e.Value, &s); err != nil {
				return nil, errkind.Wrap(errkind.Internal, err, "state at %s", e.Key)
			}
			id := e.Key[len(validatorPrefix):]
			i := indexOf(set, id)
			if i < 0 {
				set = append(set, member{id, s})
			} else {
				set[i].validatorState = s
			}
		}
		if len(es) < 1000 {
			return set, nil
		}
		after = es[len(es)-1].Key
	}
}

func indexOf(set []member, id string) int {
	for i, m := range set {
		if m.id == id {
			return i
		}
	}
	return -1
}

func (vp validatorProgram) apply(ctx context.Context, c *registry.Call) (any, error) {
	v, _, err := decodeValidatorSet(c.Payload())
	if err != nil {
		return nil, err
	}
	if !c.IsGovernance(c.Signer()) {
		return nil, errkind.New(errkind.Forbidden, "only a governance DID may change the validator set; %s is not one", c.Signer())
	}
	set, err := vp.currentSet(ctx, c)
	if err != nil {
		return nil, err
	}
	i := indexOf(set, v.ID)
	for j, m := range set {
		if v.Power > 0 && j != i && m.Power > 0 && m.PublicKey == v.PublicKey {
			return nil, errkind.Field(errkind.Conflict, "payload/publicKey", "the key is validator %s's already", m.id)
		}
	}
	switch {
	case v.Power > 0 && i >= 0 && set[i].Power > 0 && set[i].PublicKey != v.PublicKey:
		return nil, errkind.Field(errkind.Conflict, "payload/publicKey", "validator %s has another key; remove it (power 0) before giving it a new one", v.ID)
	case v.Power == 0 && (i < 0 || set[i].Power == 0):
		return nil, errkind.Field(errkind.NotFound, "payload/id", "there is no validator %s to remove", v.ID)
	case v.Power == 0 && set[i].PublicKey != v.PublicKey:
		return nil, errkind.Field(errkind.Conflict, "payload/publicKey", "validator %s has another key", v.ID)
	}
	if i < 0 {
		set = append(set, member{v.ID, validatorState{}})
		i = len(set) - 1
	}
	set[i].validatorState = validatorState{PublicKey: v.PublicKey, Power: v.Power}
	remaining := 0
	for _, m := range set {
		if m.Power > 0 {
			remaining++
		}
	}
	if remaining == 0 {
		return nil, errkind.Field(errkind.Conflict, "payload/power", "removing validator %s would leave no validator", v.ID)
	}
	if err := c.Put(ctx, validatorPrefix+v.ID, set[i].validatorState); err != nil {
		return nil, err
	}
	return v, nil
}

// validatorUpdates returns the CometBFT validator updates of a block's
// accepted validator.set operations: the last one of each key wins.
func validatorUpdates(ops []string, b *registry.AppliedBlock) ([]abci.ValidatorUpdate, []ValidatorSet) {
	var ups []abci.ValidatorUpdate
	var sets []ValidatorSet
	for i, o := range b.Ops {
		if o.Reason != "" || o.Kind != KindValidatorSet {
			continue
		}
		op, err := registry.ParseSigned(ops[i])
		if err != nil {
			continue // accepted, so it parses
		}
		v, pub, err := decodeValidatorSet(op.Op.Payload)
		if err != nil {
			continue
		}
		u := abci.ValidatorUpdate{Power: v.Power, PubKeyType: "ed25519", PubKeyBytes: pub}
		if j := indexUpdate(ups, pub); j >= 0 {
			ups[j], sets[j] = u, v
			continue
		}
		ups = append(ups, u)
		sets = append(sets, v)
	}
	return ups, sets
}

func indexUpdate(ups []abci.ValidatorUpdate, pub []byte) int {
	for i, u := range ups {
		if bytes.Equal(u.PubKeyBytes, pub) {
			return i
		}
	}
	return -1
}

// loadValidators reads the validators the governance has set from st.
func loadValidators(ctx context.Context, st registry.StateReader) ([]ValidatorSet, error) {
	var out []ValidatorSet
	after := ""
	for {
		es, err := st.ProgramScan(ctx, validatorPrefix, after, 1000)
		if errors.Is(err, errkind.NotFound) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			var s validatorState
			if err := json.Unmarshal(e.Value, &s); err != nil {
				return nil, errkind.Wrap(errkind.Internal, err, "state at %s", e.Key)
			}
			out = append(out, ValidatorSet{ID: e.Key[len(validatorPrefix):], PublicKey: s.PublicKey, Power: s.Power})
		}
		if len(es) < 1000 {
			return out, nil
		}
		after = es[len(es)-1].Key
	}
}
