package oid4vci

import (
	"context"
	"crypto"
	"fmt"
	"slices"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc"
	"github.com/urbis-id/urbis/vc/issuer"
	"github.com/urbis-id/urbis/vc/ld"
)

// CredentialRequest is a credential request (OID4VCI 1.0, section 8.2).
type CredentialRequest struct {
	ConfigurationID      string
	CredentialIdentifier string
	// Proofs holds the proofs by type; Urbis takes "jwt".
	Proofs map[string][]string
	// SingleProof is set when the request carried the pre-1.0 "proof"
	// member, which 1.0 replaced by proofs.
	SingleProof bool
}

// Credential issues one credential per proof of the request, each bound
// to the proof's key, with the offer that the access token belongs to.
// Each element is a compact token (jwt_vc_json, dc+sd-jwt) or a JSON
// object (ldp_vc). A configuration is issued once per offer; the offer's
// claims are deleted once every offered configuration is issued.
func (s *Service) Credential(ctx context.Context, accessToken string, req CredentialRequest) ([]any, error) {
	o, err := s.authorize(ctx, accessToken)
	if err != nil {
		return nil, err
	}
	switch {
	case req.CredentialIdentifier != "":
		return nil, oauthError(errkind.Invalid, ErrInvalidCredentialRequest, "credential_identifier is not used by this issuer; send credential_configuration_id")
	case req.ConfigurationID == "":
		return nil, oauthError(errkind.Invalid, ErrInvalidCredentialRequest, "credential_configuration_id is required: one of the offer's %v", o.ConfigurationIDs)
	case !slices.Contains(o.ConfigurationIDs, req.ConfigurationID):
		return nil, oauthError(errkind.Invalid, ErrUnknownConfiguration, "credential configuration %q was not offered with this access token; the offer has %v", req.ConfigurationID, o.ConfigurationIDs)
	case slices.Contains(o.Issued, req.ConfigurationID):
		return nil, oauthError(errkind.Invalid, ErrInvalidCredentialRequest, "credential configuration %q was already issued for this offer", req.ConfigurationID)
	case req.SingleProof:
		return nil, oauthError(errkind.Invalid, ErrInvalidCredentialRequest, "proof (singular) was replaced by proofs in OID4VCI 1.0; send proofs: {\"jwt\": [...]}")
	}
	for t := range req.Proofs {
		if t != "jwt" {
			return nil, oauthError(errkind.Invalid, ErrInvalidProof, "proof type %q is not supported; send proofs.jwt", t)
		}
	}
	proofs := req.Proofs["jwt"]
	switch {
	case len(proofs) == 0:
		return nil, oauthError(errkind.Invalid, ErrInvalidProof, "proofs.jwt is required: at least one proof of possession JWT (typ %s) with a c_nonce from the nonce endpoint", ProofType)
	case len(proofs) > s.cfg.BatchSize:
		return nil, oauthError(errkind.Invalid, ErrInvalidCredentialRequest, "proofs.jwt has %d proofs; the batch size is %d", len(proofs), s.cfg.BatchSize)
	}
	keys := make([]holderKey, 0, len(proofs))
	for i, p := range proofs {
		what := fmt.Sprintf("proofs.jwt[%d]", i)
		if slices.Contains(proofs[:i], p) {
			return nil, oauthError(errkind.Invalid, ErrInvalidProof, "%s repeats an earlier proof", what)
		}
		k, err := s.checkProof(ctx, p, what)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	// Every nonce is checked before any is spent.
	var nonces []string
	for _, k := range keys {
		if !slices.Contains(nonces, k.nonce) {
			nonces = append(nonces, k.nonce)
		}
	}
	exps := make([]time.Time, len(nonces))
	for i, n := range nonces {
		if exps[i], err = s.checkNonce(n); err != nil {
			return nil, err
		}
	}
	// The nonces are spent and the configuration marked issued in one
	// group: all or nothing, committed before anything is issued.
	issued := append(slices.Clip(o.Issued), req.ConfigurationID)
	group := make([]Write, 0, len(nonces)+1)
	for i, n := range nonces {
		group = append(group, Write{Kind: WriteUseNonce, NonceHash: hashOf(n), NonceExpires: exps[i]})
	}
	group = append(group, Write{Kind: WriteMarkIssued, ID: o.ID, Old: o.Issued, New: issued, ClearClaims: len(issued) == len(o.ConfigurationIDs)})
	failed, err := s.writes.apply(ctx, group...)
	switch {
	case err != nil:
		return nil, err
	case failed >= 0 && failed < len(nonces):
		return nil, oauthError(errkind.Invalid, ErrInvalidNonce, "the c_nonce was already used; get a fresh one from the nonce endpoint")
	case failed >= 0:
		return nil, oauthError(errkind.Invalid, ErrInvalidCredentialRequest, "credential configuration %q is being issued, or was issued, by another request with this access token", req.ConfigurationID)
	}
	_, typ, _ := splitConfigurationID(req.ConfigurationID)
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		c, err := s.issue(ctx, o, typ, k)
		if err != nil {
			if len(out) == 0 {
				// Nothing was issued: the configuration may be asked for again.
				_, _ = s.writes.apply(ctx, Write{Kind: WriteMarkIssued, ID: o.ID, Old: issued, New: o.Issued})
			}
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// issue issues the offer's credential of type typ bound to k.
func (s *Service) issue(ctx context.Context, o Offer, typ string, k holderKey) (any, error) {
	subject := make(map[string]any, len(o.Claims)+1)
	for n, v := range o.Claims {
		subject[n] = v
	}
	cred := map[string]any{
		"@context":          []any{vc.ContextV2},
		"type":              []any{"VerifiableCredential", typ},
		"credentialSubject": subject,
	}
	opts := issuer.IssueOptions{Format: issuer.Format(o.Format)}
	switch opts.Format {
	case issuer.FormatSDJWT:
		opts.HolderKey = crypto.PublicKey(k.pub)
	case issuer.FormatJWT:
		cred["@context"] = []any{vc.ContextV1}
		subject["id"] = k.did
	default:
		// The agency's types and claims are its own terms: the W3C context
		// for issuer-defined terms lets the Data Integrity proof cover them.
		cred["@context"] = []any{vc.ContextV2, ld.UndefinedTermsV2}
		subject["id"] = k.did
	}
	is, err := s.cfg.Issuer.Issue(ctx, o.AgencyID, o.IssuerID, cred, opts)
	if err != nil {
		if k := errkind.KindOf(err); k == errkind.Internal || k == errkind.Unavailable {
			return nil, err
		}
		return nil, errkind.Wrap(errkind.Invalid, err, "the issuer refused the credential").WithCode(ErrCredentialRequestDenied)
	}
	if is.Credential != nil {
		return is.Credential, nil
	}
	return is.Token, nil
}
