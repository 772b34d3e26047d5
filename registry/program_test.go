package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/urbis-id/urbis/internal/errkind"
)

// counter is a toy program: count.add adds n to a total that may not
// exceed 10, logs each addition under its block height, and may carry a
// consent JWS whose signer it records.
type counter struct{}

type addPayload struct {
	N       int    `json:"n"`
	Consent string `json:"consent,omitempty"`
}

func (counter) Kinds() []ProgramKind {
	return []ProgramKind{{
		Kind: "count.add",
		Check: func(raw json.RawMessage) error {
			var p addPayload
			if err := json.Unmarshal(raw, &p); err != nil || p.N <= 0 {
				return errkind.Field(errkind.Invalid, "n", "n must be a positive integer")
			}
			return nil
		},
		Apply: func(ctx context.Context, c *Call) (any, error) {
			var p addPayload
			_ = json.Unmarshal(c.Payload(), &p)
			var total int
			if err := c.Get(ctx, "count/total", &total); err != nil && !errors.Is(err, errkind.NotFound) {
				return nil, err
			}
			// Write first, then refuse: the machine must undo the write.
			if err := c.Put(ctx, "count/total", total+p.N); err != nil {
				return nil, err
			}
			if err := c.Put(ctx, fmt.Sprintf("count/log/%08d", c.Height()), p.N); err != nil {
				return nil, err
			}
			if total+p.N > 10 {
				return nil, errkind.New(errkind.Conflict, "total would be %d; at most 10", total+p.N)
			}
			consentBy := ""
			if p.Consent != "" {
				body, signer, err := c.VerifyJWS(ctx, p.Consent)
				if err != nil {
					return nil, err
				}
				if string(body) != "yes" {
					return nil, errkind.New(errkind.Forbidden, "consent says %q", body)
				}
				consentBy = signer
			}
			return map[string]any{"total": total + p.N, "consentBy": consentBy}, nil
		},
	}}
}

func newProgramChain(t *testing.T) *chain {
	c, _ := newChain(t)
	c.m = NewMachine(c.g, counter{})
	return c
}

func TestProgramApply(t *testing.T) {
	c := newProgramChain(t)
	a := keyActor(t, "alice")
	ctx := context.Background()
	c.must(c.op(a, "count.add", addPayload{N: 4}))
	c.must(c.op(a, "count.add", addPayload{N: 6}))
	c.rejected(t, c.op(a, "count.add", addPayload{N: 1}), errkind.Conflict, "total would be 11")
	c.rejected(t, c.op(a, "count.add", addPayload{N: 0}), errkind.Invalid, "n must be a positive integer")
	c.rejected(t, c.op(a, "count.nothing", addPayload{N: 1}), errkind.Invalid, `unknown operation kind "count.nothing"; want one of did.create`)

	got, err := c.st.ProgramGet(ctx, "count/total")
	if err != nil || string(got) != "10" {
		t.Errorf("total: got %s, %v; want 10", got, err)
	}
	entries, err := c.st.ProgramScan(ctx, "count/log/", "", 10)
	if err != nil || len(entries) != 2 || entries[0].Key != "count/log/00000001" || string(entries[1].Value) != "6" {
		t.Errorf("log: got %v, %v; want heights 1 and 2 holding 4 and 6", entries, err)
	}
	// A nonce replay is refused like any other kind's.
	replay := signed(t, "count.add", a.kid, 1, addPayload{N: 1}, a.key)
	c.rejected(t, replay, errkind.Conflict, "replayed or out-of-order nonce")
}

func TestProgramConsent(t *testing.T) {
	c := newProgramChain(t)
	a, bob := keyActor(t, "alice"), keyActor(t, "bob")
	consent := func(body string) string {
		hdr := jws.NewHeaders()
		_ = hdr.Set(jws.KeyIDKey, bob.kid)
		b, err := jws.Sign([]byte(body), jws.WithKey(jwa.EdDSA, bob.key, jws.WithProtectedHeaders(hdr)))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	c.rejected(t, c.op(a, "count.add", addPayload{N: 1, Consent: consent("no")}), errkind.Forbidden, `consent says "no"`)
	forged := consent("yes")
	forged = forged[:len(forged)-4] + "AAAA"
	c.rejected(t, c.op(a, "count.add", addPayload{N: 1, Consent: forged}), errkind.Forbidden, "signature does not verify")
	c.must(c.op(a, "count.add", addPayload{N: 1, Consent: consent("yes")}))
}

func TestProgramMachineRefusesBadWiring(t *testing.T) {
	g, _, _ := testGenesis(t)
	for _, p := range []Program{programOf(ProgramKind{Kind: "did.create", Apply: noApply}),
		programOf(ProgramKind{Kind: "count.add"}), programOf(ProgramKind{Kind: "Bad!", Apply: noApply})} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewMachine with kind %q: got no panic; want one", p.Kinds()[0].Kind)
				}
			}()
			NewMachine(g, p)
		}()
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("NewMachine with count.add twice: got no panic; want one")
			}
		}()
		NewMachine(g, counter{}, counter{})
	}()
}

type programOf ProgramKind

func (p programOf) Kinds() []ProgramKind { return []ProgramKind{ProgramKind(p)} }

func noApply(context.Context, *Call) (any, error) { return nil, nil }

func TestMachineCheck(t *testing.T) {
	g, _, _ := testGenesis(t)
	m := NewMachine(g, counter{})
	a := keyActor(t, "alice")
	wantErr(t, m.Check(signed(t, "count.add", a.kid, 1, addPayload{}, a.key)), errkind.Invalid, "n must be a positive")
	wantErr(t, m.Check(signed(t, "vote.cast", a.kid, 1, addPayload{}, a.key)), errkind.Invalid, `unknown operation kind "vote.cast"`)
	if err := m.Check(signed(t, "count.add", a.kid, 1, addPayload{N: 2}, a.key)); err != nil {
		t.Errorf("good count.add: got %v; want nil", err)
	}
}
