package oid4vci

import (
	"context"
	"strings"

	"github.com/urbis-id/urbis/vc"
	"github.com/urbis-id/urbis/vc/issuer"
	"github.com/urbis-id/urbis/vc/ld"
)

// ProofSigningAlgs are the algorithms a proof JWT may be signed with.
var ProofSigningAlgs = []string{"EdDSA", "ES256"}

// BindingMethods are the cryptographic binding methods Urbis accepts: a
// proof's jwk header, or its kid naming a key of one of these DIDs.
var BindingMethods = []string{"jwk", "did:key", "did:jwk", "did:web", "did:urbis"}

// Metadata is the credential issuer metadata (OID4VCI 1.0, section 12.2).
type Metadata struct {
	CredentialIssuer   string                   `json:"credential_issuer"`
	CredentialEndpoint string                   `json:"credential_endpoint"`
	NonceEndpoint      string                   `json:"nonce_endpoint"`
	BatchIssuance      *BatchIssuance           `json:"batch_credential_issuance,omitempty"`
	Display            []Display                `json:"display,omitempty"`
	Configurations     map[string]Configuration `json:"credential_configurations_supported"`
}

// BatchIssuance advertises how many proofs one credential request may carry.
type BatchIssuance struct {
	BatchSize int `json:"batch_size"`
}

// Display is a name for humans.
type Display struct {
	Name   string `json:"name"`
	Locale string `json:"locale,omitempty"`
}

// Configuration is one credential configuration: an issuer instance and one
// of its types.
type Configuration struct {
	Format                      string               `json:"format"`
	VCT                         string               `json:"vct,omitempty"`
	CredentialDefinition        *CredentialDef       `json:"credential_definition,omitempty"`
	CryptographicBindingMethods []string             `json:"cryptographic_binding_methods_supported"`
	SigningAlgs                 []string             `json:"credential_signing_alg_values_supported"`
	ProofTypes                  map[string]ProofSpec `json:"proof_types_supported"`
	CredentialMetadata          *CredentialMetadata  `json:"credential_metadata,omitempty"`
}

// CredentialDef is the credential_definition of jwt_vc_json and ldp_vc.
type CredentialDef struct {
	Context []string `json:"@context,omitempty"`
	Type    []string `json:"type"`
}

// ProofSpec describes a proof type.
type ProofSpec struct {
	SigningAlgs []string `json:"proof_signing_alg_values_supported"`
}

// CredentialMetadata holds the display of a configuration.
type CredentialMetadata struct {
	Display []Display `json:"display,omitempty"`
}

// AuthServerMetadata is the OAuth 2.0 authorization server metadata (RFC
// 8414) of the pre-authorized code flow: Urbis is its own authorization
// server.
type AuthServerMetadata struct {
	Issuer                      string   `json:"issuer"`
	TokenEndpoint               string   `json:"token_endpoint"`
	GrantTypes                  []string `json:"grant_types_supported"`
	TokenEndpointAuthMethods    []string `json:"token_endpoint_auth_methods_supported"`
	PreAuthorizedAnonymousGrant bool     `json:"pre-authorized_grant_anonymous_access_supported"`
}

// ConfigurationID names the configuration of an instance's type.
func ConfigurationID(instanceID, typ string) string { return instanceID + ":" + typ }

// splitConfigurationID is the inverse of ConfigurationID.
func splitConfigurationID(id string) (instanceID, typ string, ok bool) {
	instanceID, typ, ok = strings.Cut(id, ":")
	return instanceID, typ, ok && instanceID != "" && typ != ""
}

// Offered reports whether instances of format f are offered over
// OpenID4VCI: ldp_vc, jwt_vc_json and dc+sd-jwt. BBS+ (ldp_vc-bbs) is not:
// its holders derive proofs, which no OpenID4VCI format describes.
func Offered(f issuer.Format) bool {
	return f == issuer.FormatLDP || f == issuer.FormatJWT || f == issuer.FormatSDJWT
}

// configuration describes the configuration of in's type typ.
func configuration(in issuer.Instance, typ string) Configuration {
	c := Configuration{
		Format:                      string(in.Format),
		CryptographicBindingMethods: BindingMethods,
		SigningAlgs:                 []string{in.Cryptosuite},
		ProofTypes:                  map[string]ProofSpec{"jwt": {SigningAlgs: ProofSigningAlgs}},
		CredentialMetadata:          &CredentialMetadata{Display: []Display{{Name: typ, Locale: "en"}}},
	}
	switch in.Format {
	case issuer.FormatSDJWT:
		c.VCT = typ // the vct claim the credential carries
	case issuer.FormatJWT:
		c.CredentialDefinition = &CredentialDef{Type: []string{"VerifiableCredential", typ}}
	case issuer.FormatLDP:
		c.CredentialDefinition = &CredentialDef{Context: []string{vc.ContextV2, ld.UndefinedTermsV2}, Type: []string{"VerifiableCredential", typ}}
	}
	return c
}

// Metadata returns the credential issuer metadata: one configuration per
// (issuer instance, type) of every agency; the issuer instances are
// public information.
func (s *Service) Metadata(ctx context.Context) (*Metadata, error) {
	now := s.now()
	s.mu.Lock()
	if s.meta != nil && now.Before(s.metaUntil) {
		m := s.meta
		s.mu.Unlock()
		return m, nil
	}
	s.mu.Unlock()
	all, err := s.cfg.Store.AllIssuers(ctx)
	if err != nil {
		return nil, err
	}
	m := &Metadata{
		CredentialIssuer:   s.cfg.IssuerURL,
		CredentialEndpoint: s.cfg.IssuerURL + "/oid4vci/credential",
		NonceEndpoint:      s.cfg.IssuerURL + "/oid4vci/nonce",
		Display:            []Display{{Name: "Urbis", Locale: "en"}},
		Configurations:     map[string]Configuration{},
	}
	if s.cfg.BatchSize > 1 {
		m.BatchIssuance = &BatchIssuance{BatchSize: s.cfg.BatchSize}
	}
	for _, in := range all {
		if !Offered(in.Format) {
			continue
		}
		for _, t := range in.Types {
			m.Configurations[ConfigurationID(in.ID, t)] = configuration(in, t)
		}
	}
	s.mu.Lock()
	s.meta, s.metaUntil = m, now.Add(s.cfg.MetadataTTL)
	s.mu.Unlock()
	return m, nil
}

// AuthServerMetadata returns the authorization server metadata.
func (s *Service) AuthServerMetadata() AuthServerMetadata {
	return AuthServerMetadata{
		Issuer:                      s.cfg.IssuerURL,
		TokenEndpoint:               s.cfg.IssuerURL + "/oid4vci/token",
		GrantTypes:                  []string{GrantPreAuthorizedCode},
		TokenEndpointAuthMethods:    []string{"none"},
		PreAuthorizedAnonymousGrant: true,
	}
}
