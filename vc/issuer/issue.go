package issuer

import (
	"context"
	"crypto"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/agency"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/internal/ttlcache"
	"github.com/urbis-id/urbis/vc"
	"github.com/urbis-id/urbis/vc/bbs"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/jwtvc"
	"github.com/urbis-id/urbis/vc/ld"
)

// IssueOptions are the VC-API issue options Urbis reads.
type IssueOptions struct {
	// Format picks among the agency's instances for the credential's
	// issuer DID when no issuer instance is named.
	Format Format
	// Disclosable, when not nil, lists the JSON pointers of the dc+sd-jwt
	// claims that are selectively disclosable ("/address" or
	// "/credentialSubject/address"); nil makes every subject claim
	// disclosable.
	Disclosable []string
	// KeyBinding, for dc+sd-jwt, puts the subject's key in cnf.jwk so that
	// the holder can present the credential with a Key Binding JWT: the
	// first authentication key of the DID that credentialSubject.id names.
	KeyBinding bool
	// HolderKey, for dc+sd-jwt, is the holder's public key to put in
	// cnf.jwk (an OpenID4VCI proof's key); it takes precedence over
	// KeyBinding.
	HolderKey crypto.PublicKey
}

// Issued is an issued credential: Credential for ldp_vc and ldp_vc-bbs, Token (compact)
// for jwt_vc_json and dc+sd-jwt.
type Issued struct {
	Instance   Instance
	Credential map[string]any
	Token      string
}

// Issue secures cred with the issuer instance issuerID of agencyID, or,
// when issuerID is empty, with the agency's instance whose DID is the
// credential's issuer. The issuer, when absent, is the instance's DID;
// validFrom (VC 2.0) or issuanceDate (VC 1.1), when absent, is now. Errors
// name their field as a JSON pointer into the request body
// ("/credential/credentialSubject/name", "/options/format").
func (s *Service) Issue(ctx context.Context, agencyID, issuerID string, cred map[string]any, opts IssueOptions) (Issued, error) {
	if cred == nil {
		return Issued{}, errkind.Field(errkind.Invalid, "/credential", "is required: the credential to issue, without proof")
	}
	cred = cloneMap(cred)
	in, err := s.instanceFor(ctx, agencyID, issuerID, cred, opts)
	if err != nil {
		return Issued{}, err
	}
	now := s.now()
	c, err := s.prepare(in, cred, now)
	if err != nil {
		return Issued{}, err
	}
	subjects := make([]map[string]any, 0, 1)
	for _, sub := range c.Subjects() {
		subjects = append(subjects, sub.Claims)
	}
	// The trust check uses the precise time; the credential's dates are
	// written in whole seconds.
	if err := s.trust.CheckIssuance(ctx, in.DID, specificTypes(c.Types()), subjects, s.clock().UTC()); err != nil {
		return Issued{}, prefix(err, "/credential/credentialSubject")
	}
	holderKey := opts.HolderKey
	if holderKey != nil && in.Format != FormatSDJWT {
		return Issued{}, errkind.Field(errkind.Invalid, "/options/holderKey", "a holder key in cnf is for dc+sd-jwt; this issuer instance issues %s", in.Format)
	}
	if opts.KeyBinding && holderKey == nil {
		if in.Format != FormatSDJWT {
			return Issued{}, errkind.Field(errkind.Invalid, "/options/keyBinding", "key binding is for dc+sd-jwt; this issuer instance issues %s", in.Format)
		}
		if holderKey, err = s.subjectKey(ctx, subjects); err != nil {
			return Issued{}, err
		}
	}
	// Indexes are allocated once the credential is known to be issuable.
	if err := checkTerms(in, c.Map()); err != nil {
		return Issued{}, prefix(err, "/credential")
	}
	recs, err := s.addStatus(ctx, in, cred)
	if err != nil {
		return Issued{}, err
	}
	if recs != nil {
		if c, err = s.prepare(in, cred, now); err != nil {
			return Issued{}, err
		}
	}
	signer, vm, err := s.signer(ctx, in)
	if err != nil {
		return Issued{}, err
	}
	out := Issued{Instance: in}
	switch in.Format {
	case FormatLDP:
		if in.Cryptosuite == SuiteEd25519Signature2020 {
			out.Credential, err = dataintegrity.SignEd25519Signature2020(ctx, c.Map(), dataintegrity.ProofOptions{VerificationMethod: vm, Created: now}, signer, ld.Default())
			break
		}
		out.Credential, err = dataintegrity.Sign(ctx, c.Map(), dataintegrity.ProofOptions{VerificationMethod: vm, Created: now}, signer, ld.Default())
	case FormatBBS:
		out.Credential, err = bbs.Sign(ctx, c.Map(), dataintegrity.ProofOptions{VerificationMethod: vm, Created: now}, signer, ld.Default())
	case FormatJWT:
		out.Token, err = jwtvc.Sign(c.Map(), signer, vm)
	case FormatSDJWT:
		out.Token, err = issueSDJWT(c, signer, vm, opts.Disclosable, holderKey, s.tokenStatusClaim(recs))
	default:
		err = errkind.New(errkind.Internal, "issuer instance %s has unknown format %q", in.ID, in.Format)
	}
	if err != nil {
		return Issued{}, prefix(err, "/credential")
	}
	if err := s.recordIssued(ctx, in, cred, out, recs); err != nil {
		return Issued{}, err
	}
	return out, nil
}

// checkTerms refuses a JSON-LD credential with a term that JSON-LD
// processing drops, which its proof would not cover, before status
// indexes are allocated for it; signing checks again, so an instance
// without status purposes skips this.
func checkTerms(in Instance, cred map[string]any) error {
	if len(in.StatusPurposes) == 0 {
		return nil
	}
	switch {
	case in.Format == FormatLDP && in.Cryptosuite == SuiteEd25519Signature2020:
		cred = dataintegrity.WithContext(cred, ld.Ed25519Signature2020)
	case in.Format == FormatLDP:
	case in.Format == FormatBBS:
		cred = dataintegrity.WithContext(cred, bbs.Context)
	default:
		return nil
	}
	return dataintegrity.CheckTermsForSigning(cred, ld.Default())
}

// instanceFor finds the issuer instance to issue with.
func (s *Service) instanceFor(ctx context.Context, agencyID, issuerID string, cred map[string]any, opts IssueOptions) (Instance, error) {
	if opts.Format != "" && !slices.Contains(Formats, opts.Format) {
		return Instance{}, errkind.Field(errkind.Invalid, "/options/format", "unknown format %q; allowed values are ldp_vc, jwt_vc_json, dc+sd-jwt and ldp_vc-bbs", opts.Format)
	}
	if issuerID != "" {
		in, err := s.instance(ctx, agencyID, issuerID)
		if err != nil {
			return Instance{}, err
		}
		if opts.Format != "" && opts.Format != in.Format {
			return Instance{}, errkind.Field(errkind.Invalid, "/options/format", "issuer instance %s issues %s, not %s", in.ID, in.Format, opts.Format)
		}
		return in, nil
	}
	id, err := issuerOf(cred)
	if err != nil {
		return Instance{}, err
	}
	if id == "" {
		return Instance{}, errkind.Field(errkind.Invalid, "/credential/issuer", "is required when no issuer instance is named: the DID of one of the agency's issuer instances (or POST to /issuers/{issuerId}/credentials/issue)")
	}
	var match []Instance
	for fresh := false; ; fresh = true {
		all, err := s.agencyInstances(ctx, agencyID, fresh)
		if err != nil {
			return Instance{}, err
		}
		match = match[:0]
		for _, in := range all {
			if in.DID == id && (opts.Format == "" || in.Format == opts.Format) {
				match = append(match, in)
			}
		}
		// A cached list without a match may predate the instance: read
		// it again.
		if len(match) > 0 || fresh {
			break
		}
	}
	switch {
	case len(match) == 0 && opts.Format != "":
		return Instance{}, errkind.Field(errkind.NotFound, "/credential/issuer", "the agency has no %s issuer instance for %s; create one with POST /issuers", opts.Format, id)
	case len(match) == 0:
		return Instance{}, errkind.Field(errkind.NotFound, "/credential/issuer", "the agency has no issuer instance for %s; create one with POST /issuers", id)
	case len(match) > 1:
		var fs []string
		for _, in := range match {
			fs = append(fs, string(in.Format)+" ("+in.ID+")")
		}
		return Instance{}, errkind.Field(errkind.Invalid, "/options/format", "the agency has %d issuer instances for %s: %s; say which with options.format or POST to /issuers/{issuerId}/credentials/issue", len(match), id, strings.Join(fs, ", "))
	}
	return match[0], nil
}

// instance returns agencyID's instance id, cached for InstanceTTL
// (instances do not change once created).
func (s *Service) instance(ctx context.Context, agencyID, id string) (Instance, error) {
	k := ttlcache.Key(agencyID, id)
	if in, ok := s.instances.Get(k); ok {
		return in, nil
	}
	in, err := s.store.Issuer(ctx, agencyID, id)
	if err != nil {
		return Instance{}, err
	}
	s.instances.Put(k, in)
	return in, nil
}

// agencyInstances returns agencyID's instances, cached for InstanceTTL
// unless fresh; Create drops the agency's entry.
func (s *Service) agencyInstances(ctx context.Context, agencyID string, fresh bool) ([]Instance, error) {
	if !fresh {
		if all, ok := s.agencyIns.Get(agencyID); ok {
			return all, nil
		}
	}
	all, err := s.store.Issuers(ctx, agencyID)
	if err != nil {
		return nil, err
	}
	s.agencyIns.Put(agencyID, all)
	return all, nil
}

// prepare fills in the issuer and issuance date, validates the
// credential and checks it against the instance.
func (s *Service) prepare(in Instance, cred map[string]any, now time.Time) (*vc.Credential, error) {
	if _, ok := cred["proof"]; ok {
		return nil, errkind.Field(errkind.Invalid, "/credential/proof", "must be absent: the issuer adds the proof")
	}
	id, err := issuerOf(cred)
	if err != nil {
		return nil, err
	}
	switch {
	case id == "":
		cred["issuer"] = in.DID
	case id != in.DID:
		return nil, errkind.Field(errkind.Invalid, "/credential/issuer", "is %s, but issuer instance %s issues as %s", id, in.ID, in.DID)
	}
	ver := contextVersion(cred)
	switch {
	case in.Format == FormatLDP && in.Cryptosuite == SuiteEd25519Signature2020 && ver != vc.V1:
		return nil, errkind.Field(errkind.Invalid, "/credential/@context", "issuer instance %s signs with Ed25519Signature2020, a proof of VC Data Model 1.1 credentials; start @context with %s (VC 2.0 credentials: use an ldp_vc issuer with eddsa-rdfc-2022)", in.ID, vc.ContextV1)
	case in.Format == FormatLDP && in.Cryptosuite != SuiteEd25519Signature2020 && ver == vc.V1:
		return nil, errkind.Field(errkind.Invalid, "/credential/@context", "ldp_vc issues VC Data Model 2.0 credentials with an eddsa-rdfc-2022 proof; start @context with %s (VC 1.1 credentials: use a jwt_vc_json issuer)", vc.ContextV2)
	case in.Format == FormatJWT && ver == vc.V2:
		return nil, errkind.Field(errkind.Invalid, "/credential/@context", "jwt_vc_json is the JWT encoding of the VC Data Model 1.1 (vc claim, issuanceDate); start @context with %s, or issue a VC 2.0 credential with an ldp_vc or dc+sd-jwt issuer", vc.ContextV1)
	}
	stamp := now.Format(time.RFC3339)
	switch ver {
	case vc.V1:
		if _, ok := cred["issuanceDate"]; !ok {
			cred["issuanceDate"] = stamp
		}
	case vc.V2:
		if _, ok := cred["validFrom"]; !ok {
			cred["validFrom"] = stamp
		}
	}
	c, err := vc.NewCredential(cred)
	if err != nil {
		return nil, prefix(err, "/credential")
	}
	specific := specificTypes(c.Types())
	if len(specific) == 0 {
		return nil, errkind.Field(errkind.Invalid, "/credential/type", "names only VerifiableCredential; add one of the issuer instance's types: %s", strings.Join(in.Types, ", "))
	}
	for _, t := range specific {
		if !slices.Contains(in.Types, t) {
			return nil, errkind.Field(errkind.Forbidden, "/credential/type", "issuer instance %s may issue %s, not %s", in.ID, strings.Join(in.Types, ", "), t)
		}
	}
	return c, nil
}

// signer returns the signer of the instance's DID and the DID URL of the
// verification method of its key in the DID document. It is cached per
// (agency, DID) for at most SignerTTL; ForgetDID drops it at once.
func (s *Service) signer(ctx context.Context, in Instance) (crypto.Signer, string, error) {
	k := ttlcache.Key(in.AgencyID, in.DID)
	if c, ok := s.signers.Get(k); ok {
		return c.signer, c.vm, nil
	}
	signer, vm, keyID, err := s.loadSigner(ctx, in)
	if err != nil {
		return nil, "", err
	}
	s.signers.Put(k, cachedSigner{signer: signer, vm: vm, keyID: keyID})
	return signer, vm, nil
}

// ForgetDID drops what the Service caches of agencyID's DID id (its
// signer): call it when the DID's key is rotated or the DID deactivated.
func (s *Service) ForgetDID(agencyID, id string) {
	s.signers.Remove(ttlcache.Key(agencyID, id))
}

// loadSigner reads the signer of the instance's DID from the DID record
// and custody, and the id of its key.
func (s *Service) loadSigner(ctx context.Context, in Instance) (crypto.Signer, string, string, error) {
	rec, err := s.dids.DID(ctx, in.AgencyID, in.DID)
	if err != nil {
		return nil, "", "", err
	}
	if rec.Status != agency.StatusActive {
		return nil, "", "", errkind.New(errkind.Conflict, "issuer instance %s issues as %s, which is %s; create an instance for its successor %s", in.ID, rec.DID, rec.Status, rec.ReplacedBy)
	}
	signer, err := s.keys.Signer(ctx, in.AgencyID, rec.KeyID)
	if err != nil {
		return nil, "", "", err
	}
	res, err := s.resolver.Resolve(ctx, rec.DID, did.ResolveOptions{})
	if err != nil {
		return nil, "", "", err
	}
	if res.Document == nil {
		return nil, "", "", errkind.New(errkind.Internal, "DID %s resolved to no document", rec.DID)
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return nil, "", "", errkind.New(errkind.Internal, "key %s has a public key of type %T", rec.KeyID, signer.Public())
	}
	for _, ref := range res.Document.Relationship(did.AssertionMethod) {
		vm, ok := res.Document.VerificationMethodByID(ref.Ref)
		if !ok {
			continue
		}
		if k, err := vm.PublicKey(); err == nil && pub.Equal(k) {
			return signer, absolute(rec.DID, vm.ID), rec.KeyID, nil
		}
	}
	return nil, "", "", errkind.New(errkind.Conflict, "the DID document of %s has no assertionMethod with the key in custody; the DID cannot issue", rec.DID)
}

func absolute(id, ref string) string {
	if strings.HasPrefix(ref, "#") {
		return id + ref
	}
	return ref
}

// issuerOf reads the credential's issuer id: "" when absent.
func issuerOf(cred map[string]any) (string, error) {
	switch v := cred["issuer"].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case map[string]any:
		id, _ := v["id"].(string)
		if id == "" {
			return "", errkind.Field(errkind.Invalid, "/credential/issuer/id", "is required: the issuer's DID")
		}
		return id, nil
	}
	return "", errkind.Field(errkind.Invalid, "/credential/issuer", "must be a DID or an object with an id")
}

// contextVersion reads the base context, 0 when it is neither.
func contextVersion(cred map[string]any) vc.Version {
	first := cred["@context"]
	if l, ok := first.([]any); ok && len(l) > 0 {
		first = l[0]
	}
	switch first {
	case vc.ContextV1:
		return vc.V1
	case vc.ContextV2:
		return vc.V2
	}
	return 0
}

// specificTypes drops VerifiableCredential.
func specificTypes(types []string) []string {
	out := make([]string, 0, len(types))
	for _, t := range types {
		if t != "VerifiableCredential" {
			out = append(out, t)
		}
	}
	return out
}

// prefix puts p in front of the field of err, a pointer relative to the
// credential (or a bare member name), so the field names the request body.
func prefix(err error, p string) error {
	var e *errkind.Error
	if !errors.As(err, &e) || e.Field == "" || e.Kind == errkind.Internal || underBody(e.Field) {
		return err
	}
	c := *e
	f := e.Field
	if !strings.HasPrefix(f, "/") {
		f = "/" + strings.ReplaceAll(f, ".", "/")
	}
	c.Field = p + f
	return &c
}

// underBody reports whether field already points into the request body.
func underBody(field string) bool {
	for _, p := range []string{"/credential", "/options"} {
		if field == p || strings.HasPrefix(field, p+"/") {
			return true
		}
	}
	return false
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return cloneMap(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v
}

// subjectKey returns the first authentication key of the DID that the
// subject's id names, for an SD-JWT VC's cnf.
func (s *Service) subjectKey(ctx context.Context, subjects []map[string]any) (crypto.PublicKey, error) {
	const field = "/credential/credentialSubject/id"
	var id string
	if len(subjects) > 0 {
		id, _ = subjects[0]["id"].(string)
	}
	if !strings.HasPrefix(id, "did:") {
		return nil, errkind.Field(errkind.Invalid, field, "key binding needs the subject's DID here, whose authentication key goes in cnf")
	}
	res, err := s.resolver.Resolve(ctx, id, did.ResolveOptions{})
	if err != nil {
		return nil, prefix(err, field)
	}
	if res.Document == nil || res.DocumentMetadata.Deactivated {
		return nil, errkind.Field(errkind.Invalid, field, "DID %s has no active document", id)
	}
	for _, m := range res.Document.VerificationMethod {
		if res.Document.Authorizes(did.Authentication, m.ID) {
			return m.PublicKey()
		}
	}
	return nil, errkind.Field(errkind.Invalid, field, "DID %s has no authentication key to bind", id)
}
