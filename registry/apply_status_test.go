package registry

import (
	"context"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

func TestApplyStatusUpdate(t *testing.T) {
	c, _ := newChain(t)
	// The issuer's assertion key is not its capabilityInvocation key;
	// either may sign a status.update.
	spec := oneKeySpec(t, seedKey("issuer"))
	spec.VerificationMethod = append(spec.VerificationMethod, MethodSpec{ID: "#assert", Type: "Multikey", PublicKeyMultibase: multikey(t, seedKey("issuer-assert"))})
	spec.AssertionMethod = []string{"#assert"}
	spec.Authentication = []string{"#auth"}
	spec.VerificationMethod = append(spec.VerificationMethod, MethodSpec{ID: "#auth", Type: "Multikey", PublicKeyMultibase: multikey(t, seedKey("issuer-auth"))})
	id, payload, err := NewDIDCreate(spec)
	if err != nil {
		t.Fatal(err)
	}
	c.must(signed(t, KindDIDCreate, id+"#key-1", 1, payload, seedKey("issuer")))
	issuer := actor{did: id, kid: id + "#key-1", key: seedKey("issuer")}
	asserter := actor{did: id, kid: id + "#assert", key: seedKey("issuer-assert")}
	authn := actor{did: id, kid: id + "#auth", key: seedKey("issuer-auth")}
	other := c.create("other")
	keyIssuer := keyActor(t, "key-issuer")

	const list = "https://city.example/status/sl_1"
	revoke := StatusUpdatePayload{List: list, Index: 42, Purpose: PurposeRevocation, Value: true}
	first := c.op(asserter, KindStatusUpdate, revoke)
	c.must(first)
	revokedAt := c.time
	owner, err := c.st.StatusListIssuer(context.Background(), list)
	if err != nil || owner != issuer.did {
		t.Fatalf("StatusListIssuer = %q, %v; want %s", owner, err, issuer.did)
	}
	c.must(c.op(issuer, KindStatusUpdate, StatusUpdatePayload{List: list, Index: 42, Purpose: PurposeRevocation, Value: false}))
	reinstatedAt := c.time
	c.must(c.op(keyIssuer, KindStatusUpdate, StatusUpdatePayload{List: "https://other.example/s/1", Index: 0, Purpose: PurposeSuspension, Value: true}))

	tests := []struct {
		name string
		op   SignedOp
		kind errkind.Kind
		want string
	}{
		{"replay", first, errkind.Conflict, "replayed or out-of-order nonce"},
		{"another DID updates a bound list", c.op(other, KindStatusUpdate, revoke), errkind.Forbidden, "is bound to " + issuer.did},
		{"did:key updates a list bound to a did:urbis", c.op(keyIssuer, KindStatusUpdate, revoke), errkind.Forbidden, "is bound to"},
		{"authentication key", c.op(authn, KindStatusUpdate, revoke), errkind.Forbidden, "is not a capabilityInvocation or assertionMethod key"},
		{"wrong signature", signed(t, KindStatusUpdate, issuer.kid, 3, revoke, seedKey("mallory")), errkind.Forbidden, "does not verify"},
		{"unknown purpose", c.op(issuer, KindStatusUpdate, StatusUpdatePayload{List: list, Index: 1, Purpose: "refresh"}), errkind.Invalid, "purpose"},
		{"negative index", c.op(issuer, KindStatusUpdate, StatusUpdatePayload{List: list, Index: -1, Purpose: PurposeRevocation}), errkind.Invalid, "index -1"},
		{"list not a URL", c.op(issuer, KindStatusUpdate, StatusUpdatePayload{List: "sl_1", Index: 1, Purpose: PurposeRevocation}), errkind.Invalid, "not an http or https URL"},
		{"empty list", c.op(issuer, KindStatusUpdate, StatusUpdatePayload{Index: 1, Purpose: PurposeRevocation}), errkind.Invalid, "list must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { c.rejected(t, tt.op, tt.kind, tt.want) })
	}

	t.Run("StatusAt", func(t *testing.T) {
		cases := []struct {
			name    string
			at      time.Time
			index   int
			purpose string
			value   bool
			height  uint64
			found   bool
		}{
			{"before the first update", revokedAt.Add(-time.Second), 42, PurposeRevocation, false, 0, false},
			{"at the revocation", revokedAt, 42, PurposeRevocation, true, 3, true},
			{"between", reinstatedAt.Add(-time.Second), 42, PurposeRevocation, true, 3, true},
			{"after the reinstatement", reinstatedAt.Add(time.Hour), 42, PurposeRevocation, false, 4, true},
			{"another purpose", reinstatedAt, 42, PurposeSuspension, false, 0, false},
			{"another index", reinstatedAt, 43, PurposeRevocation, false, 0, false},
		}
		for _, tc := range cases {
			v, h, found, err := c.st.StatusAt(context.Background(), list, tc.index, tc.purpose, tc.at)
			if err != nil || v != tc.value || h != tc.height || found != tc.found {
				t.Errorf("%s: got %v, %d, %v, %v; want %v, %d, %v, nil", tc.name, v, h, found, err, tc.value, tc.height, tc.found)
			}
		}
	})
}
