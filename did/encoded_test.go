package did

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

func TestResolveEncoded(t *testing.T) {
	fake := &fakeMethod{}
	clock := &fakeClock{now: time.Unix(0, 0)}
	r := NewResolver(ResolverConfig{TTL: map[string]time.Duration{"fake": time.Minute}, Clock: clock.Now}, fake, KeyMethod{})
	ctx := context.Background()

	decode := func(b []byte) Resolution {
		t.Helper()
		var res Resolution
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatalf("encoding %s does not decode: %v", b, err)
		}
		return res
	}

	// A miss encodes the fresh result; hits reuse one encoding marked cached.
	_, first, err := r.ResolveEncoded(ctx, "did:fake:a", ResolveOptions{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := decode(first); got.Document.ID != "did:fake:a" || got.ResolutionMetadata.Cached {
		t.Errorf("first: got id %s cached %v; want did:fake:a, not cached", got.Document.ID, got.ResolutionMetadata.Cached)
	}
	_, second, _ := r.ResolveEncoded(ctx, "did:fake:a", ResolveOptions{}, false)
	_, third, _ := r.ResolveEncoded(ctx, "did:fake:a", ResolveOptions{}, false)
	if got := decode(second); !got.ResolutionMetadata.Cached || got.Document.ID != "did:fake:a" {
		t.Errorf("second: got %+v; want the cached result", got.ResolutionMetadata)
	}
	if &second[0] != &third[0] {
		t.Error("hits encoded the result again; want one encoding reused")
	}

	// The bare form is the document alone.
	_, bare, _ := r.ResolveEncoded(ctx, "did:fake:a", ResolveOptions{}, true)
	var doc Document
	if err := json.Unmarshal(bare, &doc); err != nil || doc.ID != "did:fake:a" {
		t.Errorf("bare: got %s (%v); want the document", bare, err)
	}

	// After the TTL the method runs again and a new encoding is made.
	clock.now = clock.now.Add(2 * time.Minute)
	_, after, _ := r.ResolveEncoded(ctx, "did:fake:a", ResolveOptions{}, false)
	if decode(after).ResolutionMetadata.Cached || fake.calls.Load() != 2 {
		t.Errorf("after TTL: got cached=%v with %d method calls; want a fresh result from a second call", decode(after).ResolutionMetadata.Cached, fake.calls.Load())
	}

	// Uncached methods encode each result; errors come back as errors.
	const key = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
	_, b, err := r.ResolveEncoded(ctx, key, ResolveOptions{}, true)
	if err != nil {
		t.Fatal(err)
	}
	var keyDoc Document
	if err := json.Unmarshal(b, &keyDoc); err != nil || keyDoc.ID != key || len(keyDoc.VerificationMethod) != 2 {
		t.Errorf("did:key bare: got %s (%v); want its document with the Ed25519 and X25519 methods", b, err)
	}
	if _, _, err := r.ResolveEncoded(ctx, "did:Key:abc", ResolveOptions{}, false); err == nil {
		t.Error("ResolveEncoded(did:Key:abc): got no error; want INVALID_DID")
	}
}
