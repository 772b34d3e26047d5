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
