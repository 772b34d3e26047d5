package registry

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

func TestDIDUpdateCompromised(t *testing.T) {
	c, _ := newChain(t)
	alice := c.create("alice") // version 1, 00:01
	key1 := multikey(t, seedKey("alice"))
	next := oneKeySpec(t, seedKey("alice-2"))
	next.VerificationMethod[0].ID = "#key-2"
	next.Authentication, next.AssertionMethod, next.CapabilityInvocation = []string{"#key-2"}, []string{"#key-2"}, []string{"#key-2"}

	c.rejected(t, c.op(alice, KindDIDUpdate, DIDUpdate{DID: alice.did, PreviousVersion: 1, Document: next, Compromised: []string{"#nope"}}),
		errkind.Invalid, `"#nope" names no verification method of version 1`)
	c.rejected(t, c.op(alice, KindDIDUpdate, DIDUpdate{DID: alice.did, PreviousVersion: 1, Document: next, Compromised: []string{"#key-1", "#key-1"}}),
		errkind.Invalid, "listed twice")
	keep := oneKeySpec(t, seedKey("alice")) // the compromised key stays: refused
	c.rejected(t, c.op(alice, KindDIDUpdate, DIDUpdate{DID: alice.did, PreviousVersion: 1, Document: keep, Compromised: []string{"#key-1"}}),
		errkind.Invalid, "never returns")

	c.must(c.op(alice, KindDIDUpdate, DIDUpdate{DID: alice.did, PreviousVersion: 1, Document: next, Compromised: []string{"#key-1"}})) // version 2, 00:05
	v := c.version(alice.did)
	if len(v.Compromised) != 1 || v.Compromised[0].ID != "#key-1" || v.Compromised[0].PublicKeyMultibase != key1 || v.Compromised[0].Version != 2 || !v.Compromised[0].Time.Equal(c.time) {
		t.Fatalf("got compromised %+v; want #key-1 (%s) by version 2 at %s", v.Compromised, key1, c.time)
	}

	// The old key, under a new fragment, may never come back.
	alice2 := actor{did: alice.did, kid: alice.did + "#key-2", key: seedKey("alice-2")}
	back := next
	back.VerificationMethod = append(back.VerificationMethod, MethodSpec{ID: "#key-3", Type: did.TypeMultikey, PublicKeyMultibase: key1})
	c.rejected(t, c.op(alice2, KindDIDUpdate, DIDUpdate{DID: alice.did, PreviousVersion: 2, Document: back}),
		errkind.Invalid, "never returns")

	// Later versions and the deactivation carry the mark.
	c.must(c.op(alice2, KindDIDDeactivate, DIDDeactivate{DID: alice.did, PreviousVersion: 2}))
	if v := c.version(alice.did); len(v.Compromised) != 1 || v.Compromised[0].Version != 2 {
		t.Errorf("deactivated version: got compromised %+v; want the mark of version 2", v.Compromised)
	}

	// Resolution of any version reports it, and the verification method
	// of version 1 is recognised as compromised.
	r := did.NewResolver(did.ResolverConfig{}, NewDIDMethod(c.st))
	for _, q := range []string{"", "?versionId=1", "?versionId=2"} {
		res, err := r.Resolve(context.Background(), alice.did+q, did.ResolveOptions{})
		if err != nil {
			t.Fatal(err)
		}
		md := res.DocumentMetadata
		want := did.CompromisedMethod{ID: alice.did + "#key-1", PublicKeyMultibase: key1, Since: "2030-01-01T00:05:00Z", VersionID: "2"}
		if len(md.Compromised) != 1 || md.Compromised[0] != want {
			t.Errorf("resolve %s: got compromised %+v; want [%+v]", q, md.Compromised, want)
		}
		if q == "?versionId=1" {
			if _, ok := md.CompromisedBy(res.Document.VerificationMethod[0]); !ok {
				t.Errorf("resolve %s: CompromisedBy(%s) = false; want true", q, res.Document.VerificationMethod[0].ID)
			}
		}
	}
}

func TestDIDUpdateWithoutCompromiseEncodesAsBefore(t *testing.T) {
	// Operations and effects of chains made before compromised keys
	// existed must hash as they did: the new members are omitted when empty.
	b, err := Canonical(DIDUpdate{DID: "did:urbis:x", PreviousVersion: 1, Document: DocumentSpec{}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "compromised") {
		t.Errorf("got %s; want no compromised member", b)
	}
	e, _ := json.Marshal(DIDVersion{DID: "did:urbis:x", Version: 1})
	if strings.Contains(string(e), "Compromised") {
		t.Errorf("got effect %s; want no Compromised member", e)
	}
}
