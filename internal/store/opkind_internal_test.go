package store

import (
	"crypto/ed25519"
	"encoding/base64"
	"testing"

	"github.com/urbis-id/urbis/registry"
)

func TestOpKind(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	op, err := registry.NewOperation("urbis-test", registry.KindAnchor, "did:key:z6Mk#z6Mk", 1, registry.AnchorPayload{Root: "ab"})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := registry.Sign(op, key)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		name, jws string
		want      registry.Kind
	}{
		{"signed operation", signed.JWS, registry.KindAnchor},
		{"kind first (not canonical)", "e30." + b64([]byte(`{"kind":"did.create","chain":"c"}`)) + ".sig", registry.KindDIDCreate},
		{"chain with a quoted marker", "e30." + b64([]byte(`{"chain":"x\",\"kind\":\"fake","kind":"anchor"}`)) + ".sig", registry.KindAnchor},
		{"not base64", "e30.***.sig", ""},
		{"not JSON", "e30." + b64([]byte("nope")) + ".sig", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := opKind(tt.jws); got != tt.want {
				t.Errorf("opKind = %q; want %q", got, tt.want)
			}
		})
	}
}
