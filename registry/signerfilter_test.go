package registry

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// listerStore is a memory store that lists its signers, as the SQL
// store does; noteDuringLoad, if set, runs between the count and the
// listing (a block committing while the filter loads).
type listerStore struct {
	*memStore
	noteDuringLoad func()
	fail           error
}

func (l *listerStore) CountSigners(context.Context) (int, error) {
	return len(l.state().nonces), l.fail
}

func (l *listerStore) EachSigner(_ context.Context, fn func(string)) error {
	if l.noteDuringLoad != nil {
		l.noteDuringLoad()
	}
	for d := range l.state().nonces {
		fn(d)
	}
	return nil
}

// TestSignerFilter checks what the signer filter says of stored, noted
// and unknown signers, before, during and after its load.
func TestSignerFilter(t *testing.T) {
	ctx := context.Background()
	const stored, noted, unknown = "did:key:zStored", "did:key:zNoted", "did:key:zUnknown"
	st := &listerStore{memStore: newMemStore()}
	_ = st.st.SetNonce(ctx, stored, 4)
	c := newSignerCache(10)
	for _, d := range []string{stored, noted, unknown} {
		if c.neverSigned(d) {
			t.Errorf("before the load: neverSigned(%s) = true; want false (nothing is known yet)", d)
		}
	}
	c.beginLoad()
	st.noteDuringLoad = func() { c.noteSigner(noted) }
	if err := c.loadSigners(ctx, st); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		did  string
		want bool
	}{{stored, false}, {noted, false}, {unknown, true}} {
		if got := c.neverSigned(tc.did); got != tc.want {
			t.Errorf("after the load: neverSigned(%s) = %v; want %v", tc.did, got, tc.want)
		}
	}
	c.noteSigner(unknown)
	if c.neverSigned(unknown) {
		t.Errorf("neverSigned of a signer noted after the load = true; want false")
	}
	if c.newSigner("did:urbis:zNew") {
		t.Errorf("newSigner(did:urbis:…) = true; want false (its DID state is read ahead too)")
	}

	failed := newSignerCache(10)
	failed.beginLoad()
	if err := failed.loadSigners(ctx, &listerStore{memStore: st.memStore, fail: errors.New("disk gone")}); err == nil {
		t.Fatal("loadSigners from a failing store: got no error")
	}
	if failed.neverSigned(unknown) {
		t.Errorf("after a failed load: neverSigned = true; want false (the store must be read)")
	}
}

// TestSoloWithSignerFilter checks, on an engine whose filter has loaded,
// that a stored signer's used nonce is still refused and that a new
// signer's first operation and its replay are told apart.
func TestSoloWithSignerFilter(t *testing.T) {
	ctx := context.Background()
	g, _, val := testGenesis(t)
	st := &listerStore{memStore: newMemStore()}
	old, fresh := seedKey("stored signer"), seedKey("new signer")
	oldDID, oldKID := keyKID(t, old)
	_, freshKID := keyKID(t, fresh)
	_ = st.st.SetNonce(ctx, oldDID, 1)
	s, err := NewSolo(SoloConfig{Store: st, Genesis: g, ValidatorID: g.Validators[0].ID, ValidatorKey: val, Interval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !s.signers.neverSigned("did:key:zNobody") {
		if time.Now().After(deadline) {
			t.Fatal("the signer filter did not load in 10 s")
		}
		time.Sleep(time.Millisecond)
	}

	anchor := func(kid string, nonce uint64, root byte, k ed25519.PrivateKey) string {
		return signed(t, KindAnchor, kid, nonce, AnchorPayload{Root: strings.Repeat(string("0123456789abcdef"[root]), 64)}, k).JWS
	}
	_, err = s.Submit(ctx, anchor(oldKID, 1, 1, old))
	if !errors.Is(err, errkind.Conflict) || !strings.Contains(err.Error(), "nonce") {
		t.Errorf("stored signer's used nonce: got %v; want a Conflict naming the nonce", err)
	}
	first := anchor(freshKID, 1, 2, fresh)
	st1, err := s.Submit(ctx, first)
	if err != nil {
		t.Fatalf("new signer's first operation: %v", err)
	}
	if got, err := s.Wait(ctx, st1.Hash); err != nil || got.Status != StatusCommitted {
		t.Fatalf("new signer's first operation: got %+v, %v; want committed", got, err)
	}
	// Forget the cached nonces, as a failed commit does (or the signer
	// leaving the cache): the filter alone must know the signer now.
	s.signers.reset()
	if got, err := s.Submit(ctx, first); err != nil || got.Status != StatusCommitted {
		t.Errorf("the same operation again: got %+v, %v; want its committed status", got, err)
	}
	_, err = s.Submit(ctx, anchor(freshKID, 1, 3, fresh))
	if !errors.Is(err, errkind.Conflict) || !strings.Contains(err.Error(), "nonce") {
		t.Errorf("another operation with the new signer's used nonce: got %v; want a Conflict naming the nonce", err)
	}
}
