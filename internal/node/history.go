package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"

	cmted "github.com/cometbft/cometbft/crypto/ed25519"
	cmttypes "github.com/cometbft/cometbft/types"
)

// validatorSetEvent is the event of an accepted validator.set, indexed
// by CometBFT's transaction index.
const validatorSetEvent = "validator_set"

// SetMember is one validator of a validator set in a proof.
type SetMember struct {
	PublicKey []byte `json:"publicKey"` // Ed25519
	Power     int64  `json:"power"`
}

// SetChange is one change of the validator set: the signed header at
// Height, signed by the set in force, whose NextValidatorsHash commits
// the new set, and that new set.
type SetChange struct {
	Height       int64                  `json:"height"`
	SignedHeader *cmttypes.SignedHeader `json:"signedHeader"`
	Validators   []SetMember            `json:"validators"`
}

func toSet(ms []SetMember) (*cmttypes.ValidatorSet, error) {
	vals := make([]*cmttypes.Validator, 0, len(ms))
	for _, m := range ms {
		if len(m.PublicKey) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("a validator key of %d bytes; want an Ed25519 key", len(m.PublicKey))
		}
		vals = append(vals, cmttypes.NewValidator(cmted.PubKey(m.PublicKey), m.Power))
	}
	set := cmttypes.NewValidatorSet(vals)
	if err := set.ValidateBasic(); err != nil {
		return nil, err
	}
	return set, nil
}

func genesisSet(doc *cmttypes.GenesisDoc) *cmttypes.ValidatorSet {
	vals := make([]*cmttypes.Validator, len(doc.Validators))
	for i, v := range doc.Validators {
		vals[i] = cmttypes.NewValidator(v.PubKey, v.Power)
	}
	return cmttypes.NewValidatorSet(vals)
}

// verifyHeader checks that set, trusted, signed sh: it is the header's
// validator set and more than two thirds of its power signed the commit.
func verifyHeader(chainID string, set *cmttypes.ValidatorSet, sh *cmttypes.SignedHeader) error {
	if sh == nil {
		return fmt.Errorf("a signed header is missing")
	}
	if err := sh.ValidateBasic(chainID); err != nil {
		return fmt.Errorf("block %d: %v", sh.Height, err)
	}
	if !bytes.Equal(sh.ValidatorsHash, set.Hash()) {
		return fmt.Errorf("block %d is signed by another validator set than the one in force by the genesis and the changes given (a validator-set change is missing from the proof)", sh.Height)
	}
	if err := set.VerifyCommitLight(chainID, sh.Commit.BlockID, sh.Height, sh.Commit); err != nil {
		return fmt.Errorf("block %d: the commit does not carry signatures of more than two thirds of the voting power: %v", sh.Height, err)
	}
	return nil
}

// trustedSets walks the changes from the genesis set: each change's
// header must be signed by the set in force and commit the next one. It
// returns the set in force at height h, having used the changes before h.
type setWalker struct {
	chainID string
	set     *cmttypes.ValidatorSet
	changes []SetChange
	next    int
}

func (w *setWalker) at(h int64) (*cmttypes.ValidatorSet, error) {
	for w.next < len(w.changes) && w.changes[w.next].Height < h {
		c := w.changes[w.next]
		if w.next > 0 && c.Height <= w.changes[w.next-1].Height {
			return nil, fmt.Errorf("validator-set changes out of order at height %d", c.Height)
		}
		if err := verifyHeader(w.chainID, w.set, c.SignedHeader); err != nil {
			return nil, fmt.Errorf("validator-set change at block %d: %v", c.Height, err)
		}
		if c.SignedHeader.Height != c.Height {
			return nil, fmt.Errorf("validator-set change at block %d carries the header of block %d", c.Height, c.SignedHeader.Height)
		}
		set, err := toSet(c.Validators)
		if err != nil {
			return nil, fmt.Errorf("validator-set change at block %d: %v", c.Height, err)
		}
		if !bytes.Equal(c.SignedHeader.NextValidatorsHash, set.Hash()) {
			return nil, fmt.Errorf("validator-set change at block %d: the set given is not the one block %d names next", c.Height, c.Height)
		}
		w.set = set
		w.next++
	}
	return w.set, nil
}

// fetchHistory returns the validator-set changes that take effect up to
// height h+1: for each block that committed a validator.set, the next
// header (signed by the set then in force, naming the new one) and the
// new set.
func fetchHistory(ctx context.Context, c proofClient, h int64) ([]SetChange, error) {
	var heights []int64
	for page, perPage := 1, 100; ; page++ {
		res, err := c.TxSearch(ctx, validatorSetEvent+".op EXISTS", false, &page, &perPage, "asc")
		if err != nil {
			return nil, fmt.Errorf("search the validator-set changes: %w", err)
		}
		for _, tx := range res.Txs {
			if x := tx.Height + 1; x <= h && !slices.Contains(heights, x) {
				heights = append(heights, x)
			}
		}
		if page*perPage >= res.TotalCount {
			break
		}
	}
	slices.Sort(heights)
	var out []SetChange
	for _, x := range heights {
		commit, err := c.Commit(ctx, &x)
		if err != nil {
			return nil, err
		}
		next := x + 1
		var ms []SetMember
		for page, perPage := 1, 100; ; page++ {
			vs, err := c.Validators(ctx, &next, &page, &perPage)
			if err != nil {
				return nil, err
			}
			for _, v := range vs.Validators {
				ms = append(ms, SetMember{PublicKey: v.PubKey.Bytes(), Power: v.VotingPower})
			}
			if page*perPage >= vs.Total {
				break
			}
		}
		out = append(out, SetChange{Height: x, SignedHeader: &commit.SignedHeader, Validators: ms})
	}
	return out, nil
}
