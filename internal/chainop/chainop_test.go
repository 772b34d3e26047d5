package chainop_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urbis-id/urbis/civic/currency/currencytest"
	"github.com/urbis-id/urbis/internal/chainop"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// chain gives a Submitter the real engine (Submit, Wait) and database
// (Nonce) of c.
type chain struct {
	*registry.Solo
	c *currencytest.Chain
}

func on(c *currencytest.Chain) chain { return chain{c.Engine, c} }

func (ch chain) ChainID() string                                     { return ch.c.Genesis.ChainID }
func (ch chain) Nonce(ctx context.Context, d string) (uint64, error) { return ch.c.DB.Nonce(ctx, d) }

// racing is a chain on which, the first times a Submitter reads the
// signer's nonce, another operation of the same signer (signed outside
// the Submitter's lock, by another process say) takes the next nonce
// just after the read.
type racing struct {
	chain
	t     *testing.T
	a     currencytest.Account
	races int
	n     int
}

func (r *racing) Nonce(ctx context.Context, d string) (uint64, error) {
	n, err := r.chain.Nonce(ctx, d)
	if err == nil && r.n < r.races {
		r.n++
		r.c.Must(r.t, r.a, registry.KindAnchor, registry.AnchorPayload{Root: root(fmt.Sprintf("outside %s %d", r.a.DID, r.n)), Count: 1})
	}
	return n, err
}

func root(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func anchor(a currencytest.Account, r string) chainop.Op {
	return chainop.Op{
		Key:  chainop.Key{DID: a.DID, ID: a.KID, Signer: a.Key},
		Kind: registry.KindAnchor, Payload: registry.AnchorPayload{Root: root(r), Count: 1},
	}
}

func check(c *currencytest.Chain) *chainop.Check {
	return &chainop.Check{Machine: registry.NewMachine(c.Genesis), State: c.DB, Clock: time.Now}
}

func TestSubmitSharesTheDIDsLock(t *testing.T) {
	for _, c := range currencytest.Chains(t) {
		t.Run(c.Name, func(t *testing.T) {
			a := currencytest.NewAccount(t, "issuer")
			// Two services signing for the same DID, one Locker.
			locks := &chainop.Locks{}
			subs := []*chainop.Submitter{chainop.New(on(c), locks, nil, nil), chainop.New(on(c), locks, check(c), nil)}
			const n = 8
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					st, err := subs[i%2].Submit(context.Background(), anchor(a, fmt.Sprint("root-", i)))
					if err == nil && st.Status != registry.StatusCommitted {
						err = fmt.Errorf("status %s", st.Status)
					}
					errs[i] = err
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("Submit %d: got %v; want committed", i, err)
				}
			}
			if got := c.Nonce(t, a); got != n {
				t.Errorf("nonce after %d operations: got %d; want %d", n, got, n)
			}
		})
	}
}

func TestSubmitSignsAgainWhenTheNonceIsTaken(t *testing.T) {
	for _, c := range currencytest.Chains(t) {
		t.Run(c.Name, func(t *testing.T) {
			for _, tt := range []struct {
				name    string
				checked bool
				races   int
				want    string // "" committed; else in the Conflict's message
			}{
				{"unchecked, once", false, 1, ""},
				{"checked, once", true, 1, ""},
				{"checked, every attempt", true, chainop.Attempts, "nonce"},
				{"unchecked, every attempt", false, chainop.Attempts, "nonce"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					a := currencytest.NewAccount(t, "racer "+tt.name)
					var ck *chainop.Check
					if tt.checked {
						ck = check(c)
					}
					s := chainop.New(&racing{chain: on(c), t: t, a: a, races: tt.races}, nil, ck, nil)
					st, err := s.Submit(context.Background(), anchor(a, "raced "+tt.name))
					if tt.want == "" {
						if err != nil || st.Status != registry.StatusCommitted {
							t.Fatalf("got %+v, %v; want committed", st, err)
						}
						return
					}
					if !errors.Is(err, errkind.Conflict) || !strings.Contains(err.Error(), tt.want) {
						t.Fatalf("got %v; want Conflict mentioning %q", err, tt.want)
					}
				})
			}
		})
	}
}

// TestDryRunReadsTheNonceAgainWhenTaken has another operation of the
// signer take the nonce a DryRun has just read: the DryRun reads it again
// and passes, unless that happens on every attempt.
func TestDryRunReadsTheNonceAgainWhenTaken(t *testing.T) {
	for _, c := range currencytest.Chains(t) {
		t.Run(c.Name, func(t *testing.T) {
			for _, tt := range []struct {
				name  string
				races int
				want  string // "" passes; else in the Conflict's message
			}{
				{"once", 1, ""},
				{"every attempt", chainop.Attempts, "nonce"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					a := currencytest.NewAccount(t, "dry racer "+tt.name)
					r := &racing{chain: on(c), t: t, a: a, races: tt.races}
					err := chainop.New(r, nil, check(c), nil).DryRun(context.Background(), anchor(a, "dry "+tt.name))
					if r.n != tt.races {
						t.Fatalf("%d nonces taken meanwhile; want %d", r.n, tt.races)
					}
					if tt.want == "" {
						if err != nil {
							t.Fatalf("got %v; want the dry run to pass", err)
						}
						return
					}
					if !errors.Is(err, errkind.Conflict) || !strings.Contains(err.Error(), tt.want) {
						t.Fatalf("got %v; want Conflict mentioning %q", err, tt.want)
					}
				})
			}
		})
	}
}

func TestSubmitRefusalKeepsItsKind(t *testing.T) {
	for _, c := range currencytest.Chains(t) {
		t.Run(c.Name, func(t *testing.T) {
			a := currencytest.NewAccount(t, "anchorer")
			c.Must(t, a, registry.KindAnchor, registry.AnchorPayload{Root: root("taken"), Count: 1})
			for _, tt := range []struct {
				name    string
				checked bool
				want    string
			}{
				{"checked", true, "already anchored"},
				{"unchecked", false, "already anchored"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					var ck *chainop.Check
					if tt.checked {
						ck = check(c)
					}
					op := anchor(a, "taken")
					op.What = "the anchor of the taken root"
					_, err := chainop.New(on(c), nil, ck, nil).Submit(context.Background(), op)
					if !errors.Is(err, errkind.Conflict) || !strings.Contains(err.Error(), tt.want) {
						t.Fatalf("got %v; want Conflict mentioning %q", err, tt.want)
					}
					if err := chainop.New(on(c), nil, ck, nil).DryRun(context.Background(), op); tt.checked && !errors.Is(err, errkind.Conflict) {
						t.Errorf("DryRun: got %v; want Conflict", err)
					}
				})
			}
		})
	}
}

func TestKeyNeedsCustody(t *testing.T) {
	_, err := chainop.New(nil, nil, nil, nil).Key(context.Background(), "agency-1", "did:key:z6Mk")
	if !errors.Is(err, errkind.Unsupported) {
		t.Fatalf("got %v; want Unsupported", err)
	}
}
