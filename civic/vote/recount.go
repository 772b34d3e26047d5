package vote

import (
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
// keeps one nullifier hash per ballot in memory (about 60 bytes each),
// nothing else; signatures are checked on every core. progress, if not
// nil, is called after each block.
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
		seen   = map[[32]byte]struct{}{}
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
			n := sha256.Sum256(bl.token)
			if _, dup := seen[n]; !bl.ok || dup {
				continue
			}
			seen[n] = struct{}{}
			r.Counts[bl.choice]++
			r.Ballots++
		}
		r.Blocks = h
		if progress != nil {
			progress(h, head.Height)
		}
	}
	if e == nil {
		return Recount{}, errkind.New(errkind.NotFound, "no election %s in the chain's %d blocks", id, head.Height)
	}
	return r, nil
}
