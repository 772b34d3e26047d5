package api_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/registry"
	"github.com/urbis-id/urbis/vc/issuer"
)

// anchorAnswer is the body of GET /credentials/{id}/anchor.
type anchorAnswer struct {
	registry.AnchorProof
	Status       string
	CredentialID string
	Issuer       string
	OpHash       string
	Height       uint64
}

func (e *env) anchorOf(t *testing.T, key, ref string) (int, anchorAnswer, []byte) {
	t.Helper()
	resp, b := e.do(t, http.MethodGet, "/credentials/"+url.PathEscape(ref)+"/anchor", key, "")
	var a anchorAnswer
	if resp.StatusCode < 300 {
		if err := json.Unmarshal(b, &a); err != nil {
			t.Fatalf("anchor answer %s: %v", b, err)
		}
	}
	return resp.StatusCode, a, b
}

// token returns the compact token of an enveloped issue answer.
func token(t *testing.T, b []byte) string {
	t.Helper()
	_, tok, ok := strings.Cut(issued(t, b)["id"].(string), ",")
	if !ok {
		t.Fatalf("not an enveloped credential: %s", b)
	}
	return tok
}

func sha256Hex(s []byte) string {
	sum := sha256.Sum256(s)
	return hex.EncodeToString(sum[:])
}

func TestCredentialAnchors(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			ctx := t.Context()
			// An ungoverned did:key issuer: its untyped anchors need no accreditation.
			issuerDID := e.newDID(t, e.key, "Ed25519")
			jwt := e.createIssuer(t, e.key, issuerDID, "jwt_vc_json", "ExampleDegreeCredential")
			sd := e.createIssuer(t, e.key, issuerDID, "dc+sd-jwt", "ExampleDegreeCredential")
			ldp := e.createIssuer(t, e.key, issuerDID, "ldp_vc", "ExampleDegreeCredential")

			jwtCred := credentialFor("jwt_vc_json", "", "ExampleDegreeCredential", map[string]any{"name": "Alice"})
			jwtCred["id"] = "https://city.example/credentials/1?x=a%20b#c"
			jwtTok := token(t, e.issue(t, e.key, jwt, jwtCred, http.StatusCreated))
			sdTok := token(t, e.issue(t, e.key, sd, credentialFor("dc+sd-jwt", "", "ExampleDegreeCredential", map[string]any{"name": "Bob"}), http.StatusCreated))
			ldpCred := issued(t, e.issue(t, e.key, ldp, credentialFor("ldp_vc", "", "ExampleDegreeCredential", map[string]any{"name": "Carol"}), http.StatusCreated))
			ldpLeaf, err := issuer.LeafOf(issuer.Issued{Credential: ldpCred})
			if err != nil {
				t.Fatal(err)
			}
			refs := []struct{ name, ref, leaf string }{
				{"jwt_vc_json by id", jwtCred["id"].(string), sha256Hex([]byte(jwtTok))},
				{"dc+sd-jwt by leaf", sha256Hex([]byte(sdTok)), sha256Hex([]byte(sdTok))},
				{"ldp_vc by leaf", ldpLeaf, ldpLeaf},
			}

			// Recorded at issuance, pending until anchored.
			for _, r := range refs {
				code, a, b := e.anchorOf(t, e.key, r.ref)
				if code != http.StatusAccepted || a.Status != "pending" || a.Leaf != r.leaf || a.Issuer != issuerDID || a.Operation.Hash != "" {
					t.Errorf("%s before anchoring: got %d %s; want 202 pending with leaf %s", r.name, code, b, r.leaf)
				}
			}
			if code, _, b := e.anchorOf(t, e.otherKey, jwtCred["id"].(string)); code != http.StatusNotFound {
				t.Errorf("another agency: got %d %s; want 404", code, b)
			}
			if code, _, b := e.anchorOf(t, e.key, "urn:uuid:none"); code != http.StatusNotFound {
				t.Errorf("unknown credential: got %d %s; want 404", code, b)
			}

			if _, err := e.anchorer.Once(ctx); err != nil {
				t.Fatal(err)
			}
			var first anchorAnswer
			for i, r := range refs {
				code, a, b := e.anchorOf(t, e.key, r.ref)
				if code != http.StatusOK || a.Status != "anchored" {
					t.Fatalf("%s after anchoring: got %d %s; want 200 anchored", r.name, code, b)
				}
				got, err := registry.CheckAnchorProof(a.AnchorProof, e.chain.genesis)
				if err != nil {
					t.Fatalf("%s: CheckAnchorProof: %v; want nil", r.name, err)
				}
				if a.Leaf != r.leaf || a.LeafIndex != i || a.BatchSize != 3 || got.Issuer != issuerDID || got.Height != a.Height || a.OpHash != a.Operation.Hash {
					t.Errorf("%s: got leaf %s index %d of %d, signer %s at %d; want leaf %s index %d of 3 signed by %s", r.name, a.Leaf, a.LeafIndex, a.BatchSize, got.Issuer, got.Height, r.leaf, i, issuerDID)
				}
				if i == 0 {
					first = a
				} else if a.Root != first.Root || a.OpHash != first.OpHash {
					t.Errorf("%s: root %s op %s; want the batch's %s, %s", r.name, a.Root, a.OpHash, first.Root, first.OpHash)
				}
			}

			// A crash after the anchor's block but before the batch was
			// recorded leaves the leaves pending: the next round finds the
			// root on chain and records it without a second anchor.
			if _, err := e.db.ExecRaw(ctx, `UPDATE credential_anchors SET batch_root = NULL, op_hash = NULL, leaf_index = NULL, batch_size = NULL`); err != nil {
				t.Fatal(err)
			}
			if code, a, _ := e.anchorOf(t, e.key, refs[0].ref); code != http.StatusAccepted || a.Status != "pending" {
				t.Fatalf("after the simulated crash: got %d %s; want 202 pending", code, a.Status)
			}
			head, _ := e.chain.db.Head(ctx)
			if _, err := e.anchorer.Once(ctx); err != nil {
				t.Fatal(err)
			}
			if code, a, b := e.anchorOf(t, e.key, refs[1].ref); code != http.StatusOK || a.OpHash != first.OpHash || a.LeafIndex != 1 {
				t.Errorf("after recovery: got %d %s; want 200 with op %s", code, b, first.OpHash)
			}
			if h, _ := e.chain.db.Head(ctx); h.Height != head.Height {
				t.Errorf("recovery made blocks %d..%d; want no new anchor", head.Height+1, h.Height)
			}

			// A root the chain refuses (anchored by another DID first)
			// stays pending and is retried later.
			tok := token(t, e.issue(t, e.key, jwt, credentialFor("jwt_vc_json", "", "ExampleDegreeCredential", map[string]any{"name": "Dan"}), http.StatusCreated))
			leaf := sha256Hex([]byte(tok))
			e.chain.commit(t, e.chain.gov, e.chain.govSigner(), registry.KindAnchor, registry.AnchorPayload{Root: registry.MerkleRoot([]string{leaf})})
			if _, err := e.anchorer.Once(ctx); err != nil {
				t.Fatal(err)
			}
			if code, a, b := e.anchorOf(t, e.key, leaf); code != http.StatusAccepted || a.Status != "pending" {
				t.Errorf("refused anchor: got %d %s; want 202 pending", code, b)
			}
		})
	}
}

func TestAnchorBatchesAreBounded(t *testing.T) {
	e := newEnvs(t, api.Config{})[0]
	ctx := t.Context()
	issuerDID := e.newDID(t, e.key, "Ed25519")
	jwt := e.createIssuer(t, e.key, issuerDID, "jwt_vc_json", "ExampleDegreeCredential")
	var leaves []string
	for range 5 {
		tok := token(t, e.issue(t, e.key, jwt, credentialFor("jwt_vc_json", "", "ExampleDegreeCredential", map[string]any{"name": "Eve"}), http.StatusCreated))
		leaves = append(leaves, sha256Hex([]byte(tok)))
	}
	small, err := e.anchorerWith(t, issuer.AnchorerConfig{MaxBatch: 2})
	if err != nil {
		t.Fatal(err)
	}
	var fulls []bool
	for range 3 {
		full, err := small.Once(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fulls = append(fulls, full)
	}
	if want := []bool{true, true, false}; !slices.Equal(fulls, want) {
		t.Errorf("full batches: got %v; want %v", fulls, want)
	}
	wantSize := []int{2, 2, 2, 2, 1}
	for i, l := range leaves {
		code, a, b := e.anchorOf(t, e.key, l)
		if code != http.StatusOK || a.BatchSize != wantSize[i] || a.LeafIndex != i%2 {
			t.Errorf("leaf %d: got %d %s; want anchored at %d of a batch of %d", i, code, b, i%2, wantSize[i])
		}
		if _, err := registry.CheckAnchorProof(a.AnchorProof, e.chain.genesis); err != nil {
			t.Errorf("leaf %d: CheckAnchorProof: %v", i, err)
		}
	}
}
