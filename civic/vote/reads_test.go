package vote

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestCastReads: a ballot names the keys applyCast reads (its election,
// the count, its nullifier); a payload that does not decode names none.
func TestCastReads(t *testing.T) {
	tok := make([]byte, 64)
	tok[0] = 7
	p, err := json.Marshal(NewCast("poll-1", tok, make([]byte, 256), "yes"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"vote/e/poll-1", "vote/c/poll-1", "vote/n/poll-1/" + Nullifier(tok)}
	if got := castReads(p); !slices.Equal(got, want) {
		t.Errorf("castReads = %v; want %v", got, want)
	}
	for _, bad := range []string{`{}`, `{"election":"poll-1","token":"AAAA","signature":"","choice":"yes"}`, `nope`} {
		if got := castReads(json.RawMessage(bad)); len(got) != 0 {
			t.Errorf("castReads(%s) = %v; want none", bad, got)
		}
	}
}
