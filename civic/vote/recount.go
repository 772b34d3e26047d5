package vote

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// Blocks reads the chain's blocks.
type Blocks interface {
	Head(ctx context.Context) (registry.Header, error)
	Block(ctx context.Context, height uint64) (registry.Block, error)
}

// Recount is a tally recomputed from the blocks alone.
type Recount struct {
	Election string
	Options  []string
	Counts   []uint64
	Ballots  uint64
	Tokens   uint64
	Blocks   uint64 // blocks read
	// Closed is the height of the block that closed the election, 0 if
	// it is open.
	Closed uint64
}

// RecountFromBlocks reads every block from the first to the head and
// recounts an election: it finds its election.create, then checks each
// ballot.cast again (the token's signature with the election's key, the
// block time inside the window, the option, the nullifier not seen
// before) and counts the ballots that pass, as the state machine did. It
// keeps 33 bytes per valid ballot in memory (its nullifier and choice, in
// chain order), and counts each nullifier's first ballot once all blocks
// are read; signatures are checked on every core. progress, if not nil,
// is called after each block.
func RecountFromBlocks(ctx context.Context, b Blocks, id string, progress func(height, head uint64)) (Recount, error) {
	head, err := b.Head(ctx)
	if err != nil {
		return Recount{}, err
	}
	r := Recount{Election: id}
	var (
		e      *Election
		opens  time.Time
		closes time.Time
		pub    *rsa.PublicKey
		valid  []counted // the ballots that pass every check but the nullifier's, in chain order
	)
	type ballot struct {
		token, sig []byte
		choice     int
		ok         bool
	}
	workers := runtime.GOMAXPROCS(0)
	for h := uint64(1); h <= head.Height; h++ {
		blk, err := b.Block(ctx, h)
		if err != nil {
			return Recount{}, err
		}
		var ballots []ballot
		for _, jws := range blk.Ops {
			op, err := registry.ParseSigned(jws)
			if err != nil {
				return Recount{}, errkind.Wrap(errkind.Internal, err, "block %d", h)
			}
			switch op.Op.Kind {
			case KindCreate:
				var p CreatePayload
				if json.Unmarshal(op.Op.Payload, &p) != nil || p.ID != id || e != nil {
					continue
				}
				if opens, closes, err = p.Check(); err != nil {
					continue
				}
				pub, _ = ParsePublicKey(p.PublicKey)
				e = &Election{CreatePayload: p, Height: h}
				r.Options = p.Options
				r.Counts = make([]uint64, len(p.Options))
			case KindToken:
				var p TokenPayload
				if e != nil && json.Unmarshal(op.Op.Payload, &p) == nil && p.Election == id {
					r.Tokens++
				}
			case KindClose:
				var p ClosePayload
				if e != nil && json.Unmarshal(op.Op.Payload, &p) == nil && p.Election == id && r.Closed == 0 {
					r.Closed = h
				}
			case KindCast:
				var p CastPayload
				if e == nil || json.Unmarshal(op.Op.Payload, &p) != nil || p.Election != id {
					continue
				}
				tok, sig, err := p.Check()
				choice := slices.Index(e.Options, p.Choice)
				t := blk.Header.Time
				if err != nil || choice < 0 || t.Before(opens) || !t.Before(closes) || r.Closed != 0 {
					continue
				}
				ballots = append(ballots, ballot{token: tok, sig: sig, choice: choice})
			}
		}
		// Signatures on every core, then nullifiers in block order.
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(ballots); i += workers {
					ballots[i].ok = VerifyToken(pub, ballots[i].token, ballots[i].sig) == nil
				}
			}()
		}
		wg.Wait()
		for _, bl := range ballots {
			if bl.ok {
				valid = append(valid, counted{nullifier: sha256.Sum256(bl.token), choice: uint8(bl.choice)})
			}
		}
		r.Blocks = h
		if progress != nil {
			progress(h, head.Height)
		}
	}
	if e == nil {
		return Recount{}, errkind.New(errkind.NotFound, "no election %s in the chain's %d blocks", id, head.Height)
	}
	// A stable sort keeps chain order among equal nullifiers: the first
	// ballot of each token counts, as on chain.
	slices.SortStableFunc(valid, func(a, b counted) int { return bytes.Compare(a.nullifier[:], b.nullifier[:]) })
	for i, v := range valid {
		if i > 0 && v.nullifier == valid[i-1].nullifier {
			continue
		}
		r.Counts[v.choice]++
		r.Ballots++
	}
	return r, nil
}

// counted is a ballot of a recount: its nullifier and its option.
type counted struct {
	nullifier [32]byte
	choice    uint8 // at most MaxOptions options
}
