// Package registry will hold the registry chain: operations, blocks,
// Merkle proofs, the deterministic state machine and its engines. It is
// empty until the registry work (issue 3) lands; the directory exists so
// the layout and the layering test cover it from the start.
package registry
