package oid4vci

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/kms"
)

// holderKey is the key a proof JWT proved possession of.
type holderKey struct {
	pub crypto.PublicKey
	// did is the holder's DID: the DID of the proof's kid, or the did:jwk
	// of its jwk header.
	did   string
	nonce string
}

func proofError(format string, args ...any) error {
	return oauthError(errkind.Invalid, ErrInvalidProof, format, args...)
}

// checkProof verifies a proof of possession JWT (OID4VCI 1.0, appendix
// F.1): typ openid4vci-proof+jwt, alg EdDSA or ES256, the key in a jwk
// header or named by a kid DID URL, aud the credential issuer identifier,
// iat no older than the nonce lifetime and at most ProofSkew ahead, and a
// nonce this issuer made that has not expired. Spending the nonce is left
// to the caller. what names the proof in messages.
func (s *Service) checkProof(ctx context.Context, token, what string) (holderKey, error) {
	if strings.Count(token, ".") != 2 {
		return holderKey{}, proofError("%s is not a compact JWS (want three dot-separated parts)", what)
	}
	msg, err := jws.Parse([]byte(token))
	if err != nil {
		return holderKey{}, proofError("%s does not parse: %v", what, err)
	}
	if len(msg.Signatures()) != 1 {
		return holderKey{}, proofError("%s has %d signatures; want 1", what, len(msg.Signatures()))
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	if h.Type() != ProofType {
		return holderKey{}, proofError("%s has typ %q; want %q", what, h.Type(), ProofType)
	}
	alg := h.Algorithm()
	if !slices.Contains(ProofSigningAlgs, alg.String()) {
		return holderKey{}, proofError("%s is signed with alg %q; want one of %s", what, alg, strings.Join(ProofSigningAlgs, ", "))
	}
	if len(h.Critical()) > 0 {
		return holderKey{}, proofError("%s has crit %v; no critical header is understood", what, h.Critical())
	}
	if h.X509CertChain() != nil && h.X509CertChain().Len() > 0 {
		return holderKey{}, proofError("%s carries x5c; name the key with jwk or a DID URL kid", what)
	}
	var hk holderKey
	switch k := h.JWK(); {
	case k != nil && h.KeyID() != "":
		return holderKey{}, proofError("%s has both jwk and kid; send exactly one", what)
	case k != nil:
		var raw any
		if err := k.Raw(&raw); err != nil {
			return holderKey{}, proofError("%s jwk header: %v", what, err)
		}
		switch raw.(type) {
		case ed25519.PublicKey, *ecdsa.PublicKey:
		default:
			return holderKey{}, proofError("%s jwk header must be an Ed25519 or P-256 public key; got %T", what, raw)
		}
		id, err := did.NewJWK(raw)
		if err != nil {
			return holderKey{}, proofError("%s jwk header: %v", what, err)
		}
		hk.pub, hk.did = raw, id.String()
	case h.KeyID() != "":
		if hk.pub, hk.did, err = s.didKey(ctx, h.KeyID(), what); err != nil {
			return holderKey{}, err
		}
	default:
		return holderKey{}, proofError("%s names no key: put the public key in a jwk header or a DID URL in kid", what)
	}
	want, err := kms.AlgorithmOf(hk.pub)
	if err != nil || want != alg.String() {
		return holderKey{}, proofError("%s is signed with alg %s, which does not fit its key (%T)", what, alg, hk.pub)
	}
	payload, err := jws.Verify([]byte(token), jws.WithKey(jwa.SignatureAlgorithm(alg.String()), hk.pub))
	if err != nil {
		return holderKey{}, proofError("%s signature does not verify with its key", what)
	}
	var claims struct {
		Aud   any      `json:"aud"`
		Iat   *float64 `json:"iat"`
		Nonce *string  `json:"nonce"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return holderKey{}, proofError("%s payload is not a JSON object with aud, iat and nonce: %v", what, err)
	}
	if !audience(claims.Aud, s.cfg.IssuerURL) {
		return holderKey{}, proofError("%s aud is %v; want the credential issuer identifier %s", what, claims.Aud, s.cfg.IssuerURL)
	}
	if claims.Iat == nil {
		return holderKey{}, proofError("%s has no iat", what)
	}
	iat := time.Unix(int64(*claims.Iat), 0)
	now := s.now()
	switch {
	case iat.After(now.Add(ProofSkew)):
		return holderKey{}, proofError("%s iat %s is in the future", what, iat.UTC().Format(time.RFC3339))
	case iat.Before(now.Add(-s.cfg.NonceTTL)):
		return holderKey{}, proofError("%s iat %s is older than %s; sign a fresh proof", what, iat.UTC().Format(time.RFC3339), s.cfg.NonceTTL)
	}
	if claims.Nonce == nil || *claims.Nonce == "" {
		return holderKey{}, oauthError(errkind.Invalid, ErrInvalidNonce, "%s has no nonce; get a c_nonce from the nonce endpoint", what)
	}
	hk.nonce = *claims.Nonce
	return hk, nil
}

// audience reports whether aud (a string or an array) names want.
func audience(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, v := range a {
			if v == want {
				return true
			}
		}
	}
	return false
}

// didKey resolves the key a kid DID URL names; it must be an
// authentication or assertion method of an active DID document.
func (s *Service) didKey(ctx context.Context, kid, what string) (crypto.PublicKey, string, error) {
	u, err := did.ParseURL(kid)
	if err != nil || u.Fragment == "" {
		return nil, "", proofError("%s kid %q is not a DID URL naming a key (did:...#fragment)", what, kid)
	}
	id := u.DID.String()
	res, err := s.cfg.Resolver.Resolve(ctx, id, did.ResolveOptions{})
	if err != nil {
		if k := errkind.KindOf(err); k == errkind.Internal || k == errkind.Unavailable {
			return nil, "", err
		}
		return nil, "", proofError("%s kid: %s does not resolve: %v", what, id, err)
	}
	if res.Document == nil || res.DocumentMetadata.Deactivated {
		return nil, "", proofError("%s kid: %s has no active DID document", what, id)
	}
	vm, ok := res.Document.VerificationMethodByID(kid)
	if !ok || !(res.Document.Authorizes(did.Authentication, vm.ID) || res.Document.Authorizes(did.AssertionMethod, vm.ID)) {
		return nil, "", proofError("%s kid %s is not an authentication key of %s", what, kid, id)
	}
	pub, err := vm.PublicKey()
	if err != nil {
		return nil, "", proofError("%s kid %s: %v", what, kid, err)
	}
	return pub, id, nil
}
