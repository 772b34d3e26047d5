package registry

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/edsig"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/kms"
)

// MaxOperationSize is the largest signed operation (compact JWS) accepted.
const MaxOperationSize = 64 << 10

// OperationType is the JWS typ header of a signed operation.
const OperationType = "urbis-op+jws"

// The JWS algorithms an operation may be signed with.
const (
	AlgEdDSA = "EdDSA" // Ed25519
	AlgES256 = "ES256" // ECDSA P-256 with SHA-256
)

// kinds lists the operation kinds in a fixed order.
var kinds = []Kind{KindDIDCreate, KindDIDUpdate, KindDIDDeactivate, KindTrustAccredit,
	KindTrustSuspend, KindTrustReinstate, KindTrustRevoke, KindSchemaRegister, KindAnchor, KindStatusUpdate}

// newBody returns a pointer to the payload struct of kind k, or nil.
func newBody(k Kind) any {
	switch k {
	case KindDIDCreate:
		return new(DIDCreate)
	case KindDIDUpdate:
		return new(DIDUpdate)
	case KindDIDDeactivate:
		return new(DIDDeactivate)
	case KindTrustAccredit:
		return new(TrustAccredit)
	case KindTrustSuspend, KindTrustReinstate, KindTrustRevoke:
		return new(TrustChange)
	case KindSchemaRegister:
		return new(SchemaRegister)
	case KindAnchor:
		return new(AnchorPayload)
	case KindStatusUpdate:
		return new(StatusUpdatePayload)
	}
	return nil
}

func unknownKind(k Kind) error {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return errkind.Field(errkind.Invalid, "kind", "unknown operation kind %q; want one of %s", k, strings.Join(names, ", "))
}

// NewOperation returns the operation of kind made by signer (a DID URL
// naming the signing key) with the given nonce; payload is encoded with
// encoding/json and put in canonical form.
func NewOperation(chain string, kind Kind, signer string, nonce uint64, payload any) (Operation, error) {
	if newBody(kind) == nil && !validKindName(string(kind)) {
		return Operation{}, unknownKind(kind)
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return Operation{}, errkind.Wrap(errkind.Invalid, err, "encode %s payload", kind)
	}
	if b, err = canonicalJSON(b); err != nil {
		return Operation{}, err
	}
	return Operation{Chain: chain, Kind: kind, Signer: signer, Nonce: nonce, Payload: b}, nil
}

// Sign signs op with s, an Ed25519 or P-256 key (a kms.Signer, an
// ed25519.PrivateKey, an *ecdsa.PrivateKey...), as a compact JWS whose
// payload is Canonical(op) and whose protected header holds alg (EdDSA
// or ES256), kid = op.Signer and typ = "urbis-op+jws". The result is
// checked as ParseSigned checks a submission.
func Sign(op Operation, s crypto.Signer) (SignedOp, error) {
	alg, err := algFor(s.Public())
	if err != nil {
		return SignedOp{}, err
	}
	payload, err := Canonical(op)
	if err != nil {
		return SignedOp{}, err
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.KeyIDKey, op.Signer); err != nil {
		return SignedOp{}, errkind.Wrap(errkind.Internal, err, "set kid")
	}
	if err := hdr.Set(jws.TypeKey, OperationType); err != nil {
		return SignedOp{}, errkind.Wrap(errkind.Internal, err, "set typ")
	}
	compact, err := jws.Sign(payload, jws.WithKey(jwa.SignatureAlgorithm(alg), s, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return SignedOp{}, errkind.Wrap(errkind.Internal, err, "sign operation")
	}
	return ParseSigned(string(compact))
}

// algFor returns the JWS algorithm for signatures by the key pub.
func algFor(pub crypto.PublicKey) (string, error) { return kms.AlgorithmOf(pub) }

// parsed is a signed operation taken apart: what ParseSigned checked,
// kept for the state machine.
type parsed struct {
	SignedOp
	alg       string
	signerDID string // op.Signer without its fragment
	body      any    // pointer to the kind's payload struct
	sig       []byte // the JWS signature
	// checked is set when the payload passed its kind's Check at
	// submission: Check is a pure function of the payload, so the
	// sequencer need not run it again.
	checked bool
	// reads are the program state keys the kind's Reads names, once
	// readsKnown (computed ahead, on any core: see precheckProgram).
	reads      []string
	readsKnown bool
}

// ParseSigned parses a submitted operation: a compact JWS of at most
// MaxOperationSize bytes, with a protected header of alg EdDSA or ES256,
// typ urbis-op+jws and kid equal to the operation's signer, and a
// payload that is a canonical Operation of a known kind whose payload
// decodes strictly into that kind's struct. It does not verify the
// signature: the key comes from chain state. Errors are of kind Invalid
// (TooLarge for an oversize operation) and say what is wrong.
func ParseSigned(compact string) (SignedOp, error) {
	p, err := parse(compact)
	if err != nil {
		return SignedOp{}, err
	}
	return p.SignedOp, nil
}

type protectedHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

func parse(compact string) (*parsed, error) {
	if len(compact) > MaxOperationSize {
		return nil, errkind.New(errkind.TooLarge, "signed operation is %d bytes; the limit is %d", len(compact), MaxOperationSize)
	}
	parts := strings.Split(compact, ".")
	if len(parts) != 3 {
		return nil, errkind.New(errkind.Invalid, "signed operation is not a compact JWS: want three base64url parts separated by \".\", got %d", len(parts))
	}
	hb, err := b64(parts[0], "protected header")
	if err != nil {
		return nil, err
	}
	hdr, ok := fastHeader(hb)
	if !ok {
		if err := decodeStrict(hb, &hdr); err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "JWS protected header must be a JSON object with alg, kid and typ only")
		}
	}
	if hdr.Alg != AlgEdDSA && hdr.Alg != AlgES256 {
		return nil, errkind.New(errkind.Invalid, "JWS alg %q is not accepted; want EdDSA or ES256", hdr.Alg)
	}
	if hdr.Typ != OperationType {
		return nil, errkind.New(errkind.Invalid, "JWS typ %q; want %q", hdr.Typ, OperationType)
	}
	if hdr.Kid == "" {
		return nil, errkind.New(errkind.Invalid, "JWS header has no kid; it must name the signing key as a DID URL")
	}
	sig, err := b64(parts[2], "signature")
	if err != nil {
		return nil, err
	}
	payload, err := b64(parts[1], "payload")
	if err != nil {
		return nil, err
	}
	op, ok := fastOperation(payload)
	if !ok {
		if op, err = decodeOperation(payload); err != nil {
			return nil, err
		}
	}
	if hdr.Kid != op.Signer {
		return nil, errkind.New(errkind.Invalid, "JWS kid %q differs from the operation's signer %q; they must be equal", hdr.Kid, op.Signer)
	}
	signerDID, err := signerOf(op.Signer)
	if err != nil {
		return nil, err
	}
	body := newBody(op.Kind)
	switch {
	case body != nil:
		if err := decodeBody(op.Payload, body); err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "%s payload", op.Kind)
		}
	case !validKindName(string(op.Kind)):
		return nil, unknownKind(op.Kind)
	}
	// A kind that is not a core kind may be a program's: the machine
	// that applies it decides (Machine.Check).
	sum := sha256.Sum256([]byte(compact))
	return &parsed{
		SignedOp:  SignedOp{JWS: compact, Hash: hex.EncodeToString(sum[:]), Op: op},
		alg:       hdr.Alg,
		signerDID: signerDID,
		body:      body,
		sig:       sig,
	}, nil
}

// decodeOperation decodes a JWS payload strictly into an Operation and
// checks that it is in canonical form.
func decodeOperation(payload []byte) (Operation, error) {
	var op Operation
	if err := decodeStrict(payload, &op); err != nil {
		return Operation{}, errkind.Wrap(errkind.Invalid, err, "JWS payload is not an operation")
	}
	if canon, err := Canonical(op); err != nil {
		return Operation{}, errkind.Wrap(errkind.Invalid, err, "operation payload")
	} else if !bytes.Equal(canon, payload) {
		return Operation{}, errkind.New(errkind.Invalid, "operation payload is not in canonical form (encode it with registry.Canonical: struct field order, payload keys sorted, no whitespace)")
	}
	return op, nil
}

// signerOf checks that signer is a DID URL with a fragment and nothing
// else, and returns its DID.
func signerOf(signer string) (string, error) {
	u, err := did.ParseURL(signer)
	if err != nil {
		return "", errkind.Wrap(errkind.Invalid, err, "operation signer %q", signer)
	}
	if u.Fragment == "" || u.Path != "" || u.Query != "" {
		return "", errkind.Field(errkind.Invalid, "signer", "operation signer %q must be a DID URL naming a key by fragment (did:...#key-1), without path or query", signer)
	}
	return u.DID.String(), nil
}

func b64(s, what string) ([]byte, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, errkind.New(errkind.Invalid, "JWS %s is not unpadded base64url: %v", what, err)
	}
	return b, nil
}

// decodeStrict decodes one JSON value into v, refusing unknown fields
// and trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errkind.New(errkind.Invalid, "data after the JSON value")
	}
	return nil
}

// decodeBody decodes an operation payload, which must be a JSON object.
func decodeBody(b json.RawMessage, v any) error {
	if !bytes.HasPrefix(b, []byte("{")) {
		return errkind.New(errkind.Invalid, "payload must be a JSON object")
	}
	return decodeStrict(b, v)
}

// verify checks the JWS signature with pub, whose type must match alg;
// an Ed25519 signature by ZIP 215's rule if zip215, else by
// crypto/ed25519's.
func (p *parsed) verify(pub crypto.PublicKey, zip215 bool) error {
	alg, err := algFor(pub)
	if err != nil || alg != p.alg {
		return errkind.New(errkind.Forbidden, "key %s cannot verify a %s signature (it is a %s key)", p.Op.Signer, p.alg, keyName(pub))
	}
	if k, ok := pub.(ed25519.PublicKey); ok && alg == AlgEdDSA && len(k) == ed25519.PublicKeySize {
		// What jws.Verify does for EdDSA, without parsing the JWS again:
		// parse has checked that the header holds nothing else.
		verify := edsig.Verify
		if zip215 {
			verify = edsig.VerifyZIP215
		}
		if !verify(k, p.signingInput(), p.sig) {
			return errkind.New(errkind.Forbidden, "signature does not verify with key %s", p.Op.Signer)
		}
		return nil
	}
	if _, err := jws.Verify([]byte(p.JWS), jws.WithKey(jwa.SignatureAlgorithm(alg), pub)); err != nil {
		return errkind.New(errkind.Forbidden, "signature does not verify with key %s", p.Op.Signer)
	}
	return nil
}

// signingInput is what the JWS signature signs: the protected header and
// the payload, as they are in the JWS.
func (p *parsed) signingInput() []byte {
	return []byte(p.JWS[:strings.LastIndexByte(p.JWS, '.')])
}

func keyName(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return "Ed25519"
	case *ecdsa.PublicKey:
		return k.Curve.Params().Name
	}
	return fmt.Sprintf("%T", pub)
}
