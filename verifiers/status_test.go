package verifiers_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/ld"
	"github.com/urbis-id/urbis/vc/statuslist"
	"github.com/urbis-id/urbis/verifiers"
)

// fetchFunc adapts a function to verifiers.ListFetcher.
type fetchFunc func(url string) (map[string]any, error)

func (f fetchFunc) FetchList(_ context.Context, url string) (map[string]any, []byte, error) {
	m, err := f(url)
	if err != nil {
		return nil, nil, err
	}
	b, err := json.Marshal(m)
	return m, b, err
}

type signer struct {
	did  string
	vm   string
	priv ed25519.PrivateKey
}

func newSigner(t *testing.T) signer {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	k, err := did.NewKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	id := k.String()
	return signer{did: id, vm: id + "#" + strings.TrimPrefix(id, "did:key:"), priv: priv}
}

func (s signer) sign(t *testing.T, doc map[string]any) map[string]any {
	t.Helper()
	out, err := dataintegrity.Sign(context.Background(), doc, dataintegrity.ProofOptions{VerificationMethod: s.vm, Created: t0}, s.priv, ld.Default())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStatusCheck(t *testing.T) {
	const listURL = "https://urbis.test/status/sl_1"
	iss, other := newSigner(t), newSigner(t)
	bits, _ := statuslist.NewBitstring(statuslist.MinSize)
	list := func(by signer, issuer, purpose string, set bool) map[string]any {
		b := bits.Clone()
		b.Set(7, set)
		l, err := statuslist.ListCredential(listURL, issuer, purpose, b, t0)
		if err != nil {
			t.Fatal(err)
		}
		return by.sign(t, l)
	}
	cred := func(purpose string) map[string]any {
		return iss.sign(t, map[string]any{
			"@context":          []any{"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/undefined-terms/v2"},
			"type":              []any{"VerifiableCredential", "ExampleCredential"},
			"issuer":            iss.did,
			"validFrom":         t0.Format(time.RFC3339),
			"credentialSubject": map[string]any{"id": "did:example:alice", "name": "Alice"},
			"credentialStatus":  statuslist.Entry(listURL, 7, purpose),
		})
	}
	tampered := list(iss, iss.did, "revocation", false)
	tampered["credentialSubject"].(map[string]any)["encodedList"] = list(iss, iss.did, "revocation", true)["credentialSubject"].(map[string]any)["encodedList"]
	tests := []struct {
		name    string
		purpose string
		fetch   verifiers.ListFetcher // nil: no fetcher
		want    string                // "" passes; else in the status error
	}{
		{"clear", "revocation", fetchFunc(func(string) (map[string]any, error) { return list(iss, iss.did, "revocation", false), nil }), ""},
		{"revoked", "revocation", fetchFunc(func(string) (map[string]any, error) { return list(iss, iss.did, "revocation", true), nil }), "revoked"},
		{"suspended", "suspension", fetchFunc(func(string) (map[string]any, error) { return list(iss, iss.did, "suspension", true), nil }), "suspended"},
		{"list of another issuer", "revocation", fetchFunc(func(string) (map[string]any, error) { return list(other, other.did, "revocation", false), nil }), "not by the credential's issuer"},
		{"list signed by another", "revocation", fetchFunc(func(string) (map[string]any, error) { return list(other, iss.did, "revocation", false), nil }), "not by its issuer"},
		{"tampered list", "revocation", fetchFunc(func(string) (map[string]any, error) { return tampered, nil }), "status list"},
		{"unavailable", "revocation", fetchFunc(func(string) (map[string]any, error) {
			return nil, errkind.New(errkind.Unsupported, "not published here")
		}), "not published here"},
		{"no fetcher", "revocation", nil, "cannot be fetched"},
	}
	resolver := did.NewResolver(did.ResolverConfig{}, did.KeyMethod{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := verifiers.NewVerifier(resolver, verifiers.NewTrust(fakeChain{}, fakeChain{}), func() time.Time { return t0.Add(time.Hour) })
			if tc.fetch != nil {
				v.UseStatusLists(tc.fetch)
			}
			res, err := v.VerifyCredential(context.Background(), cred(tc.purpose))
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if !res.Verified || !contains(res.Checks, verifiers.CheckStatus) {
					t.Errorf("got verified %v, checks %v, errors %+v; want verified with a status check", res.Verified, res.Checks, res.Errors)
				}
				return
			}
			if res.Verified || len(res.Errors) != 1 || res.Errors[0].Check != verifiers.CheckStatus || !strings.Contains(res.Errors[0].Message, tc.want) {
				t.Errorf("got verified %v, errors %+v; want one status error containing %q", res.Verified, res.Errors, tc.want)
			}
		})
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// countingResolver counts resolutions.
type countingResolver struct {
	did.Resolver
	n int
}

func (c *countingResolver) Resolve(ctx context.Context, id string, opts did.ResolveOptions) (*did.Resolution, error) {
	c.n++
	return c.Resolver.Resolve(ctx, id, opts)
}

// TestStatusListProofVerifiedOnce checks that a verifier verifies a status
// list's proof once for many credentials, and that the memory of it never
// covers a list whose bytes changed.
func TestStatusListProofVerifiedOnce(t *testing.T) {
	const listURL = "https://urbis.test/status/sl_2"
	iss := newSigner(t)
	bits, _ := statuslist.NewBitstring(statuslist.MinSize)
	clean, err := statuslist.ListCredential(listURL, iss.did, "revocation", bits, t0)
	if err != nil {
		t.Fatal(err)
	}
	clean = iss.sign(t, clean)
	tampered := iss.sign(t, clean)
	tampered["credentialSubject"].(map[string]any)["statusPurpose"] = "suspension"
	current := clean
	cred := iss.sign(t, map[string]any{
		"@context":          []any{"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/undefined-terms/v2"},
		"type":              []any{"VerifiableCredential", "ExampleCredential"},
		"issuer":            iss.did,
		"validFrom":         t0.Format(time.RFC3339),
		"credentialSubject": map[string]any{"id": "did:example:alice"},
		"credentialStatus":  statuslist.Entry(listURL, 3, "revocation"),
	})
	resolver := &countingResolver{Resolver: did.NewResolver(did.ResolverConfig{}, did.KeyMethod{})}
	v := verifiers.NewVerifier(resolver, verifiers.NewTrust(fakeChain{}, fakeChain{}), func() time.Time { return t0.Add(time.Hour) })
	v.UseStatusLists(fetchFunc(func(string) (map[string]any, error) { return current, nil }))
	verify := func() (*verifiers.Result, int) {
		before := resolver.n
		res, err := v.VerifyCredential(context.Background(), cred)
		if err != nil {
			t.Fatal(err)
		}
		return res, resolver.n - before
	}
	first, n1 := verify()
	second, n2 := verify()
	if !first.Verified || !second.Verified {
		t.Fatalf("got verified %v then %v; want both verified", first.Verified, second.Verified)
	}
	if n2 >= n1 {
		t.Errorf("got %d resolutions for the second credential and %d for the first; want fewer: the list's proof was verified already", n2, n1)
	}
	if n2 != 0 {
		t.Errorf("got %d resolutions for the second credential; want 0: a did:key's keys are remembered", n2)
	}
	current = tampered
	if res, _ := verify(); res.Verified {
		t.Error("a list changed after signing verified; want the status check to fail")
	}
}
