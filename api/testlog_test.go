package api_test

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"
)

// maxTestLog bounds what a test server's log keeps.
const maxTestLog = 1 << 20

// testLog is a test server's log: it keeps the warnings and errors (the
// internal errors behind a 500 among them) and shows them with the
// test's output only when the test fails, so passing tests stay quiet.
type testLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len()+len(p) <= maxTestLog {
		l.buf.Write(p)
	}
	return len(p), nil
}

// newTestLogger returns a logger for a test server whose records show
// in t's output if t fails. Call it before starting the server, so that
// the log is shown after the server has stopped.
func newTestLogger(t *testing.T) *slog.Logger {
	t.Helper()
	l := &testLog{}
	t.Cleanup(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if t.Failed() && l.buf.Len() > 0 {
			t.Logf("server log:\n%s", l.buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
