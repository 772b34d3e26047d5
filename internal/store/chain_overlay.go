package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// overlay holds a block transaction's DID versions and nonces, the two
// writes every operation makes, in memory until the block commits, when
// flush writes them with a few multi-row statements. On SQLite each
// statement costs a parse (the driver prepares every statement anew), so
// two writes per operation, plus the savepoint around it, were most of
// the sequencer's time. Reads of the two tables inside the transaction
// look at the overlay first; a savepoint marks the overlay's length, and
// rolling back to it truncates the overlay. The rows flushed are exactly
// the rows the writes would have made one by one.
type overlay struct {
	log      []ovWrite        // in order of writing
	versions map[string][]int // DID -> its versions' positions in log, oldest first
	nonces   map[string][]int // signer -> its nonces' positions in log, oldest first
	// dbLatest is the highest version of a DID in the database (0: none),
	// for DIDs whose highest version this transaction has read. Only
	// this transaction writes the table, and it writes through the
	// overlay, so the database's highest version does not change.
	dbLatest map[string]int64
	// dbRows and dbNonces are the database's latest version of a DID (nil:
	// none) and nonce of a signer, for those Prefetch read.
	dbRows   map[string]*dbDIDVersion
	dbNonces map[string]int64
}

// ovWrite is one buffered write: a DID version, or a nonce.
type ovWrite struct {
	isNonce bool
	version dbDIDVersion
	signer  string
	nonce   int64
}

func newOverlay() overlay {
	return overlay{versions: make(map[string][]int), nonces: make(map[string][]int), dbLatest: make(map[string]int64),
		dbRows: make(map[string]*dbDIDVersion), dbNonces: make(map[string]int64)}
}

// truncate undoes the writes after the first n.
func (o *overlay) truncate(n int) {
	for i := len(o.log) - 1; i >= n; i-- {
		w := &o.log[i]
		m, key := o.versions, w.version.DID
		if w.isNonce {
			m, key = o.nonces, w.signer
		}
		pos := m[key]
		if pos = pos[:len(pos)-1]; len(pos) == 0 {
			delete(m, key)
		} else {
			m[key] = pos
		}
	}
	clear(o.log[n:])
	o.log = o.log[:n]
}

// latest returns the overlay's highest version of did.
func (o *overlay) latest(did string) (*dbDIDVersion, bool) {
	var best *dbDIDVersion
	for _, i := range o.versions[did] {
		if v := &o.log[i].version; best == nil || v.Version > best.Version {
			best = v
		}
	}
	return best, best != nil
}

// dbLatestVersion returns the highest version of did in the database,
// reading it once per transaction.
func (t *chainTx) dbLatestVersion(ctx context.Context, did string) (int64, error) {
	if n, ok := t.ov.dbLatest[did]; ok {
		return n, nil
	}
	if r := t.db.replay; r != nil {
		n := int64(r.get(did).version)
		t.ov.dbLatest[did] = n
		return n, nil
	}
	var n int64
	err := t.row(ctx, qMaxDIDVersion, did).Scan(&n)
	if err != nil {
		return 0, t.db.chainFail(err, "versions of "+did)
	}
	t.ov.dbLatest[did] = n
	return n, nil
}

var (
	qMaxDIDVersion    = newQuery("SELECT COALESCE(MAX(version), 0) FROM did_versions WHERE did = ?")
	qDIDVersionExists = newQuery("SELECT 1 FROM did_versions WHERE did = ? AND version = ?")
)

// PutDIDVersion implements registry.StateTx: Conflict if that version of
// the DID exists. The row is written when the block commits.
func (t *chainTx) PutDIDVersion(ctx context.Context, v registry.DIDVersion) error {
	what := v.DID + " version " + strconv.FormatUint(v.Version, 10)
	m, err := toDBDIDVersion(v)
	if err != nil {
		return err
	}
	if m.Version <= 0 {
		return errkind.New(errkind.Invalid, "%s: a version starts at 1", what)
	}
	for _, i := range t.ov.versions[v.DID] {
		if t.ov.log[i].version.Version == m.Version {
			return errkind.New(errkind.Conflict, "%s already exists", what)
		}
	}
	max, err := t.dbLatestVersion(ctx, v.DID)
	if err != nil {
		return err
	}
	if m.Version <= max {
		if t.db.replay != nil {
			// A replay keeps the latest version only; the machine puts
			// versions one after the other, so every one up to it exists.
			return errkind.New(errkind.Conflict, "%s already exists", what)
		}
		var one int
		err := t.row(ctx, qDIDVersionExists, v.DID, m.Version).Scan(&one)
		switch {
		case err == nil:
			return errkind.New(errkind.Conflict, "%s already exists", what)
		case !errors.Is(err, sql.ErrNoRows):
			return t.db.chainFail(err, what)
		}
	}
	t.ov.versions[v.DID] = append(t.ov.versions[v.DID], len(t.ov.log))
	t.ov.log = append(t.ov.log, ovWrite{version: m})
	return nil
}

// SetNonce implements registry.StateTx. The row is written when the
// block commits.
func (t *chainTx) SetNonce(_ context.Context, signerDID string, n uint64) error {
	v, err := toInt64(n, "nonce")
	if err != nil {
		return err
	}
	t.ov.nonces[signerDID] = append(t.ov.nonces[signerDID], len(t.ov.log))
	t.ov.log = append(t.ov.log, ovWrite{isNonce: true, signer: signerDID, nonce: v})
	return nil
}

// Nonce implements registry.StateReader: this transaction's last write,
// else the database's.
func (t *chainTx) Nonce(ctx context.Context, signerDID string) (uint64, error) {
	if pos := t.ov.nonces[signerDID]; len(pos) > 0 {
		return uint64(t.ov.log[pos[len(pos)-1]].nonce), nil
	}
	if n, ok := t.ov.dbNonces[signerDID]; ok {
		return uint64(n), nil
	}
	return t.state.Nonce(ctx, signerDID)
}

// LatestDIDVersion implements registry.StateReader: the highest version
// in the overlay or the database.
func (t *chainTx) LatestDIDVersion(ctx context.Context, did string) (registry.DIDVersion, error) {
	if m, ok := t.ov.latest(did); ok {
		// Putting a version read the database's highest.
		if m.Version > t.ov.dbLatest[did] {
			return m.domain()
		}
	}
	if m, ok := t.ov.dbRows[did]; ok {
		if m == nil {
			return registry.DIDVersion{}, errkind.New(errkind.NotFound, "%s not found", did)
		}
		return m.domain()
	}
	v, err := t.state.LatestDIDVersion(ctx, did)
	switch {
	case errors.Is(err, errkind.NotFound):
		t.ov.dbLatest[did] = 0
	case err == nil:
		t.ov.dbLatest[did] = int64(v.Version)
	}
	return v, err
}

// DIDVersion implements registry.StateReader.
func (t *chainTx) DIDVersion(ctx context.Context, did string, v uint64) (registry.DIDVersion, error) {
	for _, i := range t.ov.versions[did] {
		if m := &t.ov.log[i].version; uint64(m.Version) == v {
			return m.domain()
		}
	}
	return t.state.DIDVersion(ctx, did, v)
}

// DIDVersionAt implements registry.StateReader: the highest version whose
// block time is at or before t, in the overlay or the database.
func (t *chainTx) DIDVersionAt(ctx context.Context, did string, at time.Time) (registry.DIDVersion, error) {
	limit := dbTime(at)
	var best *dbDIDVersion
	for _, i := range t.ov.versions[did] {
		if m := &t.ov.log[i].version; !m.Time.After(limit) && (best == nil || m.Version > best.Version) {
			best = m
		}
	}
	if best != nil {
		if max, ok := t.ov.dbLatest[did]; ok && best.Version > max {
			return best.domain()
		}
	}
	v, err := t.state.DIDVersionAt(ctx, did, at)
	if best != nil && (errors.Is(err, errkind.NotFound) || err == nil && uint64(best.Version) > v.Version) {
		return best.domain()
	}
	return v, err
}

// flush writes the overlay: the DID versions, then each signer's last
// nonce, in multi-row statements; on a store replaying over another, it
// keeps them for the replay's index instead (see ReplayOver).
func (t *chainTx) flush(ctx context.Context) error {
	if r := t.db.replay; r != nil {
		w, err := r.writes(&t.ov)
		if err != nil {
			return err
		}
		t.replayed = &w
	} else if err := t.flushRows(ctx); err != nil {
		return err
	}
	t.ov.truncate(0)
	// Now in the database (or the replay's index).
	clear(t.ov.dbLatest)
	clear(t.ov.dbRows)
	clear(t.ov.dbNonces)
	return nil
}

// flushRows writes the overlay's rows.
func (t *chainTx) flushRows(ctx context.Context) error {
	var versions []*dbDIDVersion
	var signers []string // in order of first write
	for i := range t.ov.log {
		w := &t.ov.log[i]
		switch {
		case !w.isNonce:
			versions = append(versions, &w.version)
		case t.ov.nonces[w.signer][0] == i:
			signers = append(signers, w.signer)
		}
	}
	per := t.db.rowsPerStatement(7)
	for lo := 0; lo < len(versions); lo += per {
		hi := min(lo+per, len(versions))
		args := make([]any, 0, 7*(hi-lo))
		for _, m := range versions[lo:hi] {
			args = append(args, m.args()...)
		}
		if err := t.exec(ctx, "DID versions", insertRows("INSERT INTO did_versions ("+didVersionCols+") VALUES ",
			"(?, ?, ?, ?, ?, ?, ?)", hi-lo, ""), args...); err != nil {
			return err
		}
	}
	per = t.db.rowsPerStatement(2)
	for lo := 0; lo < len(signers); lo += per {
		hi := min(lo+per, len(signers))
		args := make([]any, 0, 2*(hi-lo))
		for _, s := range signers[lo:hi] {
			pos := t.ov.nonces[s]
			args = append(args, s, t.ov.log[pos[len(pos)-1]].nonce)
		}
		if err := t.exec(ctx, "nonces", insertRows("INSERT INTO nonces (signer, nonce) VALUES ", "(?, ?)", hi-lo,
			" ON CONFLICT (signer) DO UPDATE SET nonce = excluded.nonce"), args...); err != nil {
			return err
		}
	}
	return nil
}

// Prefetch reads the latest version and the nonce of each of dids in a
// few statements, so that the block's reads of them, and the check that
// a version put is new, cost none. The registry engine and replay call
// it, when a BlockTx has it, with the DIDs a block's operations touch.
func (t *chainTx) Prefetch(ctx context.Context, dids []string) error {
	if r := t.db.replay; r != nil {
		return r.prefetch(ctx, &t.ov, dids)
	}
	var todo []string
	seen := make(map[string]bool, len(dids))
	for _, d := range dids {
		if _, ok := t.ov.dbRows[d]; ok || seen[d] {
			continue
		}
		seen[d] = true
		if e, ok := t.db.latest.get(d); ok {
			t.ov.dbRows[d], t.ov.dbNonces[d] = e.row, e.nonce
			if _, ok := t.ov.dbLatest[d]; !ok {
				t.ov.dbLatest[d] = 0
				if e.row != nil {
					t.ov.dbLatest[d] = e.row.Version
				}
			}
			continue
		}
		todo = append(todo, d)
	}
	per := t.db.rowsPerStatement(1)
	for lo := 0; lo < len(todo); lo += per {
		chunk := todo[lo:min(lo+per, len(todo))]
		args := make([]any, len(chunk))
		for i, d := range chunk {
			args[i] = d
			t.ov.dbRows[d] = nil
			t.ov.dbNonces[d] = 0
		}
		in := strings.Repeat("?, ", len(chunk)-1) + "?"
		if err := t.prefetchRows(ctx, latestVersions(len(chunk)), args, func(rows *sql.Rows) error {
			m := new(dbDIDVersion)
			if err := m.scan(rows); err != nil {
				return err
			}
			t.ov.dbRows[m.DID] = m
			return nil
		}); err != nil {
			return err
		}
		if err := t.prefetchRows(ctx, newQuery("SELECT signer, nonce FROM nonces WHERE signer IN ("+in+")"), args, func(rows *sql.Rows) error {
			var (
				s string
				n int64
			)
			if err := rows.Scan(&s, &n); err != nil {
				return err
			}
			t.ov.dbNonces[s] = n
			return nil
		}); err != nil {
			return err
		}
		for _, d := range chunk {
			if _, ok := t.ov.dbLatest[d]; !ok {
				if m := t.ov.dbRows[d]; m != nil {
					t.ov.dbLatest[d] = m.Version
				} else {
					t.ov.dbLatest[d] = 0
				}
			}
		}
	}
	return nil
}

// latestVersions selects the latest version of each of n DIDs without
// reading the rows of older versions: SQLite finds each DID's highest
// version in the primary key's index, then reads that row (CROSS JOIN
// makes SQLite loop over the DIDs found), PostgreSQL seeks it with a LATERAL
// join over the DIDs.
func latestVersions(n int) query {
	in := strings.Repeat("?, ", n-1) + "?"
	values := strings.Repeat("(?), ", n-1) + "(?)"
	return query{
		sqlite: "SELECT v." + strings.ReplaceAll(didVersionCols, ", ", ", v.") + " FROM (SELECT did, MAX(version) AS version FROM did_versions WHERE did IN (" +
			in + ") GROUP BY did) AS m CROSS JOIN did_versions AS v ON v.did = m.did AND v.version = m.version",
		postgres: dollars("SELECT v." + strings.ReplaceAll(didVersionCols, ", ", ", v.") + " FROM (VALUES " + values + ") AS d(did) CROSS JOIN LATERAL (SELECT " +
			didVersionCols + " FROM did_versions WHERE did_versions.did = d.did ORDER BY version DESC LIMIT 1) AS v"),
	}
}

func (t *chainTx) prefetchRows(ctx context.Context, q query, args []any, scan func(*sql.Rows) error) error {
	rows, err := t.conn.QueryContext(ctx, t.db.text(q), args...)
	if err != nil {
		return t.db.chainFail(err, "prefetch state")
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return t.db.chainFail(err, "prefetch state")
		}
	}
	return t.db.chainFail(rows.Err(), "prefetch state")
}
