package verifiers

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/dataintegrity"
)

// CodeCompromisedKey is the code of the error for a signature by a
// verification method its DID's controller declared compromised.
const CodeCompromisedKey = "COMPROMISED_KEY"

// methodNoHistory lists the DID methods whose documents have no
// versions: they are resolved as they are now, whatever the issuance
// time. Every other method is asked for the version in force then.
var methodNoHistory = map[string]bool{did.MethodKey: true, did.MethodJWK: true, did.MethodWeb: true}

// resolveKey resolves the DID URL kid to the public key of a
// verification method that its DID document authorises for rel.
//
// With a non-zero at (when the credential says it was signed), a DID
// with history (did:urbis) is resolved in the version in force at the
// end of at's second: credentials carry whole seconds, and the key
// rotated away after issuance still verifies what it signed before.
// When that version came in the same second and lacks kid, the versions
// before it in that second are tried, newest first. A zero at resolves
// the current document.
//
// A verification method the DID's controller declared compromised is
// refused (errkind.Forbidden, CodeCompromisedKey), however early the
// signature claims to be. note says which version answered, for the
// result of a historical resolution.
func (v *Verifier) resolveKey(ctx context.Context, kid string, rel did.Relationship, at time.Time) (pub crypto.PublicKey, note string, err error) {
	id, _, ok := strings.Cut(kid, "#")
	if !ok || !strings.HasPrefix(id, "did:") {
		return nil, "", errkind.Field(errkind.Invalid, "kid", "%q is not a DID URL with a fragment", kid)
	}
	method, _, _ := strings.Cut(strings.TrimPrefix(id, "did:"), ":")
	// A did:key or did:jwk document is a function of the DID alone: its
	// keys never change, so one resolution answers for good.
	pure := method == did.MethodKey || method == did.MethodJWK
	if pure {
		if k, ok := v.pureKeys.get(kid, rel); ok {
			return k, "", nil
		}
		defer func() {
			if err == nil {
				v.pureKeys.put(kid, rel, pub)
			}
		}()
	}
	historic := !at.IsZero() && !methodNoHistory[method]
	opts := did.ResolveOptions{}
	var second time.Time
	if historic {
		second = at.UTC().Truncate(time.Second)
		opts.VersionTime = second.Add(time.Second - time.Nanosecond).Format(time.RFC3339Nano)
	}
	res, err := v.resolver.Resolve(ctx, id, opts)
	if err != nil {
		return nil, "", err
	}
	for historic && res.Document != nil && !res.Document.Authorizes(rel, kid) {
		n, _ := strconv.ParseUint(res.DocumentMetadata.VersionID, 10, 64)
		updated, perr := time.Parse(time.RFC3339, res.DocumentMetadata.Updated)
		if n <= 1 || perr != nil || updated.Before(second) {
			break
		}
		prev, err := v.resolver.Resolve(ctx, id, did.ResolveOptions{VersionID: strconv.FormatUint(n-1, 10)})
		if err != nil {
			break
		}
		res = prev
	}
	if res.Document == nil {
		return nil, "", errkind.New(errkind.NotFound, "DID %s resolved to no document", id)
	}
	md := res.DocumentMetadata
	if md.Deactivated {
		if historic {
			return nil, "", errkind.New(errkind.Gone, "DID %s was deactivated (version %s, %s) before %s, when the credential says it was signed", id, md.VersionID, md.Updated, at.UTC().Format(time.RFC3339))
		}
		return nil, "", errkind.New(errkind.Gone, "DID %s is deactivated", id)
	}
	version := ""
	if historic && md.VersionID != "" {
		version = fmt.Sprintf(" of version %s (in force at %s, when the credential says it was signed)", md.VersionID, at.UTC().Format(time.RFC3339))
	}
	if !res.Document.Authorizes(rel, kid) {
		return nil, "", errkind.New(errkind.Forbidden, "%s is not an %s of its DID document%s", kid, rel, version)
	}
	m, ok := res.Document.VerificationMethodByID(kid)
	if !ok {
		return nil, "", errkind.New(errkind.NotFound, "DID document of %s has no verification method %s", id, kid)
	}
	if c, bad := md.CompromisedBy(*m); bad {
		return nil, "", errkind.New(errkind.Forbidden, "%s was declared compromised by version %s of %s at %s: nothing it signed is trusted, whenever it says it was signed",
			kid, c.VersionID, id, c.Since).WithCode(CodeCompromisedKey)
	}
	pub, err = m.PublicKey()
	if err != nil {
		return nil, "", err
	}
	if version != "" {
		note = fmt.Sprintf("signed with %s, an %s of the DID document%s", kid, rel, version)
		if md.NextVersionID != "" {
			note += fmt.Sprintf("; the document has changed since (version %s from %s)", md.NextVersionID, md.NextUpdate)
		}
	}
	return pub, note, nil
}

// proofUnchecked is the proof check's finding when the signer's key
// could not be had (resolveErr).
func proofUnchecked(resolveErr error, whose string) error {
	var e *errkind.Error
	if errors.As(resolveErr, &e) && e.Code == CodeCompromisedKey {
		return errors.New("the proof is by a key declared compromised: it proves nothing")
	}
	return fmt.Errorf("the proof cannot be checked without the %s's key", whose)
}

// issuerKey resolves an issuer's assertion key as of at and notes in r
// which document version answered.
func (v *Verifier) issuerKey(ctx context.Context, kid string, at time.Time, r *Result) (crypto.PublicKey, error) {
	k, note, err := v.resolveKey(ctx, kid, did.AssertionMethod, at)
	if err != nil {
		return nil, err
	}
	if note != "" {
		r.note(CheckIssuer, note)
	}
	return k, nil
}

// issuerDIKeys is diKeys for the proofs of a credential: each
// verification method is resolved as of its proof's created time, or
// issued when the proof has none (see proofTimes).
func (v *Verifier) issuerDIKeys(m map[string]any, issued time.Time, r *Result) (dataintegrity.KeyResolver, *error) {
	resolveErr := new(error)
	created := proofTimes(m)
	return func(ctx context.Context, vm string) (ed25519.PublicKey, error) {
		at, ok := created[vm]
		if !ok {
			at = issued
		}
		if at.IsZero() {
			at = v.clock()
		}
		k, err := v.issuerKey(ctx, vm, at, r)
		if err != nil {
			*resolveErr = err
			return nil, err
		}
		ed, ok := k.(ed25519.PublicKey)
		if !ok {
			*resolveErr = errkind.New(errkind.Unsupported, "%s is a %T key; these proofs need Ed25519", vm, k)
			return nil, *resolveErr
		}
		return ed, nil
	}, resolveErr
}

// proofTimes maps the verification method of each proof of m that has a
// created time to that time.
func proofTimes(m map[string]any) map[string]time.Time {
	var proofs []any
	switch p := m["proof"].(type) {
	case []any:
		proofs = p
	case map[string]any:
		proofs = []any{p}
	}
	out := map[string]time.Time{}
	for _, x := range proofs {
		p, _ := x.(map[string]any)
		vm, _ := p["verificationMethod"].(string)
		s, _ := p["created"].(string)
		if t, err := time.Parse(time.RFC3339, s); err == nil && vm != "" {
			if _, seen := out[vm]; !seen {
				out[vm] = t
			}
		}
	}
	return out
}

// signedAt is when a JWT says it was signed, for finding the issuer's
// key: iat, else nbf, else def.
func signedAt(payload map[string]any, def time.Time) time.Time {
	for _, c := range []string{"iat", "nbf"} {
		if t := numericTime(payload[c]); !t.IsZero() {
			return t
		}
	}
	return def
}

// pureKeyEntries bounds pureKeys; on overflow it starts over.
const pureKeyEntries = 4096

// pureKeys remembers the keys of did:key and did:jwk verification methods
// by DID URL and relationship.
type pureKeys struct {
	mu sync.Mutex
	m  map[string]crypto.PublicKey
}

func (p *pureKeys) get(kid string, rel did.Relationship) (crypto.PublicKey, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k, ok := p.m[string(rel)+" "+kid]
	return k, ok
}

func (p *pureKeys) put(kid string, rel did.Relationship, k crypto.PublicKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil || len(p.m) >= pureKeyEntries {
		p.m = make(map[string]crypto.PublicKey)
	}
	p.m[string(rel)+" "+kid] = k
}
