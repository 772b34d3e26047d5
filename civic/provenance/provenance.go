// Package provenance verifies chains of provenance attestations: a
// certifier or producer, accredited on the trust registry for an
// attestation type (organic origin, carbon footprint, halal, kosher, fair
// trade, chain of custody), issues a ProvenanceAttestation credential
// about a product batch, naming the attestations it builds on by hash
// (the SHA-256 of each credential as issued, the hash its anchoring on
// the chain uses). From a shop's attestation back to the farm's, Verify
// checks every credential (proof, issuer, status, validity), the
// accreditation of each issuer for its attestation type at issuance,
// and every link: no missing parent, no cycle, no parent issued after
// its child. It says which link fails and why.
//
// No chain operation is needed: the credentials are issued and anchored
// by the issuance service, and the accreditations are the trust
// registry's.
package provenance

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/issuer"
	"github.com/urbis-id/urbis/verifiers"
)

// Type is the credential type of an attestation.
const Type = "ProvenanceAttestation"

// AttestationTypes are the values of credentialSubject.attestationType;
// each is also the credential type an issuer is accredited for to make
// attestations of that type.
var AttestationTypes = []string{
	"OrganicOriginAttestation", "CarbonFootprintAttestation", "HalalAttestation",
	"KosherAttestation", "FairTradeAttestation", "ChainOfCustodyAttestation",
}

// The checks Verify adds to the credential verifier's.
const (
	CheckAttestation = "attestation" // a ProvenanceAttestation with batch, attestationType and parents
	CheckAttester    = "attester"    // the issuer was accredited for the attestation type at issuance
	CheckParents     = "parents"     // every parent is among the credentials, issued no later than its child
	CheckCycle       = "cycle"       // no attestation is its own ancestor
	CheckChain       = "chain"       // the credential is an ancestor of the leaf
	CheckFormat      = "format"      // a format whose claims are all in the clear
	maxCredentials   = 256
	hashLen          = 64
	checkCredential  = "credential"
	fieldCredentials = "credentials"
)

// Verifier verifies one credential (verifiers.Verifier).
type Verifier interface {
	VerifyCredential(ctx context.Context, in any) (*verifiers.Result, error)
}

// Trust answers whether an issuer was accredited for a type at a time
// (verifiers.Trust).
type Trust interface {
	AccreditedAt(ctx context.Context, issuer, typ string, at time.Time) (ok bool, reason string, err error)
}

// Service verifies provenance chains.
type Service struct {
	verifier Verifier
	trust    Trust
}

// NewService returns a Service.
func NewService(v Verifier, t Trust) *Service { return &Service{verifier: v, trust: t} }

// Finding is a failed check of a link.
type Finding struct {
	Check  string
	Detail string
}

// Link is one attestation of the chain and what its checks found.
type Link struct {
	Index           int    // its position among the credentials sent
	Hash            string // SHA-256 (hex) of the credential as issued
	Format          string
	Issuer          string
	AttestationType string
	Batch           string
	Issued          time.Time
	Parents         []string
	Verified        bool
	Checks          []string // the checks that passed
	Errors          []Finding
}

func (l *Link) fail(check, format string, args ...any) {
	l.Errors = append(l.Errors, Finding{Check: check, Detail: fmt.Sprintf(format, args...)})
}

func (l *Link) pass(check string) {
	if !slices.ContainsFunc(l.Errors, func(f Finding) bool { return f.Check == check }) && !slices.Contains(l.Checks, check) {
		l.Checks = append(l.Checks, check)
	}
}

// Report is the verdict on a chain: Verified when every link passes
// every check. Leaf is the hash of the attestation the chain ends in;
// Links are in the order the credentials were sent.
type Report struct {
	Verified bool
	Leaf     string
	Links    []Link
}

// Hash returns the SHA-256 (hex) of a credential as issued: of the
// compact token for a JWT-VC or SD-JWT VC, of its JSON Canonicalization
// Scheme form for a credential object (issuer.LeafOf).
func Hash(cred any) (string, error) {
	switch c := cred.(type) {
	case string:
		return issuer.LeafOf(issuer.Issued{Token: c})
	case map[string]any:
		return issuer.LeafOf(issuer.Issued{Credential: c})
	}
	return "", errkind.New(errkind.Invalid, "a credential is a JSON object (with a proof) or a compact JWT-VC string")
}

// Verify verifies the chain of creds, the leaf attestation and its
// ancestors, in any order. leaf names the leaf by hash; when empty, the
// leaf is the one credential no other names as a parent. The error is
// for a request that is no chain at all (Invalid, naming the field);
// every failed check is in the Report.
func (s *Service) Verify(ctx context.Context, creds []any, leaf string) (Report, error) {
	if len(creds) == 0 || len(creds) > maxCredentials {
		return Report{}, errkind.Field(errkind.Invalid, fieldCredentials, "must hold 1 to %d credentials: the leaf attestation and its ancestors", maxCredentials)
	}
	links := make([]Link, len(creds))
	byHash := map[string]int{}
	for i, c := range creds {
		c = unwrap(c)
		h, err := Hash(c)
		if err != nil {
			return Report{}, errkind.Field(errkind.Invalid, fmt.Sprintf("%s/%d", fieldCredentials, i), "%s", err.Error())
		}
		if j, dup := byHash[h]; dup {
			return Report{}, errkind.Field(errkind.Invalid, fmt.Sprintf("%s/%d", fieldCredentials, i), "is credential %d again (hash %s); send each once", j, h)
		}
		byHash[h] = i
		links[i] = Link{Index: i, Hash: h}
		if err := s.verifyOne(ctx, c, &links[i]); err != nil {
			return Report{}, err
		}
	}
	leafIdx, err := findLeaf(links, byHash, leaf)
	if err != nil {
		return Report{}, err
	}
	checkParents(links, byHash)
	checkGraph(links, byHash, leafIdx)
	rep := Report{Verified: true, Leaf: links[leafIdx].Hash, Links: links}
	for i := range links {
		links[i].Verified = len(links[i].Errors) == 0
		rep.Verified = rep.Verified && links[i].Verified
	}
	return rep, nil
}

// verifyOne runs the credential verifier's checks, then reads the
// attestation and checks its issuer's accreditation for its type.
func (s *Service) verifyOne(ctx context.Context, c any, l *Link) error {
	res, err := s.verifier.VerifyCredential(ctx, c)
	if err != nil {
		if errkind.KindOf(err) == errkind.Invalid {
			l.fail(checkCredential, "%s", err.Error())
			return nil
		}
		return err
	}
	l.Format = res.Format
	l.Checks = append(l.Checks, res.Checks...)
	for _, f := range res.Errors {
		l.fail(f.Check, "%s", f.Message)
	}
	if res.Format == verifiers.FormatSDJWT {
		l.fail(CheckFormat, "an SD-JWT VC hides its claims behind disclosures; issue attestations as ldp_vc or jwt_vc_json, whose claims are all in the clear")
		return nil
	}
	cl, err := readClaims(c)
	if err != nil {
		l.fail(CheckAttestation, "%s", err.Error())
		return nil
	}
	l.Issuer, l.Issued = cl.issuer, cl.issued
	if !l.readAttestation(cl) {
		return nil
	}
	l.pass(CheckAttestation)
	// Issuance times are whole seconds: judge the trust state at the end
	// of the second, as the credential verifier does.
	at := l.Issued.Truncate(time.Second).Add(time.Second - time.Nanosecond)
	ok, reason, err := s.trust.AccreditedAt(ctx, l.Issuer, l.AttestationType, at)
	if err != nil {
		return err
	}
	if !ok {
		l.fail(CheckAttester, "the issuer was not accredited for %s when it issued this attestation: %s", l.AttestationType, reason)
		return nil
	}
	l.pass(CheckAttester)
	return nil
}

// readAttestation reads type, batch, attestationType and parents; it
// reports whether they are well formed.
func (l *Link) readAttestation(cl claims) bool {
	if !slices.Contains(cl.types, Type) {
		l.fail(CheckAttestation, "the credential's type does not include %s", Type)
		return false
	}
	if cl.issued.IsZero() {
		l.fail(CheckAttestation, "the credential has no issuance date (validFrom, issuanceDate or nbf): the order of the chain cannot be checked")
		return false
	}
	sub := cl.subject
	l.Batch, _ = sub["batch"].(string)
	l.AttestationType, _ = sub["attestationType"].(string)
	if l.Batch == "" {
		l.fail(CheckAttestation, "credentialSubject.batch must name the product batch")
	}
	if !slices.Contains(AttestationTypes, l.AttestationType) {
		l.fail(CheckAttestation, "credentialSubject.attestationType is %q; want one of %s", l.AttestationType, strings.Join(AttestationTypes, ", "))
	}
	raw, ok := sub["parents"]
	list, isList := raw.([]any)
	if ok && !isList {
		l.fail(CheckAttestation, "credentialSubject.parents must be an array of the parent attestations' hashes")
	}
	for _, p := range list {
		h, _ := p.(string)
		if len(h) != hashLen || strings.Trim(h, "0123456789abcdef") != "" {
			l.fail(CheckAttestation, "credentialSubject.parents holds %v; each parent is the lowercase hex SHA-256 of a credential as issued", p)
			continue
		}
		l.Parents = append(l.Parents, h)
	}
	return !slices.ContainsFunc(l.Errors, func(f Finding) bool { return f.Check == CheckAttestation })
}
