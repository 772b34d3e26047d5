package vote

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/cloudflare/circl/blindsign/blindrsa"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// Variant is the RFC 9474 variant of ballot tokens.
const Variant = blindrsa.SHA384PSSRandomized

// Program is the elections program of the chain.
type Program struct {
	keys sync.Map // publicKey string -> *rsa.PublicKey; a pure function of the key, so caching keeps Apply deterministic
	// electionKeys holds election id -> encoded public key, as committed,
	// for precheckCast alone: an election's key never changes, and a
	// wrong guess would only miss the memo (its id holds the key).
	electionKeys sync.Map
	// elections holds election id -> decodedElection, the last record
	// decoded: applying a ballot compares the stored bytes with it
	// instead of decoding them again.
	elections sync.Map
}

// decodedElection is an election record as stored, and its decoding.
type decodedElection struct {
	raw string
	e   Election
}

var _ registry.Program = (*Program)(nil)

// NewProgram returns the elections program.
func NewProgram() *Program { return &Program{} }

// Kinds implements registry.Program.
func (p *Program) Kinds() []registry.ProgramKind {
	return []registry.ProgramKind{
		{Kind: KindCreate, Check: checkCreate, Apply: p.applyCreate},
		{Kind: KindToken, Check: checkToken, Apply: p.applyToken},
		{Kind: KindCast, Check: checkCast, Apply: p.applyCast, Precheck: p.precheckCast, Reads: castReads},
		{Kind: KindClose, Check: checkClose, Apply: p.applyClose},
	}
}

// decode decodes a payload strictly: no unknown fields, one value.
func decode(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errkind.Field(errkind.Invalid, "payload", "does not decode: %v", err)
	}
	return nil
}

func checkCreate(raw json.RawMessage) error {
	var p CreatePayload
	if err := decode(raw, &p); err != nil {
		return err
	}
	_, _, err := p.Check()
	return err
}

func checkToken(raw json.RawMessage) error {
	var p TokenPayload
	if err := decode(raw, &p); err != nil {
		return err
	}
	return p.Check()
}

func checkCast(raw json.RawMessage) error {
	var p CastPayload
	if err := decode(raw, &p); err != nil {
		return err
	}
	_, _, err := p.Check()
	return err
}

func checkClose(raw json.RawMessage) error {
	var p ClosePayload
	if err := decode(raw, &p); err != nil {
		return err
	}
	return p.Check()
}

func (p *Program) applyCreate(ctx context.Context, c *registry.Call) (any, error) {
	var body CreatePayload
	if err := decode(c.Payload(), &body); err != nil {
		return nil, err
	}
	_, closes, err := body.Check()
	if err != nil {
		return nil, err
	}
	ok, err := c.Accredited(ctx, c.Signer(), AuthorityType)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errkind.New(errkind.Forbidden, "%s is not accredited for %s; the governance authority accredits election authorities with `urbis governance accredit --types %s`", c.Signer(), AuthorityType, AuthorityType)
	}
	if !closes.After(c.Time()) {
		return nil, errkind.Field(errkind.Invalid, "closes", "%s is already past (block time %s)", body.Closes, c.Time().Format(time.RFC3339))
	}
	if has, err := c.Has(ctx, electionKey(body.ID)); err != nil || has {
		if err == nil {
			err = errkind.Field(errkind.Conflict, "id", "election %s already exists; choose another id", body.ID)
		}
		return nil, err
	}
	e := Election{CreatePayload: body, Authority: c.Signer(), Height: c.Height(), Operation: c.OpHash()}
	if err := c.Put(ctx, electionKey(body.ID), e); err != nil {
		return nil, err
	}
	if err := c.Put(ctx, countsKey(body.ID), make([]uint64, len(body.Options))); err != nil {
		return nil, err
	}
	return map[string]any{"election": body.ID}, nil
}

// election reads election id from the chain's state.
func (p *Program) election(ctx context.Context, c *registry.Call, id string) (Election, error) {
	b, err := c.GetRaw(ctx, electionKey(id))
	if err != nil {
		if errors.Is(err, errkind.NotFound) {
			return Election{}, errkind.Field(errkind.NotFound, "election", "no election %s on the chain", id)
		}
		return Election{}, err
	}
	if d, ok := p.elections.Load(id); ok && d.(decodedElection).raw == string(b) {
		return d.(decodedElection).e, nil
	}
	var e Election
	if err := json.Unmarshal(b, &e); err != nil {
		return Election{}, errkind.Wrap(errkind.Internal, err, "state at %s", electionKey(id))
	}
	p.elections.Store(id, decodedElection{raw: string(b), e: e})
	return e, nil
}

func (p *Program) applyToken(ctx context.Context, c *registry.Call) (any, error) {
	var body TokenPayload
	if err := decode(c.Payload(), &body); err != nil {
		return nil, err
	}
	if err := body.Check(); err != nil {
		return nil, err
	}
	e, err := p.election(ctx, c, body.Election)
	if err != nil {
		return nil, err
	}
	if c.Signer() != e.Authority {
		return nil, errkind.New(errkind.Forbidden, "only the election's authority %s records tokens of %s", e.Authority, e.ID)
	}
	if closes, _ := time.Parse(time.RFC3339, e.Closes); !c.Time().Before(closes) {
		return nil, errkind.New(errkind.Conflict, "election %s closed at %s", e.ID, e.Closes)
	}
	if has, err := c.Has(ctx, tokenKey(e.ID, body.Resident)); err != nil || has {
		if err == nil {
			err = errkind.Field(errkind.Conflict, "resident", "this resident already received a ballot token for %s", e.ID)
		}
		return nil, err
	}
	if err := c.Put(ctx, tokenKey(e.ID, body.Resident), c.Height()); err != nil {
		return nil, err
	}
	var n uint64
	if err := c.Get(ctx, tokensKey(e.ID), &n); err != nil && !errors.Is(err, errkind.NotFound) {
		return nil, err
	}
	return nil, c.Put(ctx, tokensKey(e.ID), n+1)
}

// publicKey returns an election's parsed public key.
func (p *Program) publicKey(key string) (*rsa.PublicKey, error) {
	if v, ok := p.keys.Load(key); ok {
		return v.(*rsa.PublicKey), nil
	}
	pub, err := ParsePublicKey(key)
	if err != nil {
		return nil, err
	}
	p.keys.Store(key, pub)
	return pub, nil
}

func (p *Program) applyCast(ctx context.Context, c *registry.Call) (any, error) {
	var body CastPayload
	if err := decode(c.Payload(), &body); err != nil {
		return nil, err
	}
	token, sig, err := body.Check()
	if err != nil {
		return nil, err
	}
	e, err := p.election(ctx, c, body.Election)
	if err != nil {
		return nil, err
	}
	opens, _ := time.Parse(time.RFC3339, e.Opens)
	closes, _ := time.Parse(time.RFC3339, e.Closes)
	switch t := c.Time(); {
	case t.Before(opens):
		return nil, errkind.New(errkind.Conflict, "election %s opens at %s; the ballot came at %s", e.ID, e.Opens, t.Format(time.RFC3339))
	case !t.Before(closes):
		return nil, errkind.New(errkind.Conflict, "election %s closed at %s; the ballot came at %s", e.ID, e.Closes, t.Format(time.RFC3339))
	}
	choice := slices.Index(e.Options, body.Choice)
	if choice < 0 {
		return nil, errkind.Field(errkind.Invalid, "choice", "%q is not an option of %s", body.Choice, e.ID)
	}
	if err := p.checkToken(e.PublicKey, token, sig, c.Once); err != nil {
		if errkind.KindOf(err) == errkind.Forbidden {
			err = errkind.Field(errkind.Forbidden, "signature", "the token's signature does not verify with the key of %s", e.ID)
		}
		return nil, err
	}
	null := Nullifier(token)
	if has, err := c.Has(ctx, nullifierKey(e.ID, null)); err != nil || has {
		if err == nil {
			err = errkind.Field(errkind.Conflict, "token", "a ballot with this token (nullifier %s) is already counted", null)
		}
		return nil, err
	}
	if err := c.Put(ctx, nullifierKey(e.ID, null), Receipt{Operation: c.OpHash(), Height: c.Height(), Choice: body.Choice}); err != nil {
		return nil, err
	}
	var counts []uint64
	if err := c.Get(ctx, countsKey(e.ID), &counts); err != nil {
		return nil, err
	}
	if len(counts) != len(e.Options) {
		return nil, errkind.New(errkind.Internal, "the count of %s has %d entries for %d options", e.ID, len(counts), len(e.Options))
	}
	counts[choice]++
	if err := c.Put(ctx, countsKey(e.ID), counts); err != nil {
		return nil, err
	}
	return map[string]any{"nullifier": null}, nil
}

// castReads names the keys a ballot reads: its election, the count and
// its nullifier (read ahead for a whole block by the engine).
func castReads(payload json.RawMessage) []string {
	var body CastPayload
	if decode(payload, &body) != nil {
		return nil
	}
	token, _, err := body.Check()
	if err != nil {
		return nil
	}
	return []string{electionKey(body.Election), countsKey(body.Election), nullifierKey(body.Election, Nullifier(token))}
}

// checkToken verifies a token's signature with an election's encoded
// public key through once (Call.Once or Precall.Once): the id commits to
// the key, the token and the signature, so a check that passed in the
// submitter's goroutine is not made again in the block.
func (p *Program) checkToken(key string, token, sig []byte, once func(string, func() error) error) error {
	id := make([]byte, 0, 12+len(key)+len(token)+len(sig))
	for _, part := range [][]byte{[]byte(key), token, sig} {
		id = binary.BigEndian.AppendUint32(id, uint32(len(part)))
		id = append(id, part...)
	}
	return once(string(id), func() error {
		pub, err := p.publicKey(key)
		if err != nil {
			return err
		}
		return VerifyToken(pub, token, sig)
	})
}

// precheckCast verifies the token's RSA signature ahead of the block,
// with the key of the election as committed (an election's key never
// changes), so that the sequencer finds it verified.
func (p *Program) precheckCast(ctx context.Context, c *registry.Precall) error {
	var body CastPayload
	if err := decode(c.Payload(), &body); err != nil {
		return err
	}
	token, sig, err := body.Check()
	if err != nil {
		return err
	}
	key, ok := p.electionKeys.Load(body.Election)
	if !ok {
		var e Election
		if err := c.Get(ctx, electionKey(body.Election), &e); err != nil {
			return err
		}
		key, _ = p.electionKeys.LoadOrStore(body.Election, e.PublicKey)
	}
	return p.checkToken(key.(string), token, sig, c.Once)
}

func (p *Program) applyClose(ctx context.Context, c *registry.Call) (any, error) {
	var body ClosePayload
	if err := decode(c.Payload(), &body); err != nil {
		return nil, err
	}
	if err := body.Check(); err != nil {
		return nil, err
	}
	e, err := p.election(ctx, c, body.Election)
	if err != nil {
		return nil, err
	}
	if c.Signer() != e.Authority {
		return nil, errkind.New(errkind.Forbidden, "only the election's authority %s closes %s", e.Authority, e.ID)
	}
	if closes, _ := time.Parse(time.RFC3339, e.Closes); c.Time().Before(closes) {
		return nil, errkind.New(errkind.Conflict, "election %s is open until %s", e.ID, e.Closes)
	}
	if has, err := c.Has(ctx, resultKey(e.ID)); err != nil || has {
		if err == nil {
			err = errkind.New(errkind.Conflict, "election %s is already closed", e.ID)
		}
		return nil, err
	}
	r := Result{Election: e.ID, Height: c.Height(), ClosedAt: c.Time().Format(time.RFC3339)}
	if err := c.Get(ctx, countsKey(e.ID), &r.Counts); err != nil {
		return nil, err
	}
	for _, n := range r.Counts {
		r.Ballots += n
	}
	if err := c.Get(ctx, tokensKey(e.ID), &r.Tokens); err != nil && !errors.Is(err, errkind.NotFound) {
		return nil, err
	}
	if err := c.Put(ctx, resultKey(e.ID), r); err != nil {
		return nil, err
	}
	return r, nil
}

// VerifyToken checks a token's signature with an election's public key.
// An RFC 9474 signature is an RSASSA-PSS signature of the prepared
// message (SHA-384, MGF1 with SHA-384, a 48-byte salt for the PSS
// variants): the standard library verifies it, twice as fast as
// blindrsa.Verifier, which works on big.Int.
func VerifyToken(pub *rsa.PublicKey, token, sig []byte) error {
	h := sha512.Sum384(token)
	if err := rsa.VerifyPSS(pub, crypto.SHA384, h[:], sig, &rsa.PSSOptions{SaltLength: sha512.Size384, Hash: crypto.SHA384}); err != nil {
		return errkind.Field(errkind.Forbidden, "signature", "the token's signature does not verify with the election's key")
	}
	return nil
}
