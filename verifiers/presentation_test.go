package verifiers_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/jwtvc"
	"github.com/urbis-id/urbis/vc/ld"
	"github.com/urbis-id/urbis/vc/sdjwt"
	"github.com/urbis-id/urbis/verifiers"
)

// party is a did:key whose key the test holds.
type party struct {
	did, vm string
	key     ed25519.PrivateKey
}

func newParty(t *testing.T) party {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	k, err := did.NewKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	s := k.String()
	return party{did: s, vm: s + "#" + strings.TrimPrefix(s, "did:key:"), key: priv}
}

func TestVerifyPresentation(t *testing.T) {
	ctx := context.Background()
	issuer, holder, other := newParty(t), newParty(t), newParty(t)
	resolver := did.NewResolver(did.ResolverConfig{}, did.KeyMethod{})
	c := chain(issuer.did)
	now := time.Now().UTC().Truncate(time.Second)
	v := verifiers.NewVerifier(resolver, verifiers.NewTrust(c, c), func() time.Time { return now })

	cred := func(subject map[string]any) map[string]any {
		doc := map[string]any{
			"@context": []any{"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/undefined-terms/v2"}, "type": []any{"VerifiableCredential", "Other"},
			"issuer": issuer.did, "validFrom": now.Add(-time.Hour).Format(time.RFC3339), "credentialSubject": subject,
		}
		out, err := dataintegrity.Sign(ctx, doc, dataintegrity.ProofOptions{VerificationMethod: issuer.vm}, issuer.key, ld.Default())
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	vp := func(by party, holderID, challenge, domain string, creds ...any) map[string]any {
		doc := map[string]any{
			"@context": []any{"https://www.w3.org/ns/credentials/v2"}, "type": []any{"VerifiablePresentation"},
			"holder": holderID, "verifiableCredential": creds,
		}
		out, err := dataintegrity.Sign(ctx, doc, dataintegrity.ProofOptions{
			VerificationMethod: by.vm, ProofPurpose: "authentication", Challenge: challenge, Domain: domain, Created: now,
		}, by.key, ld.Default())
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	jwtVC, err := jwtvc.Sign(map[string]any{
		"@context": []any{"https://www.w3.org/2018/credentials/v1"}, "type": []any{"VerifiableCredential", "Other"},
		"issuer": issuer.did, "issuanceDate": now.Add(-time.Hour).Format(time.RFC3339),
		"credentialSubject": map[string]any{"id": holder.did, "name": "Alice"},
	}, issuer.key, issuer.vm)
	if err != nil {
		t.Fatal(err)
	}
	jwtVP := func(aud, nonce string) string {
		tok, err := jwtvc.SignPresentation(map[string]any{
			"@context": []any{"https://www.w3.org/2018/credentials/v1"}, "type": []any{"VerifiablePresentation"},
			"verifiableCredential": []any{jwtVC},
		}, holder.key, holder.vm, aud, nonce, now)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	sdVPIssued := func(issued time.Time, sub, aud, nonce string) string {
		tok, err := sdjwt.Issue(map[string]any{"iss": issuer.did, "sub": sub, "vct": "Other", "name": "Alice", "iat": issued.Unix()},
			sdjwt.DisclosurePolicy{"/name"}, issuer.key, sdjwt.IssueOptions{KeyID: issuer.vm, HolderKey: holder.key.Public()})
		if err != nil {
			t.Fatal(err)
		}
		out, err := sdjwt.Present(tok, []string{"/name"}, &sdjwt.KeyBinding{Signer: holder.key, Audience: aud, Nonce: nonce, IssuedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	sdVP := func(sub, aud, nonce string) string { return sdVPIssued(now, sub, aud, nonce) }
	mine := cred(map[string]any{"id": holder.did, "name": "Alice"})
	tampered := cred(map[string]any{"id": holder.did, "name": "Alice"})
	tampered["credentialSubject"] = map[string]any{"id": holder.did, "name": "Mallory"}
	opts := verifiers.PresentationOptions{Challenge: "c1", Domain: "v.example"}

	tests := []struct {
		name   string
		in     any
		opts   verifiers.PresentationOptions
		failed string // "" when it must verify
		warned string
	}{
		{"ldp_vp", vp(holder, holder.did, "c1", "v.example", mine), opts, "", ""},
		{"no options asked", vp(holder, holder.did, "", "", mine), verifiers.PresentationOptions{}, "", ""},
		{"wrong challenge", vp(holder, holder.did, "c2", "v.example", mine), opts, verifiers.CheckChallenge, ""},
		{"missing challenge", vp(holder, holder.did, "", "v.example", mine), opts, verifiers.CheckChallenge, ""},
		{"wrong domain", vp(holder, holder.did, "c1", "w.example", mine), opts, verifiers.CheckDomain, ""},
		{"signed by another", vp(other, holder.did, "c1", "v.example", mine), opts, verifiers.CheckHolder, ""},
		{"credential about another", vp(other, other.did, "c1", "v.example", mine), opts, verifiers.CheckHolderBinding, ""},
		{"credential without subject id", vp(holder, holder.did, "c1", "v.example", cred(map[string]any{"name": "Alice"})), opts, "", verifiers.CheckHolderBinding},
		{"tampered credential", vp(holder, holder.did, "c1", "v.example", tampered), opts, verifiers.CheckCredentials, ""},
		{"jwt_vp", jwtVP("v.example", "c1"), opts, "", ""},
		{"jwt_vp wrong nonce", jwtVP("v.example", "c2"), opts, verifiers.CheckChallenge, ""},
		{"jwt_vp wrong aud", jwtVP("w.example", "c1"), opts, verifiers.CheckDomain, ""},
		{"sd-jwt", sdVP(holder.did, "v.example", "c1"), opts, "", ""},
		// The Key Binding JWT is checked against the verifier's clock,
		// not the time the credential was issued.
		{"sd-jwt issued a day before it is presented", sdVPIssued(now.Add(-24*time.Hour), holder.did, "v.example", "c1"), opts, "", ""},
		{"sd-jwt wrong nonce", sdVP(holder.did, "v.example", "c2"), opts, verifiers.CheckChallenge, ""},
		{"sd-jwt subject is another", sdVP(other.did, "v.example", "c1"), opts, verifiers.CheckHolder, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := v.VerifyPresentation(ctx, tt.in, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Verified != (tt.failed == "") {
				t.Fatalf("got verified %v, errors %+v; want verified %v", res.Verified, res.Errors, tt.failed == "")
			}
			if tt.failed != "" && !hasFinding(res.Errors, tt.failed) {
				t.Errorf("got errors %+v; want a failed %s check", res.Errors, tt.failed)
			}
			if tt.warned != "" && !hasFinding(res.Warnings, tt.warned) {
				t.Errorf("got warnings %+v; want one about %s", res.Warnings, tt.warned)
			}
			if tt.failed == "" && len(res.Credentials) != 1 {
				t.Errorf("got %d credential results; want 1", len(res.Credentials))
			}
		})
	}
	for _, in := range []any{nil, 42, "garbage", map[string]any{"type": "VerifiablePresentation"}} {
		if _, err := v.VerifyPresentation(ctx, in, opts); !errors.Is(err, errkind.Invalid) {
			t.Errorf("%v: got %v; want Invalid", in, err)
		}
	}
}

func hasFinding(fs []verifiers.Finding, check string) bool {
	for _, f := range fs {
		if f.Check == check {
			return true
		}
	}
	return false
}
