package verifiers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/sdjwt"
	"github.com/urbis-id/urbis/vc/statuslist"
	"github.com/urbis-id/urbis/verifiers"
)

// tokenFunc adapts a function to verifiers.ListFetcher and
// verifiers.TokenFetcher.
type tokenFunc func(uri string) (string, error)

func (f tokenFunc) FetchList(context.Context, string) (map[string]any, []byte, error) {
	return nil, nil, errkind.New(errkind.Unsupported, "no W3C lists here")
}

func (f tokenFunc) FetchStatusToken(_ context.Context, uri string) (string, error) { return f(uri) }

func TestTokenStatusCheck(t *testing.T) {
	const uri = "https://urbis.test/status/sl_1"
	const idx = 7
	iss, other := newSigner(t), newSigner(t)
	token := func(by signer, sub string, set bool) string {
		b, _ := statuslist.NewBitstring(statuslist.MinSize)
		b.Set(idx, set)
		tok, err := statuslist.SignToken(sub, b, t0, 60, by.priv, by.vm)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	clear, revoked := token(iss, uri, false), token(iss, uri, true)
	// The payload of the revoked token under the signature of the clear one.
	cp, rp := strings.Split(clear, "."), strings.Split(revoked, ".")
	tampered := cp[0] + "." + rp[1] + "." + cp[2]
	cred, err := sdjwt.Issue(map[string]any{
		"iss": iss.did, "vct": "ExampleCredential", "iat": t0.Unix(), "name": "Alice",
		"status": statuslist.TokenClaim(uri, idx),
	}, sdjwt.DisclosurePolicy{"/name"}, iss.priv, sdjwt.IssueOptions{KeyID: iss.vm})
	if err != nil {
		t.Fatal(err)
	}
	serve := func(tok string) verifiers.ListFetcher {
		return tokenFunc(func(got string) (string, error) {
			if got != uri {
				t.Errorf("fetched %s; want %s", got, uri)
			}
			return tok, nil
		})
	}
	tests := []struct {
		name  string
		fetch verifiers.ListFetcher // nil: no fetcher
		want  string                // "" passes; else in the status error
	}{
		{"clear", serve(clear), ""},
		{"revoked", serve(revoked), "revoked: index 7 of status list " + uri + " is set"},
		{"tampered token", serve(tampered), "signature does not verify"},
		{"token of another issuer", serve(token(other, uri, false)), "not by the credential's issuer"},
		{"token of another list", serve(token(iss, uri+"x", false)), "sub"},
		{"unavailable", tokenFunc(func(string) (string, error) { return "", errkind.New(errkind.Unavailable, "down") }), "down"},
		{"fetcher without tokens", fetchFunc(func(string) (map[string]any, error) { return nil, nil }), "fetches no Status List Tokens"},
		{"no fetcher", nil, "fetches no Status List Tokens"},
	}
	resolver := did.NewResolver(did.ResolverConfig{}, did.KeyMethod{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := verifiers.NewVerifier(resolver, verifiers.NewTrust(fakeChain{}, fakeChain{}), func() time.Time { return t0.Add(time.Hour) })
			if tc.fetch != nil {
				v.UseStatusLists(tc.fetch)
			}
			res, err := v.VerifyCredential(context.Background(), cred)
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

func TestRemoteTokenStatus(t *testing.T) {
	s := newListServer(t)
	iss := newSigner(t)
	now := t0.Add(time.Hour)
	clock := func() time.Time { return now }
	uri := s.srv.URL + "/tok"
	token := func(set bool) []byte {
		b, _ := statuslist.NewBitstring(statuslist.MinSize)
		b.Set(7, set)
		tok, err := statuslist.SignToken(uri, b, t0, 60, iss.priv, iss.vm)
		if err != nil {
			t.Fatal(err)
		}
		return []byte(tok)
	}
	cred, err := sdjwt.Issue(map[string]any{
		"iss": iss.did, "vct": "ExampleCredential", "iat": t0.Unix(), "name": "Alice",
		"status": statuslist.TokenClaim(uri, 7),
	}, sdjwt.DisclosurePolicy{"/name"}, iss.priv, sdjwt.IssueOptions{KeyID: iss.vm})
	if err != nil {
		t.Fatal(err)
	}
	lists, err := verifiers.NewRemoteLists(verifiers.RemoteListsConfig{
		Fetcher: did.NewFetcher(did.FetchOptions{AllowPrivate: true, RootCAs: s.pool}), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	v := verifiers.NewVerifier(did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}), verifiers.NewTrust(fakeChain{}, fakeChain{}), clock)
	v.UseStatusLists(lists)
	steps := []struct {
		name string
		body []byte
		cc   string
	}{
		{"clear, cached", token(false), "max-age=60"},
		{"revoked, the cached copy answers", token(true), "no-store"},
	}
	for _, st := range steps {
		s.publish("/tok", st.body, st.cc)
		res, err := v.VerifyCredential(context.Background(), cred)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Verified || !contains(res.Checks, verifiers.CheckStatus) {
			t.Errorf("%s: got verified %v, errors %+v; want verified with a status check", st.name, res.Verified, res.Errors)
		}
	}
	now = now.Add(2 * time.Minute) // past max-age: fetched again, not kept (no-store)
	res, err := v.VerifyCredential(context.Background(), cred)
	if err != nil {
		t.Fatal(err)
	}
	if want := "revoked: index 7"; res.Verified || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, want) {
		t.Errorf("after max-age: got verified %v, errors %+v; want a status error containing %q", res.Verified, res.Errors, want)
	}
	if got := s.hits.Load(); got != 2 {
		t.Errorf("fetches: got %d; want 2", got)
	}
}
