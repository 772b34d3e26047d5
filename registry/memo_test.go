package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// keyed is a toy program whose memo.use operations carry a message that
// is valid only under the key memo.set last stored: a stand-in for a
// signature checked with a key from state. It counts the checks made.
type keyed struct{ checks *atomic.Int64 }

type keyedPayload struct {
	Key string `json:"key,omitempty"`
	Msg string `json:"msg,omitempty"`
}

func (k keyed) check(key, msg string) error {
	k.checks.Add(1)
	if msg != "signed-by-"+key {
		return errkind.Field(errkind.Forbidden, "msg", "%q is not valid under key %q", msg, key)
	}
	return nil
}

func (k keyed) Kinds() []registry.ProgramKind {
	decode := func(raw json.RawMessage) keyedPayload {
		var p keyedPayload
		_ = json.Unmarshal(raw, &p)
		return p
	}
	return []registry.ProgramKind{
		{Kind: "memo.set", Apply: func(ctx context.Context, c *registry.Call) (any, error) {
			return nil, c.Put(ctx, "memo/key", decode(c.Payload()).Key)
		}},
		{
			Kind: "memo.use",
			Precheck: func(ctx context.Context, pc *registry.Precall) error {
				var key string
				if err := pc.Get(ctx, "memo/key", &key); err != nil {
					return err
				}
				msg := decode(pc.Payload()).Msg
				return pc.Once(key+"\x00"+msg, func() error { return k.check(key, msg) })
			},
			Apply: func(ctx context.Context, c *registry.Call) (any, error) {
				var key string
				if err := c.Get(ctx, "memo/key", &key); err != nil && !errors.Is(err, errkind.NotFound) {
					return nil, err
				}
				msg := decode(c.Payload()).Msg
				return nil, c.Once(key+"\x00"+msg, func() error { return k.check(key, msg) })
			},
		},
	}
}

// TestPrecheckMemo checks that a check a Precheck passed against the
// committed state is not made again in the block when its inputs are
// the same, and is made again, with the block's inputs, when an earlier
// operation of the block changed them; and that the chain replays.
func TestPrecheckMemo(t *testing.T) {
	for _, kind := range storeKinds() {
		t.Run(kind.name, func(t *testing.T) {
			g, gov, val := newGenesis(t)
			govKID := g.Governance[0] + "#" + strings.TrimPrefix(g.Governance[0], "did:key:")
			prog := keyed{checks: new(atomic.Int64)}
			live := kind.open(t)
			s := startSolo(t, live, g, val, func(c *registry.SoloConfig) {
				batched(3)(c)
				c.Programs = []registry.Program{prog}
			})
			op := func(n uint64, k registry.Kind, p keyedPayload) registry.SignedOp {
				return sign(t, g, k, govKID, n, p, gov)
			}
			set := func(n uint64, key string) registry.SignedOp { return op(n, "memo.set", keyedPayload{Key: key}) }
			use := func(n uint64, msg string) registry.SignedOp { return op(n, "memo.use", keyedPayload{Msg: msg}) }

			// Block 1 sets key a. Block 2: two uses checked ahead with
			// key a; the first passes and is not checked again.
			submitAll(t, s, set(1, "a"), set(2, "a"), set(3, "a"))
			prog.checks.Store(0)
			got := submitAll(t, s, use(4, "signed-by-a"), use(5, "signed-by-x"), set(5, "b"))
			if got[0].Status != registry.StatusCommitted || got[1].Status != registry.StatusRejected || !strings.Contains(got[1].Reason, `"signed-by-x" is not valid under key "a"`) || got[2].Status != registry.StatusCommitted {
				t.Fatalf("got %+v, %+v and %+v; want the second rejected, the others committed", got[0], got[1], got[2])
			}
			if n := prog.checks.Load(); n != 3 {
				t.Errorf("got %d checks; want 3 (two ahead of the block, the failed one again in it)", n)
			}
			// Block 3: the key changes to c inside the block; uses checked
			// ahead with key b meet key c. (A rejected operation uses no
			// nonce.)
			got = submitAll(t, s, set(6, "c"), use(7, "signed-by-b"), use(7, "signed-by-c"))
			if got[1].Status != registry.StatusRejected || !strings.Contains(got[1].Reason, `"signed-by-b" is not valid under key "c"`) {
				t.Errorf("got %+v; want rejected: its check passed under the committed key b, not under c", got[1])
			}
			if got[2].Status != registry.StatusCommitted {
				t.Errorf("got %+v; want committed: it is valid under c, the key when it is applied", got[2])
			}
			if err := registry.Verify(context.Background(), live, kind.open(t), g, nil, prog); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}
