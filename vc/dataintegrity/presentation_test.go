package dataintegrity

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/urbis-id/urbis/did"
)

// TestPresentationFromJSONLDJS checks a VC 2.0 presentation secured by
// Digital Bazaar's @digitalbazaar/vc (testdata/jsonld-js, written by
// internal/interop/js/fixture-presentation.mjs): the canonical form of the
// unsecured presentation must be jsonld.js's byte for byte, with the
// credential in its own graph, and the holder's and the issuer's proofs
// must verify.
func TestPresentationFromJSONLDJS(t *testing.T) {
	ctx := context.Background()
	vp := readJSON(t, filepath.Join("testdata", "jsonld-js", "presentation.json"))
	want := string(readFile(t, filepath.Join("testdata", "jsonld-js", "presentation.nq")))
	got, err := canonicalize(ctx, withoutProof(vp), nil, "presentation")
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("canonical presentation:\n%s\nwant (jsonld.js):\n%s", got, want)
	}
	r := did.NewResolver(did.ResolverConfig{}, did.KeyMethod{})
	res, err := Verify(ctx, vp, DIDKeyResolver(r, did.Authentication), nil)
	if err != nil {
		t.Fatalf("holder's proof: %v", err)
	}
	if err := res.Check(Expect{ProofPurpose: "authentication", Challenge: "n-4f1c7a", Domain: "https://verifier.example"}); err != nil {
		t.Errorf("holder's proof: %v", err)
	}
	cred := vp["verifiableCredential"].([]any)[0].(map[string]any)
	if _, err := Verify(ctx, cred, DIDKeyResolver(r, did.AssertionMethod), nil); err != nil {
		t.Errorf("issuer's proof: %v", err)
	}

	// The document passed in is left as it was.
	if _, ok := vp["verifiableCredential"].([]any)[0].(map[string]any)["@graph"]; ok {
		t.Errorf("canonicalize changed the caller's presentation")
	}
}
