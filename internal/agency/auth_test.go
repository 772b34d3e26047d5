package agency_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/agency"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/kms"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestAuthenticateRemembersKeysBriefly: a key found is trusted from
// memory for two seconds; revoked through the same service it stops at
// once, revoked by another process (another service on the same
// database) within those two seconds.
func TestAuthenticateRemembersKeysBriefly(t *testing.T) {
	for _, db := range storetest.Open(t) {
		t.Run(db.Dialect(), func(t *testing.T) {
			ctx := t.Context()
			master, err := kms.ParseMasterKey("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
			if err != nil {
				t.Fatal(err)
			}
			clock := &fakeClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
			serving := agency.NewService(db, kms.NewCustodian(db, master, clock.now), clock.now)
			other := agency.NewService(db, kms.NewCustodian(db, master, clock.now), clock.now) // the CLI
			a, key, err := serving.Create(ctx, "Auth Agency")
			if err != nil {
				t.Fatal(err)
			}
			unauthorized := func(step string) {
				t.Helper()
				if _, err := serving.Authenticate(ctx, key); !errors.Is(err, errkind.Unauthorized) {
					t.Errorf("%s: Authenticate error = %v; want Unauthorized", step, err)
				}
			}
			if got, err := serving.Authenticate(ctx, key); err != nil || got.ID != a.ID {
				t.Fatalf("Authenticate = %+v, %v; want %s", got, err, a.ID)
			}
			if _, err := other.RevokeKeys(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			clock.add(time.Second)
			if got, err := serving.Authenticate(ctx, key); err != nil || got.ID != a.ID {
				t.Errorf("1 s after another process revoked the key: Authenticate = %+v, %v; want it still trusted from memory", got, err)
			}
			clock.add(1500 * time.Millisecond)
			unauthorized("2.5 s after another process revoked the key")

			key2, err := serving.IssueKey(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			key = key2
			if _, err := serving.Authenticate(ctx, key); err != nil {
				t.Fatalf("new key: %v", err)
			}
			if _, err := serving.RevokeKeys(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			unauthorized("at once after this service revoked the key")
		})
	}
}
