package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// ReplayOver makes db, an empty migrated store, the one `urbis registry
// verify` replays live's chain into, without writing the two tables every
// operation writes: of each DID and signer db keeps in memory only its
// latest version, nonce and the hashes of its version rows (56 bytes),
// and it reads a version's document, when the replay needs it,
// from live, after checking the row against the hash the replay made of
// it. Its StateDigest reads those two tables from live, checks every row
// against the replay's hashes (so a row edited, added or removed there
// is a *registry.VerifyError) and then gives the digest a store holding
// the replayed state would give. Every other table is written to db as
// usual. Call it before the first block, once.
func (db *DB) ReplayOver(ctx context.Context, live *DB) error {
	if _, err := db.Head(ctx); !errors.Is(err, errkind.NotFound) {
		if err == nil {
			err = errkind.New(errkind.Invalid, "the store to replay into already holds blocks")
		}
		return err
	}
	db.replay = &replayIndex{live: live, dids: make(map[replayKey]replayEntry)}
	return nil
}

// replayIndex is what a replay keeps of the DID versions and nonces it
// has written. The read-ahead of blocks reads it while a block commits.
type replayIndex struct {
	live *DB
	mu   sync.RWMutex
	dids map[replayKey]replayEntry
	// versioned and signers count the entries with a version and with a
	// nonce.
	versioned, signers int
}

// replayKey is the first half of the SHA-256 of a DID.
type replayKey [16]byte

func keyOf(did string) replayKey {
	h := sha256.Sum256([]byte(did))
	return replayKey(h[:16])
}

// rowHash is the first half of the SHA-256 of a row's digest line.
type rowHash [16]byte

// replayEntry is 40 bytes, 56 with its key in the map: 127 MiB of heap
// for a million DIDs with the map's spare room (measured).
type replayEntry struct {
	version  uint32 // the latest version; 0: none
	hasNonce bool
	nonce    int64
	// latest is the start of the latest version's row hash: a row of live
	// that passes this check but was edited fails the chain's at the end,
	// so it needs no more than to make such a failure early and plain.
	latest [8]byte
	chain  rowHash // every version's row, oldest first (see chainHash)
}

func (h rowHash) short() (s [8]byte) { return [8]byte(h[:8]) }

// chainHash extends the hash of a DID's versions by one row.
func chainHash(prev, row rowHash) rowHash {
	h := sha256.Sum256(append(prev[:], row[:]...))
	return rowHash(h[:16])
}

// digestLine is the row's line in the state digest.
func (m *dbDIDVersion) digestLine() ([]byte, error) {
	line, err := json.Marshal([]any{m.DID, m.Version, m.Document, m.Deactivated, m.Height, m.Time.UTC().Format(time.RFC3339Nano), m.OpHash})
	if err != nil {
		return nil, corrupt(err, "row of "+m.DID)
	}
	return line, nil
}

func hashLine(line []byte) rowHash {
	h := sha256.Sum256(line)
	return rowHash(h[:16])
}

func (r *replayIndex) get(did string) replayEntry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.dids[keyOf(did)]
}

// edited is the error for a row of live that differs from the replay.
func edited(format string, args ...any) error {
	return &registry.VerifyError{Msg: fmt.Sprintf(format, args...) + ": a state row was edited, added or removed"}
}

// lacks is the error for a version the replay wrote that live does not hold.
func lacks(did string, version uint32) error {
	return edited("the live store lacks version %d of %s, which the replay wrote", version, did)
}

// check returns m if it is the row the replay wrote as e's latest version.
func (r *replayIndex) check(m *dbDIDVersion, e replayEntry) (*dbDIDVersion, error) {
	line, err := m.digestLine()
	if err != nil {
		return nil, err
	}
	if hashLine(line).short() != e.latest {
		return nil, edited("the live store's version %d of %s is not the one the replay wrote", m.Version, m.DID)
	}
	return m, nil
}

// latestRow returns the latest version of did the replay wrote (NotFound
// if none), read from live and checked.
func (r *replayIndex) latestRow(ctx context.Context, did string) (*dbDIDVersion, error) {
	e := r.get(did)
	if e.version == 0 {
		return nil, errkind.New(errkind.NotFound, "%s not found", did)
	}
	m := new(dbDIDVersion)
	err := m.scan(r.live.state().row(ctx, qDIDVersion, did, int64(e.version)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, lacks(did, e.version)
	}
	if err != nil {
		return nil, r.live.chainFail(err, did)
	}
	return r.check(m, e)
}

// The StateReader methods of a store replaying over live.

func (r *replayIndex) latestDIDVersion(ctx context.Context, did string) (registry.DIDVersion, error) {
	m, err := r.latestRow(ctx, did)
	if err != nil {
		return registry.DIDVersion{}, err
	}
	return m.domain()
}

// didVersion reads an earlier version from live unchecked (the state
// digest checks it); the engine's state machine reads only the latest.
func (r *replayIndex) didVersion(ctx context.Context, did string, v uint64) (registry.DIDVersion, error) {
	e := r.get(did)
	switch {
	case e.version == 0 || v == 0 || v > uint64(e.version):
		return registry.DIDVersion{}, errkind.New(errkind.NotFound, "%s version %d not found", did, v)
	case v == uint64(e.version):
		return r.latestDIDVersion(ctx, did)
	}
	return r.live.state().DIDVersion(ctx, did, v)
}

// didVersionAt: live's versions after the replay's latest are later
// than it, so live's answer for a time before the latest is the replay's.
func (r *replayIndex) didVersionAt(ctx context.Context, did string, t time.Time) (registry.DIDVersion, error) {
	latest, err := r.latestDIDVersion(ctx, did)
	if err != nil || !latest.Time.After(dbTime(t)) {
		return latest, err
	}
	return r.live.state().DIDVersionAt(ctx, did, t)
}

func (r *replayIndex) nonce(signer string) uint64 {
	return uint64(r.get(signer).nonce)
}

// prefetch fills the overlay of a block transaction with the latest
// version and nonce of each of dids, the versions read from live in a
// few statements and checked.
func (r *replayIndex) prefetch(ctx context.Context, ov *overlay, dids []string) error {
	type want struct {
		did string
		e   replayEntry
	}
	var todo []want
	for _, d := range dids {
		if _, ok := ov.dbRows[d]; ok {
			continue
		}
		e := r.get(d)
		ov.dbRows[d], ov.dbNonces[d] = nil, e.nonce
		if _, ok := ov.dbLatest[d]; !ok {
			ov.dbLatest[d] = int64(e.version)
		}
		if e.version > 0 {
			todo = append(todo, want{d, e})
		}
	}
	live := r.live
	per := live.rowsPerStatement(2)
	for lo := 0; lo < len(todo); lo += per {
		chunk := todo[lo:min(lo+per, len(todo))]
		args := make([]any, 0, 2*len(chunk))
		for _, w := range chunk {
			args = append(args, w.did, int64(w.e.version))
		}
		rows, err := live.sql.QueryContext(ctx, live.text(versionsByKey(len(chunk))), args...)
		if err != nil {
			return live.chainFail(err, "prefetch state")
		}
		got := make(map[string]*dbDIDVersion, len(chunk))
		for rows.Next() {
			m := new(dbDIDVersion)
			if err := m.scan(rows); err != nil {
				rows.Close()
				return live.chainFail(err, "prefetch state")
			}
			got[m.DID] = m
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return live.chainFail(err, "prefetch state")
		}
		for _, w := range chunk {
			m, ok := got[w.did]
			if !ok || m.Version != int64(w.e.version) {
				return lacks(w.did, w.e.version)
			}
			if ov.dbRows[w.did], err = r.check(m, w.e); err != nil {
				return err
			}
		}
	}
	return nil
}

// versionsByKey selects n given versions, (did, version) pairs, each by
// the primary key (CROSS JOIN makes SQLite loop over the pairs).
func versionsByKey(n int) query {
	pairs := strings.Repeat("(?, CAST(? AS BIGINT)), ", n-1) + "(?, CAST(? AS BIGINT))"
	q := func(join string) string {
		return "SELECT v." + strings.ReplaceAll(didVersionCols, ", ", ", v.") + " FROM (VALUES " + pairs +
			") AS k " + join + " did_versions AS v ON v.did = k.column1 AND v.version = k.column2"
	}
	return query{sqlite: q("CROSS JOIN"), postgres: dollars(q("JOIN"))}
}

// replayWrites are a block's DID versions and nonces, which the index
// takes once the block commits.
type replayWrites struct {
	versions []replayVersion
	nonces   map[string]int64
}

type replayVersion struct {
	did     string
	version int64
	row     rowHash
}

// writes takes the overlay's DID versions and last nonces.
func (r *replayIndex) writes(ov *overlay) (replayWrites, error) {
	w := replayWrites{nonces: make(map[string]int64, len(ov.nonces))}
	for i := range ov.log {
		o := &ov.log[i]
		if o.isNonce {
			w.nonces[o.signer] = o.nonce
			continue
		}
		if o.version.Version > math.MaxUint32 {
			return w, errkind.New(errkind.Internal, "%s has version %d; a replay keeps versions up to %d", o.version.DID, o.version.Version, uint32(math.MaxUint32))
		}
		line, err := o.version.digestLine()
		if err != nil {
			return w, err
		}
		w.versions = append(w.versions, replayVersion{o.version.DID, o.version.Version, hashLine(line)})
	}
	return w, nil
}

// commit records a committed block's writes.
func (r *replayIndex) commit(w replayWrites) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range w.versions {
		k := keyOf(v.did)
		e := r.dids[k]
		if e.version == 0 {
			r.versioned++
		}
		e.version, e.latest, e.chain = uint32(v.version), v.row.short(), chainHash(e.chain, v.row)
		r.dids[k] = e
	}
	for s, n := range w.nonces {
		k := keyOf(s)
		e := r.dids[k]
		if !e.hasNonce {
			r.signers++
		}
		e.nonce, e.hasNonce = n, true
		r.dids[k] = e
	}
}

// stateDigest is StateDigest of a store replaying over live: the DID
// versions and nonces read from live (in one snapshot) and checked
// against the index, the other tables from db's transaction tx.
func (r *replayIndex) stateDigest(ctx context.Context, db *DB, tx *sql.Tx) (string, error) {
	live := r.live
	opts := &sql.TxOptions{ReadOnly: true}
	if live.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	ltx, err := live.sql.BeginTx(ctx, opts)
	if err != nil {
		return "", live.chainFail(err, "state digest")
	}
	defer ltx.Rollback()
	r.mu.RLock()
	defer r.mu.RUnlock()
	h := sha256.New()

	// DID versions, in (did, version) order: each DID's rows chained.
	var (
		cur     string
		chain   rowHash
		last    rowHash
		version int64
		dids    int
	)
	done := func() error {
		if cur == "" {
			return nil
		}
		dids++
		e := r.dids[keyOf(cur)]
		switch {
		case e.version == 0:
			return edited("the live store holds versions of %s, which no replayed operation created", cur)
		case int64(e.version) != version:
			return edited("the live store holds versions of %s up to %d; the replay wrote up to %d", cur, version, e.version)
		case e.chain != chain || e.latest != last.short():
			return edited("the live store's versions of %s (1 to %d) are not those the replay wrote", cur, version)
		}
		return nil
	}
	err = live.digestTable(ctx, ltx, digestTables[0], h, func(vals []any, line []byte) error {
		did, v := vals[0].(string), vals[1].(int64)
		if did != cur {
			if err := done(); err != nil {
				return err
			}
			cur, chain = did, rowHash{}
		}
		last = hashLine(line)
		chain, version = chainHash(chain, last), v
		return nil
	})
	if err == nil {
		err = done()
	}
	if err != nil {
		return "", err
	}
	if dids != r.versioned {
		return "", edited("the live store holds versions of %d DIDs; the replay created %d", dids, r.versioned)
	}

	signers := 0
	err = live.digestTable(ctx, ltx, digestTables[1], h, func(vals []any, _ []byte) error {
		s, n := vals[0].(string), vals[1].(int64)
		signers++
		if e := r.dids[keyOf(s)]; !e.hasNonce || e.nonce != n {
			return edited("the live store's nonce of %s is %d; the replay's is %s", s, n, nonceText(e))
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if signers != r.signers {
		return "", edited("the live store holds nonces of %d signers; the replay set nonces of %d", signers, r.signers)
	}

	for _, t := range digestTables[2:] {
		if err := db.digestTable(ctx, tx, t, h, nil); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func nonceText(e replayEntry) string {
	if !e.hasNonce {
		return "none"
	}
	return strconv.FormatInt(e.nonce, 10)
}
