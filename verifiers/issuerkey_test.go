package verifiers

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

// histVersion is one version of a DID of the fake method with history.
type histVersion struct {
	at          time.Time
	key         string // the fragment of its one assertion key
	deactivated bool
}

// histMethod is a DID method with versions, resolved by versionId and
// versionTime as did:urbis resolves them.
type histMethod struct {
	versions    []histVersion
	keys        map[string]ed25519.PublicKey // by fragment
	compromised []did.CompromisedMethod
}

func (histMethod) Method() string { return "hist" }

func (m histMethod) Resolve(_ context.Context, id did.DID, opts did.ResolveOptions) (*did.Resolution, error) {
	n := len(m.versions)
	switch {
	case opts.VersionID != "":
		n, _ = strconv.Atoi(opts.VersionID)
	case opts.VersionTime != "":
		t, _ := did.ParseVersionTime(opts.VersionTime)
		n = 0
		for i, v := range m.versions {
			if !v.at.After(t) {
				n = i + 1
			}
		}
	}
	if n < 1 || n > len(m.versions) {
		return nil, errkind.New(errkind.NotFound, "%s did not exist yet", id).WithCode(did.CodeNotFound)
	}
	v := m.versions[n-1]
	mk, _ := did.EncodeMultikey(m.keys[v.key])
	doc := &did.Document{ID: id.String(),
		VerificationMethod: []did.VerificationMethod{{ID: id.String() + v.key, Type: did.TypeMultikey, Controller: id.String(), PublicKeyMultibase: mk}},
		AssertionMethod:    []did.MethodRef{{Ref: id.String() + v.key}},
	}
	md := did.DocumentMetadata{VersionID: strconv.Itoa(n), Updated: v.at.UTC().Format(time.RFC3339), Deactivated: v.deactivated, Compromised: m.compromised}
	if n < len(m.versions) {
		md.NextVersionID, md.NextUpdate = strconv.Itoa(n+1), m.versions[n].at.UTC().Format(time.RFC3339)
	}
	return &did.Resolution{Document: doc, DocumentMetadata: md}, nil
}

func TestResolveKeyAt(t *testing.T) {
	const id = "did:hist:alice"
	keys := map[string]ed25519.PublicKey{}
	for _, f := range []string{"#k1", "#k2", "#k3"} {
		keys[f], _, _ = ed25519.GenerateKey(rand.Reader)
	}
	t1 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour + 500*time.Millisecond) // within a second
	t3 := t2.Add(time.Hour)
	m := histMethod{keys: keys, versions: []histVersion{{t1, "#k1", false}, {t2, "#k2", false}, {t3, "#k3", true}}}
	mk2, _ := did.EncodeMultikey(keys["#k2"])
	compromised := m
	compromised.compromised = []did.CompromisedMethod{{ID: id + "#k9", PublicKeyMultibase: mk2, Since: "2026-01-02T00:00:00Z", VersionID: "3"}}
	now := t3.Add(time.Hour)
	tests := []struct {
		name   string
		method histMethod
		kid    string
		at     time.Time
		note   string // in the note, when it verifies
		err    string // in the error, when it does not
		code   string
	}{
		{"version in force", m, "#k1", t1.Add(time.Minute), "version 1", "", ""},
		{"rotated away", m, "#k1", t2.Add(time.Minute), "", "not an assertionMethod of its DID document of version 2", ""},
		{"signed in the second of the rotation, before it", m, "#k1", t2.Truncate(time.Second), "version 1", "", ""},
		{"signed in the second of the rotation, after it", m, "#k2", t2.Truncate(time.Second), "version 2", "", ""},
		{"before the DID", m, "#k1", t1.Add(-time.Hour), "", "did not exist yet", ""},
		{"after the deactivation", m, "#k3", t3.Add(time.Minute), "", "was deactivated (version 3", ""},
		{"compromised, though signed before", compromised, "#k2", t2.Add(time.Minute), "", "declared compromised by version 3", CodeCompromisedKey},
		{"another key of a DID with a compromised one", compromised, "#k1", t1.Add(time.Minute), "version 1", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewVerifier(did.NewResolver(did.ResolverConfig{}, tt.method), nil, func() time.Time { return now })
			k, note, err := v.resolveKey(context.Background(), id+tt.kid, did.AssertionMethod, tt.at)
			if tt.err != "" {
				var e *errkind.Error
				if err == nil || !strings.Contains(err.Error(), tt.err) || (tt.code != "" && (!errors.As(err, &e) || e.Code != tt.code)) {
					t.Errorf("got %v; want an error saying %q (code %q)", err, tt.err, tt.code)
				}
				return
			}
			if err != nil || !k.(ed25519.PublicKey).Equal(keys[tt.kid]) || !strings.Contains(note, tt.note) {
				t.Errorf("got key %v, note %q, %v; want the key of %s and a note naming %s", k, note, err, tt.kid, tt.note)
			}
		})
	}
	// Without a time: the current document (deactivated here).
	v := NewVerifier(did.NewResolver(did.ResolverConfig{}, m), nil, func() time.Time { return now })
	if _, _, err := v.resolveKey(context.Background(), id+"#k3", did.AssertionMethod, time.Time{}); err == nil || !strings.Contains(err.Error(), "is deactivated") {
		t.Errorf("current document: got %v; want deactivated", err)
	}
}
