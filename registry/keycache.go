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

// staticKeys memoises the keys of did:key and did:jwk signers, by key
// DID URL and relationships: resolving such a DID (decoding and
// validating its point) is a pure function of its name, and a ballot's
// one-off did:key is resolved at submission and again in the block.
// Only keys found are kept; a refusal is computed again each time.
// staticKeysSize bounds staticKeys: enough for the signers of the
// operations between submission and their block.
const staticKeysSize = 1 << 14

var staticKeys = struct {
	sync.Mutex
	m map[string]crypto.PublicKey
}{m: make(map[string]crypto.PublicKey)}

func staticKeyID(kid string, rels []did.Relationship) string {
	id := kid
	for _, r := range rels {
		id += "\x00" + string(r)
	}
	return id
}

func cachedStaticKey(id string) (crypto.PublicKey, bool) {
	staticKeys.Lock()
	defer staticKeys.Unlock()
	pub, ok := staticKeys.m[id]
	return pub, ok
}

func rememberStaticKey(id string, pub crypto.PublicKey) {
	staticKeys.Lock()
	defer staticKeys.Unlock()
	if len(staticKeys.m) >= staticKeysSize {
		clear(staticKeys.m)
	}
	staticKeys.m[id] = pub
}
