package verifiers

import (
	"context"
	"errors"
	"strings"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/bls"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc"
	"github.com/urbis-id/urbis/vc/bbs"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/ld"
)

// linkedData verifies a credential secured with embedded proofs: BBS+
// (BbsBlsSignature2020, or a BbsBlsSignatureProof2020 derived from one)
// through vc/bbs, every other proof as dataIntegrity does.
func (v *Verifier) linkedData(ctx context.Context, m map[string]any, r *Result) (*claims, error) {
	if !bbs.IsBBS(m) {
		return v.dataIntegrity(ctx, m, r)
	}
	return v.bbs(ctx, m, r)
}

// bbs verifies a credential with BBS+ proofs. The claims checked after
// the proof are those the credential discloses.
func (v *Verifier) bbs(ctx context.Context, m map[string]any, r *Result) (*claims, error) {
	c, err := vc.NewCredential(m)
	if err != nil {
		return nil, err
	}
	cl := credentialClaims(c)
	var resolveErr error
	base := bbs.DIDKeyResolver(v.resolver, did.AssertionMethod)
	keys := func(ctx context.Context, vm string) (*bls.PublicKey, error) {
		k, err := base(ctx, vm)
		if err != nil {
			resolveErr = err
		}
		return k, err
	}
	res, err := bbs.Verify(ctx, m, keys, ld.Default())
	switch {
	case resolveErr != nil:
		r.fail(CheckIssuer, resolveErr)
		r.fail(CheckProof, errors.New("the proof cannot be checked without the issuer's key"))
		return cl, nil
	case err != nil && errkind.KindOf(err) == errkind.Internal:
		return nil, err
	case err != nil:
		r.fail(CheckProof, err)
		return cl, nil
	}
	if err := res.Check(dataintegrity.Expect{ProofPurpose: "assertionMethod", Now: v.clock()}); err != nil {
		r.fail(CheckProof, err)
	} else {
		r.pass(CheckProof)
	}
	for _, p := range res.Proofs {
		signer, _, _ := strings.Cut(p.VerificationMethod, "#")
		if signer != cl.issuer {
			r.fail(CheckIssuer, errkind.Field(errkind.Forbidden, "/issuer", "the proof is by %s, which is not the issuer %s", p.VerificationMethod, cl.issuer))
		}
		if cl.issued.IsZero() && !p.Created.IsZero() {
			cl.issued = p.Created
		}
	}
	r.pass(CheckIssuer)
	return cl, nil
}
