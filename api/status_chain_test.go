package api_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// statusUpdates returns the committed status.update operations of the
// chain, oldest first.
func (e *env) statusUpdates(t *testing.T) []registry.SignedOp {
	t.Helper()
	ctx := t.Context()
	head, err := e.chain.db.Head(ctx)
	if errors.Is(err, errkind.NotFound) {
		return nil // no block yet
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []registry.SignedOp
	for h := uint64(1); h <= head.Height; h++ {
		b, err := e.chain.db.Block(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		for _, jws := range b.Ops {
			op, err := registry.ParseSigned(jws)
			if err != nil {
				t.Fatal(err)
			}
			if op.Op.Kind == registry.KindStatusUpdate {
				out = append(out, op)
			}
		}
	}
	return out
}

func TestStatusChangesAreAnchored(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			ctx := t.Context()
			issuerDID := e.newDID(t, e.key, "Ed25519")
			id := e.createIssuerWith(t, e.key, map[string]any{"did": issuerDID, "format": "ldp_vc",
				"types": []string{"ExampleDegreeCredential"}, "statusPurposes": []string{"revocation", "suspension"}})
			c := e.issueLDP(t, e.key, id)
			cid, _ := c["id"].(string)
			entry := statusEntry(t, c, "revocation")
			list, _ := entry["statusListCredential"].(string)
			var index int
			if err := json.Unmarshal([]byte(entry["statusListIndex"].(string)), &index); err != nil {
				t.Fatalf("statusListIndex %v: %v", entry["statusListIndex"], err)
			}
			if ops := e.statusUpdates(t); len(ops) != 0 {
				t.Fatalf("before any status change: %d status.update operations; want 0", len(ops))
			}
			before := time.Now().UTC()

			if code, b := e.setStatus(t, e.key, cid, "revoked"); code != http.StatusOK {
				t.Fatalf("revoke: got %d %s; want 200", code, b)
			}
			ops := e.statusUpdates(t)
			if len(ops) != 1 {
				t.Fatalf("after revoking: %d status.update operations; want 1", len(ops))
			}
			op := ops[0]
			var p registry.StatusUpdatePayload
			if err := json.Unmarshal(op.Op.Payload, &p); err != nil {
				t.Fatal(err)
			}
			want := registry.StatusUpdatePayload{List: list, Index: index, Purpose: registry.PurposeRevocation, Value: true}
			if p != want {
				t.Errorf("status.update payload: got %+v; want %+v", p, want)
			}
			if signer := op.Op.Signer; len(signer) <= len(issuerDID) || signer[:len(issuerDID)+1] != issuerDID+"#" {
				t.Errorf("status.update signer: got %s; want a key of %s", signer, issuerDID)
			}

			resp, got := e.do(t, http.MethodGet, "/registry/operations/"+op.Hash+"/proof", "", "")
			var proof registry.Proof
			if err := json.Unmarshal(got, &proof); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("proof: got %d %s; want 200", resp.StatusCode, got)
			}
			if err := registry.CheckProof(proof, e.chain.genesis); err != nil {
				t.Errorf("CheckProof of the status.update: %v; want nil", err)
			}

			st, err := e.chain.db.OpStatus(ctx, op.Hash)
			if err != nil || st.Status != registry.StatusCommitted {
				t.Fatalf("OpStatus = %+v, %v; want committed", st, err)
			}
			if v, _, found, err := e.chain.db.StatusAt(ctx, list, index, registry.PurposeRevocation, st.Time.Add(-time.Microsecond)); err != nil || found || v {
				t.Errorf("StatusAt before the block: %v, found %v, %v; want not found", v, found, err)
			}
			if v, _, found, err := e.chain.db.StatusAt(ctx, list, index, registry.PurposeRevocation, before.Add(-time.Second)); err != nil || found || v {
				t.Errorf("StatusAt before the revocation: %v, found %v, %v; want not found", v, found, err)
			}
			if v, h, found, err := e.chain.db.StatusAt(ctx, list, index, registry.PurposeRevocation, st.Time); err != nil || !found || !v || h != st.Height {
				t.Errorf("StatusAt the block: %v, %d, found %v, %v; want true at block %d", v, h, found, err, st.Height)
			}

			// Setting the status the credential has anchors nothing.
			if code, b := e.setStatus(t, e.key, cid, "revoked"); code != http.StatusOK {
				t.Fatalf("revoke again: got %d %s; want 200", code, b)
			}
			// Suspending and reinstating anchors two more.
			for _, s := range []string{"suspended", "active"} {
				if code, b := e.setStatus(t, e.key, cid, s); code != http.StatusOK && !(s == "active" && code == http.StatusConflict) {
					t.Fatalf("%s: got %d %s", s, code, b)
				}
			}
			if ops := e.statusUpdates(t); len(ops) != 2 {
				t.Errorf("after revoking again and suspending: %d status.update operations; want 2 (reinstating a revoked credential is refused)", len(ops))
			}
		})
	}
}

func TestStatusChangeRefusedByChain(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			id := e.createIssuerWith(t, e.key, map[string]any{"did": e.newDID(t, e.key, "Ed25519"), "format": "ldp_vc",
				"types": []string{"ExampleDegreeCredential"}, "statusPurposes": []string{"revocation", "suspension"}})
			c := e.issueLDP(t, e.key, id)
			cid, _ := c["id"].(string)
			list, _ := statusEntry(t, c, "revocation")["statusListCredential"].(string)
			// Another DID binds the list to itself first.
			e.chain.commit(t, e.chain.gov, e.chain.govSigner(), registry.KindStatusUpdate,
				registry.StatusUpdatePayload{List: list, Index: 0, Purpose: registry.PurposeRevocation, Value: false})

			if code, b := e.setStatus(t, e.key, cid, "revoked"); code != http.StatusConflict {
				t.Fatalf("revoke: got %d %s; want 409", code, b)
			}
			if set, _ := e.statusBit(t, c, "revocation"); set {
				t.Errorf("revocation bit after the chain refused it: set; want clear")
			}
		})
	}
}
