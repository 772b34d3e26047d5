package issuer

import (
	"crypto"
	"sync"
	"time"
)

// Cache bounds and lifetimes. A cached signer is used for at most
// SignerTTL after it was read: a DID rotated or deactivated through
// another path than this Service (which forgets its entry at once, see
// ForgetDID) stops issuing with its old key within SignerTTL. Instance
// lookups are cached for InstanceTTL.
const (
	SignerTTL     = 5 * time.Second
	InstanceTTL   = 5 * time.Second
	cacheCapacity = 1024
)

// cachedSigner is a signer of a DID with the verification method of its key.
type cachedSigner struct {
	signer crypto.Signer
	vm     string
	keyID  string
}

// parsedListEntries bounds parsedLists; on overflow it starts over.
const parsedListEntries = 256

// parsedLists remembers the decoded JSON of signed status list
// credentials, so that serving a list to the verifier does not decode it
// on every request. The maps are shared: nobody may change them.
type parsedLists struct {
	mu sync.Mutex
	m  map[string]map[string]any
}

func (p *parsedLists) get(key string) (map[string]any, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m, ok := p.m[key]
	return m, ok
}

func (p *parsedLists) put(key string, m map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil || len(p.m) >= parsedListEntries {
		p.m = make(map[string]map[string]any)
	}
	p.m[key] = m
}
