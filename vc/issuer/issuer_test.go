package issuer_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/agency"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/kms"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/issuer"
	"github.com/urbis-id/urbis/vc/jwtvc"
	"github.com/urbis-id/urbis/vc/ld"
	"github.com/urbis-id/urbis/vc/sdjwt"
)

// memStore is an in-memory issuer.Store.
type memStore struct{ ins []issuer.Instance }

func (m *memStore) CreateIssuer(_ context.Context, in issuer.Instance) error {
	m.ins = append(m.ins, in)
	return nil
}

func (m *memStore) Issuers(_ context.Context, agencyID string) ([]issuer.Instance, error) {
	var out []issuer.Instance
	for _, in := range m.ins {
		if in.AgencyID == agencyID {
			out = append(out, in)
		}
	}
	return out, nil
}

func (m *memStore) Issuer(_ context.Context, agencyID, id string) (issuer.Instance, error) {
	for _, in := range m.ins {
		if in.AgencyID == agencyID && in.ID == id {
			return in, nil
		}
	}
	return issuer.Instance{}, errkind.New(errkind.NotFound, "issuer instance %s not found", id)
}

// oneDID is an agency "agy_1" holding one did:key.
type oneDID struct {
	did  string
	priv ed25519.PrivateKey
}

func (o oneDID) DID(_ context.Context, agencyID, id string) (agency.DIDRecord, error) {
	if agencyID != "agy_1" || id != o.did {
		return agency.DIDRecord{}, errkind.New(errkind.NotFound, "no DID %s", id)
	}
	return agency.DIDRecord{DID: o.did, AgencyID: agencyID, KeyID: "key_1", KeyType: kms.Ed25519, Status: agency.StatusActive}, nil
}

func (o oneDID) Signer(_ context.Context, agencyID, keyID string) (crypto.Signer, error) {
	return o.priv, nil
}

// trustFunc adapts a function to issuer.Trust.
type trustFunc func(types []string, subjects []map[string]any) error

func (f trustFunc) CheckIssuance(_ context.Context, _ string, types []string, subjects []map[string]any, _ time.Time) error {
	return f(types, subjects)
}

var fixed = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newService(t *testing.T, trust issuer.Trust) (*issuer.Service, oneDID) {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	k, err := did.NewKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	o := oneDID{did: k.String(), priv: priv}
	if trust == nil {
		trust = trustFunc(func([]string, []map[string]any) error { return nil })
	}
	s := issuer.NewService(issuer.Config{
		Store: &memStore{}, DIDs: o, Keys: o, Trust: trust,
		Resolver: did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}),
		Clock:    func() time.Time { return fixed },
	})
	return s, o
}

func cred(ctx string, subject map[string]any) map[string]any {
	return map[string]any{
		"@context":          []any{ctx},
		"type":              []any{"VerifiableCredential", "ResidentCredential"},
		"credentialSubject": subject,
	}
}

func fieldOf(err error) string {
	var e *errkind.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

func TestIssueFormats(t *testing.T) {
	ctx := context.Background()
	s, o := newService(t, nil)
	keyOf := func(string) (crypto.PublicKey, error) { return o.priv.Public(), nil }
	for _, f := range issuer.Formats {
		if f == issuer.FormatBBS {
			continue // needs a Bls12381G2 DID: see TestCreateSuites and api's BBS+ tests
		}
		t.Run(string(f), func(t *testing.T) {
			in, err := s.Create(ctx, "agy_1", issuer.CreateRequest{DID: o.did, Format: f, Types: []string{"ResidentCredential"}})
			if err != nil {
				t.Fatal(err)
			}
			base := "https://www.w3.org/ns/credentials/v2"
			if f == issuer.FormatJWT {
				base = "https://www.w3.org/2018/credentials/v1"
			}
			c := cred(base, map[string]any{"id": "did:example:alice", "name": "Alice", "age": 30.0})
			if f == issuer.FormatLDP {
				// VC 2.0 defines neither the type nor the claims.
				c["@context"] = []any{base, ld.UndefinedTermsV2}
			}
			out, err := s.Issue(ctx, "agy_1", in.ID, c, issuer.IssueOptions{})
			if err != nil {
				t.Fatal(err)
			}
			switch f {
			case issuer.FormatLDP:
				if out.Credential["validFrom"] != "2026-03-01T12:00:00Z" || out.Credential["issuer"] != o.did {
					t.Errorf("got %v; want validFrom from the clock and the instance's issuer", out.Credential)
				}
				res, err := dataintegrity.Verify(ctx, out.Credential, dataintegrity.DIDKeyResolver(did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}), did.AssertionMethod), ld.Default())
				if err != nil || len(res.Proofs) != 1 {
					t.Errorf("verify: %v, %v", res, err)
				}
			case issuer.FormatJWT:
				v, err := jwtvc.Verify(out.Token, keyOf, fixed)
				if err != nil || v.Credential["issuanceDate"] != "2026-03-01T12:00:00Z" {
					t.Errorf("verify: %v, %v", v, err)
				}
			case issuer.FormatSDJWT:
				// Every subject claim is disclosable: each has a disclosure.
				if n := strings.Count(out.Token, "~"); n != 3 {
					t.Errorf("got %d ~ separators; want 3 (two disclosures)", n)
				}
				v, err := sdjwt.Verify(out.Token, sdjwt.VerifyOptions{
					Type:      sdjwt.MediaType,
					Now:       func() time.Time { return fixed },
					IssuerKey: func(_, _ map[string]any) (crypto.PublicKey, error) { return o.priv.Public(), nil },
				})
				if err != nil || v.Claims["vct"] != "ResidentCredential" || v.Claims["name"] != "Alice" || v.Claims["sub"] != "did:example:alice" {
					t.Errorf("verify: %+v, %v", v, err)
				}
			}
		})
	}
}

func TestIssueErrors(t *testing.T) {
	ctx := context.Background()
	s, o := newService(t, trustFunc(func(_ []string, subjects []map[string]any) error {
		if subjects[0]["name"] == "forbidden" {
			return errkind.New(errkind.Forbidden, "not accredited")
		}
		return nil
	}))
	ldp, _ := s.Create(ctx, "agy_1", issuer.CreateRequest{DID: o.did, Format: issuer.FormatLDP, Types: []string{"ResidentCredential"}})
	jwt, _ := s.Create(ctx, "agy_1", issuer.CreateRequest{DID: o.did, Format: issuer.FormatJWT, Types: []string{"ResidentCredential"}})
	v2 := "https://www.w3.org/ns/credentials/v2"
	tests := []struct {
		name   string
		agency string
		id     string
		cred   map[string]any
		opts   issuer.IssueOptions
		kind   errkind.Kind
		field  string
	}{
		{"other agency", "agy_2", ldp.ID, cred(v2, map[string]any{"name": "A"}), issuer.IssueOptions{}, errkind.NotFound, ""},
		{"v2 for jwt", "agy_1", jwt.ID, cred(v2, map[string]any{"name": "A"}), issuer.IssueOptions{}, errkind.Invalid, "/credential/@context"},
		{"ambiguous", "agy_1", "", func() map[string]any { c := cred(v2, map[string]any{"name": "A"}); c["issuer"] = o.did; return c }(), issuer.IssueOptions{}, errkind.Invalid, "/options/format"},
		{"no issuer", "agy_1", "", cred(v2, map[string]any{"name": "A"}), issuer.IssueOptions{}, errkind.Invalid, "/credential/issuer"},
		{"bad subject", "agy_1", ldp.ID, cred(v2, nil), issuer.IssueOptions{}, errkind.Invalid, "/credential/credentialSubject"},
		{"forbidden", "agy_1", ldp.ID, cred(v2, map[string]any{"name": "forbidden"}), issuer.IssueOptions{}, errkind.Forbidden, ""},
		// The proof would not cover what no @context defines.
		{"undefined claim", "agy_1", ldp.ID, cred(v2, map[string]any{"id": "did:example:alice", "district": "Eixample"}), issuer.IssueOptions{}, errkind.Invalid, "/credential/credentialSubject/district"},
		{"undefined type", "agy_1", ldp.ID, func() map[string]any {
			c := cred(v2, map[string]any{"id": "did:example:alice", "name": "A"})
			c["@context"] = []any{v2, map[string]any{"name": "https://schema.org/name"}}
			return c
		}(), issuer.IssueOptions{}, errkind.Invalid, "/credential/type/1"},
		{"relative subject id", "agy_1", ldp.ID, func() map[string]any {
			c := cred(v2, map[string]any{"id": "alice", "name": "A"})
			c["@context"] = []any{v2, ld.UndefinedTermsV2}
			return c
		}(), issuer.IssueOptions{}, errkind.Invalid, "/credential/credentialSubject/id"},
		{"proof given", "agy_1", ldp.ID, func() map[string]any {
			c := cred(v2, map[string]any{"name": "A"})
			c["proof"] = map[string]any{}
			return c
		}(), issuer.IssueOptions{}, errkind.Invalid, "/credential/proof"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Issue(ctx, tt.agency, tt.id, tt.cred, tt.opts)
			if errkind.KindOf(err) != tt.kind || (tt.field != "" && fieldOf(err) != tt.field) {
				t.Errorf("got %v (kind %s, field %q); want kind %s, field %q", err, errkind.KindOf(err), fieldOf(err), tt.kind, tt.field)
			}
		})
	}
}

func TestCreateErrors(t *testing.T) {
	ctx := context.Background()
	s, o := newService(t, nil)
	tests := []struct {
		name  string
		req   issuer.CreateRequest
		kind  errkind.Kind
		field string
	}{
		{"format", issuer.CreateRequest{DID: o.did, Format: "mdoc", Types: []string{"X"}}, errkind.Invalid, "format"},
		{"no types", issuer.CreateRequest{DID: o.did, Format: issuer.FormatLDP}, errkind.Invalid, "types"},
		{"only VC", issuer.CreateRequest{DID: o.did, Format: issuer.FormatLDP, Types: []string{"VerifiableCredential"}}, errkind.Invalid, "types"},
		{"not ours", issuer.CreateRequest{DID: "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", Format: issuer.FormatLDP, Types: []string{"X"}}, errkind.NotFound, "did"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Create(ctx, "agy_1", tt.req)
			if errkind.KindOf(err) != tt.kind || fieldOf(err) != tt.field {
				t.Errorf("got %v; want kind %s, field %q", err, tt.kind, tt.field)
			}
		})
	}
}
