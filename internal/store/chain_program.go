package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// The programs' state (registry.Program) is one ordered key-value table,
// program_state. A block transaction keeps its writes to it in memory,
// in progOverlay, and writes them at commit in multi-row statements, as
// it does DID versions and nonces: a ballot or a transfer writes a few
// keys, and a statement per key would cost more than the rest of the
// operation.

var (
	qProgramGet  = newQuery("SELECT value FROM program_state WHERE key = ?")
	qProgramScan = newQuery("SELECT key, value FROM program_state WHERE key >= ? AND key < ? AND key > ? ORDER BY key LIMIT ?")
)

// maxProgramScan bounds one scan.
const maxProgramScan = 10000

// ProgramGet implements registry.StateReader.
func (s state) ProgramGet(ctx context.Context, key string) ([]byte, error) {
	var v string
	err := s.row(ctx, qProgramGet, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errkind.New(errkind.NotFound, "state key %s not found", key)
	}
	if err != nil {
		return nil, s.db.chainFail(err, "state key "+key)
	}
	return []byte(v), nil
}

// ProgramScan implements registry.StateReader.
func (s state) ProgramScan(ctx context.Context, prefix, after string, limit int) ([]registry.ProgramEntry, error) {
	if limit <= 0 || limit > maxProgramScan {
		limit = maxProgramScan
	}
	rows, err := s.conn.QueryContext(ctx, s.db.text(qProgramScan), prefix, registry.ProgramPrefixEnd(prefix), after, limit)
	if err != nil {
		return nil, s.db.chainFail(err, "scan of state "+prefix)
	}
	defer rows.Close()
	var out []registry.ProgramEntry
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, s.db.chainFail(err, "scan of state "+prefix)
		}
		out = append(out, registry.ProgramEntry{Key: k, Value: []byte(v)})
	}
	if err := rows.Err(); err != nil {
		return nil, s.db.chainFail(err, "scan of state "+prefix)
	}
	return out, nil
}

// progOverlay holds a block's writes to program_state, and the values
// before the block of keys read ahead (PrefetchProgram).
type progOverlay struct {
	vals map[string]progVal // the block's value of each key it wrote
	log  []progUndo         // in order of writing, to undo to a savepoint
	// db holds the database's value (deleted: none) of keys read ahead.
	// The block writes only through vals, so they stay the database's
	// until the commit.
	db map[string]progVal
}

// progVal is a key's value in the overlay; deleted hides the database's.
type progVal struct {
	value   []byte
	deleted bool
}

// progUndo restores a key's overlay value before one write.
type progUndo struct {
	key  string
	had  bool
	prev progVal
}

func newProgOverlay() progOverlay {
	return progOverlay{vals: make(map[string]progVal), db: make(map[string]progVal)}
}

func (o *progOverlay) set(key string, v progVal) {
	prev, had := o.vals[key]
	o.log = append(o.log, progUndo{key: key, had: had, prev: prev})
	o.vals[key] = v
}

// truncate undoes the writes after the first n.
func (o *progOverlay) truncate(n int) {
	for i := len(o.log) - 1; i >= n; i-- {
		u := o.log[i]
		if u.had {
			o.vals[u.key] = u.prev
		} else {
			delete(o.vals, u.key)
		}
	}
	clear(o.log[n:])
	o.log = o.log[:n]
}

// ProgramPut implements registry.StateTx.
func (t *chainTx) ProgramPut(_ context.Context, key string, value []byte) error {
	t.prog.set(key, progVal{value: slices.Clone(value)})
	return nil
}

// ProgramDelete implements registry.StateTx.
func (t *chainTx) ProgramDelete(_ context.Context, key string) error {
	t.prog.set(key, progVal{deleted: true})
	return nil
}

// ProgramGet implements registry.StateReader: the block's own writes
// first.
func (t *chainTx) ProgramGet(ctx context.Context, key string) ([]byte, error) {
	if v, ok := t.prog.vals[key]; ok {
		if v.deleted {
			return nil, errkind.New(errkind.NotFound, "state key %s not found", key)
		}
		return slices.Clone(v.value), nil
	}
	if v, ok := t.prog.db[key]; ok {
		if v.deleted {
			return nil, errkind.New(errkind.NotFound, "state key %s not found", key)
		}
		return slices.Clone(v.value), nil
	}
	return t.state.ProgramGet(ctx, key)
}

// PrefetchProgram reads the values of keys in a few statements, so that
// the block's reads of them cost none.
func (t *chainTx) PrefetchProgram(ctx context.Context, keys []string) error {
	var todo []string
	for _, k := range keys {
		if _, ok := t.prog.vals[k]; ok {
			continue
		}
		if _, ok := t.prog.db[k]; ok {
			continue
		}
		t.prog.db[k] = progVal{deleted: true} // unless the database has it
		todo = append(todo, k)
	}
	per := t.db.rowsPerStatement(1)
	for lo := 0; lo < len(todo); lo += per {
		chunk := todo[lo:min(lo+per, len(todo))]
		args := make([]any, len(chunk))
		for i, k := range chunk {
			args[i] = k
		}
		q := newQuery("SELECT key, value FROM program_state WHERE key IN (" + strings.Repeat("?, ", len(chunk)-1) + "?)")
		if err := t.prefetchRows(ctx, q, args, func(rows *sql.Rows) error {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				return err
			}
			t.prog.db[k] = progVal{value: []byte(v)}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// ProgramScan implements registry.StateReader: the database's entries
// with the block's writes laid over them.
func (t *chainTx) ProgramScan(ctx context.Context, prefix, after string, limit int) ([]registry.ProgramEntry, error) {
	if limit <= 0 || limit > maxProgramScan {
		limit = maxProgramScan
	}
	var mine []string // the overlay's keys in range
	for k := range t.prog.vals {
		if strings.HasPrefix(k, prefix) && k > after {
			mine = append(mine, k)
		}
	}
	// Each overlay key can hide at most one database row.
	db, err := t.state.ProgramScan(ctx, prefix, after, limit+len(mine))
	if err != nil {
		return nil, err
	}
	out := make([]registry.ProgramEntry, 0, len(db)+len(mine))
	for _, e := range db {
		if _, ok := t.prog.vals[e.Key]; !ok {
			out = append(out, e)
		}
	}
	for _, k := range mine {
		if v := t.prog.vals[k]; !v.deleted {
			out = append(out, registry.ProgramEntry{Key: k, Value: slices.Clone(v.value)})
		}
	}
	slices.SortFunc(out, func(a, b registry.ProgramEntry) int { return strings.Compare(a.Key, b.Key) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// flushPrograms writes the overlay to program_state, keys in order.
func (t *chainTx) flushPrograms(ctx context.Context) error {
	keys := make([]string, 0, len(t.prog.vals))
	for k := range t.prog.vals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var puts, dels []any
	for _, k := range keys {
		if v := t.prog.vals[k]; v.deleted {
			dels = append(dels, k)
		} else {
			puts = append(puts, k, string(v.value))
		}
	}
	per := t.db.rowsPerStatement(2)
	for lo := 0; lo < len(puts)/2; lo += per {
		hi := min(lo+per, len(puts)/2)
		if err := t.exec(ctx, "program state", insertRows("INSERT INTO program_state (key, value) VALUES ", "(?, ?)", hi-lo,
			" ON CONFLICT (key) DO UPDATE SET value = excluded.value"), puts[2*lo:2*hi]...); err != nil {
			return err
		}
	}
	per = t.db.rowsPerStatement(1)
	for lo := 0; lo < len(dels); lo += per {
		hi := min(lo+per, len(dels))
		q := "DELETE FROM program_state WHERE key IN (?" + strings.Repeat(", ?", hi-lo-1) + ")"
		if err := t.exec(ctx, "program state", newQuery(q), dels[lo:hi]...); err != nil {
			return err
		}
	}
	t.prog.truncate(0)
	clear(t.prog.db) // now in the database
	return nil
}

// ProgramGet implements registry.StateReader.
func (db *DB) ProgramGet(ctx context.Context, key string) ([]byte, error) {
	return db.state().ProgramGet(ctx, key)
}

// ProgramScan implements registry.StateReader.
func (db *DB) ProgramScan(ctx context.Context, prefix, after string, limit int) ([]registry.ProgramEntry, error) {
	return db.state().ProgramScan(ctx, prefix, after, limit)
}
