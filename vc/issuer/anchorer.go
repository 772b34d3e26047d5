package issuer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/urbis-id/urbis/internal/chainop"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// IssuedLeaf is the anchoring record of one issued credential: the hash
// of the credential as issued (see LeafOf), never the credential, and,
// once anchored, the batch whose Merkle root the chain holds.
type IssuedLeaf struct {
	Seq          int64 // issuance order, set by the store
	AgencyID     string
	IssuerID     string
	IssuerDID    string
	CredentialID string // the credential's id; "" if it has none
	Leaf         string // hex SHA-256
	CreatedAt    time.Time

	// Set once anchored; Root is "" while pending.
	Root   string
	Index  int
	Size   int
	OpHash string
}

// AnchorSigner is a DID of an agency with leaves waiting to be anchored.
type AnchorSigner struct {
	AgencyID  string
	IssuerDID string
}

// AnchorBatch is an anchored batch: its root, the anchor operation, and
// the Seq of each of its leaves in leaf order.
type AnchorBatch struct {
	Root   string
	OpHash string
	Seqs   []int64
}

// AnchorStore keeps the anchoring records of issued credentials.
type AnchorStore interface {
	// AddIssued records the status entries and leaves of issued
	// credentials in one transaction; Conflict (and nothing written) if a
	// status entry exists.
	AddIssued(ctx context.Context, statuses []StatusRecord, leaves []IssuedLeaf) error
	// FileIssued makes the leaves added since the last call visible to
	// PendingSigners and PendingLeaves, and returns how many it filed.
	FileIssued(ctx context.Context) (int, error)
	// PendingSigners returns the DIDs with filed leaves not yet anchored.
	PendingSigners(ctx context.Context) ([]AnchorSigner, error)
	// PendingLeaves returns at most limit leaves of the DID not yet
	// anchored, in Seq order.
	PendingLeaves(ctx context.Context, s AnchorSigner, limit int) ([]IssuedLeaf, error)
	// MarkAnchored records b on its leaves in one transaction.
	MarkAnchored(ctx context.Context, b AnchorBatch) error
	// IssuedByCredential and IssuedByLeaf return agencyID's earliest
	// record of the credential id or leaf; NotFound if none (another
	// agency's included).
	IssuedByCredential(ctx context.Context, agencyID, credentialID string) (IssuedLeaf, error)
	IssuedByLeaf(ctx context.Context, agencyID, leaf string) (IssuedLeaf, error)
	// BatchLeaves returns the leaves of the batch anchored with root, in
	// leaf order.
	BatchLeaves(ctx context.Context, root string) ([]string, error)
}

// AnchorChain is what anchoring needs of the chain beyond Chain: the
// anchor of a root (NotFound if none) and operation inclusion proofs.
type AnchorChain interface {
	Chain
	Anchor(ctx context.Context, root string) (registry.Anchor, error)
	Proof(ctx context.Context, hash string) (registry.Proof, error)
}

// writeIssued is the statusBatcher's write: status entries and leaves in
// one transaction when anchoring, status entries alone otherwise.
func (s *Service) writeIssued(ctx context.Context, recs []StatusRecord, leaves []IssuedLeaf) error {
	if s.anchors != nil {
		return s.anchors.AddIssued(ctx, recs, leaves)
	}
	return s.statuses.AddStatuses(ctx, recs)
}

// recordIssued records the status entries and, when anchoring, the leaf
// of the credential just signed, in the group commit of concurrent
// issuances: it returns once they are committed, so an issued
// credential always has its leaf recorded.
func (s *Service) recordIssued(ctx context.Context, in Instance, cred map[string]any, out Issued, recs []StatusRecord) error {
	var leaves []IssuedLeaf
	if s.anchors != nil {
		leaf, err := LeafOf(out)
		if err != nil {
			return err
		}
		id, _ := cred["id"].(string)
		leaves = []IssuedLeaf{{AgencyID: in.AgencyID, IssuerID: in.ID, IssuerDID: in.DID, CredentialID: id, Leaf: leaf, CreatedAt: s.clock().UTC()}}
	}
	return s.statusWriter.add(ctx, recs, leaves)
}

// AnchorerConfig configures an Anchorer. Zero values take the defaults.
type AnchorerConfig struct {
	Interval time.Duration // how often pending leaves are anchored; 1 s
	MaxBatch int           // most leaves in one anchor; 10,000
	// MaxBackoff bounds the wait before retrying a DID whose anchor
	// failed (doubling from Interval); 5 min.
	MaxBackoff time.Duration
	Logger     *slog.Logger
}

// Anchorer anchors the leaves of issued credentials: every Interval it
// takes each DID's pending leaves (at most MaxBatch, in issuance order),
// builds their Merkle tree, submits one anchor operation of its root
// signed by the DID's key in custody, waits for its block, then records
// the batch on the leaves. Leaves stay pending until their batch is
// recorded, so leaves left by a crash are anchored on the next start; a
// DID whose anchor fails is retried with a doubling backoff.
type Anchorer struct {
	s     *Service
	chain AnchorChain
	ops   *chainop.Submitter // on chain, under the Service's signer locks
	cfg   AnchorerConfig

	mu      sync.Mutex
	backoff map[AnchorSigner]retry
}

type retry struct {
	wait time.Duration
	at   time.Time
}

// maxAnchorWorkers bounds how many DIDs are anchored at once.
const maxAnchorWorkers = 8

// NewAnchorer returns an Anchorer of s's issued credentials; s must have
// an AnchorStore and an AnchorChain.
func (s *Service) NewAnchorer(cfg AnchorerConfig) (*Anchorer, error) {
	if s.anchors == nil || s.anchorChain == nil {
		return nil, errkind.New(errkind.Invalid, "anchorer: the issuance service has no anchor store or chain")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 10_000
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Anchorer{s: s, chain: s.anchorChain, ops: chainop.New(s.anchorChain, &s.chainLocks, nil, nil), cfg: cfg, backoff: map[AnchorSigner]retry{}}, nil
}

// Run anchors until ctx ends, at once and then every Interval (again at
// once while batches come out full).
func (a *Anchorer) Run(ctx context.Context) error {
	t := time.NewTicker(a.cfg.Interval)
	defer t.Stop()
	for {
		full, err := a.Once(ctx)
		if err != nil && ctx.Err() == nil {
			a.cfg.Logger.Warn("anchoring issued credentials", "err", err)
		}
		if full && ctx.Err() == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Once anchors one batch of pending leaves of each DID not backing off.
// It reports whether some batch was full (more are pending), and the
// error of listing the DIDs; a DID's failure is logged and backed off.
func (a *Anchorer) Once(ctx context.Context) (full bool, err error) {
	if _, err := a.s.anchors.FileIssued(ctx); err != nil {
		return false, err
	}
	signers, err := a.s.anchors.PendingSigners(ctx)
	if err != nil {
		return false, err
	}
	now := a.s.clock()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		sema = make(chan struct{}, maxAnchorWorkers)
	)
	for _, sg := range signers {
		a.mu.Lock()
		r, backing := a.backoff[sg]
		a.mu.Unlock()
		if backing && now.Before(r.at) {
			continue
		}
		sema <- struct{}{}
		wg.Go(func() {
			defer func() { <-sema }()
			n, err := a.anchor(ctx, sg)
			if err != nil {
				if ctx.Err() == nil {
					a.fail(sg, err)
				}
				return
			}
			a.mu.Lock()
			delete(a.backoff, sg)
			a.mu.Unlock()
			if n == a.cfg.MaxBatch {
				mu.Lock()
				full = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return full, nil
}

// fail logs the failure of sg's anchor and backs it off.
func (a *Anchorer) fail(sg AnchorSigner, err error) {
	a.mu.Lock()
	r := a.backoff[sg]
	r.wait = min(max(2*r.wait, a.cfg.Interval), a.cfg.MaxBackoff)
	r.at = a.s.clock().Add(r.wait)
	a.backoff[sg] = r
	a.mu.Unlock()
	a.cfg.Logger.Warn("anchoring issued credentials failed; the leaves stay pending", "agency", sg.AgencyID, "did", sg.IssuerDID, "retry_in", r.wait.String(), "err", err)
}

// anchor anchors one batch of sg's pending leaves and returns its size.
func (a *Anchorer) anchor(ctx context.Context, sg AnchorSigner) (int, error) {
	pending, err := a.s.anchors.PendingLeaves(ctx, sg, a.cfg.MaxBatch)
	if err != nil || len(pending) == 0 {
		return 0, err
	}
	leaves := make([]string, len(pending))
	seqs := make([]int64, len(pending))
	for i, l := range pending {
		leaves[i], seqs[i] = l.Leaf, l.Seq
	}
	root := registry.MerkleRoot(leaves)
	in, err := a.s.instance(ctx, sg.AgencyID, pending[0].IssuerID)
	if err != nil {
		return 0, err
	}
	signer, kid, err := a.s.signer(ctx, in)
	if err != nil {
		return 0, err
	}
	// The DID's status changes take nonces too.
	defer a.ops.LockSigner(sg.IssuerDID)()
	// A crash between the anchor's block and MarkAnchored leaves the
	// same batch pending: its root is on chain already.
	switch old, err := a.chain.Anchor(ctx, root); {
	case err == nil && old.Issuer == sg.IssuerDID:
		return len(seqs), a.s.anchors.MarkAnchored(ctx, AnchorBatch{Root: root, OpHash: old.OpHash, Seqs: seqs})
	case err == nil:
		return 0, errkind.New(errkind.Conflict, "root %s is anchored by %s, not by %s", root, old.Issuer, sg.IssuerDID)
	case !errors.Is(err, errkind.NotFound):
		return 0, err
	}
	st, err := a.ops.SubmitLocked(ctx, chainop.Op{
		Key: chainop.Key{DID: sg.IssuerDID, ID: kid, Signer: signer}, Kind: registry.KindAnchor,
		Payload: registry.AnchorPayload{Root: root, Count: len(leaves)},
		What:    fmt.Sprintf("the anchor of %d credentials", len(leaves)),
	})
	if err != nil {
		return 0, err
	}
	return len(seqs), a.s.anchors.MarkAnchored(ctx, AnchorBatch{Root: root, OpHash: st.Hash, Seqs: seqs})
}

// AnchorState is what GET /credentials/{id}/anchor answers: the record
// of an issued credential and, once anchored, the proof.
type AnchorState struct {
	Record IssuedLeaf
	// Proof is set once the credential's batch is anchored; nil while
	// pending.
	Proof *registry.AnchorProof
}

var leafPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// AnchorProof returns the anchoring state of agencyID's credential ref:
// its id, or its leaf (64 lowercase hex). NotFound if the agency issued
// no such credential.
func (s *Service) AnchorProof(ctx context.Context, agencyID, ref string) (AnchorState, error) {
	if s.anchors == nil {
		return AnchorState{}, errkind.New(errkind.NotFound, "this service does not anchor issued credentials")
	}
	rec, err := s.issued(ctx, agencyID, ref)
	if err != nil {
		return AnchorState{}, err
	}
	if rec.Root == "" || s.anchorChain == nil {
		return AnchorState{Record: rec}, nil
	}
	leaves, err := s.anchors.BatchLeaves(ctx, rec.Root)
	if err != nil {
		return AnchorState{}, err
	}
	if len(leaves) != rec.Size || rec.Index >= len(leaves) || leaves[rec.Index] != rec.Leaf {
		return AnchorState{}, errkind.New(errkind.Internal, "the batch %s holds %d leaves; its record says %d with %s at %d", rec.Root, len(leaves), rec.Size, rec.Leaf, rec.Index)
	}
	op, err := s.anchorChain.Proof(ctx, rec.OpHash)
	if err != nil {
		return AnchorState{}, err
	}
	return AnchorState{Record: rec, Proof: &registry.AnchorProof{
		Leaf: rec.Leaf, LeafIndex: rec.Index, BatchSize: rec.Size, MerklePath: registry.MerklePath(leaves, rec.Index),
		Root: rec.Root, Operation: op,
	}}, nil
}

// issued finds agencyID's record of ref, a leaf or a credential id.
func (s *Service) issued(ctx context.Context, agencyID, ref string) (IssuedLeaf, error) {
	if ref == "" {
		return IssuedLeaf{}, errkind.Field(errkind.Invalid, "id", "is required: the credential's id or the hex SHA-256 of the credential as issued")
	}
	if leafPattern.MatchString(ref) {
		rec, err := s.anchors.IssuedByLeaf(ctx, agencyID, ref)
		if !errors.Is(err, errkind.NotFound) {
			return rec, err
		}
	}
	rec, err := s.anchors.IssuedByCredential(ctx, agencyID, ref)
	if errors.Is(err, errkind.NotFound) {
		return IssuedLeaf{}, errkind.New(errkind.NotFound, "the agency issued no credential with id or leaf %q", ref)
	}
	return rec, err
}
