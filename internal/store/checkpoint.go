package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// SQLite's write-ahead log is copied back into the database file by
// checkpoints. SQLite runs one by default inside the commit that takes
// the log past 1,000 pages, on the committing connection: the registry's
// sequencer would wait for it, block after block. Instead, automatic
// checkpoints are off (wal_autocheckpoint(0) in sqlitePragmas) and a
// goroutine of the DB runs them beside the writers.
const (
	// checkpointEvery is how often the checkpointer copies what the log
	// holds (a PASSIVE checkpoint: it waits for nobody, and nobody waits
	// for it).
	checkpointEvery = 100 * time.Millisecond
	// checkpointRestartFrames is the log size, in pages, past which the
	// checkpointer also makes the next writer start the log over (a
	// RESTART checkpoint, which waits for readers of old frames and holds
	// writers back while it finishes). A log written without pause is
	// never wholly copied at the moment a writer begins, so without it
	// the log would only grow.
	checkpointRestartFrames = 16_000
)

// checkpointer runs the checkpoints of a SQLite database every period,
// restarting the log past restartFrames, until stop is closed; then it
// closes done.
type checkpointer struct {
	period        time.Duration
	restartFrames int
	stop          chan struct{}
	done          chan struct{}
	closing       sync.Once
}

func startCheckpointer(db *sql.DB, period time.Duration, restartFrames int) *checkpointer {
	c := &checkpointer{period: period, restartFrames: restartFrames, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run(db)
	return c
}

func (c *checkpointer) run(db *sql.DB) {
	defer close(c.done)
	tick := time.NewTicker(c.period)
	defer tick.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-c.stop
		cancel()
	}()
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		c.once(ctx, db)
	}
}

// once copies what the log holds into the database file and, past
// restartFrames, has the next writer start the log over. A checkpoint
// that fails (the database busy or closing) is tried again at the next
// tick; it loses nothing.
func (c *checkpointer) once(ctx context.Context, db *sql.DB) {
	var busy, log, copied int
	if db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &copied) != nil {
		return
	}
	if log >= c.restartFrames {
		_, _ = db.ExecContext(ctx, "PRAGMA wal_checkpoint(RESTART)")
	}
}

// close stops the checkpointer and waits for it.
func (c *checkpointer) close() {
	c.closing.Do(func() { close(c.stop) })
	<-c.done
}
