package registry

import (
	"bytes"
	"reflect"
	"testing"
)

// canonSamples are JSON texts, canonical or not, for the fast paths.
var canonSamples = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1.5e10`, `-12.25E-3`, `"a"`, `""`,
	`{"a":1,"b":[1,2,{"c":null}]}`, `{"b":1,"a":2}`, `{"a":1,"a":2}`, `{"a":1 }`, ` {}`, `{} `,
	`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`, `{"a":+1}`, `{"a":tru}`, `[1,]`, `{"a":1,}`,
	`{"a":"x<y"}`, `{"a":"x&y"}`, `{"a":"\u0041"}`, `{"a":"\n"}`, `{"a":"é"}`, "{\"a\":\"\u2028\"}",
	"{\"a\":\"\xff\"}", "{\"a\":\"\x7f\"}", `{"A":1,"a":2}`, `{"a":1,"A":2}`, `{"":1}`, `[[[[]]]]`,
	`{"document":{"capabilityInvocation":["#k"],"verificationMethod":[{"id":"#k","publicKeyMultibase":"z6Mk","type":"Multikey"}]}}`,
	`{"a":1}{"b":2}`, `{"a":[1,2]`, `"abc`, `{"a"1}`, `1 2`, `12345678901234567890123`,
}

func TestIsCanonicalJSON(t *testing.T) {
	for _, s := range canonSamples {
		t.Run(s, func(t *testing.T) {
			slow, err := canonicalJSON([]byte(s))
			want := err == nil && bytes.Equal(slow, []byte(s))
			got := isCanonicalJSON([]byte(s))
			// The fast check may say no to a canonical text, never yes
			// to a text that is not.
			if got && !want {
				t.Errorf("isCanonicalJSON = true; canonicalJSON gives %q, %v", slow, err)
			}
		})
	}
	for _, s := range []string{`{"a":1,"b":[1,2,{"c":null}]}`, `[[[[]]]]`, `{"a":"é"}`, `-12.25E-3`, `{"":1}`} {
		if !isCanonicalJSON([]byte(s)) {
			t.Errorf("isCanonicalJSON(%s) = false; want true", s)
		}
	}
}

func TestFastOperationAgreesWithDecode(t *testing.T) {
	kid := "did:key:zabc#zabc"
	tests := []string{
		`{"chain":"test-chain","kind":"anchor","signer":"` + kid + `","nonce":1,"payload":{"root":"00"}}`,
		`{"chain":"test-chain","kind":"anchor","signer":"` + kid + `","nonce":0,"payload":{}}`,
		`{"chain":"test-chain","kind":"anchor","signer":"` + kid + `","nonce":18446744073709551615,"payload":{"a":[1]}}`,
		`{"chain":"test-chain","kind":"anchor","signer":"` + kid + `","nonce":18446744073709551616,"payload":{}}`,
		`{"chain":"test-chain","kind":"anchor","signer":"` + kid + `","nonce":01,"payload":{}}`,
		`{"chain":"test-chain","kind":"anchor","signer":"` + kid + `","nonce":1,"payload":null}`,
		`{"chain":"test-chain","kind":"anchor","signer":"` + kid + `","nonce":1,"payload":{"b":1,"a":2}}`,
		`{"chain":"test-chain","kind":"anchor","signer":"` + kid + `","nonce":1,"payload":{} }`,
		`{"chain":"test-chain","kind":"anchor","signer":"` + kid + `","nonce":1,"payload":{}}}`,
		`{"chain":"t<c","kind":"anchor","signer":"` + kid + `","nonce":1,"payload":{}}`,
		`{"chain":"t\u003cc","kind":"anchor","signer":"` + kid + `","nonce":1,"payload":{}}`,
		`{"chain":"tést","kind":"anchor","signer":"` + kid + `","nonce":1,"payload":{}}`,
		`{"Chain":"test-chain","kind":"anchor","signer":"` + kid + `","nonce":1,"payload":{}}`,
		`{"chain":"test-chain","kind":"anchor","signer":"` + kid + `","nonce":1,"payload":{},"x":1}`,
		`{"chain":"test-chain","kind":"anchor","signer":"` + kid + `","nonce":-1,"payload":{}}`,
	}
	for _, s := range tests {
		t.Run(s, func(t *testing.T) {
			checkFastOperation(t, []byte(s))
		})
	}
}

func checkFastOperation(t *testing.T, b []byte) {
	t.Helper()
	got, ok := fastOperation(b)
	if !ok {
		return
	}
	want, err := decodeOperation(b)
	if err != nil {
		t.Fatalf("fastOperation accepted what decodeOperation refuses: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fastOperation = %+v; want %+v", got, want)
	}
}

func TestFastHeaderAgreesWithDecode(t *testing.T) {
	tests := []string{
		`{"alg":"EdDSA","kid":"did:key:z#z","typ":"urbis-op+jws"}`,
		`{"alg":"EdDSA","kid":"did:key:z#z","typ":"urbis-op+jws"} `,
		`{"alg":"EdDSA","kid":"did:key:z#z","typ":"urbis-op+jws","x":1}`,
		`{"alg":"EdDSA","kid":"did:key:z\u0023z","typ":"urbis-op+jws"}`,
		`{"kid":"did:key:z#z","alg":"EdDSA","typ":"urbis-op+jws"}`,
	}
	for _, s := range tests {
		t.Run(s, func(t *testing.T) {
			got, ok := fastHeader([]byte(s))
			if !ok {
				return
			}
			var want protectedHeader
			if err := decodeStrict([]byte(s), &want); err != nil {
				t.Fatalf("fastHeader accepted what decodeStrict refuses: %v", err)
			}
			if got != want {
				t.Errorf("fastHeader = %+v; want %+v", got, want)
			}
		})
	}
	if _, ok := fastHeader([]byte(tests[0])); !ok {
		t.Errorf("fastHeader(%s) = false; want true", tests[0])
	}
}

func FuzzFastPaths(f *testing.F) {
	for _, s := range canonSamples {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"chain":"test-chain","kind":"anchor","signer":"did:key:zabc#zabc","nonce":1,"payload":{"root":"00"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if isCanonicalJSON(b) {
			if c, err := canonicalJSON(b); err != nil || !bytes.Equal(c, b) {
				t.Errorf("isCanonicalJSON(%q) = true; canonicalJSON gives %q, %v", b, c, err)
			}
		}
		checkFastOperation(t, b)
		if h, ok := fastHeader(b); ok {
			var want protectedHeader
			if err := decodeStrict(b, &want); err != nil || h != want {
				t.Errorf("fastHeader(%q) = %+v; decodeStrict gives %+v, %v", b, h, want, err)
			}
		}
	})
}

func TestSignedOperationsTakeTheFastPaths(t *testing.T) {
	spec := DocumentSpec{
		VerificationMethod:   []MethodSpec{{ID: "#key-1", Type: "Multikey", PublicKeyMultibase: "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}},
		Authentication:       []string{"#key-1"},
		CapabilityInvocation: []string{"#key-1"},
		Service:              []ServiceSpec{{ID: "#home", Type: "LinkedDomains", ServiceEndpoint: "https://example.org/1"}},
	}
	s := signed(t, KindDIDUpdate, "did:urbis:zabc#key-1", 2, DIDUpdate{DID: "did:urbis:zabc", PreviousVersion: 1, Document: spec}, seedKey("alice"))
	parts := bytes.Split([]byte(s.JWS), []byte("."))
	hb, _ := b64(string(parts[0]), "")
	if _, ok := fastHeader(hb); !ok {
		t.Errorf("fastHeader(%s) = false; want true", hb)
	}
	pb, _ := b64(string(parts[1]), "")
	if _, ok := fastOperation(pb); !ok {
		t.Errorf("fastOperation(%s) = false; want true", pb)
	}
	checkFastOperation(t, pb)
}
