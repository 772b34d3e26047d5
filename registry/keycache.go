package registry

import (
	"crypto"
	"sync"

	"github.com/urbis-id/urbis/did"
)

// keyCacheSize bounds the decoded Multikey keys kept in memory.
const keyCacheSize = 1 << 16

// keyCache memoises did.DecodeMultikey, whose point decompression costs
// more than the rest of applying a did.update: a document's keys are
// decoded when it is checked and again when it authorises the next
// operation. Decoding is a pure function, so the cache cannot change a
// verdict.
var keyCache = struct {
	sync.Mutex
	m map[string]crypto.PublicKey
}{m: make(map[string]crypto.PublicKey)}

// decodeKey is did.DecodeMultikey with a cache.
func decodeKey(mk string) (crypto.PublicKey, error) {
	keyCache.Lock()
	pub, ok := keyCache.m[mk]
	keyCache.Unlock()
	if ok {
		return pub, nil
	}
	pub, err := did.DecodeMultikey(mk)
	if err != nil {
		return nil, err
	}
	keyCache.Lock()
	if len(keyCache.m) >= keyCacheSize {
		clear(keyCache.m)
	}
	keyCache.m[mk] = pub
	keyCache.Unlock()
	return pub, nil
}
