package issuer_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/issuer"
	"github.com/urbis-id/urbis/vc/ld"
)

func TestCreateSuites(t *testing.T) {
	ctx := context.Background()
	s, o := newService(t, nil)
	tests := []struct {
		name         string
		req          issuer.CreateRequest
		wantSuite    string
		wantPurposes []string
		wantField    string
	}{
		{"ldp_vc default", issuer.CreateRequest{Format: issuer.FormatLDP}, "eddsa-rdfc-2022", []string{"revocation"}, ""},
		{"ldp_vc eddsa", issuer.CreateRequest{Format: issuer.FormatLDP, Cryptosuite: "eddsa-rdfc-2022"}, "eddsa-rdfc-2022", []string{"revocation"}, ""},
		{"ldp_vc Ed25519Signature2020", issuer.CreateRequest{Format: issuer.FormatLDP, Cryptosuite: "Ed25519Signature2020"}, "Ed25519Signature2020", []string{"revocation"}, ""},
		{"Ed25519Signature2020 with suspension", issuer.CreateRequest{Format: issuer.FormatLDP, Cryptosuite: "Ed25519Signature2020", StatusPurposes: []string{"suspension"}}, "Ed25519Signature2020", []string{"suspension"}, ""},
		{"ldp_vc unknown suite", issuer.CreateRequest{Format: issuer.FormatLDP, Cryptosuite: "ecdsa-rdfc-2019"}, "", nil, "cryptosuite"},
		{"ldp_vc-bbs with an Ed25519 DID", issuer.CreateRequest{Format: issuer.FormatBBS}, "", nil, "did"},
		{"ldp_vc-bbs other suite", issuer.CreateRequest{Format: issuer.FormatBBS, Cryptosuite: "eddsa-rdfc-2022"}, "", nil, "cryptosuite"},
		{"jwt_vc_json alg", issuer.CreateRequest{Format: issuer.FormatJWT, Cryptosuite: "EdDSA"}, "EdDSA", []string{"revocation"}, ""},
		{"jwt_vc_json wrong alg", issuer.CreateRequest{Format: issuer.FormatJWT, Cryptosuite: "ES256"}, "", nil, "cryptosuite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.DID, req.Types = o.did, []string{"ResidentCredential"}
			in, err := s.Create(ctx, "agy_1", req)
			if tt.wantField != "" {
				if !errors.Is(err, errkind.Invalid) || fieldOf(err) != tt.wantField {
					t.Errorf("Create error = %v; want Invalid on %s", err, tt.wantField)
				}
				return
			}
			if err != nil || in.Cryptosuite != tt.wantSuite || !slices.Equal(in.StatusPurposes, tt.wantPurposes) {
				t.Errorf("Create = %+v, %v; want cryptosuite %s, statusPurposes %v", in, err, tt.wantSuite, tt.wantPurposes)
			}
		})
	}
}

func TestIssueEd25519Signature2020(t *testing.T) {
	ctx := context.Background()
	s, o := newService(t, nil)
	in, err := s.Create(ctx, "agy_1", issuer.CreateRequest{DID: o.did, Format: issuer.FormatLDP, Cryptosuite: "Ed25519Signature2020", Types: []string{"ResidentCredential"}})
	if err != nil {
		t.Fatal(err)
	}
	c := cred(ld.CredentialsV1, map[string]any{"id": "did:example:alice", "name": "Alice"})
	c["@context"] = []any{ld.CredentialsV1, ld.CredentialsExamplesV2}
	out, err := s.Issue(ctx, "agy_1", in.ID, c, issuer.IssueOptions{})
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	proof, _ := out.Credential["proof"].(map[string]any)
	if proof["type"] != "Ed25519Signature2020" || out.Credential["issuanceDate"] != "2026-03-01T12:00:00Z" || !strings.HasPrefix(proof["verificationMethod"].(string), o.did+"#") {
		t.Errorf("credential = %v; want an Ed25519Signature2020 proof by %s and issuanceDate from the clock", out.Credential, o.did)
	}
	keys := dataintegrity.DIDKeyResolver(did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}), did.AssertionMethod)
	if _, err := dataintegrity.Verify(ctx, out.Credential, keys, ld.Default()); err != nil {
		t.Errorf("Verify: %v", err)
	}
	_, err = s.Issue(ctx, "agy_1", in.ID, cred(ld.CredentialsV2, map[string]any{"id": "did:example:alice"}), issuer.IssueOptions{})
	if !errors.Is(err, errkind.Invalid) || fieldOf(err) != "/credential/@context" {
		t.Errorf("Issue(VC 2.0) error = %v; want Invalid on /credential/@context", err)
	}
	// A claim no context defines cannot be signed: 400 rather than a
	// proof that covers less than the credential says.
	_, err = s.Issue(ctx, "agy_1", in.ID, cred(ld.CredentialsV1, map[string]any{"id": "did:example:alice", "name": "Alice"}), issuer.IssueOptions{})
	if !errors.Is(err, errkind.Invalid) || fieldOf(err) != "/credential/credentialSubject/name" || !strings.Contains(err.Error(), ld.UndefinedTermsV2) {
		t.Errorf("Issue(undefined term) error = %v; want Invalid on /credential/credentialSubject/name, suggesting %s", err, ld.UndefinedTermsV2)
	}
}
