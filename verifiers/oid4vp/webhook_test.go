package oid4vp

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestWebhookDialGuard checks the second line of defence: whatever the
// URL, a connection to a loopback address is refused unless allowed (post
// does not call CheckURL; a DNS name could resolve anywhere).
func TestWebhookDialGuard(t *testing.T) {
	got := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- struct{}{} }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	target := "http://localhost:" + port + "/hook" // a name, resolved at dial time

	strict := NewWebhooks(2*time.Second, false)
	err := strict.post(context.Background(), target, map[string]string{"x": "y"})
	if err == nil || !strings.Contains(err.Error(), "refusing to connect") {
		t.Errorf("strict post to %s: got %v; want refused at dial", target, err)
	}
	open := NewWebhooks(2*time.Second, true)
	if err := open.post(context.Background(), target, map[string]string{"x": "y"}); err != nil {
		t.Fatalf("allowed post: %v", err)
	}
	select {
	case <-got:
	case <-time.After(2 * time.Second):
		t.Error("the allowed webhook did not arrive")
	}
}
