package vc

import "testing"

func TestPointerEscapes(t *testing.T) {
	got := pointer("/credential", "credentialSubject", 0, "a~b/c", "plain")
	if want := "/credential/credentialSubject/0/a~0b~1c/plain"; got != want {
		t.Fatalf("pointer = %q; want %q", got, want)
	}
}
