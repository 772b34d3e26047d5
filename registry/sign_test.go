package registry

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
)

// rawJWS builds a compact JWS by hand, signed with Ed25519.
func rawJWS(header string, payload []byte, k ed25519.PrivateKey) string {
	input := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString(payload)
	return input + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(k, []byte(input)))
}

// opaque hides the concrete type of a key, as key custody does.
type opaque struct{ s crypto.Signer }

func (o opaque) Public() crypto.PublicKey { return o.s.Public() }
func (o opaque) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return o.s.Sign(r, digest, opts)
}

func TestSignParseRoundTrip(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ed := seedKey("alice")
	tests := []struct {
		name string
		sign func(Operation) (SignedOp, error)
		pub  any
		alg  string
	}{
		{"Ed25519", func(op Operation) (SignedOp, error) { return Sign(op, ed) }, ed.Public(), AlgEdDSA},
		{"P-256", func(op Operation) (SignedOp, error) { return Sign(op, ec) }, ec.Public(), AlgES256},
		// A signer whose key jwx cannot see, as a kms.Signer.
		{"opaque Ed25519", func(op Operation) (SignedOp, error) { return Sign(op, opaque{ed}) }, ed.Public(), AlgEdDSA},
		{"opaque P-256", func(op Operation) (SignedOp, error) { return Sign(op, opaque{ec}) }, ec.Public(), AlgES256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, err := NewOperation(testChain, KindAnchor, "did:key:zabc#zabc", 7, AnchorPayload{Root: strings.Repeat("ab", 32), Count: 3})
			if err != nil {
				t.Fatal(err)
			}
			s, err := tt.sign(op)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			sum := sha256.Sum256([]byte(s.JWS))
			if s.Hash != hex.EncodeToString(sum[:]) {
				t.Errorf("got hash %s; want the SHA-256 of the JWS", s.Hash)
			}
			hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(s.JWS, ".")[0])
			var h map[string]any
			json.Unmarshal(hdr, &h)
			if h["alg"] != tt.alg || h["kid"] != op.Signer || h["typ"] != OperationType {
				t.Errorf("got header %s; want alg %s, kid %s, typ %s", hdr, tt.alg, op.Signer, OperationType)
			}
			p, err := parse(s.JWS)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if string(p.Op.Payload) != string(op.Payload) || p.Op.Nonce != 7 {
				t.Errorf("got operation %+v; want %+v", p.Op, op)
			}
			for _, zip215 := range []bool{false, true} {
				if err := p.verify(tt.pub, zip215); err != nil {
					t.Errorf("verify (ZIP 215 %v): %v", zip215, err)
				}
			}
		})
	}
}

func TestParseSignedRefuses(t *testing.T) {
	k := seedKey("alice")
	kid := "did:key:zabc#zabc"
	good := func() Operation {
		op, err := NewOperation(testChain, KindAnchor, kid, 1, AnchorPayload{Root: strings.Repeat("0", 64)})
		if err != nil {
			t.Fatal(err)
		}
		return op
	}
	canon := func(op Operation) []byte {
		b, err := Canonical(op)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	hdr := `{"alg":"EdDSA","kid":"` + kid + `","typ":"urbis-op+jws"}`
	unknownKind := good()
	unknownKind.Kind = "did.teleport"
	extraPayloadField := good()
	extraPayloadField.Payload = json.RawMessage(`{"extra":1,"root":"` + strings.Repeat("0", 64) + `"}`)
	noFragment := good()
	noFragment.Signer = "did:key:zabc"
	arrayPayload := good()
	arrayPayload.Payload = json.RawMessage(`[1]`)
	tests := []struct {
		name    string
		compact string
		kind    errkind.Kind
		want    string
	}{
		{"oversize", strings.Repeat("a", MaxOperationSize+1), errkind.TooLarge, "limit is 65536"},
		{"two parts", "abc.def", errkind.Invalid, "three base64url parts"},
		{"padded base64", rawJWS(hdr, canon(good()), k) + "=", errkind.Invalid, "base64url"},
		{"wrong kid", rawJWS(`{"alg":"EdDSA","kid":"did:key:zother#zother","typ":"urbis-op+jws"}`, canon(good()), k), errkind.Invalid, "differs from the operation's signer"},
		{"no kid", rawJWS(`{"alg":"EdDSA","typ":"urbis-op+jws"}`, canon(good()), k), errkind.Invalid, "no kid"},
		{"alg none", rawJWS(`{"alg":"none","kid":"`+kid+`","typ":"urbis-op+jws"}`, canon(good()), k), errkind.Invalid, `alg "none"`},
		{"alg HS256", rawJWS(`{"alg":"HS256","kid":"`+kid+`","typ":"urbis-op+jws"}`, canon(good()), k), errkind.Invalid, `alg "HS256"`},
		{"wrong typ", rawJWS(`{"alg":"EdDSA","kid":"`+kid+`","typ":"JWT"}`, canon(good()), k), errkind.Invalid, `typ "JWT"`},
		{"extra header", rawJWS(`{"alg":"EdDSA","b64":false,"kid":"`+kid+`","typ":"urbis-op+jws"}`, canon(good()), k), errkind.Invalid, "alg, kid and typ only"},
		{"payload with whitespace", rawJWS(hdr, append(canon(good()), ' '), k), errkind.Invalid, "not in canonical form"},
		{"reordered payload", rawJWS(hdr, []byte(`{"kind":"anchor","chain":"test-chain","signer":"`+kid+`","nonce":1,"payload":{"root":"`+strings.Repeat("0", 64)+`"}}`), k), errkind.Invalid, "not in canonical form"},
		{"unsorted inner payload", rawJWS(hdr, []byte(`{"chain":"test-chain","kind":"anchor","signer":"`+kid+`","nonce":1,"payload":{"root":"`+strings.Repeat("0", 64)+`","count":0}}`), k), errkind.Invalid, "not in canonical form"},
		{"unknown operation field", rawJWS(hdr, []byte(`{"chain":"test-chain","kind":"anchor","signer":"`+kid+`","nonce":1,"payload":{},"x":1}`), k), errkind.Invalid, `unknown field "x"`},
		{"unknown kind", rawJWS(hdr, canon(unknownKind), k), errkind.Invalid, `unknown operation kind "did.teleport"`},
		{"unknown payload field", rawJWS(hdr, canon(extraPayloadField), k), errkind.Invalid, `unknown field "extra"`},
		{"payload not an object", rawJWS(hdr, canon(arrayPayload), k), errkind.Invalid, "JSON object"},
		{"signer without fragment", rawJWS(`{"alg":"EdDSA","kid":"did:key:zabc","typ":"urbis-op+jws"}`, canon(noFragment), k), errkind.Invalid, "naming a key by fragment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSigned(tt.compact)
			wantErr(t, err, tt.kind, tt.want)
		})
	}
	t.Run("unsupported key", func(t *testing.T) {
		p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		_, err := Sign(good(), p384)
		wantErr(t, err, errkind.Unsupported, "use Ed25519 or P-256")
	})
	t.Run("good one parses", func(t *testing.T) {
		if _, err := ParseSigned(rawJWS(hdr, canon(good()), k)); err != nil {
			t.Errorf("got %v; want no error", err)
		}
	})
}

func TestVerifyRefuses(t *testing.T) {
	k, other := seedKey("alice"), seedKey("bob")
	s := signed(t, KindAnchor, "did:key:zabc#zabc", 1, AnchorPayload{Root: strings.Repeat("0", 64)}, k)
	parts := strings.Split(s.JWS, ".")
	tamperedOp := s.Op
	tamperedOp.Nonce = 2
	tp, _ := Canonical(tamperedOp)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(tp) + "." + parts[2]
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tests := []struct {
		name    string
		compact string
		pub     any
		want    string
	}{
		{"tampered payload", tampered, k.Public(), "does not verify"},
		{"other key", s.JWS, other.Public(), "does not verify"},
		{"key of another algorithm", s.JWS, ec.Public(), "cannot verify a EdDSA signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parse(tt.compact)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			for _, zip215 := range []bool{false, true} {
				wantErr(t, p.verify(tt.pub, zip215), errkind.Forbidden, tt.want)
			}
		})
	}
}

func TestNewOperationRefusesUnknownKind(t *testing.T) {
	// A kind in a core namespace that the core lacks, and names no
	// program may take; any other well-formed name may be a program's.
	for _, kind := range []Kind{"did.teleport", "anchor.batch", "Nope", "nope!", "nope.", ""} {
		_, err := NewOperation(testChain, kind, "did:key:z#z", 1, struct{}{})
		wantErr(t, err, errkind.Invalid, fmt.Sprintf("unknown operation kind %q", kind))
	}
	if _, err := NewOperation(testChain, "vote.cast", "did:key:z#z", 1, struct{}{}); err != nil {
		t.Errorf("program kind vote.cast: got %v; want no error", err)
	}
}
