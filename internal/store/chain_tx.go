package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

var _ registry.BlockTx = (*chainTx)(nil)

// chainTx is the transaction of one block. Its reads (those of state)
// go through the transaction, and the overlay for DID versions and
// nonces, and so see its writes.
//
// Savepoints are set in the database lazily: Savepoint marks the
// overlay, and a savepoint is set in the database only before the first
// statement that writes there while it is open. An operation that only
// writes DID versions and nonces (most of them) costs no statement.
type chainTx struct {
	state
	tx         *sql.Tx
	ov         overlay
	prog       progOverlay
	savepoints []savepoint // open, oldest first; no name twice
	// sqlOpen are the savepoints open in the database, oldest first:
	// those of the savepoints set there (a prefix of savepoints), then
	// savepoints released since, to release there before the next write.
	sqlOpen []string
	schemas bool // a schema was put: the schema read cache is stale at commit
	// replayed are the DID versions and nonces flush took, on a store
	// replaying over another (ReplayOver), for its index after the commit.
	replayed *replayWrites
}

// savepoint is an open savepoint: its name, the overlay's length when it
// was set, and its position in sqlOpen (-1 until set in the database).
type savepoint struct {
	name  string
	mark  int
	pmark int // the program overlay's length
	sql   int
}

// The operation statuses: committed (in block_ops, which OpStatus reads
// first) and rejected (in op_status).
const (
	opCommitted = "committed"
	opRejected  = "rejected"
)

var (
	// A new accreditation takes the next seq; a replaced one keeps its own.
	qPutAccreditation = newQuery("INSERT INTO accreditations (" + accreditationCols + ", seq) " +
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM accreditations)) " +
		"ON CONFLICT (id) DO UPDATE SET issuer = excluded.issuer, accreditor = excluded.accreditor, " +
		"types = excluded.types, districts = excluded.districts, valid_from = excluded.valid_from, " +
		"valid_until = excluded.valid_until, may_delegate = excluded.may_delegate, delegated = excluded.delegated, " +
		"status = excluded.status, height = excluded.height, time = excluded.time")
	qAddAccreditationEvent = newQuery("INSERT INTO accreditation_events (" + accreditationEventCols + ") VALUES (?, ?, ?, ?, ?, ?, ?)")
	qPutSchema             = newQuery("INSERT INTO schemas (" + schemaCols + ") VALUES (?, ?, ?, ?, ?, ?, ?)")
	qPutAnchor             = newQuery("INSERT INTO anchors (" + anchorCols + ") VALUES (?, ?, ?, ?, ?, ?, ?)")
	qPutBlock              = newQuery("INSERT INTO blocks (height, hash, previous, time, op_count, ops_root, state_root, " +
		"proposer, header, signatures) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	// A rejection never hides a commit: OpStatus reads block_ops first,
	// so a replayed operation is rejected, and the original stays
	// committed. (Rows of op_status committed before migration 00014 are
	// not overwritten either.)
	qPutRejected = newQuery("INSERT INTO op_status (hash, status, kind, reason, time) VALUES (?, '" + opRejected + "', ?, ?, ?) " +
		"ON CONFLICT (hash) DO UPDATE SET kind = excluded.kind, reason = excluded.reason, time = excluded.time " +
		"WHERE op_status.status = '" + opRejected + "'")
)

// exec runs a write, after setting in the database the savepoints it
// must be undone to.
func (t *chainTx) exec(ctx context.Context, what string, q query, args ...any) error {
	if err := t.syncSavepoints(ctx, what); err != nil {
		return err
	}
	_, err := t.conn.ExecContext(ctx, t.db.text(q), args...)
	return t.db.chainFail(err, what)
}

// syncSavepoints makes the database's savepoints those open: it releases
// there those released since (one RELEASE releases the later ones too)
// and sets there those not set yet, in one round trip.
func (t *chainTx) syncSavepoints(ctx context.Context, what string) error {
	k := 0
	for k < len(t.savepoints) && t.savepoints[k].sql >= 0 {
		k++
	}
	if k == len(t.sqlOpen) && k == len(t.savepoints) {
		return nil
	}
	var stmt strings.Builder
	if k < len(t.sqlOpen) {
		stmt.WriteString(`RELEASE SAVEPOINT "` + t.sqlOpen[k] + `"; `)
		t.sqlOpen = t.sqlOpen[:k]
	}
	for i := k; i < len(t.savepoints); i++ {
		stmt.WriteString(`SAVEPOINT "` + t.savepoints[i].name + `"; `)
		t.savepoints[i].sql = len(t.sqlOpen)
		t.sqlOpen = append(t.sqlOpen, t.savepoints[i].name)
	}
	if _, err := t.tx.ExecContext(ctx, stmt.String()); err != nil {
		return t.db.chainFail(err, "savepoints before "+what)
	}
	return nil
}

// PutAccreditation implements registry.StateTx: it inserts a, or replaces
// the accreditation with its ID (which keeps its place in Accreditations).
func (t *chainTx) PutAccreditation(ctx context.Context, a registry.Accreditation) error {
	m, err := toDBAccreditation(a)
	if err != nil {
		return err
	}
	return t.exec(ctx, "accreditation "+a.ID, qPutAccreditation, m.args()...)
}

// AddAccreditationEvent implements registry.StateTx.
func (t *chainTx) AddAccreditationEvent(ctx context.Context, e registry.AccreditationEvent) error {
	m, err := toDBAccreditationEvent(e)
	if err != nil {
		return err
	}
	return t.exec(ctx, "event of accreditation "+e.Accreditation, qAddAccreditationEvent, m.args()...)
}

// PutSchema implements registry.StateTx: Conflict if the ID exists.
func (t *chainTx) PutSchema(ctx context.Context, s registry.Schema) error {
	m, err := toDBSchema(s)
	if err != nil {
		return err
	}
	t.schemas = true
	return t.exec(ctx, "schema "+s.ID, qPutSchema, m.args()...)
}

// PutAnchor implements registry.StateTx: Conflict if the root exists.
func (t *chainTx) PutAnchor(ctx context.Context, a registry.Anchor) error {
	m, err := toDBAnchor(a)
	if err != nil {
		return err
	}
	return t.exec(ctx, "anchor "+a.Root, qPutAnchor, m.args()...)
}

// checkSavepoint accepts simple identifiers: a letter or underscore, then
// letters, digits and underscores, at most 63 bytes.
func checkSavepoint(name string) error {
	ok := name != "" && len(name) <= 63
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9'
	}
	if !ok {
		return errkind.New(errkind.Invalid, "savepoint name %q: want a letter or _, then letters, digits or _ (at most 63)", name)
	}
	return nil
}

// Savepoint implements registry.BlockTx. Savepoints nest, but setting one
// whose name is still open first releases that one (keeping its writes,
// and releasing those set after it): an engine that sets the same name
// before each operation keeps one savepoint open, not thousands, which
// would slow every later write.
//
// On PostgreSQL a failed statement aborts the transaction until it rolls
// back to a savepoint: after a write fails, call RollbackTo before
// anything else.
func (t *chainTx) Savepoint(_ context.Context, name string) error {
	if err := checkSavepoint(name); err != nil {
		return err
	}
	if i := slices.IndexFunc(t.savepoints, func(s savepoint) bool { return s.name == name }); i >= 0 {
		t.savepoints = t.savepoints[:i]
	}
	t.savepoints = append(t.savepoints, savepoint{name: name, mark: len(t.ov.log), pmark: len(t.prog.log), sql: -1})
	return nil
}

// ReleaseSavepoint releases the savepoint name, and those set after it,
// keeping their writes; Invalid if it is not open. The registry engine
// calls it, when a BlockTx has it, after each operation it accepts. It
// costs no round trip: a savepoint set in the database is released there
// with the next write.
func (t *chainTx) ReleaseSavepoint(_ context.Context, name string) error {
	i, err := t.open(name)
	if err != nil {
		return err
	}
	t.savepoints = t.savepoints[:i]
	return nil
}

// RollbackTo implements registry.BlockTx: it undoes the writes made since
// the savepoint name was set, which stays set (so that it can be rolled
// back to again); Invalid if no savepoint of that name is open.
func (t *chainTx) RollbackTo(ctx context.Context, name string) error {
	i, err := t.open(name)
	if err != nil {
		return err
	}
	sp := t.savepoints[i]
	t.ov.truncate(sp.mark)
	t.prog.truncate(sp.pmark)
	// Those set after it, released or not, are gone.
	t.savepoints = t.savepoints[:i+1]
	if sp.sql < 0 {
		return nil // nothing was written to the database since
	}
	if _, err := t.tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT "`+name+`"`); err != nil {
		return t.db.chainFail(err, "roll back to savepoint "+name)
	}
	t.sqlOpen = t.sqlOpen[:sp.sql+1]
	return nil
}

// open returns the position of the open savepoint name.
func (t *chainTx) open(name string) (int, error) {
	if err := checkSavepoint(name); err != nil {
		return 0, err
	}
	i := slices.IndexFunc(t.savepoints, func(s savepoint) bool { return s.name == name })
	if i < 0 {
		return 0, errkind.New(errkind.Invalid, "no open savepoint %q", name)
	}
	return i, nil
}

// rowsPerStatement returns how many rows of cols columns one statement
// writes or reads: on PostgreSQL, many, for few round trips; on SQLite,
// about 140 parameters' worth, as its driver finds each parameter's value
// by a scan of all of them (time quadratic in their number: 700
// parameters cost more to bind than the rows cost to write).
func (db *DB) rowsPerStatement(cols int) int {
	if db.dialect == Postgres {
		return 2500 / cols // the limit is 65,535 parameters
	}
	return max(1, 140/cols)
}

// PutBlock implements registry.BlockTx. It stores the header (as its
// canonical JSON, with the time in UTC, which is what Head and Block
// return; and Header.Hash), the signatures and the operations in order,
// with their kinds: OpStatus reports them committed, over any rejection. Invalid if
// the header's OpCount, the operations and their hashes do not match in
// number; Conflict if the height, or an operation, is already stored.
func (t *chainTx) PutBlock(ctx context.Context, b registry.Block, opHashes []string) error {
	what := "block " + strconv.FormatUint(b.Header.Height, 10)
	if len(opHashes) != len(b.Ops) || b.Header.OpCount != len(b.Ops) {
		return errkind.New(errkind.Invalid, "%s: header counts %d operations; got %d operations and %d hashes",
			what, b.Header.OpCount, len(b.Ops), len(opHashes))
	}
	m, err := toDBBlock(b)
	if err != nil {
		return err
	}
	if err := t.exec(ctx, what, qPutBlock, m.args()...); err != nil {
		return err
	}
	per := t.db.rowsPerStatement(5)
	for lo := 0; lo < len(b.Ops); lo += per {
		hi := min(lo+per, len(b.Ops))
		ops := make([]any, 0, 5*(hi-lo))
		for i := lo; i < hi; i++ {
			ops = append(ops, opHashes[i], m.Height, i, string(opKind(b.Ops[i])), b.Ops[i])
		}
		if err := t.exec(ctx, "operations of "+what, insertRows(
			"INSERT INTO block_ops (hash, height, idx, kind, jws) VALUES ", "(?, ?, ?, ?, ?)", hi-lo, ""), ops...); err != nil {
			return err
		}
	}
	return nil
}

// insertRows returns an INSERT of n rows: head, n times row, then tail.
func insertRows(head, row string, n int, tail string) query {
	var b strings.Builder
	b.Grow(len(head) + n*(len(row)+2) + len(tail))
	b.WriteString(head)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	b.WriteString(tail)
	return newQuery(b.String())
}

// opKind returns the kind of the operation in a compact JWS, whose
// payload is a registry.Operation, or "" if it does not decode: op_status
// keeps the kind for readers, the chain does not depend on it.
func opKind(jws string) registry.Kind {
	_, rest, _ := strings.Cut(jws, ".")
	payload, _, _ := strings.Cut(rest, ".")
	// The canonical encoding starts {"chain":"…","kind":"…": decoding
	// the start of the payload is enough. A string value cannot hold the
	// marker (its quotes would be escaped), and kinds are plain names.
	start := payload[:min(len(payload), 256)/4*4]
	if b, err := base64.RawURLEncoding.DecodeString(start); err == nil {
		const marker = `,"kind":"`
		if i := bytes.Index(b, []byte(marker)); i >= 0 {
			if j := bytes.IndexByte(b[i+len(marker):], '"'); j >= 0 {
				return registry.Kind(b[i+len(marker) : i+len(marker)+j])
			}
		}
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return ""
	}
	var op struct {
		Kind registry.Kind `json:"kind"`
	}
	if json.Unmarshal(b, &op) != nil {
		return ""
	}
	return op.Kind
}

// PutOpStatus implements registry.BlockTx: it records a rejected
// operation (Invalid for any other status: PutBlock records commits). A
// later rejection of the same operation replaces the reason; a commit is
// never replaced, so rejecting the replay of a committed operation leaves
// its status committed.
func (t *chainTx) PutOpStatus(ctx context.Context, s registry.OpStatus) error {
	if s.Status != opRejected {
		return errkind.New(errkind.Invalid, "operation %s: PutOpStatus records %s operations, not %q", s.Hash, opRejected, s.Status)
	}
	return t.exec(ctx, "operation "+s.Hash, qPutRejected, s.Hash, string(s.Kind), s.Reason, dbTime(s.Time))
}
