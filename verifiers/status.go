package verifiers

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/jwtvc"
	"github.com/urbis-id/urbis/vc/ld"
	"github.com/urbis-id/urbis/vc/statuslist"
)

// CheckStatus is the check of a credential's BitstringStatusListEntry
// entries, or of an SD-JWT VC's status claim (Token Status List); it is
// present only when the credential has one.
const CheckStatus = "status"

// ListFetcher gets the status list credential published at a URL: the
// credential (read, never changed) and the bytes it was published as
// (the JSON object, or the compact JWT). The verifier remembers a list
// whose proof verified by those bytes.
type ListFetcher interface {
	FetchList(ctx context.Context, url string) (list map[string]any, raw []byte, err error)
}

// UseStatusLists makes v check credentialStatus with lists from f.
// Without it, a credential with credentialStatus fails the status check.
func (v *Verifier) UseStatusLists(f ListFetcher) { v.lists = f }

// status checks each BitstringStatusListEntry of the credential: it
// fetches the list credential, verifies its proof (by the list's issuer,
// which must be the credential's issuer), and reads the entry's bit. A
// set revocation bit fails the check with "revoked", a set suspension bit
// with "suspended".
func (v *Verifier) status(ctx context.Context, cl *claims, r *Result) {
	if cl.tokenStatus != nil && !r.failed(CheckProof) {
		v.tokenStatus(ctx, cl, r)
		return
	}
	if cl.status == nil || r.failed(CheckProof) {
		return
	}
	var entries []any
	switch s := cl.status.(type) {
	case []any:
		entries = s
	default:
		entries = []any{s}
	}
	for i, x := range entries {
		field := "/credentialStatus"
		if _, many := cl.status.([]any); many {
			field = fmt.Sprintf("/credentialStatus/%d", i)
		}
		e, ok := x.(map[string]any)
		if !ok {
			r.fail(CheckStatus, errkind.Field(errkind.Invalid, field, "must be an object").WithCode(statuslist.CodeMalformed))
			return
		}
		if err := v.statusEntry(ctx, cl.issuer, e); err != nil {
			var ke *errkind.Error
			if errors.As(err, &ke) && ke.Field == "" {
				c := *ke
				c.Field = field
				err = &c
			}
			r.fail(CheckStatus, err)
			return
		}
	}
	r.pass(CheckStatus)
}

func (v *Verifier) statusEntry(ctx context.Context, issuer string, e map[string]any) error {
	if t, _ := e["type"].(string); t != statuslist.TypeEntry {
		return errkind.New(errkind.Unsupported, "credentialStatus type %v is not checked here; only %s is", e["type"], statuslist.TypeEntry)
	}
	url, _ := e["statusListCredential"].(string)
	if v.lists == nil {
		return errkind.New(errkind.Unavailable, "status list %s cannot be fetched: this verifier fetches no status lists", url).WithCode(statuslist.CodeRetrieval)
	}
	list, raw, err := v.lists.FetchList(ctx, url)
	if err != nil {
		if errkind.KindOf(err) == errkind.Internal {
			return errkind.New(errkind.Unavailable, "status list %s could not be had", url).WithCode(statuslist.CodeRetrieval)
		}
		return errkind.Wrap(errkind.KindOf(err), err, "status list %s", url).WithCode(statuslist.CodeRetrieval)
	}
	list, err = v.verifyListCached(ctx, issuer, list, raw)
	if err != nil {
		return errkind.Wrap(errkind.KindOf(err), err, "status list %s", url).WithCode(statuslist.CodeVerification)
	}
	set, err := v.decoded.Check(e, list)
	if err != nil {
		return err
	}
	if !set {
		return nil
	}
	idx, _ := e["statusListIndex"].(string)
	if p, _ := e["statusPurpose"].(string); p == statuslist.PurposeSuspension {
		return errkind.New(errkind.Invalid, "suspended: index %s of status list %s is set", idx, url)
	}
	return errkind.New(errkind.Invalid, "revoked: index %s of status list %s is set", idx, url)
}

// listProofTTL is how long a status list credential whose proof verified
// is trusted without verifying it again: the same bytes from the same
// issuer verify the same way, and a list changes only with a new version
// (new bytes). Time-dependent checks still run on every use.
const listProofTTL = time.Minute

// maxVerifiedLists bounds the remembered verifications.
const maxVerifiedLists = 1024

// verifiedLists remembers status list credentials whose proof verified,
// by issuer and SHA-256 of the bytes they were published as, so that
// verifying many credentials against one list canonicalises and verifies
// it once.
type verifiedLists struct {
	mu   sync.Mutex
	seen map[[32]byte]verifiedList
}

type verifiedList struct {
	until time.Time
	cred  map[string]any // a JWT list's credential; nil for a JSON one
}

// verifyListCached verifies a list as verifyList does, skipping the proof
// when the same list from the same issuer verified within listProofTTL,
// and returns the list credential to read the entry from. raw is list as
// published; without it, list's JSON encoding stands in.
func (v *Verifier) verifyListCached(ctx context.Context, issuer string, list map[string]any, raw []byte) (map[string]any, error) {
	if len(raw) == 0 {
		b, err := json.Marshal(list)
		if err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "status list credential is not JSON")
		}
		raw = b
	}
	h := sha256.New()
	h.Write([]byte(issuer))
	h.Write([]byte{0})
	h.Write(raw)
	var key [32]byte
	h.Sum(key[:0])
	now := v.clock()
	v.verified.mu.Lock()
	seen, ok := v.verified.seen[key]
	v.verified.mu.Unlock()
	if ok && now.Before(seen.until) {
		cred := list
		if seen.cred != nil {
			cred = seen.cred
		}
		return cred, v.checkListValidity(cred)
	}
	cred, err := v.verifyList(ctx, issuer, list)
	if err != nil {
		return nil, err
	}
	entry := verifiedList{until: now.Add(listProofTTL)}
	if hasType(list, "EnvelopedVerifiableCredential") {
		entry.cred = cred
	}
	v.verified.mu.Lock()
	if v.verified.seen == nil || len(v.verified.seen) >= maxVerifiedLists {
		v.verified.seen = make(map[[32]byte]verifiedList)
	}
	v.verified.seen[key] = entry
	v.verified.mu.Unlock()
	return cred, nil
}

// checkListValidity checks the list's validity period (validUntil, or
// expirationDate for a VC 1.1 list).
func (v *Verifier) checkListValidity(list map[string]any) error {
	for _, name := range []string{"validUntil", "expirationDate"} {
		if s, ok := list[name].(string); ok {
			until, err := time.Parse(time.RFC3339, s)
			if err != nil || !v.clock().Before(until) {
				return errkind.New(errkind.Invalid, "expired (%s %s)", name, s)
			}
		}
	}
	return nil
}

// verifyList checks a status list credential's proof, its issuer and its
// validity period, and returns the credential: the list itself when it
// has a Data Integrity proof (eddsa-rdfc-2022, assertionMethod), the
// credential of the JWT-VC when it is an EnvelopedVerifiableCredential.
// Either way it must be issued by issuer, with a key of issuer's
// current DID document that was never declared compromised.
func (v *Verifier) verifyList(ctx context.Context, issuer string, list map[string]any) (map[string]any, error) {
	if hasType(list, "EnvelopedVerifiableCredential") {
		return v.verifyJWTList(ctx, issuer, list)
	}
	if got, _ := list["issuer"].(string); got != issuer {
		return nil, errkind.New(errkind.Invalid, "is issued by %q, not by the credential's issuer %s", got, issuer)
	}
	base, _ := v.diKeys(did.AssertionMethod)
	res, err := dataintegrity.Verify(ctx, list, func(ctx context.Context, vm string) (ed25519.PublicKey, error) {
		if id, _, _ := strings.Cut(vm, "#"); id != issuer {
			return nil, errkind.New(errkind.Invalid, "is signed by %s, not by its issuer %s", vm, issuer)
		}
		return base(ctx, vm)
	}, ld.Default())
	if err != nil {
		return nil, err
	}
	if err := res.Check(dataintegrity.Expect{ProofPurpose: "assertionMethod", Now: v.clock()}); err != nil {
		return nil, err
	}
	return list, v.checkListValidity(list)
}

// verifyJWTList verifies a status list credential sent as a JWT-VC.
func (v *Verifier) verifyJWTList(ctx context.Context, issuer string, list map[string]any) (map[string]any, error) {
	tok, err := envelopedToken(list)
	if err != nil {
		return nil, err
	}
	got, err := jwtvc.Verify(tok, func(kid string) (crypto.PublicKey, error) {
		if id, _, _ := strings.Cut(kid, "#"); id != issuer {
			return nil, errkind.New(errkind.Invalid, "is signed by %s, not by the credential's issuer %s", kid, issuer)
		}
		return v.keyFor(ctx, kid)
	}, v.clock())
	if err != nil {
		return nil, err
	}
	if iss, _ := got.Claims["iss"].(string); iss != issuer {
		return nil, errkind.New(errkind.Invalid, "is issued by %q, not by the credential's issuer %s", iss, issuer)
	}
	return got.Credential, v.checkListValidity(got.Credential)
}
