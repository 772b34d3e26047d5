package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"
)

func h256(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// refRoot is RFC 6962's MTH written from the definition.
func refRoot(d [][]byte) []byte {
	switch n := len(d); n {
	case 0:
		return h256()
	case 1:
		return h256([]byte{0}, d[0])
	default:
		k := 1
		for k*2 < n {
			k *= 2
		}
		return h256([]byte{1}, refRoot(d[:k]), refRoot(d[k:]))
	}
}

func opHashList(n int) ([]string, [][]byte) {
	var hs []string
	var raw [][]byte
	for i := range n {
		b := h256([]byte(fmt.Sprint("op", i)))
		hs = append(hs, hex.EncodeToString(b))
		raw = append(raw, b)
	}
	return hs, raw
}

func TestMerkleRoot(t *testing.T) {
	for n := 0; n <= 9; n++ {
		t.Run(fmt.Sprint(n, " leaves"), func(t *testing.T) {
			hs, raw := opHashList(n)
			if got, want := MerkleRoot(hs), hex.EncodeToString(refRoot(raw)); got != want {
				t.Errorf("got %s; want %s", got, want)
			}
		})
	}
	t.Run("3 leaves by hand", func(t *testing.T) {
		hs, raw := opHashList(3)
		l := func(i int) []byte { return h256([]byte{0}, raw[i]) }
		want := h256([]byte{1}, h256([]byte{1}, l(0), l(1)), l(2))
		if got := MerkleRoot(hs); got != hex.EncodeToString(want) {
			t.Errorf("got %s; want %x", got, want)
		}
	})
	t.Run("empty is the hash of nothing", func(t *testing.T) {
		if got := MerkleRoot(nil); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
			t.Errorf("got %s; want the SHA-256 of nothing", got)
		}
	})
}

func TestMerklePath(t *testing.T) {
	for n := 1; n <= 9; n++ {
		hs, _ := opHashList(n)
		root := MerkleRoot(hs)
		for i := range n {
			t.Run(fmt.Sprintf("leaf %d of %d", i, n), func(t *testing.T) {
				path := MerklePath(hs, i)
				if !verifyPath(hs[i], i, n, path, root) {
					t.Fatalf("got a path %v that does not verify; want one that does", path)
				}
				if n > 1 && verifyPath(hs[(i+1)%n], i, n, path, root) {
					t.Errorf("got a path that also proves another leaf; want it refused")
				}
				if n > 1 && verifyPath(hs[i], (i+1)%n, n, path, root) {
					t.Errorf("got a path that also proves index %d; want it refused", (i+1)%n)
				}
				if len(path) > 0 {
					bad := slices.Clone(path)
					bad[0] = hs[i]
					if verifyPath(hs[i], i, n, bad, root) {
						t.Errorf("got a tampered path verifying; want it refused")
					}
					if verifyPath(hs[i], i, n, path[:len(path)-1], root) {
						t.Errorf("got a shortened path verifying; want it refused")
					}
				}
				if verifyPath(hs[i], i, n, append(slices.Clone(path), hs[0]), root) {
					t.Errorf("got a lengthened path verifying; want it refused")
				}
			})
		}
	}
	t.Run("out of range", func(t *testing.T) {
		hs, _ := opHashList(3)
		if p := MerklePath(hs, 3); p != nil {
			t.Errorf("got %v; want nil", p)
		}
	})
}
