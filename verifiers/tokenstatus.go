package verifiers

import (
	"bytes"
	"context"
	"crypto"
	"math"
	"net/http"
	"strings"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/statuslist"
)

// TokenFetcher gets the Status List Token (draft-ietf-oauth-status-list,
// statuslist+jwt) published at a URI. A ListFetcher given to
// UseStatusLists that also implements it checks the status claim of
// SD-JWT VCs.
type TokenFetcher interface {
	FetchStatusToken(ctx context.Context, uri string) (string, error)
}

// tokenStatus checks the status claim of an SD-JWT VC: it fetches the
// Status List Token that status.status_list.uri names, verifies it was
// signed by a key of the credential's issuer for that uri, and reads the
// entry at idx. A non-zero status fails the check: 1 (INVALID) with
// "revoked", 2 (SUSPENDED) with "suspended".
func (v *Verifier) tokenStatus(ctx context.Context, cl *claims, r *Result) {
	if err := v.tokenStatusEntry(ctx, cl.issuer, cl.tokenStatus); err != nil {
		r.fail(CheckStatus, err)
		return
	}
	r.pass(CheckStatus)
}

func (v *Verifier) tokenStatusEntry(ctx context.Context, issuer string, status any) error {
	const field = "/status/status_list"
	s, _ := status.(map[string]any)
	ref, _ := s["status_list"].(map[string]any)
	if ref == nil {
		return errkind.Field(errkind.Unsupported, "/status", "has no status_list reference; no other status mechanism is checked here")
	}
	uri, _ := ref["uri"].(string)
	f, _ := ref["idx"].(float64)
	if uri == "" {
		return errkind.Field(errkind.Invalid, field+"/uri", "must be the URI of a Status List Token")
	}
	if f < 0 || f != math.Trunc(f) || f > statuslist.MaxSize {
		return errkind.Field(errkind.Invalid, field+"/idx", "must be a non-negative integer; got %v", ref["idx"])
	}
	idx := int(f)
	tf, ok := v.lists.(TokenFetcher)
	if v.lists == nil || !ok {
		return errkind.Field(errkind.Unavailable, field+"/uri", "status list %s cannot be fetched: this verifier fetches no Status List Tokens", uri).WithCode(statuslist.CodeRetrieval)
	}
	tok, err := tf.FetchStatusToken(ctx, uri)
	if err != nil {
		if errkind.KindOf(err) == errkind.Internal {
			return errkind.Field(errkind.Unavailable, field+"/uri", "status list %s could not be had", uri).WithCode(statuslist.CodeRetrieval)
		}
		return errkind.Wrap(errkind.KindOf(err), err, "status list %s", uri).WithCode(statuslist.CodeRetrieval)
	}
	got, err := statuslist.VerifyToken(tok, uri, func(kid string) (crypto.PublicKey, error) {
		if id, _, _ := strings.Cut(kid, "#"); id != issuer {
			return nil, errkind.New(errkind.Invalid, "is signed by %s, not by the credential's issuer %s", kid, issuer)
		}
		return v.keyFor(ctx, kid)
	}, v.clock())
	if err != nil {
		return errkind.Wrap(errkind.KindOf(err), err, "status list %s", uri).WithCode(statuslist.CodeVerification)
	}
	val, err := statuslist.TokenStatus(got.Lst, got.Bits, idx)
	if err != nil {
		return errkind.Wrap(errkind.KindOf(err), err, "status list %s", uri)
	}
	switch val {
	case 0:
		return nil
	case 1:
		return errkind.New(errkind.Invalid, "revoked: index %d of status list %s is set", idx, uri)
	case 2:
		return errkind.New(errkind.Invalid, "suspended: index %d of status list %s is set", idx, uri)
	}
	return errkind.New(errkind.Invalid, "invalid: index %d of status list %s has status %#x", idx, uri, val)
}

// FetchStatusToken implements TokenFetcher: this service's own lists
// from Local (when it implements TokenFetcher), others over HTTPS with
// Accept: application/statuslist+jwt, cached as the lists are.
func (l *RemoteLists) FetchStatusToken(ctx context.Context, uri string) (string, error) {
	if l.cfg.Local != nil && l.cfg.LocalPrefix != "" && strings.HasPrefix(uri, l.cfg.LocalPrefix) {
		if tf, ok := l.cfg.Local.(TokenFetcher); ok {
			return tf.FetchStatusToken(ctx, uri)
		}
	}
	key := "statuslist+jwt " + uri
	if body, ok := l.cache.Get(key); ok {
		return string(body), nil
	}
	resp, err := l.cfg.Fetcher.Get(ctx, uri, statuslist.TokenMediaType)
	if err != nil {
		return "", err
	}
	if resp.Status != http.StatusOK {
		kind := errkind.Unavailable
		if resp.Status == http.StatusNotFound || resp.Status == http.StatusGone {
			kind = errkind.NotFound
		}
		return "", errkind.New(kind, "GET %s answered %d %s", uri, resp.Status, http.StatusText(resp.Status))
	}
	body := bytes.TrimSpace(resp.Body)
	if strings.Count(string(body), ".") != 2 || bytes.ContainsAny(body, " \t\r\n") {
		return "", errkind.New(errkind.Invalid, "%s did not answer with a Status List Token (a compact JWT)", uri)
	}
	if ttl, ok := l.ttl(resp.Header.Get("Cache-Control")); ok {
		l.cache.Put(key, body, ttl)
	}
	return string(body), nil
}
