package registry

import (
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// AnchorProof proves that a leaf (the hex SHA-256 of an issued
// credential) was anchored on the chain: the leaf's Merkle path to the
// root of its batch (the same RFC 6962 tree as a block's operations),
// and the inclusion proof of the anchor operation that put the root on
// chain. Nothing in it is personal data.
type AnchorProof struct {
	Leaf       string   `json:"leaf"`
	LeafIndex  int      `json:"leafIndex"`
	BatchSize  int      `json:"batchSize"`
	MerklePath []string `json:"merklePath"`
	Root       string   `json:"root"`
	Operation  Proof    `json:"proof"`
}

// Anchored is what a checked AnchorProof establishes: the DID that
// signed the anchor, and the block that holds it.
type Anchored struct {
	Issuer string
	Height uint64
	Time   time.Time
}

// CheckAnchorProof checks p with nothing but the genesis g: the path
// leads from Leaf at LeafIndex in a batch of BatchSize to Root, the
// operation proof is valid (CheckProof), and its operation is an anchor
// of Root whose count, when given, is BatchSize. It returns the anchor's
// signer and block, so the caller can compare the signer with the
// credential's issuer and read when the credential existed at the latest.
// Errors are of kind Invalid and name what is wrong.
func CheckAnchorProof(p AnchorProof, g *Genesis) (Anchored, error) {
	if !isHash(p.Leaf) {
		return Anchored{}, errkind.Field(errkind.Invalid, "leaf", "leaf %q must be 64 lowercase hex characters", p.Leaf)
	}
	if !isHash(p.Root) {
		return Anchored{}, errkind.Field(errkind.Invalid, "root", "root %q must be 64 lowercase hex characters", p.Root)
	}
	if !verifyPath(p.Leaf, p.LeafIndex, p.BatchSize, p.MerklePath, p.Root) {
		return Anchored{}, errkind.New(errkind.Invalid, "the Merkle path does not lead from leaf %s at index %d of %d to root %s", p.Leaf, p.LeafIndex, p.BatchSize, p.Root)
	}
	if err := CheckProof(p.Operation, g); err != nil {
		return Anchored{}, err
	}
	op, err := parse(p.Operation.Operation)
	if err != nil {
		return Anchored{}, errkind.Wrap(errkind.Invalid, err, "proof operation")
	}
	if op.Op.Kind != KindAnchor {
		return Anchored{}, errkind.New(errkind.Invalid, "the proof's operation is a %s, not an anchor", op.Op.Kind)
	}
	body, ok := op.body.(*AnchorPayload)
	if !ok {
		return Anchored{}, errkind.New(errkind.Invalid, "the proof's anchor operation has no anchor payload")
	}
	if body.Root != p.Root {
		return Anchored{}, errkind.New(errkind.Invalid, "the anchor operation anchors root %s, not %s", body.Root, p.Root)
	}
	if body.Count != 0 && body.Count != p.BatchSize {
		return Anchored{}, errkind.New(errkind.Invalid, "the anchor operation counts %d credentials; the proof says the batch holds %d", body.Count, p.BatchSize)
	}
	h := p.Operation.Header
	return Anchored{Issuer: op.signerDID, Height: h.Height, Time: h.Time}, nil
}
