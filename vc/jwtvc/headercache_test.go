package jwtvc

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestHeaderCache checks that a header decoded once is answered from
// the cache unchanged, that one that does not decode is never kept, and
// that the cache stays within its bound.
func TestHeaderCache(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	head := enc(`{"alg":"EdDSA","kid":"did:example:cache#k","typ":"JWT","crit":["x"]}`)
	want := jwsHeader{Alg: "EdDSA", Kid: "did:example:cache#k", Typ: "JWT", Crit: []string{"x"}}
	for i := range 2 {
		h, payload, err := protectedHeader(head+".cGF5.c2ln", "test")
		if err != nil || !reflect.DeepEqual(h, want) || payload != "cGF5" {
			t.Fatalf("call %d: %+v, %q, %v; want %+v, %q", i, h, payload, err, want, "cGF5")
		}
		if _, ok := headers.get(head); !ok {
			t.Fatalf("call %d: the header is not cached", i)
		}
	}

	bad := enc(`{"alg":1}`)
	for i := range 2 {
		if _, _, err := protectedHeader(bad+".e30.c2ln", "test"); err == nil || !strings.Contains(err.Error(), "protected header") {
			t.Fatalf("call %d: err = %v; want the header refused", i, err)
		}
	}
	if _, ok := headers.get(bad); ok {
		t.Error("a header that does not decode was cached")
	}

	for i := range 3 * maxCachedHeaders {
		if _, _, err := protectedHeader(enc(fmt.Sprintf(`{"alg":"EdDSA","kid":"k%d"}`, i))+".e30.c2ln", "test"); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	headers.m.Range(func(any, any) bool { n++; return true })
	if n > maxCachedHeaders {
		t.Errorf("%d headers cached; want at most %d", n, maxCachedHeaders)
	}
}
