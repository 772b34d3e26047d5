package statuslist

import "sync"

// decodedEntries bounds a Decoder; on overflow it starts over.
const decodedEntries = 64

// Decoder checks entries against list credentials as Check does, and
// remembers the bitstrings of the last encodedList values it decoded, so
// that checking many credentials against one list decompresses it once.
// The zero Decoder is ready to use and safe for concurrent use.
type Decoder struct {
	mu sync.Mutex
	m  map[string]*Bitstring // by encodedList; never modified once stored
}

// Check is Check with d's memory of decoded lists.
func (d *Decoder) Check(entry, listCredential map[string]any) (set bool, err error) {
	return check(entry, listCredential, d.decode)
}

// decode is Decode, remembered.
func (d *Decoder) decode(s string) (*Bitstring, error) {
	d.mu.Lock()
	b, ok := d.m[s]
	d.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := Decode(s)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if d.m == nil || len(d.m) >= decodedEntries {
		d.m = make(map[string]*Bitstring)
	}
	d.m[s] = b
	d.mu.Unlock()
	return b, nil
}
