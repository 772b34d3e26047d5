package verifiers_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/ld"
	"github.com/urbis-id/urbis/verifiers"
)

// fakeChain holds accreditations, their histories and schemas.
type fakeChain struct {
	accs    map[string][]registry.Accreditation
	events  map[string][]registry.AccreditationEvent
	schemas map[string][]registry.Schema
}

func (f fakeChain) Accreditations(_ context.Context, issuer string) ([]registry.Accreditation, error) {
	return f.accs[issuer], nil
}

func (f fakeChain) AccreditationHistory(_ context.Context, id string) ([]registry.AccreditationEvent, error) {
	return f.events[id], nil
}

func (f fakeChain) SchemasByType(_ context.Context, typ string) ([]registry.Schema, error) {
	return f.schemas[typ], nil
}

var (
	t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 = t0.Add(24 * time.Hour) // suspended
	t2 = t1.Add(24 * time.Hour) // reinstated
)

func chain(issuer string) fakeChain {
	return fakeChain{
		accs: map[string][]registry.Accreditation{issuer: {{
			ID: "acc1", Issuer: issuer, Types: []string{"ResidentCredential"}, ValidFrom: t0, Status: registry.StatusActive,
		}}},
		events: map[string][]registry.AccreditationEvent{"acc1": {
			{Accreditation: "acc1", Kind: registry.KindTrustAccredit, Time: t0},
			{Accreditation: "acc1", Kind: registry.KindTrustSuspend, Time: t1},
			{Accreditation: "acc1", Kind: registry.KindTrustReinstate, Time: t2},
		}},
		schemas: map[string][]registry.Schema{"ResidentCredential": {{
			ID: "s1", Type: "ResidentCredential", Time: t0,
			Content: json.RawMessage(`{"type":"object","required":["name"],"properties":{"name":{"type":"string"}}}`),
		}}},
	}
}

func TestAccreditedAt(t *testing.T) {
	c := chain("did:example:issuer")
	tr := verifiers.NewTrust(c, c)
	tests := []struct {
		name string
		at   time.Time
		typ  string
		want bool
	}{
		{"before", t0.Add(-time.Second), "ResidentCredential", false},
		{"active", t0.Add(time.Hour), "ResidentCredential", true},
		{"suspended then", t1.Add(time.Hour), "ResidentCredential", false},
		{"reinstated", t2.Add(time.Hour), "ResidentCredential", true},
		{"other type", t0.Add(time.Hour), "LandTitle", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason, err := tr.AccreditedAt(context.Background(), "did:example:issuer", tt.typ, tt.at)
			if err != nil || got != tt.want || (!got && reason == "") {
				t.Errorf("got %v (%q), %v; want %v with a reason when false", got, reason, err, tt.want)
			}
		})
	}
}

func TestCheckIssuance(t *testing.T) {
	c := chain("did:example:issuer")
	tr := verifiers.NewTrust(c, c)
	ctx := context.Background()
	at := t0.Add(time.Hour)
	if err := tr.CheckIssuance(ctx, "did:example:issuer", []string{"ResidentCredential"}, []map[string]any{{"name": "Alice"}}, at); err != nil {
		t.Errorf("accredited, valid: %v", err)
	}
	if err := tr.CheckIssuance(ctx, "did:example:other", []string{"ResidentCredential"}, []map[string]any{{"name": "Alice"}}, at); !errors.Is(err, errkind.Forbidden) {
		t.Errorf("unaccredited: got %v; want Forbidden", err)
	}
	err := tr.CheckIssuance(ctx, "did:example:issuer", []string{"ResidentCredential"}, []map[string]any{{"name": 7.0}}, at)
	var e *errkind.Error
	if !errors.As(err, &e) || e.Kind != errkind.Unprocessable || e.Field != "/name" {
		t.Errorf("schema violation: got %v; want Unprocessable at /name", err)
	}
	if err := tr.CheckIssuance(ctx, "did:example:other", []string{"Ungoverned"}, nil, at); err != nil {
		t.Errorf("ungoverned: %v", err)
	}
}

func TestVerifyDataIntegrity(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	k, _ := did.NewKey(pub)
	issuer := k.String()
	vm := issuer + "#" + strings.TrimPrefix(issuer, "did:key:")
	resolver := did.NewResolver(did.ResolverConfig{}, did.KeyMethod{})
	c := chain(issuer)
	now := t0.Add(48 * time.Hour)
	v := verifiers.NewVerifier(resolver, verifiers.NewTrust(c, c), func() time.Time { return now })
	sign := func(typ string, subject map[string]any, until string) map[string]any {
		doc := map[string]any{
			"@context": []any{"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/undefined-terms/v2"}, "type": []any{"VerifiableCredential", typ},
			"issuer": issuer, "validFrom": t0.Add(time.Hour).Format(time.RFC3339), "credentialSubject": subject,
		}
		if until != "" {
			doc["validUntil"] = until
		}
		out, err := dataintegrity.Sign(context.Background(), doc, dataintegrity.ProofOptions{VerificationMethod: vm}, priv, ld.Default())
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	tests := []struct {
		name     string
		cred     map[string]any
		verified bool
		failed   string
		warned   string
	}{
		{"governed", sign("ResidentCredential", map[string]any{"name": "Alice"}, ""), true, "", ""},
		{"ungoverned", sign("Other", map[string]any{"name": "Alice"}, ""), true, "", "accreditation"},
		{"schema", sign("ResidentCredential", map[string]any{"name": 1.0}, ""), false, "schema", ""},
		{"expired", sign("Other", map[string]any{"name": "Alice"}, t1.Format(time.RFC3339)), false, "validity", "accreditation"},
		{"tampered", func() map[string]any {
			m := sign("Other", map[string]any{"name": "Alice"}, "")
			m["credentialSubject"] = map[string]any{"name": "Mallory"}
			return m
		}(), false, "proof", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := v.VerifyCredential(context.Background(), tt.cred)
			if err != nil {
				t.Fatal(err)
			}
			if res.Verified != tt.verified {
				t.Errorf("verified %v; want %v (%+v)", res.Verified, tt.verified, res)
			}
			if tt.failed != "" && (len(res.Errors) == 0 || res.Errors[0].Check != tt.failed) {
				t.Errorf("errors %+v; want %s failing", res.Errors, tt.failed)
			}
			if tt.warned != "" && (len(res.Warnings) == 0 || res.Warnings[0].Check != tt.warned) {
				t.Errorf("warnings %+v; want one about %s", res.Warnings, tt.warned)
			}
		})
	}
	if _, err := v.VerifyCredential(context.Background(), "not a token"); !errors.Is(err, errkind.Invalid) {
		t.Errorf("garbage string: got %v; want Invalid", err)
	}
}
