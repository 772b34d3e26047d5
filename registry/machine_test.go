package registry

import (
	"context"
	"crypto"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

// actor is a signer in machine tests.
type actor struct {
	did, kid string
	key      crypto.Signer
}

// keyActor is a did:key signer.
func keyActor(t testing.TB, name string) actor {
	k := seedKey(name)
	d, kid := keyKID(t, k)
	return actor{did: d, kid: kid, key: k}
}

// op signs an operation of a with the next nonce state expects.
func (c *chain) op(a actor, kind Kind, payload any) SignedOp {
	c.t.Helper()
	n, _ := c.st.Nonce(context.Background(), a.did)
	return signed(c.t, kind, a.kid, n+1, payload, a.key)
}

// create creates a one-key did:urbis for name.
func (c *chain) create(name string) actor {
	c.t.Helper()
	k := seedKey(name)
	op, id := createOp(c.t, k)
	c.must(op)
	return actor{did: id, kid: id + "#key-1", key: k}
}

// accredit accredits issuer by gov and returns the accreditation id.
func (c *chain) accredit(by actor, body TrustAccredit) string {
	c.t.Helper()
	op := c.op(by, KindTrustAccredit, body)
	c.must(op)
	return op.Hash
}

func (c *chain) version(d string) DIDVersion {
	c.t.Helper()
	v, err := c.st.LatestDIDVersion(context.Background(), d)
	if err != nil {
		c.t.Fatal(err)
	}
	return v
}

func (c *chain) accreditation(id string) Accreditation {
	c.t.Helper()
	a, err := c.st.Accreditation(context.Background(), id)
	if err != nil {
		c.t.Fatal(err)
	}
	return a
}

// rejected applies op and checks that it is rejected with an error of
// kind k mentioning want, leaving state as it was.
func (c *chain) rejected(t testing.TB, op SignedOp, k errkind.Kind, want string) {
	t.Helper()
	before, _ := c.st.StateDigest(context.Background())
	wantErr(t, c.apply(op), k, want)
	if after, _ := c.st.StateDigest(context.Background()); after != before {
		t.Errorf("got state changed by a rejected operation; want it unchanged")
	}
}

func TestApplyDIDCreate(t *testing.T) {
	c, _ := newChain(t)
	k := seedKey("alice")
	op, id := createOp(t, k)
	c.must(op)
	v := c.version(id)
	if v.Version != 1 || v.Height != 1 || v.OpHash != op.Hash || v.Deactivated || !v.Time.Equal(genesisTime.Add(time.Minute)) {
		t.Errorf("got version %+v; want version 1 at height 1 of op %s", v, op.Hash)
	}
	if n, _ := c.st.Nonce(context.Background(), id); n != 1 {
		t.Errorf("got nonce %d; want 1", n)
	}

	spec := oneKeySpec(t, seedKey("bob"))
	bobID, payload, _ := NewDIDCreate(spec)
	twoKeys := oneKeySpec(t, seedKey("carol"))
	twoKeys.VerificationMethod = append(twoKeys.VerificationMethod, MethodSpec{ID: "#auth", Type: "Multikey", PublicKeyMultibase: multikey(t, seedKey("carol-auth"))})
	twoKeys.Authentication = []string{"#auth"}
	carolID, carolPayload, _ := NewDIDCreate(twoKeys)
	bad := payload
	bad.Document.CapabilityInvocation = nil
	tests := []struct {
		name string
		op   SignedOp
		kind errkind.Kind
		want string
	}{
		{"exists", op, errkind.Conflict, "already exists"},
		{"signed by another DID", signed(t, KindDIDCreate, id+"#key-1", 1, payload, k), errkind.Forbidden, "must be signed by a capabilityInvocation key of the new document"},
		{"key not capabilityInvocation", signed(t, KindDIDCreate, carolID+"#auth", 1, carolPayload, seedKey("carol-auth")), errkind.Forbidden, "is not a capabilityInvocation key"},
		{"key not in the document", signed(t, KindDIDCreate, bobID+"#key-9", 1, payload, seedKey("bob")), errkind.Forbidden, "is not a capabilityInvocation key"},
		{"wrong signature", signed(t, KindDIDCreate, bobID+"#key-1", 1, payload, seedKey("mallory")), errkind.Forbidden, "does not verify"},
		{"nonce not 1", signed(t, KindDIDCreate, bobID+"#key-1", 2, payload, seedKey("bob")), errkind.Conflict, "replayed or out-of-order nonce: got 2, want 1"},
		{"invalid document", signed(t, KindDIDCreate, bobID+"#key-1", 1, bad, seedKey("bob")), errkind.Invalid, "capabilityInvocation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { c.rejected(t, tt.op, tt.kind, tt.want) })
	}
}

func TestApplyDIDUpdateAndDeactivate(t *testing.T) {
	c, _ := newChain(t)
	alice := c.create("alice")
	bob := c.create("bob")
	rotated := oneKeySpec(t, seedKey("alice-2"))
	up := c.op(alice, KindDIDUpdate, DIDUpdate{DID: alice.did, PreviousVersion: 1, Document: rotated})
	// A second update from the same version, signed before the first applied.
	conflicting := c.op(alice, KindDIDUpdate, DIDUpdate{DID: alice.did, PreviousVersion: 1, Document: oneKeySpec(t, seedKey("alice-3"))})
	c.must(up)
	v := c.version(alice.did)
	if v.Version != 2 || v.Document.VerificationMethod[0].PublicKeyMultibase != multikey(t, seedKey("alice-2")) {
		t.Fatalf("got version %d with %+v; want version 2 with the rotated key", v.Version, v.Document)
	}
	newAlice := actor{did: alice.did, kid: alice.kid, key: seedKey("alice-2")}

	tests := []struct {
		name string
		op   SignedOp
		kind errkind.Kind
		want string
	}{
		{"conflicting update from the same version", conflicting, errkind.Conflict, "stale version: the DID is at version 2"},
		{"replayed update", up, errkind.Conflict, "stale version: the DID is at version 2"},
		{"old key after rotation", c.op(alice, KindDIDUpdate, DIDUpdate{DID: alice.did, PreviousVersion: 2, Document: rotated}), errkind.Forbidden, "does not verify"},
		{"key not capabilityInvocation", signed(t, KindDIDUpdate, alice.did+"#key-9", 3, DIDUpdate{DID: alice.did, PreviousVersion: 2, Document: rotated}, newAlice.key), errkind.Forbidden, "not a capabilityInvocation key of the DID's current version 2"},
		{"someone else's DID", c.op(bob, KindDIDUpdate, DIDUpdate{DID: alice.did, PreviousVersion: 2, Document: rotated}), errkind.Forbidden, "must be signed by a capabilityInvocation key of " + alice.did},
		{"unknown DID", signed(t, KindDIDUpdate, "did:urbis:nobody#key-1", 1, DIDUpdate{DID: "did:urbis:nobody", PreviousVersion: 1, Document: rotated}, newAlice.key), errkind.NotFound, "does not exist"},
		{"not did:urbis", c.op(keyActor(t, "kim"), KindDIDUpdate, DIDUpdate{DID: keyActor(t, "kim").did, PreviousVersion: 1, Document: rotated}), errkind.Invalid, "not a did:urbis"},
		{"invalid document", c.op(newAlice, KindDIDUpdate, DIDUpdate{DID: alice.did, PreviousVersion: 2}), errkind.Invalid, "at least one verification method"},
		{"nonce reused", signed(t, KindDIDUpdate, alice.kid, 2, DIDUpdate{DID: alice.did, PreviousVersion: 2, Document: rotated}, newAlice.key), errkind.Conflict, "replayed or out-of-order nonce: got 2, want 3"},
		{"deactivate stale", c.op(newAlice, KindDIDDeactivate, DIDDeactivate{DID: alice.did, PreviousVersion: 1}), errkind.Conflict, "stale version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { c.rejected(t, tt.op, tt.kind, tt.want) })
	}

	t.Run("deactivate", func(t *testing.T) {
		c.must(c.op(newAlice, KindDIDDeactivate, DIDDeactivate{DID: alice.did, PreviousVersion: 2}))
		v := c.version(alice.did)
		if v.Version != 3 || !v.Deactivated || v.Document.VerificationMethod[0].PublicKeyMultibase != multikey(t, seedKey("alice-2")) {
			t.Fatalf("got %+v; want version 3, deactivated, document kept", v)
		}
		c.rejected(t, c.op(newAlice, KindDIDUpdate, DIDUpdate{DID: alice.did, PreviousVersion: 3, Document: rotated}), errkind.Conflict, "is deactivated")
		c.rejected(t, c.op(newAlice, KindAnchor, AnchorPayload{Root: strings.Repeat("a", 64)}), errkind.Forbidden, "is deactivated and can sign nothing")
	})
}

func TestApplySigners(t *testing.T) {
	c, _ := newChain(t)
	jwkKey := seedKey("jwk")
	jd, _ := did.NewJWK(jwkKey.Public())
	jwkActor := actor{did: jd.String(), kid: jd.String() + "#0", key: jwkKey}
	web := actor{did: "did:web:example.org", kid: "did:web:example.org#key-1", key: seedKey("web")}
	root := AnchorPayload{Root: strings.Repeat("b", 64)}
	other := signed(t, KindAnchor, keyActor(t, "x").kid, 1, root, seedKey("x"))
	other.JWS = mustResign(t, "other-chain", other.Op, seedKey("x"))
	tests := []struct {
		name string
		op   SignedOp
		kind errkind.Kind
		want string
	}{
		{"did:jwk resolves", c.op(jwkActor, KindAnchor, AnchorPayload{Root: root.Root, Type: "Resident"}), errkind.Forbidden, "holds no accreditation"},
		{"did:key resolves", c.op(keyActor(t, "x"), KindAnchor, AnchorPayload{Root: root.Root, Type: "Resident"}), errkind.Forbidden, "holds no accreditation"},
		{"did:key with a wrong fragment", signed(t, KindAnchor, keyActor(t, "x").did+"#nope", 1, root, seedKey("x")), errkind.Forbidden, "is not a capabilityInvocation or assertionMethod key"},
		{"did:web", c.op(web, KindAnchor, root), errkind.Forbidden, "signers must be did:urbis, did:key or did:jwk"},
		{"unknown did:urbis", signed(t, KindAnchor, "did:urbis:nobody#key-1", 1, root, seedKey("x")), errkind.Forbidden, "does not exist on this chain"},
		{"other chain", other, errkind.Invalid, `operation is for chain "other-chain"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { c.rejected(t, tt.op, tt.kind, tt.want) })
	}
	t.Run("header of another chain", func(t *testing.T) {
		err := c.st.InBlockTx(context.Background(), func(tx BlockTx) error {
			_, err := c.m.Apply(context.Background(), tx, Header{Chain: "other-chain", Height: 99, Time: genesisTime}, c.op(keyActor(t, "x"), KindAnchor, root))
			return err
		})
		wantErr(t, err, errkind.Invalid, `block header is of chain "other-chain"`)
	})
}

// mustResign signs op again for another chain.
func mustResign(t testing.TB, chainID string, op Operation, k crypto.Signer) string {
	op.Chain = chainID
	s, err := Sign(op, k)
	if err != nil {
		t.Fatal(err)
	}
	return s.JWS
}

func TestApplyTrust(t *testing.T) {
	c, govKey := newChain(t)
	gd, gk := keyKID(t, govKey)
	gov := actor{did: gd, kid: gk, key: govKey}
	agency := c.create("agency")
	sub := keyActor(t, "sub")
	stranger := keyActor(t, "stranger")
	until := genesisTime.Add(1000 * time.Hour).Format(time.RFC3339)
	parent := c.accredit(gov, TrustAccredit{Issuer: agency.did, Types: []string{"Resident", "LandTitle"}, Districts: []string{"north", "south"}, ValidUntil: until, MayDelegate: true})
	a := c.accreditation(parent)
	if a.Accreditor != gov.did || a.Delegated || !a.MayDelegate || a.Status != StatusActive || !a.ValidFrom.Equal(c.time) {
		t.Fatalf("got %+v; want an active, delegable accreditation by governance from block time", a)
	}
	child := c.accredit(agency, TrustAccredit{Issuer: sub.did, Types: []string{"Resident"}, Districts: []string{"north"}, ValidUntil: until, MayDelegate: true})
	if a := c.accreditation(child); !a.Delegated || a.MayDelegate || a.Accreditor != agency.did {
		t.Fatalf("got %+v; want delegated, not delegable, by the agency", a)
	}
	later := genesisTime.Add(2000 * time.Hour).Format(time.RFC3339)
	tests := []struct {
		name string
		op   SignedOp
		kind errkind.Kind
		want string
	}{
		{"stranger accredits", c.op(stranger, KindTrustAccredit, TrustAccredit{Issuer: sub.did, Types: []string{"Resident"}}), errkind.Forbidden, "is not a governance DID"},
		{"delegate a type not held", c.op(agency, KindTrustAccredit, TrustAccredit{Issuer: sub.did, Types: []string{"Vote"}, Districts: []string{"north"}, ValidUntil: until}), errkind.Forbidden, "is not a governance DID"},
		{"delegate every district", c.op(agency, KindTrustAccredit, TrustAccredit{Issuer: sub.did, Types: []string{"Resident"}, ValidUntil: until}), errkind.Forbidden, "in every district"},
		{"delegate another district", c.op(agency, KindTrustAccredit, TrustAccredit{Issuer: sub.did, Types: []string{"Resident"}, Districts: []string{"east"}, ValidUntil: until}), errkind.Forbidden, "in districts east"},
		{"delegate beyond the period", c.op(agency, KindTrustAccredit, TrustAccredit{Issuer: sub.did, Types: []string{"Resident"}, Districts: []string{"north"}, ValidUntil: later}), errkind.Forbidden, "until"},
		{"delegate open-ended", c.op(agency, KindTrustAccredit, TrustAccredit{Issuer: sub.did, Types: []string{"Resident"}, Districts: []string{"north"}}), errkind.Forbidden, "with no end"},
		{"delegate twice deep", c.op(sub, KindTrustAccredit, TrustAccredit{Issuer: stranger.did, Types: []string{"Resident"}, Districts: []string{"north"}, ValidUntil: until}), errkind.Forbidden, "is not a governance DID"},
		{"no types", c.op(gov, KindTrustAccredit, TrustAccredit{Issuer: sub.did}), errkind.Invalid, "types: at least one"},
		{"type twice", c.op(gov, KindTrustAccredit, TrustAccredit{Issuer: sub.did, Types: []string{"A", "A"}}), errkind.Invalid, "listed twice"},
		{"bad issuer", c.op(gov, KindTrustAccredit, TrustAccredit{Issuer: "agency", Types: []string{"A"}}), errkind.Invalid, "issuer"},
		{"bad validFrom", c.op(gov, KindTrustAccredit, TrustAccredit{Issuer: sub.did, Types: []string{"A"}, ValidFrom: "yesterday"}), errkind.Invalid, "validFrom"},
		{"fractional seconds", c.op(gov, KindTrustAccredit, TrustAccredit{Issuer: sub.did, Types: []string{"A"}, ValidUntil: "2031-01-01T00:00:00.5Z"}), errkind.Invalid, "whole seconds"},
		{"validUntil before validFrom", c.op(gov, KindTrustAccredit, TrustAccredit{Issuer: sub.did, Types: []string{"A"}, ValidFrom: until, ValidUntil: "2030-01-01T00:00:00Z"}), errkind.Invalid, "is not after validFrom"},
		{"replayed", c.op(gov, KindTrustAccredit, TrustAccredit{Issuer: sub.did, Types: []string{"A"}}), errkind.Conflict, ""},
	}
	// The replayed case: apply once, then expect the replay to fail.
	c.must(tests[len(tests)-1].op)
	tests[len(tests)-1].want = "replayed or out-of-order nonce: got 2, want 3"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { c.rejected(t, tt.op, tt.kind, tt.want) })
	}

	t.Run("status changes", func(t *testing.T) {
		steps := []struct {
			by   actor
			kind Kind
			id   string
			err  errkind.Kind
			want string
		}{
			{stranger, KindTrustSuspend, child, errkind.Forbidden, "only the accreditor " + agency.did},
			{agency, KindTrustReinstate, child, errkind.Conflict, "only a suspended accreditation can be reinstated"},
			{agency, KindTrustSuspend, child, "", StatusSuspended},
			{agency, KindTrustSuspend, child, errkind.Conflict, "only an active accreditation can be suspended"},
			{gov, KindTrustReinstate, child, "", StatusActive},
			{gov, KindTrustRevoke, child, "", StatusRevoked},
			{gov, KindTrustReinstate, child, errkind.Conflict, "revocation is final"},
			{gov, KindTrustRevoke, child, errkind.Conflict, "revocation is final"},
			{gov, KindTrustSuspend, strings.Repeat("0", 64), errkind.NotFound, "does not exist"},
			{gov, KindTrustSuspend, "x", errkind.Invalid, "not an accreditation id"},
		}
		for _, s := range steps {
			op := c.op(s.by, s.kind, TrustChange{Accreditation: s.id, Reason: "audit"})
			if s.err != "" {
				c.rejected(t, op, s.err, s.want)
				continue
			}
			c.must(op)
			if got := c.accreditation(s.id).Status; got != s.want {
				t.Fatalf("after %s got status %s; want %s", s.kind, got, s.want)
			}
		}
		hist, _ := c.st.AccreditationHistory(context.Background(), child)
		var kinds []string
		for _, e := range hist {
			kinds = append(kinds, string(e.Kind))
		}
		if got, want := strings.Join(kinds, " "), "trust.accredit trust.suspend trust.reinstate trust.revoke"; got != want {
			t.Errorf("got history %s; want %s", got, want)
		}
	})
}

func TestApplySchemaAndAnchor(t *testing.T) {
	c, govKey := newChain(t)
	gd, gk := keyKID(t, govKey)
	gov := actor{did: gd, kid: gk, key: govKey}
	// The issuer's assertion key is not its capabilityInvocation key.
	spec := oneKeySpec(t, seedKey("issuer"))
	spec.VerificationMethod = append(spec.VerificationMethod, MethodSpec{ID: "#assert", Type: "Multikey", PublicKeyMultibase: multikey(t, seedKey("issuer-assert"))})
	spec.AssertionMethod = []string{"#assert"}
	id, payload, err := NewDIDCreate(spec)
	if err != nil {
		t.Fatal(err)
	}
	c.must(signed(t, KindDIDCreate, id+"#key-1", 1, payload, seedKey("issuer")))
	issuer := actor{did: id, kid: id + "#key-1", key: seedKey("issuer")}
	asserter := actor{did: id, kid: id + "#assert", key: seedKey("issuer-assert")}
	agency := c.create("agency")
	sub := keyActor(t, "sub")
	c.accredit(gov, TrustAccredit{Issuer: issuer.did, Types: []string{"Resident"}})
	parent := c.accredit(gov, TrustAccredit{Issuer: agency.did, Types: []string{"Resident"}, MayDelegate: true})
	c.accredit(agency, TrustAccredit{Issuer: sub.did, Types: []string{"Resident"}})
	future := c.create("future")
	c.accredit(gov, TrustAccredit{Issuer: future.did, Types: []string{"Resident"}, ValidFrom: genesisTime.Add(9999 * time.Hour).Format(time.RFC3339)})
	expired := c.create("expired")
	c.accredit(gov, TrustAccredit{Issuer: expired.did, Types: []string{"Resident"}, ValidFrom: "2029-01-01T00:00:00Z", ValidUntil: "2029-06-01T00:00:00Z"})

	schema := json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"}}}`)
	reg := c.op(asserter, KindSchemaRegister, SchemaRegister{Type: "Resident", Schema: schema})
	c.must(reg)
	canon, _ := Canonical(schema)
	sid := sha256Hex(canon)
	s, err := c.st.Schema(context.Background(), sid)
	if err != nil || s.Issuer != issuer.did || s.Type != "Resident" || string(s.Content) != string(canon) {
		t.Fatalf("got schema %+v, %v; want it registered by %s under %s", s, err, issuer.did, sid)
	}
	c.must(c.op(sub, KindSchemaRegister, SchemaRegister{Type: "Resident", Schema: json.RawMessage(`{"type":"string"}`)}))
	root := strings.Repeat("c", 64)
	c.must(c.op(issuer, KindAnchor, AnchorPayload{Root: root, Count: 10, Type: "Resident"}))

	tests := []struct {
		name string
		op   SignedOp
		kind errkind.Kind
		want string
	}{
		{"schema twice", c.op(issuer, KindSchemaRegister, SchemaRegister{Type: "Resident", Schema: json.RawMessage(`{"properties":{"name":{"type":"string"}},"type":"object"}`)}), errkind.Conflict, "already registered"},
		{"schema for a type not held", c.op(issuer, KindSchemaRegister, SchemaRegister{Type: "Vote", Schema: json.RawMessage(`{}`)}), errkind.Forbidden, `for type "Vote"`},
		{"schema by a stranger", c.op(keyActor(t, "stranger"), KindSchemaRegister, SchemaRegister{Type: "Resident", Schema: json.RawMessage(`{}`)}), errkind.Forbidden, "holds no accreditation"},
		{"schema not yet accredited", c.op(future, KindSchemaRegister, SchemaRegister{Type: "Resident", Schema: json.RawMessage(`{}`)}), errkind.Forbidden, "holds no accreditation"},
		{"schema accreditation expired", c.op(expired, KindSchemaRegister, SchemaRegister{Type: "Resident", Schema: json.RawMessage(`{}`)}), errkind.Forbidden, "holds no accreditation"},
		{"schema not an object", c.op(issuer, KindSchemaRegister, SchemaRegister{Type: "Resident", Schema: json.RawMessage(`[1]`)}), errkind.Invalid, "must be a JSON object"},
		{"schema invalid", c.op(issuer, KindSchemaRegister, SchemaRegister{Type: "Resident", Schema: json.RawMessage(`{"type":12}`)}), errkind.Invalid, "not a valid JSON Schema"},
		{"schema with an external ref", c.op(issuer, KindSchemaRegister, SchemaRegister{Type: "Resident", Schema: json.RawMessage(`{"$ref":"https://example.org/s.json"}`)}), errkind.Invalid, "not a valid JSON Schema"},
		{"schema without type", c.op(issuer, KindSchemaRegister, SchemaRegister{Schema: json.RawMessage(`{}`)}), errkind.Invalid, "type must be"},
		{"anchor twice", c.op(issuer, KindAnchor, AnchorPayload{Root: root}), errkind.Conflict, "already anchored"},
		{"anchor uppercase root", c.op(issuer, KindAnchor, AnchorPayload{Root: strings.Repeat("C", 64)}), errkind.Invalid, "64 lowercase hex"},
		{"anchor short root", c.op(issuer, KindAnchor, AnchorPayload{Root: "abc"}), errkind.Invalid, "64 lowercase hex"},
		{"anchor negative count", c.op(issuer, KindAnchor, AnchorPayload{Root: strings.Repeat("d", 64), Count: -1}), errkind.Invalid, "negative"},
		{"anchor for a type not held", c.op(issuer, KindAnchor, AnchorPayload{Root: strings.Repeat("d", 64), Type: "Vote"}), errkind.Forbidden, `for type "Vote"`},
		{"typed anchor unaccredited", c.op(keyActor(t, "stranger"), KindAnchor, AnchorPayload{Root: strings.Repeat("d", 64), Type: "Resident"}), errkind.Forbidden, `for type "Resident"`},
		{"trust op with the assertion key", c.op(asserter, KindTrustAccredit, TrustAccredit{Issuer: sub.did, Types: []string{"Resident"}}), errkind.Forbidden, "is not a capabilityInvocation key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { c.rejected(t, tt.op, tt.kind, tt.want) })
	}
	t.Run("delegated accreditation lapses with its parent", func(t *testing.T) {
		c.must(c.op(gov, KindTrustSuspend, TrustChange{Accreditation: parent}))
		c.rejected(t, c.op(sub, KindAnchor, AnchorPayload{Root: strings.Repeat("e", 64), Type: "Resident"}), errkind.Forbidden, "holds no accreditation")
		c.must(c.op(gov, KindTrustReinstate, TrustChange{Accreditation: parent}))
		c.must(c.op(sub, KindAnchor, AnchorPayload{Root: strings.Repeat("e", 64), Type: "Resident"}))
	})
	t.Run("untyped anchor needs no accreditation", func(t *testing.T) {
		stranger := keyActor(t, "stranger-untyped")
		r := strings.Repeat("f", 64)
		c.must(c.op(stranger, KindAnchor, AnchorPayload{Root: r, Count: 3}))
		a, err := c.st.Anchor(context.Background(), r)
		if err != nil || a.Issuer != stranger.did || a.Count != 3 || a.Type != "" {
			t.Fatalf("got %+v, %v; want root anchored by %s with count 3 and no type", a, err, stranger.did)
		}
		c.rejected(t, c.op(stranger, KindAnchor, AnchorPayload{Root: r}), errkind.Conflict, "already anchored")
	})
}

func TestApplyIsDeterministic(t *testing.T) {
	run := func() (string, []string) {
		c, govKey := newChain(t)
		gd, gk := keyKID(t, govKey)
		gov := actor{did: gd, kid: gk, key: govKey}
		var effects [][]byte
		var hashes []string
		ops := []func() SignedOp{
			func() SignedOp { op, _ := createOp(t, seedKey("alice")); return op },
			func() SignedOp {
				return c.op(gov, KindTrustAccredit, TrustAccredit{Issuer: "did:key:z6Mk", Types: []string{"B", "A"}, Districts: []string{"n"}})
			},
		}
		for i, mk := range ops {
			op := mk()
			h := Header{Chain: testChain, Height: uint64(i + 1), Time: genesisTime.Add(time.Duration(i) * time.Second)}
			err := c.st.InBlockTx(context.Background(), func(tx BlockTx) error {
				eff, err := c.m.Apply(context.Background(), tx, h, op)
				effects = append(effects, eff)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			hashes = append(hashes, op.Hash)
		}
		var out []string
		for _, e := range effects {
			out = append(out, string(e))
		}
		return NextStateRoot(c.g.Hash(), hashes, effects), out
	}
	r1, e1 := run()
	r2, e2 := run()
	if r1 != r2 || strings.Join(e1, "\n") != strings.Join(e2, "\n") {
		t.Errorf("got roots %s and %s; want the same root and effects from the same operations", r1, r2)
	}
	if !strings.Contains(e1[0], `"kind":"did.create"`) || !strings.Contains(e1[1], `"accreditation"`) {
		t.Errorf("got effects %s; want them to say what was written", e1)
	}
}

func TestNextStateRoot(t *testing.T) {
	a := NextStateRoot(ZeroHash, []string{ZeroHash}, [][]byte{[]byte("x")})
	tests := []struct {
		name string
		got  string
	}{
		{"other previous", NextStateRoot(strings.Repeat("1", 64), []string{ZeroHash}, [][]byte{[]byte("x")})},
		{"other op", NextStateRoot(ZeroHash, []string{strings.Repeat("1", 64)}, [][]byte{[]byte("x")})},
		{"other effect", NextStateRoot(ZeroHash, []string{ZeroHash}, [][]byte{[]byte("y")})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got == a {
				t.Errorf("got the same root %s; want a different one", a)
			}
		})
	}
}
