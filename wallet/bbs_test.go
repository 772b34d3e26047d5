package wallet

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/json"
	"io"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/aries-framework-go/pkg/crypto/primitive/bbs12381g2pub"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/bls"
	"github.com/urbis-id/urbis/vc/bbs"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/ld"
	"github.com/urbis-id/urbis/verifiers/oid4vp"
)

// blsTestKey signs BBS+ messages as a key in custody does (one per line).
type blsTestKey struct {
	priv []byte
	pub  *bls.PublicKey
}

func (k *blsTestKey) Public() crypto.PublicKey { return k.pub }

func (k *blsTestKey) Sign(_ io.Reader, msgs []byte, _ crypto.SignerOpts) ([]byte, error) {
	var m [][]byte
	for _, l := range strings.Split(string(msgs), "\n") {
		if l != "" {
			m = append(m, []byte(l))
		}
	}
	return bbs12381g2pub.New().Sign(m, k.priv)
}

// heldBBS stores in w a BBS+ credential (BbsBlsSignature2020, from a
// did:key issuer) about a new DID of w.
func heldBBS(t *testing.T, w *Wallet) (Credential, DID) {
	t.Helper()
	holder, err := w.NewDIDKey("")
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, err := bbs12381g2pub.GenerateKeyPair(sha256.New, nil)
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := pub.Marshal()
	sb, _ := priv.Marshal()
	bp, err := bls.ParsePublicKey(pb)
	if err != nil {
		t.Fatal(err)
	}
	key := &blsTestKey{priv: sb, pub: bp}
	iss, err := did.NewKey(bp)
	if err != nil {
		t.Fatal(err)
	}
	res, err := did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}).Resolve(context.Background(), iss.String(), did.ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cred := map[string]any{
		"@context": []any{ld.CredentialsV1, ld.CredentialsExamplesV2}, "type": []any{"VerifiableCredential", "ResidentCredential"},
		"issuer": iss.String(), "issuanceDate": "2026-03-01T12:30:45Z",
		"credentialSubject": map[string]any{"id": holder.DID, "givenName": "Alice", "familyName": "Example", "birthDate": "1990-01-01"},
	}
	signed, err := bbs.Sign(context.Background(), cred, dataintegrity.ProofOptions{VerificationMethod: res.Document.VerificationMethod[0].ID,
		ProofPurpose: "assertionMethod", Created: time.Date(2026, 3, 1, 12, 30, 45, 0, time.UTC)}, key, ld.Default())
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(signed)
	c, err := w.AddCredential(raw)
	if err != nil {
		t.Fatal(err)
	}
	return c, holder
}

// TestBBSDerivedPresentation: a DCQL ldp_vc query answered with a BBS+
// credential discloses, in the derived credential, the requested claims
// and the subject's id only, never another claim.
func TestBBSDerivedPresentation(t *testing.T) {
	w, _ := newWallet(t)
	c, holder := heldBBS(t, w)
	if !isBBS(c) {
		t.Fatalf("credential %s is not recognised as BBS+", c.ID)
	}
	for _, tc := range []struct {
		name  string
		query string
		want  []string // the subject's members in the derived credential
	}{
		{"one claim", `{"id":"q","format":"ldp_vc","meta":{"type_values":[["ResidentCredential"]]},"claims":[{"path":["credentialSubject","givenName"]}]}`,
			[]string{"givenName", "id"}},
		{"two claims", `{"id":"q","format":"ldp_vc","claims":[{"path":["credentialSubject","givenName"]},{"path":["credentialSubject","birthDate"],"values":["1990-01-01"]}]}`,
			[]string{"birthDate", "givenName", "id"}},
		{"the type and a claim", `{"id":"q","format":"ldp_vc","claims":[{"path":["type"]},{"path":["credentialSubject","givenName"]}]}`,
			[]string{"givenName", "id"}},
		{"no claims: none disclosed", `{"id":"q","format":"ldp_vc","meta":{"type_values":[["ResidentCredential"]]}}`,
			[]string{"id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cq oid4vp.CredentialQuery
			if err := json.Unmarshal([]byte(tc.query), &cq); err != nil {
				t.Fatal(err)
			}
			it, ok := w.match(&cq)
			if !ok || !it.Selective {
				t.Fatalf("match: %v, %+v; want the BBS+ credential, selectively", ok, it)
			}
			signer, vm, err := w.Signer(holder.DID)
			if err != nil {
				t.Fatal(err)
			}
			ro := &oid4vp.RequestObject{ClientID: "decentralized_identifier:did:example:shop", Nonce: "n-1"}
			p, err := Presentation(context.Background(), c, it.reveal, Holder{DID: holder.DID, VerificationMethod: vm, Signer: signer}, ro, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			vp := p.(map[string]any)
			d := vp["verifiableCredential"].([]any)[0].(map[string]any)
			if pr, _ := d["proof"].(map[string]any); pr["type"] != bbs.TypeProof {
				t.Fatalf("proof %v; want a %s", d["proof"], bbs.TypeProof)
			}
			var got []string
			switch s := d["credentialSubject"].(type) {
			case string: // JSON-LD compacts a node with its id only to the id
				if s == holder.DID {
					got = []string{"id"}
				}
			case map[string]any:
				for k := range s {
					got = append(got, k)
				}
			}
			sort.Strings(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("derived subject members %v; want %v", got, tc.want)
			}
			if b, _ := json.Marshal(vp); strings.Contains(string(b), "familyName") {
				t.Errorf("the presentation holds familyName, which was not asked: %s", b)
			}
			// The derived proof verifies with the issuer's key.
			if _, err := bbs.Verify(context.Background(), d, bbs.DIDKeyResolver(did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}), did.AssertionMethod), ld.Default()); err != nil {
				t.Errorf("the derived credential does not verify: %v", err)
			}
		})
	}
}

// TestBBSUndisclosable: the wallet's last check before sending catches a
// derived credential that shows more than was asked.
func TestBBSUndisclosable(t *testing.T) {
	derived := map[string]any{"@context": []any{}, "type": []any{}, "issuer": "did:x", "proof": map[string]any{},
		"credentialSubject": map[string]any{"id": "did:y", "givenName": "A", "birthDate": "1990"}, "evidence": []any{}}
	got := undisclosable(derived, [][]any{{"credentialSubject", "givenName"}})
	if want := []string{"credentialSubject.birthDate", "evidence"}; !slices.Equal(got, want) {
		t.Errorf("undisclosable = %v; want %v", got, want)
	}
	if got := undisclosable(derived, [][]any{{"credentialSubject", "givenName"}, {"credentialSubject", "birthDate"}, {"evidence"}}); len(got) != 0 {
		t.Errorf("undisclosable with everything asked = %v; want none", got)
	}
}

// TestPairwiseDID: one did:key per verifier client_id, the same on every
// request of that verifier, kept in the wallet file.
func TestPairwiseDID(t *testing.T) {
	w, dir := newWallet(t)
	everyday, err := w.NewDIDKey("")
	if err != nil {
		t.Fatal(err)
	}
	shop, created, err := w.PairwiseDID("decentralized_identifier:did:example:shop")
	if err != nil || !created || shop.DID == everyday.DID || shop.Label != PairwiseLabel+"decentralized_identifier:did:example:shop" {
		t.Fatalf("PairwiseDID(shop) = %+v, %v, %v; want a new labelled DID", shop, created, err)
	}
	bank, _, err := w.PairwiseDID("decentralized_identifier:did:example:bank")
	if err != nil || bank.DID == shop.DID || bank.DID == everyday.DID {
		t.Errorf("PairwiseDID(bank) = %s, %v; want a DID of its own (shop has %s)", bank.DID, err, shop.DID)
	}
	w2, err := Open(dir, pass, testKDF)
	if err != nil {
		t.Fatal(err)
	}
	again, created, err := w2.PairwiseDID("decentralized_identifier:did:example:shop")
	if err != nil || created || again.DID != shop.DID {
		t.Errorf("PairwiseDID(shop) after reopening = %s, created %v, %v; want %s, kept", again.DID, created, err, shop.DID)
	}
	if d, err := w2.DefaultDID(); err != nil || d.DID != everyday.DID {
		t.Errorf("DefaultDID = %s, %v; want the everyday DID %s, never a pairwise one", d.DID, err, everyday.DID)
	}
}
