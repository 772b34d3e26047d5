package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"math/bits"
)

// The Merkle tree over the operation hashes of a block follows RFC 6962
// (Certificate Transparency) §2.1: leaf = SHA-256(0x00 || hash bytes),
// node = SHA-256(0x01 || left || right), the left subtree holding the
// largest power of two of leaves below the size.

// MerkleRoot returns the hex Merkle root of opHashes (hex); the root of
// no operations is the SHA-256 of nothing.
func MerkleRoot(opHashes []string) string {
	if len(opHashes) == 0 {
		sum := sha256.Sum256(nil)
		return hex.EncodeToString(sum[:])
	}
	r := merkleRoot(leaves(opHashes))
	return hex.EncodeToString(r[:])
}

// MerklePath returns the audit path of leaf i in the tree of opHashes,
// from the leaf up (RFC 6962 §2.1.1), or nil if i is out of range.
func MerklePath(opHashes []string, i int) []string {
	if i < 0 || i >= len(opHashes) {
		return nil
	}
	var out []string
	for _, h := range merklePath(leaves(opHashes), i) {
		out = append(out, hex.EncodeToString(h[:]))
	}
	return out
}

func leaves(opHashes []string) [][32]byte {
	out := make([][32]byte, len(opHashes))
	buf := make([]byte, 0, 1+sha256.Size)
	for i, h := range opHashes {
		buf = append(append(buf[:0], 0), hashBytes(h)...)
		out[i] = sha256.Sum256(buf)
	}
	return out
}

func node(l, r [32]byte) [32]byte {
	var buf [1 + 2*sha256.Size]byte
	buf[0] = 1
	copy(buf[1:], l[:])
	copy(buf[1+sha256.Size:], r[:])
	return sha256.Sum256(buf[:])
}

// split returns the largest power of two smaller than n (n >= 2).
func split(n int) int {
	return 1 << (bits.Len(uint(n-1)) - 1)
}

func merkleRoot(ls [][32]byte) [32]byte {
	if len(ls) == 1 {
		return ls[0]
	}
	k := split(len(ls))
	return node(merkleRoot(ls[:k]), merkleRoot(ls[k:]))
}

func merklePath(ls [][32]byte, m int) [][32]byte {
	if len(ls) <= 1 {
		return nil
	}
	k := split(len(ls))
	if m < k {
		return append(merklePath(ls[:k], m), merkleRoot(ls[k:]))
	}
	return append(merklePath(ls[k:], m-k), merkleRoot(ls[:k]))
}

// verifyPath reports whether path proves leaf (hex op hash) at index i in
// a tree of size n with the given hex root (RFC 9162 §2.1.3.2).
func verifyPath(leaf string, i, n int, path []string, root string) bool {
	if i < 0 || i >= n {
		return false
	}
	r := leaves([]string{leaf})[0]
	fn, sn := uint64(i), uint64(n-1)
	for _, ph := range path {
		if !isHash(ph) || sn == 0 {
			return false
		}
		var p [32]byte
		copy(p[:], hashBytes(ph))
		if fn&1 == 1 || fn == sn {
			r = node(p, r)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = node(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	return sn == 0 && hex.EncodeToString(r[:]) == root
}
