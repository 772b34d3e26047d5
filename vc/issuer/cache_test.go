package issuer_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/agency"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/kms"
	"github.com/urbis-id/urbis/vc"
	"github.com/urbis-id/urbis/vc/issuer"
)

// changingDID is oneDID whose status can change and whose reads are
// counted.
type changingDID struct {
	oneDID
	mu     sync.Mutex
	status string
	reads  int
}

func (c *changingDID) DID(_ context.Context, agencyID, id string) (agency.DIDRecord, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	if agencyID != "agy_1" || id != c.did {
		return agency.DIDRecord{}, errkind.New(errkind.NotFound, "no DID %s", id)
	}
	return agency.DIDRecord{DID: c.did, AgencyID: agencyID, KeyID: "key_1", KeyType: kms.Ed25519, Status: c.status, ReplacedBy: "did:example:next"}, nil
}

func (c *changingDID) set(st string) {
	c.mu.Lock()
	c.status = st
	c.mu.Unlock()
}

func (c *changingDID) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads
}

// clockAt is a settable clock.
type clockAt struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clockAt) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clockAt) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newCachingService(t *testing.T) (*issuer.Service, *changingDID, *clockAt, issuer.Instance) {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	k, err := did.NewKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	d := &changingDID{oneDID: oneDID{did: k.String(), priv: priv}, status: agency.StatusActive}
	clk := &clockAt{t: fixed}
	s := issuer.NewService(issuer.Config{
		Store: &memStore{}, DIDs: d, Keys: d,
		Trust:    trustFunc(func([]string, []map[string]any) error { return nil }),
		Resolver: did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}),
		Clock:    clk.now,
	})
	in, err := s.Create(context.Background(), "agy_1", issuer.CreateRequest{DID: d.did, Format: issuer.FormatJWT, Types: []string{"ResidentCredential"}})
	if err != nil {
		t.Fatal(err)
	}
	return s, d, clk, in
}

func issueOnce(s *issuer.Service, in issuer.Instance) error {
	_, err := s.Issue(context.Background(), "agy_1", in.ID, cred(vc.ContextV1, map[string]any{"id": "did:example:holder"}), issuer.IssueOptions{})
	return err
}

// The signer is read once and reused within its TTL.
func TestSignerCached(t *testing.T) {
	s, d, _, in := newCachingService(t)
	before := d.count() // Create reads it too
	for range 5 {
		if err := issueOnce(s, in); err != nil {
			t.Fatal(err)
		}
	}
	if n := d.count() - before; n != 1 {
		t.Fatalf("DID record read %d times for 5 issuances; want 1", n)
	}
}

// A deactivated (rotated) DID stops issuing once the cached signer
// expires, and at once after ForgetDID.
func TestSignerExpiresAfterRotation(t *testing.T) {
	s, d, clk, in := newCachingService(t)
	if err := issueOnce(s, in); err != nil {
		t.Fatal(err)
	}
	d.set(agency.StatusRotated)
	clk.add(issuer.SignerTTL)
	err := issueOnce(s, in)
	if !errors.Is(err, errkind.Conflict) {
		t.Fatalf("issuing after rotation and the TTL: %v; want Conflict", err)
	}

	s2, d2, _, in2 := newCachingService(t)
	if err := issueOnce(s2, in2); err != nil {
		t.Fatal(err)
	}
	d2.set(agency.StatusDeactivated)
	s2.ForgetDID("agy_1", d2.did)
	if err := issueOnce(s2, in2); !errors.Is(err, errkind.Conflict) {
		t.Fatalf("issuing after ForgetDID: %v; want Conflict", err)
	}
}

// countingStore is a memStore that counts its reads.
type countingStore struct {
	memStore
	mu    sync.Mutex
	reads int
}

func (c *countingStore) Issuers(ctx context.Context, agencyID string) ([]issuer.Instance, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.memStore.Issuers(ctx, agencyID)
}

func (c *countingStore) Issuer(ctx context.Context, agencyID, id string) (issuer.Instance, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.memStore.Issuer(ctx, agencyID, id)
}

func (c *countingStore) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads
}

// Instance lookups are cached for InstanceTTL; an instance created
// meanwhile is found at once, whether through the Service or not.
func TestInstanceCache(t *testing.T) {
	ctx := context.Background()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	k, err := did.NewKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	d := oneDID{did: k.String(), priv: priv}
	st := &countingStore{}
	clk := &clockAt{t: fixed}
	s := issuer.NewService(issuer.Config{
		Store: st, DIDs: d, Keys: d,
		Trust:    trustFunc(func([]string, []map[string]any) error { return nil }),
		Resolver: did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}),
		Clock:    clk.now,
	})
	byDID := func(f issuer.Format) (issuer.Instance, error) {
		c := cred(vc.ContextV1, map[string]any{"id": "did:example:holder"})
		c["issuer"] = d.did
		out, err := s.Issue(ctx, "agy_1", "", c, issuer.IssueOptions{Format: f})
		return out.Instance, err
	}
	if _, err := byDID(""); !errors.Is(err, errkind.NotFound) {
		t.Fatalf("no instance yet: %v; want NotFound", err)
	}
	in, err := s.Create(ctx, "agy_1", issuer.CreateRequest{DID: d.did, Format: issuer.FormatJWT, Types: []string{"ResidentCredential"}})
	if err != nil {
		t.Fatal(err)
	}
	// Found at once although the agency's (empty) list was cached.
	if got, err := byDID(""); err != nil || got.ID != in.ID {
		t.Fatalf("after Create: %v, %v; want %s", got.ID, err, in.ID)
	}
	before := st.count()
	for range 5 {
		if _, err := byDID(""); err != nil {
			t.Fatal(err)
		}
		if err := issueOnce(s, in); err != nil {
			t.Fatal(err)
		}
	}
	if n := st.count() - before; n != 1 {
		t.Fatalf("%d store reads for 10 issuances; want 1 (the instance by id)", n)
	}
	// Another replica adds an SD-JWT instance for the DID: the cached list
	// has no match for that format, so it is read again.
	other := in
	other.ID, other.Format = "iss_other", issuer.FormatSDJWT
	st.ins = append(st.ins, other)
	if got, err := byDID(issuer.FormatSDJWT); err != nil || got.ID != other.ID {
		t.Fatalf("instance added behind the cache: %v, %v; want %s", got.ID, err, other.ID)
	}
	// Past the TTL, the instance is read again.
	before = st.count()
	if err := issueOnce(s, in); err != nil {
		t.Fatal(err)
	}
	if n := st.count() - before; n != 0 {
		t.Fatalf("%d store reads within the TTL; want 0", n)
	}
	clk.add(issuer.InstanceTTL)
	if err := issueOnce(s, in); err != nil {
		t.Fatal(err)
	}
	if n := st.count() - before; n != 1 {
		t.Fatalf("%d store reads after the TTL; want 1", n)
	}
}
