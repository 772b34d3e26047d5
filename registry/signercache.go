package registry

import (
	"container/list"
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/bits-and-blooms/bloom/v3"

	"github.com/urbis-id/urbis/internal/errkind"
)

// signerCacheSize bounds the signers whose committed state a Solo keeps
// in memory.
const signerCacheSize = 100_000

// signerCache holds, for recently seen signers, the committed nonce and
// the committed latest did:urbis version, so that Submit's precheck reads
// memory rather than the store. Its entries are filled from the store on
// a miss and set by the sequencer right after a block commits, never
// before: it never holds a state the store does not yet hold. A fill
// that raced with a commit is dropped (see gen), so it never keeps a
// state older than the store's either, once the sequencer has set what
// it committed. Its least recently used entry goes when it is full.
//
// Precheck reads it, and so does the sequencer, under what the block it
// is making has written so far (see blockState).
type signerCache struct {
	mu    sync.Mutex
	size  int
	gen   uint64 // bumped by every commit and reset
	items map[string]*list.Element
	lru   list.List // of *signerEntry, most recently used first

	// signed holds every DID that holds a nonce in the store, and maybe
	// others (a Bloom filter): a DID it does not hold has nonce 0, which
	// spares a read of the store for the first operation of a new
	// signer (every ballot has one). It is nil until loadSigners has
	// filled it from the store; the sequencer notes a signer there
	// before the block that sets its nonce commits (see noteSigner).
	signed  *bloom.BloomFilter
	loading []string // noted while loadSigners runs
}

// Sizing of the signer filter: room for twice the signers in the store
// when it is loaded, and at least minSignerFilter, at a false-positive
// rate of 1% (about 1.2 bytes per signer). Past its room the filter
// answers "maybe" more often, which costs reads, never a wrong nonce.
const (
	minSignerFilter     = 1 << 22
	signerFilterFPRate  = 0.01
	signerFilterHeadway = 2
)

// signerEntry is what the cache knows of one signer DID.
type signerEntry struct {
	did       string
	nonce     uint64
	nonceOK   bool
	version   DIDVersion
	versionOK bool // version is the latest; absent DIDs are not cached
	absent    bool // no version (blockState only, see PutDIDVersion)
}

func newSignerCache(size int) *signerCache {
	return &signerCache{size: size, items: make(map[string]*list.Element)}
}

// lookup returns the entry of did (a copy), marking it used, and the
// generation to pass to a fill of what is read from the store after
// this call.
func (c *signerCache) lookup(did string) (signerEntry, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[did]
	if !ok {
		return signerEntry{}, false, c.gen
	}
	c.lru.MoveToFront(el)
	return *el.Value.(*signerEntry), true, c.gen
}

// entry returns the entry of did, made if absent; c.mu is held.
func (c *signerCache) entry(did string) *signerEntry {
	if el, ok := c.items[did]; ok {
		c.lru.MoveToFront(el)
		return el.Value.(*signerEntry)
	}
	e := &signerEntry{did: did}
	c.items[did] = c.lru.PushFront(e)
	for c.lru.Len() > c.size {
		old := c.lru.Back()
		delete(c.items, old.Value.(*signerEntry).did)
		c.lru.Remove(old)
	}
	return e
}

// fillNonce records the nonce of did read from the store, unless a
// commit or reset happened since generation returned gen.
func (c *signerCache) fillNonce(did string, n, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	e := c.entry(did)
	e.nonce, e.nonceOK = n, true
}

// fillVersion records the latest version of a DID read from the store,
// unless a commit or reset happened since generation returned gen.
func (c *signerCache) fillVersion(v DIDVersion, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	e := c.entry(v.DID)
	e.version, e.versionOK = v, true
}

// committed records the state a block left, which the sequencer
// gathered in b, after the block's commit and before it tells the
// waiters.
func (c *signerCache) committed(b *blockState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if b == nil {
		return
	}
	for _, k := range b.block {
		e := c.entry(k.did)
		if k.nonceOK {
			e.nonce, e.nonceOK = k.nonce, true
		}
		if k.versionOK {
			e.version, e.versionOK = k.version, true
		}
	}
}

// signerLister is a store that can list the DIDs that hold a nonce.
type signerLister interface {
	CountSigners(ctx context.Context) (int, error)
	EachSigner(ctx context.Context, fn func(did string)) error
}

// beginLoad starts a load of the signer filter: from now on, noted
// signers are kept for it. Call it before any block is made, then
// loadSigners.
func (c *signerCache) beginLoad() {
	c.mu.Lock()
	c.loading = []string{}
	c.mu.Unlock()
}

// loadSigners fills the signer filter from the store, after beginLoad.
// Until it returns nil, precheck reads every new signer's nonce from
// the store. The filter then holds the signers of the store's snapshot
// and every signer noted since beginLoad, so every signer committed.
func (c *signerCache) loadSigners(ctx context.Context, st signerLister) error {
	n, err := st.CountSigners(ctx)
	if err != nil {
		c.stopLoading()
		return err
	}
	f := bloom.NewWithEstimates(uint(max(minSignerFilter, signerFilterHeadway*n)), signerFilterFPRate)
	err = st.EachSigner(ctx, func(did string) { f.AddString(did) })
	if err != nil {
		c.stopLoading()
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, did := range c.loading {
		f.AddString(did)
	}
	c.signed, c.loading = f, nil
	return nil
}

func (c *signerCache) stopLoading() {
	c.mu.Lock()
	c.loading = nil
	c.mu.Unlock()
}

// noteSigner records that did may hold a nonce. The sequencer calls it
// when it sets a nonce, before the block commits, so that the filter
// holds a signer before the store does.
func (c *signerCache) noteSigner(did string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.signed != nil:
		c.signed.AddString(did)
	case c.loading != nil:
		c.loading = append(c.loading, did)
	}
}

// newSigner reports whether did is a did:key or did:jwk (whose state is
// its nonce only) that surely holds no nonce in the store: the block
// need not read it ahead.
func (c *signerCache) newSigner(did string) bool {
	return !strings.HasPrefix(did, "did:"+MethodURBIS+":") && c.neverSigned(did)
}

// neverSigned reports whether did surely holds no nonce in the store.
func (c *signerCache) neverSigned(did string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.signed != nil && !c.signed.TestString(did)
}

// reset forgets everything: after a block whose commit may or may not
// have happened.
func (c *signerCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.items)
	c.lru.Init()
}

// cachedState is the committed state as precheck reads it: Nonce and
// LatestDIDVersion from the cache, filled from the store on a miss;
// everything else from the store.
type cachedState struct {
	StateReader
	c *signerCache
}

// Nonce implements StateReader.
func (s cachedState) Nonce(ctx context.Context, signerDID string) (uint64, error) {
	e, ok, gen := s.c.lookup(signerDID)
	if ok && e.nonceOK {
		return e.nonce, nil
	}
	if s.c.neverSigned(signerDID) {
		return 0, nil
	}
	n, err := s.StateReader.Nonce(ctx, signerDID)
	if err != nil {
		return 0, err
	}
	s.c.fillNonce(signerDID, n, gen)
	return n, nil
}

// LatestDIDVersion implements StateReader.
func (s cachedState) LatestDIDVersion(ctx context.Context, did string) (DIDVersion, error) {
	e, ok, gen := s.c.lookup(did)
	if ok && e.versionOK {
		return e.version, nil
	}
	v, err := s.StateReader.LatestDIDVersion(ctx, did)
	if err != nil {
		return DIDVersion{}, err
	}
	if v.DID == did {
		s.c.fillVersion(v, gen)
	}
	return v, nil
}

// blockState is the transaction of a block as the sequencer gives it to
// the machine. Nonce and LatestDIDVersion read, in order, what the
// operation being applied wrote, what this block's accepted operations
// wrote or read, the signer cache (the committed state) and the
// transaction; the writes that change them go to the transaction and are
// noted. It sees exactly what the transaction would return, because
// these two writes are the only ones that change those two reads.
type blockState struct {
	BlockTx
	c       *signerCache
	block   map[string]*signerEntry // this block's state so far
	op      []signerEntry           // written by the operation being applied
	reads   map[string]progRead     // program keys read and not written in this block (progreads.go)
	written map[string]bool         // program keys written in this block
}

func newBlockState(tx BlockTx, c *signerCache) *blockState {
	return &blockState{BlockTx: tx, c: c, block: make(map[string]*signerEntry), reads: make(map[string]progRead), written: make(map[string]bool)}
}

// accept keeps the writes of the operation just applied.
func (b *blockState) accept() {
	for _, w := range b.op {
		e := b.blockEntry(w.did)
		if w.nonceOK {
			e.nonce, e.nonceOK = w.nonce, true
		}
		if w.versionOK {
			e.version, e.versionOK, e.absent = w.version, true, false
		}
	}
	b.op = b.op[:0]
}

// discard forgets the writes of the operation just rolled back.
func (b *blockState) discard() { b.op = b.op[:0] }

func (b *blockState) blockEntry(did string) *signerEntry {
	e, ok := b.block[did]
	if !ok {
		e = &signerEntry{did: did}
		b.block[did] = e
	}
	return e
}

func (b *blockState) opEntry(did string) *signerEntry {
	for i := range b.op {
		if b.op[i].did == did {
			return &b.op[i]
		}
	}
	b.op = append(b.op, signerEntry{did: did})
	return &b.op[len(b.op)-1]
}

// known returns what is known of did above the transaction, field by
// field: the operation's writes, then the block's, then the cache's.
func (b *blockState) known(did string) signerEntry {
	k := signerEntry{did: did}
	merge := func(e *signerEntry) {
		if !k.nonceOK && e.nonceOK {
			k.nonce, k.nonceOK = e.nonce, true
		}
		if !k.versionOK && !k.absent {
			k.version, k.versionOK, k.absent = e.version, e.versionOK, e.absent
		}
	}
	for i := range b.op {
		if b.op[i].did == did {
			merge(&b.op[i])
		}
	}
	if e, ok := b.block[did]; ok {
		merge(e)
	}
	if !k.nonceOK || !k.versionOK && !k.absent {
		if e, ok, _ := b.c.lookup(did); ok {
			merge(&e)
		}
	}
	return k
}

// Nonce implements StateReader.
func (b *blockState) Nonce(ctx context.Context, signerDID string) (uint64, error) {
	if k := b.known(signerDID); k.nonceOK {
		return k.nonce, nil
	}
	// Not written in this block either (that would be known).
	if b.c.neverSigned(signerDID) {
		e := b.blockEntry(signerDID)
		e.nonce, e.nonceOK = 0, true
		return 0, nil
	}
	n, err := b.BlockTx.Nonce(ctx, signerDID)
	if err != nil {
		return 0, err
	}
	// Not written by this operation (that would be known), so the state
	// before it too.
	e := b.blockEntry(signerDID)
	e.nonce, e.nonceOK = n, true
	return n, nil
}

// LatestDIDVersion implements StateReader.
func (b *blockState) LatestDIDVersion(ctx context.Context, did string) (DIDVersion, error) {
	if k := b.known(did); k.versionOK {
		return k.version, nil
	}
	v, err := b.BlockTx.LatestDIDVersion(ctx, did)
	switch {
	case errors.Is(err, errkind.NotFound):
		b.blockEntry(did).absent = true
		return DIDVersion{}, err
	case err != nil:
		return DIDVersion{}, err
	case v.DID == did:
		e := b.blockEntry(did)
		e.version, e.versionOK, e.absent = v, true, false
	}
	return v, nil
}

// SetNonce implements StateTx.
func (b *blockState) SetNonce(ctx context.Context, signerDID string, n uint64) error {
	b.c.noteSigner(signerDID)
	if err := b.BlockTx.SetNonce(ctx, signerDID, n); err != nil {
		return err
	}
	e := b.opEntry(signerDID)
	e.nonce, e.nonceOK = n, true
	return nil
}

// PutDIDVersion implements StateTx. The version put is the latest if
// the DID had none or a lower one; if nothing is known of the DID (the
// machine reads a DID before it writes one, so this does not happen),
// the latest is read back.
func (b *blockState) PutDIDVersion(ctx context.Context, v DIDVersion) error {
	if err := b.BlockTx.PutDIDVersion(ctx, v); err != nil {
		return err
	}
	k := b.known(v.DID)
	switch {
	case k.absent || k.versionOK && k.version.Version < v.Version:
	case k.versionOK:
		return nil
	default:
		latest, err := b.BlockTx.LatestDIDVersion(ctx, v.DID)
		if err != nil {
			return err
		}
		v = latest
	}
	e := b.opEntry(v.DID)
	e.version, e.versionOK, e.absent = v, true, false
	return nil
}
