package web

import (
	"testing"
	"time"

	"github.com/urbis-id/urbis/api"
)

// Sessions end after sessionIdle without use and sessionMax after
// sign-in, and at sign-out; CSRF tokens are per session.
func TestSessionsExpire(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	ss := newSessions(func() time.Time { return now })
	a := api.Agency{Id: "agy_1", Name: "Civil Registry"}

	id, err := ss.start("key-1", a)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := ss.start("key-2", a)
	if id == other || ss.csrf(id) == ss.csrf(other) || ss.csrf(id) != ss.csrf(id) {
		t.Errorf("ids %q %q, tokens %q %q; want distinct ids and a stable token per id", id, other, ss.csrf(id), ss.csrf(other))
	}
	// Used every 29 minutes, it lives until sessionMax.
	start := now
	for now.Before(start.Add(sessionMax - sessionIdle)) {
		now = now.Add(sessionIdle - time.Minute)
		if s, ok := ss.get(id); !ok || s.key != "key-1" {
			t.Fatalf("at %v: session gone; want it alive while used", now)
		}
	}
	now = start.Add(sessionMax + time.Second)
	if _, ok := ss.get(id); ok {
		t.Errorf("after sessionMax: session alive; want it ended")
	}
	// other was not used: it ended after sessionIdle.
	if _, ok := ss.get(other); ok {
		t.Errorf("after idling: session alive; want it ended")
	}
	id, _ = ss.start("key-3", a)
	now = now.Add(sessionIdle + time.Second)
	if _, ok := ss.get(id); ok {
		t.Errorf("idle %v: session alive; want it ended", sessionIdle+time.Second)
	}
	id, _ = ss.start("key-4", a)
	ss.end(id)
	if _, ok := ss.get(id); ok {
		t.Errorf("after end: session alive")
	}
	if _, ok := ss.get(""); ok {
		t.Errorf("empty id: got a session")
	}
}

// When maxSessions are open, expired ones make room; live ones are
// never dropped for a newcomer, who is refused instead.
func TestSessionsBounded(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	ss := newSessions(func() time.Time { return now })
	for range maxSessions {
		if _, err := ss.start("k", api.Agency{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ss.start("k", api.Agency{}); err == nil {
		t.Errorf("beyond maxSessions live sessions: got a session; want a refusal")
	}
	now = now.Add(sessionIdle + time.Second)
	if _, err := ss.start("k", api.Agency{}); err != nil || len(ss.m) != 1 {
		t.Errorf("after they expired: %v, %d sessions; want the expired dropped and one session", err, len(ss.m))
	}
}
