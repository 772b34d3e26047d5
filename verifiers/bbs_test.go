package verifiers_test

import (
	"context"
	"crypto"
	"crypto/sha256"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/aries-framework-go/pkg/crypto/primitive/bbs12381g2pub"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/bls"
	"github.com/urbis-id/urbis/vc/bbs"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/verifiers"
)

// blsKey signs as a Bls12381G2 key in custody does: the BBS+ messages
// one per line.
type blsKey struct {
	priv []byte
	pub  *bls.PublicKey
}

func newBLSKey(t *testing.T) *blsKey {
	t.Helper()
	pub, priv, err := bbs12381g2pub.GenerateKeyPair(sha256.New, nil)
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := pub.Marshal()
	k, err := bls.ParsePublicKey(pb)
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := priv.Marshal()
	return &blsKey{priv: sb, pub: k}
}

func (k *blsKey) Public() crypto.PublicKey { return k.pub }

func (k *blsKey) Sign(_ io.Reader, msgs []byte, _ crypto.SignerOpts) ([]byte, error) {
	var m [][]byte
	for _, l := range strings.Split(string(msgs), "\n") {
		if l != "" {
			m = append(m, []byte(l))
		}
	}
	return bbs12381g2pub.New().Sign(m, k.priv)
}

// The BBS+ proofs go through the same named checks: the signer must be
// the issuer, and a derived credential is checked on what it discloses.
func TestVerifyBBS(t *testing.T) {
	ctx := context.Background()
	key := newBLSKey(t)
	id, _ := did.NewKey(key.pub)
	vm := id.String() + "#" + id.ID
	resolver := did.NewResolver(did.ResolverConfig{}, did.KeyMethod{})
	c := fakeChain{}
	v := verifiers.NewVerifier(resolver, verifiers.NewTrust(c, c), func() time.Time { return t0.Add(time.Hour) })
	cred := func(issuer string) map[string]any {
		return map[string]any{
			"@context":          []any{"https://www.w3.org/2018/credentials/v1", "https://www.w3.org/ns/credentials/examples/v2"},
			"type":              []any{"VerifiableCredential", "LibraryCard"},
			"issuer":            issuer,
			"issuanceDate":      "2026-01-01T00:00:00Z",
			"expirationDate":    "2026-01-02T00:00:00Z",
			"credentialSubject": map[string]any{"id": "did:example:alice", "name": "Alice", "card": "42"},
		}
	}
	signed, err := bbs.Sign(ctx, cred(id.String()), dataintegrity.ProofOptions{VerificationMethod: vm, Created: t0}, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	frame := map[string]any{
		"@context": signed["@context"], "type": []any{"VerifiableCredential", "LibraryCard"}, "@explicit": true,
		"issuer": map[string]any{}, "issuanceDate": map[string]any{}, "expirationDate": map[string]any{},
		"credentialSubject": map[string]any{"@explicit": true, "card": map[string]any{}},
	}
	derived, err := bbs.Derive(ctx, signed, frame, nil, bbs.DIDKeyResolver(resolver, did.AssertionMethod), nil)
	if err != nil {
		t.Fatal(err)
	}
	notIssuer, err := bbs.Sign(ctx, cred("did:example:someone-else"), dataintegrity.ProofOptions{VerificationMethod: vm, Created: t0}, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		in         map[string]any
		wantOK     bool
		wantChecks []string
		failed     string
	}{
		{"signed", signed, true, []string{"proof", "issuer", "validity"}, ""},
		{"derived", derived, true, []string{"proof", "issuer", "validity"}, ""},
		{"signed by another than the issuer", notIssuer, false, []string{"proof", "validity"}, "issuer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := v.VerifyCredential(ctx, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if r.Verified != tt.wantOK || !slices.Equal(r.Checks, tt.wantChecks) || r.Format != verifiers.FormatLDP {
				t.Errorf("got verified %v, checks %v, errors %+v; want %v, %v", r.Verified, r.Checks, r.Errors, tt.wantOK, tt.wantChecks)
			}
			if tt.failed != "" && (len(r.Errors) == 0 || r.Errors[0].Check != tt.failed) {
				t.Errorf("errors = %+v; want the %s check failed", r.Errors, tt.failed)
			}
		})
	}
	// Validity is judged on the credential's dates: the clock after
	// expirationDate fails the derived credential too.
	late := verifiers.NewVerifier(resolver, verifiers.NewTrust(c, c), func() time.Time { return t2 })
	if r, err := late.VerifyCredential(ctx, derived); err != nil || r.Verified || !slices.ContainsFunc(r.Errors, func(f verifiers.Finding) bool { return f.Check == "validity" }) {
		t.Errorf("expired derived: %+v, %v; want the validity check failed", r, err)
	}
}
