package registry

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/urbis-id/urbis/internal/errkind"
)

// ValidatorChange is a change of the validator set that an accepted
// operation makes: the validator ID gets PublicKey and Power; power 0
// removes it.
type ValidatorChange struct {
	Validator
	Power int64
}

// ValidatorSetter is a Program whose operations change the validator set
// (the validator.set of the CometBFT engine, in internal/node). Verify
// follows the changes of the operations it replays, in block order: a
// change made by the block of consensus height H is in force from
// consensus height H+2 (the rule of CometBFT's validator updates); in a
// block without a consensus height, from the next block.
type ValidatorSetter interface {
	Program
	// ValidatorChange returns the change an accepted operation of kind k
	// with payload p makes, and false for an operation that makes none.
	ValidatorChange(k Kind, p json.RawMessage) (ValidatorChange, bool)
}

// validatorDelay is how many consensus heights after its block a
// validator-set change takes effect.
const validatorDelay = 2

// validatorSets is the validator set in force, block by block, as a
// replay follows the chain's validator-set changes from the genesis.
type validatorSets struct {
	chain   string
	inForce map[string]inForce // validator id -> key and power
	pending []pendingChange    // made, not yet in force, in block order
	fate    map[string]string  // validator id -> its last change, for messages
}

// inForce is a validator in force: its key (and its Multikey), and its
// voting power.
type inForce struct {
	pub   ed25519.PublicKey
	mk    string
	power int64
}

// pendingChange is a change made by block `block`, in force from
// consensus height `from` (0: from the block after `block`).
type pendingChange struct {
	ValidatorChange
	pub   ed25519.PublicKey
	block uint64
	from  uint64
}

// newValidatorSets starts from the genesis validators, each with the
// power power gives it (nil: 1).
func newValidatorSets(g *Genesis, power func(Validator) int64) (*validatorSets, error) {
	s := &validatorSets{chain: g.ChainID, inForce: make(map[string]inForce, len(g.Validators)), fate: make(map[string]string)}
	for _, v := range g.Validators {
		pub, err := validatorKey(v)
		if err != nil {
			return nil, err
		}
		s.inForce[v.ID] = inForce{pub, v.PublicKey, 1}
		if power != nil {
			s.inForce[v.ID] = inForce{pub, v.PublicKey, power(v)}
		}
	}
	return s, nil
}

// at brings the set in force at the block of header h: it applies, in
// order, the pending changes due by then.
func (s *validatorSets) at(h Header) {
	for len(s.pending) > 0 {
		p := s.pending[0]
		due := h.Height > p.block
		if p.from > 0 && h.ConsensusHeight > 0 {
			due = h.ConsensusHeight >= p.from
		}
		if !due {
			return
		}
		if p.Power == 0 {
			delete(s.inForce, p.ID)
		} else {
			s.inForce[p.ID] = inForce{p.pub, p.PublicKey, p.Power}
		}
		s.pending = s.pending[1:]
	}
}

// change records a change that an operation of kind k in block h made.
func (s *validatorSets) change(h Header, k Kind, c ValidatorChange) error {
	pub, err := validatorKey(c.Validator)
	if err != nil {
		return err
	}
	p := pendingChange{ValidatorChange: c, pub: pub, block: h.Height}
	when := fmt.Sprintf("from block %d", h.Height+1)
	if h.ConsensusHeight > 0 {
		p.from = h.ConsensusHeight + validatorDelay
		when = fmt.Sprintf("from consensus height %d", p.from)
	}
	s.pending = append(s.pending, p)
	if c.Power == 0 {
		s.fate[c.ID] = fmt.Sprintf("the %s of block %d removed it %s", k, h.Height, when)
	} else {
		s.fate[c.ID] = fmt.Sprintf("the %s of block %d gave it power %d %s", k, h.Height, c.Power, when)
	}
	return nil
}

// key returns the key of validator id if it is in force; otherwise an
// error that says why it is not.
func (s *validatorSets) key(id string, h Header) (ed25519.PublicKey, error) {
	if v, ok := s.inForce[id]; ok {
		return v.pub, nil
	}
	at := fmt.Sprintf("block %d", h.Height)
	if h.ConsensusHeight > 0 {
		at += fmt.Sprintf(" (consensus height %d)", h.ConsensusHeight)
	}
	why, ok := s.fate[id]
	if !ok {
		why = "neither the genesis of chain " + s.chain + " nor a validator change before this block made it a validator"
	}
	return nil, errkind.New(errkind.Invalid, "%q, which is not a validator in force at %s: %s (in force: %s)", id, at, why, s.ids())
}

// members returns the validators in force, by id, with their power.
func (s *validatorSets) members() []ValidatorChange {
	out := make([]ValidatorChange, 0, len(s.inForce))
	for id, v := range s.inForce {
		out = append(out, ValidatorChange{Validator: Validator{ID: id, PublicKey: v.mk}, Power: v.power})
	}
	slices.SortFunc(out, func(a, b ValidatorChange) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (s *validatorSets) ids() string {
	ids := make([]string, 0, len(s.inForce))
	for id := range s.inForce {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return strings.Join(ids, ", ")
}
