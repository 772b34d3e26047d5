package bbs

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/dataintegrity"
)

// Malformed proofs are Invalid, never a panic inside aries.
func TestVerifyMalformedProofs(t *testing.T) {
	ctx := context.Background()
	key := newTestKey(t)
	id, _ := did.NewKey(key.pub)
	vm := id.String() + "#" + id.ID
	keys := DIDKeyResolver(did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}), did.AssertionMethod)
	signed, err := Sign(ctx, credential("1.1"), dataintegrity.ProofOptions{VerificationMethod: vm, Created: time.Now()}, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	derived, err := Derive(ctx, signed, frame("1.1"), []byte("n"), keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	values := []string{"AAAA", "AAwA", "AAwAX6PL8LP/d+oV8QEgabTeEGPYIecc7RQPTVqXWrWov93OeEeKMFs=", "AP//////////", "////", "not base64!"}
	for _, base := range []map[string]any{signed, derived} {
		for _, v := range values {
			doc := copyDoc(base)
			doc["proof"].(map[string]any)["proofValue"] = v
			_, err := Verify(ctx, doc, keys, nil)
			if !errors.Is(err, errkind.Invalid) {
				t.Errorf("%v with proofValue %q: error = %v; want Invalid", base["proof"].(map[string]any)["type"], v, err)
			}
		}
	}
	for _, v := range values {
		doc := copyDoc(signed)
		doc["proof"].(map[string]any)["proofValue"] = v
		if _, err := Derive(ctx, doc, frame("1.1"), nil, keys, nil); err == nil || errkind.KindOf(err) == errkind.Internal {
			t.Errorf("Derive with proofValue %q: error = %v; want a client error", v, err)
		}
	}
}

func TestSignRefusesSubjectWithoutID(t *testing.T) {
	key := newTestKey(t)
	c := credential("1.1")
	delete(c["credentialSubject"].(map[string]any), "id")
	_, err := Sign(context.Background(), c, dataintegrity.ProofOptions{VerificationMethod: "did:example:i#k"}, key, nil)
	var e *errkind.Error
	if !errors.As(err, &e) || e.Kind != errkind.Invalid || e.Field != "/credentialSubject/id" {
		t.Errorf("Sign error = %v; want Invalid on /credentialSubject/id", err)
	}
}
