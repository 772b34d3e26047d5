package registry

import (
	"context"
	"errors"
	"testing"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

func TestDIDMethod(t *testing.T) {
	c, _ := newChain(t)
	alice := c.create("alice") // block 1, 00:01
	rotated := oneKeySpec(t, seedKey("alice-2"))
	c.must(c.op(alice, KindDIDUpdate, DIDUpdate{DID: alice.did, PreviousVersion: 1, Document: rotated})) // block 2, 00:02
	newAlice := actor{did: alice.did, kid: alice.kid, key: seedKey("alice-2")}
	c.must(c.op(newAlice, KindDIDDeactivate, DIDDeactivate{DID: alice.did, PreviousVersion: 2})) // block 3, 00:03
	r := did.NewResolver(did.ResolverConfig{}, NewDIDMethod(c.st))
	key1, key2 := multikey(t, seedKey("alice")), multikey(t, seedKey("alice-2"))

	tests := []struct {
		name        string
		url         string
		key         string
		version     string
		created     string
		updated     string
		next        string
		nextUpdate  string
		deactivated bool
	}{
		{"current", alice.did, key2, "3", "2030-01-01T00:01:00Z", "2030-01-01T00:03:00Z", "", "", true},
		{"versionId 1", alice.did + "?versionId=1", key1, "1", "2030-01-01T00:01:00Z", "2030-01-01T00:01:00Z", "2", "2030-01-01T00:02:00Z", false},
		{"versionId 2", alice.did + "?versionId=2", key2, "2", "2030-01-01T00:01:00Z", "2030-01-01T00:02:00Z", "3", "2030-01-01T00:03:00Z", false},
		{"versionTime between", alice.did + "?versionTime=2030-01-01T00:01:30Z", key1, "1", "2030-01-01T00:01:00Z", "2030-01-01T00:01:00Z", "2", "2030-01-01T00:02:00Z", false},
		{"versionTime at an update", alice.did + "?versionTime=2030-01-01T00:02:00Z", key2, "2", "2030-01-01T00:01:00Z", "2030-01-01T00:02:00Z", "3", "2030-01-01T00:03:00Z", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := r.Resolve(context.Background(), tt.url, did.ResolveOptions{})
			if err != nil {
				t.Fatal(err)
			}
			md := res.DocumentMetadata
			if got := res.Document.VerificationMethod[0].PublicKeyMultibase; got != tt.key {
				t.Errorf("got key %s; want %s", got, tt.key)
			}
			if res.Document.ID != alice.did || res.Document.VerificationMethod[0].ID != alice.did+"#key-1" {
				t.Errorf("got ids %s, %s; want absolute ids of %s", res.Document.ID, res.Document.VerificationMethod[0].ID, alice.did)
			}
			got := []string{md.VersionID, md.Created, md.Updated, md.NextVersionID, md.NextUpdate}
			want := []string{tt.version, tt.created, tt.updated, tt.next, tt.nextUpdate}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("got metadata %+v; want versionId %s, created %s, updated %s, nextVersionId %s, nextUpdate %s", md, tt.version, tt.created, tt.updated, tt.next, tt.nextUpdate)
					break
				}
			}
			if md.Deactivated != tt.deactivated {
				t.Errorf("got deactivated %v; want %v", md.Deactivated, tt.deactivated)
			}
		})
	}

	errTests := []struct {
		name string
		url  string
		kind errkind.Kind
		code string
	}{
		{"unknown DID", "did:urbis:11111111111111111111111111111111", errkind.NotFound, did.CodeNotFound},
		{"not base58 of 32 bytes", "did:urbis:abc", errkind.Invalid, did.CodeInvalidDID},
		{"versionId not a number", alice.did + "?versionId=one", errkind.Invalid, did.CodeInvalidOptions},
		{"versionId zero", alice.did + "?versionId=0", errkind.Invalid, did.CodeInvalidOptions},
		{"versionId with a leading zero", alice.did + "?versionId=01", errkind.Invalid, did.CodeInvalidOptions},
		{"versionId beyond", alice.did + "?versionId=4", errkind.NotFound, did.CodeNotFound},
		{"versionTime before creation", alice.did + "?versionTime=2029-01-01T00:00:00Z", errkind.NotFound, did.CodeNotFound},
		{"both options", alice.did + "?versionId=1&versionTime=2030-01-01T00:01:30Z", errkind.Invalid, did.CodeInvalidOptions},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Resolve(context.Background(), tt.url, did.ResolveOptions{})
			var e *errkind.Error
			if !errors.As(err, &e) || e.Kind != tt.kind || e.Code != tt.code {
				t.Errorf("got %v; want a %s error with code %s", err, tt.kind, tt.code)
			}
		})
	}
}

// countingState counts the DID version lookups made through it.
type countingState struct {
	StateReader
	latest, byVersion int
}

func (s *countingState) LatestDIDVersion(ctx context.Context, id string) (DIDVersion, error) {
	s.latest++
	return s.StateReader.LatestDIDVersion(ctx, id)
}

func (s *countingState) DIDVersion(ctx context.Context, id string, v uint64) (DIDVersion, error) {
	s.byVersion++
	return s.StateReader.DIDVersion(ctx, id, v)
}

// TestDIDMethodCurrentLooksUpOnce: resolving the current version of a
// DID at version 1 reads one version from the state (the current one has
// no next version to look for); a past version still looks for its next.
func TestDIDMethodCurrentLooksUpOnce(t *testing.T) {
	c, _ := newChain(t)
	alice := c.create("alice")
	c.must(c.op(alice, KindDIDUpdate, DIDUpdate{DID: alice.did, PreviousVersion: 1, Document: oneKeySpec(t, seedKey("alice-2"))}))
	bob := c.create("bob")
	tests := []struct {
		name              string
		url               string
		latest, byVersion int
	}{
		{"current, version 1", bob.did, 1, 0},
		{"current, version 2 (created needs version 1)", alice.did, 1, 1},
		{"versionId 1 (looks for version 2, and the current for compromised keys)", alice.did + "?versionId=1", 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &countingState{StateReader: c.st}
			r := did.NewResolver(did.ResolverConfig{}, NewDIDMethod(st))
			if _, err := r.Resolve(context.Background(), tt.url, did.ResolveOptions{}); err != nil {
				t.Fatal(err)
			}
			if st.latest != tt.latest || st.byVersion != tt.byVersion {
				t.Errorf("lookups: %d latest, %d by version; want %d, %d", st.latest, st.byVersion, tt.latest, tt.byVersion)
			}
		})
	}
}
