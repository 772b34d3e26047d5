package verifiers

import (
	"context"
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
	"github.com/urbis-id/urbis/vc/ld"
	"github.com/urbis-id/urbis/vc/statuslist"
)

// CheckStatus is the check of a credential's BitstringStatusListEntry
// entries; it is present only when the credential has credentialStatus.
const CheckStatus = "status"

// ListFetcher gets the status list credential published at a URL.
type ListFetcher interface {
	FetchList(ctx context.Context, url string) (map[string]any, error)
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
	list, err := v.lists.FetchList(ctx, url)
	if err != nil {
		if errkind.KindOf(err) == errkind.Internal {
			return errkind.New(errkind.Unavailable, "status list %s could not be had", url).WithCode(statuslist.CodeRetrieval)
		}
		return errkind.Wrap(errkind.KindOf(err), err, "status list %s", url).WithCode(statuslist.CodeRetrieval)
	}
	if err := v.verifyListCached(ctx, issuer, list); err != nil {
		return errkind.Wrap(errkind.KindOf(err), err, "status list %s", url).WithCode(statuslist.CodeVerification)
	}
	set, err := statuslist.Check(e, list)
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
// by issuer and SHA-256 of their JSON encoding, so that verifying many
// credentials against one list canonicalises and verifies it once.
type verifiedLists struct {
	mu    sync.Mutex
	until map[[32]byte]time.Time
}

// verifyListCached verifies a list as verifyList does, skipping the proof
// when the same list from the same issuer verified within listProofTTL.
func (v *Verifier) verifyListCached(ctx context.Context, issuer string, list map[string]any) error {
	b, err := json.Marshal(list)
	if err != nil {
		return errkind.Wrap(errkind.Invalid, err, "status list credential is not JSON")
	}
	key := sha256.Sum256(append(append([]byte(issuer), 0), b...))
	now := v.clock()
	v.verified.mu.Lock()
	until, ok := v.verified.until[key]
	v.verified.mu.Unlock()
	if ok && now.Before(until) {
		return v.checkListValidity(list)
	}
	if err := v.verifyList(ctx, issuer, list); err != nil {
		return err
	}
	v.verified.mu.Lock()
	if v.verified.until == nil || len(v.verified.until) >= maxVerifiedLists {
		v.verified.until = make(map[[32]byte]time.Time)
	}
	v.verified.until[key] = now.Add(listProofTTL)
	v.verified.mu.Unlock()
	return nil
}

// checkListValidity checks the list's validity period.
func (v *Verifier) checkListValidity(list map[string]any) error {
	if s, ok := list["validUntil"].(string); ok {
		until, err := time.Parse(time.RFC3339, s)
		if err != nil || !v.clock().Before(until) {
			return errkind.New(errkind.Invalid, "expired (validUntil %s)", s)
		}
	}
	return nil
}

// verifyList checks a status list credential's Data Integrity proof, its
// issuer and its validity period.
func (v *Verifier) verifyList(ctx context.Context, issuer string, list map[string]any) error {
	if got, _ := list["issuer"].(string); got != issuer {
		return errkind.New(errkind.Invalid, "is issued by %q, not by the credential's issuer %s", got, issuer)
	}
	base := dataintegrity.DIDKeyResolver(v.resolver, did.AssertionMethod)
	res, err := dataintegrity.Verify(ctx, list, func(ctx context.Context, vm string) (ed25519.PublicKey, error) {
		if id, _, _ := strings.Cut(vm, "#"); id != issuer {
			return nil, errkind.New(errkind.Invalid, "is signed by %s, not by its issuer %s", vm, issuer)
		}
		return base(ctx, vm)
	}, ld.Default())
	if err != nil {
		return err
	}
	if err := res.Check(dataintegrity.Expect{ProofPurpose: "assertionMethod", Now: v.clock()}); err != nil {
		return err
	}
	return v.checkListValidity(list)
}
