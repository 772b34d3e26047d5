package oid4vp

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/kms"
)

var b64 = base64.RawURLEncoding

// signObject signs claims as a request object: a compact JWS with typ
// oauth-authz-req+jwt and kid the DID URL of the key.
func signObject(claims map[string]any, signer crypto.Signer, kid string) (string, error) {
	alg, err := kms.AlgorithmOf(signer.Public())
	if err != nil {
		return "", err
	}
	hb, err := json.Marshal(map[string]any{"alg": alg, "typ": RequestObjectType, "kid": kid})
	if err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "encode request object header")
	}
	pb, err := json.Marshal(claims)
	if err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "encode request object")
	}
	input := b64.EncodeToString(hb) + "." + b64.EncodeToString(pb)
	js, err := jws.NewSigner(jwa.SignatureAlgorithm(alg))
	if err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "%s signer", alg)
	}
	sig, err := js.Sign([]byte(input), signer)
	if err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "sign request object")
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// RequestObject is a request object as a wallet reads it.
type RequestObject struct {
	ClientID     string          `json:"client_id"`
	ResponseType string          `json:"response_type"`
	ResponseMode string          `json:"response_mode"`
	ResponseURI  string          `json:"response_uri"`
	Nonce        string          `json:"nonce"`
	State        string          `json:"state"`
	DCQLQuery    json.RawMessage `json:"dcql_query"`
	// PresentationDefinition is set instead of DCQLQuery by a request
	// with a DIF Presentation Exchange definition.
	PresentationDefinition json.RawMessage `json:"presentation_definition,omitempty"`
	Exp                    int64           `json:"exp"`
}

// VerifyObject is the wallet's check of a request object: typ
// oauth-authz-req+jwt, a decentralized_identifier client_id (or a DID,
// as the drafts with Presentation Exchange have it), a kid that
// is a DID URL of that DID, and a signature by that verification method
// of the resolved DID document. clientID, when not empty, is the
// client_id of the authorization request URI, which must match.
func VerifyObject(ctx context.Context, resolver did.Resolver, compact, clientID string) (*RequestObject, error) {
	msg, err := jws.Parse([]byte(compact))
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "the request object is not a compact JWS")
	}
	if len(msg.Signatures()) != 1 {
		return nil, errkind.New(errkind.Invalid, "the request object must have one signature")
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	if h.Type() != RequestObjectType {
		return nil, errkind.New(errkind.Invalid, "the request object's typ is %q; want %s", h.Type(), RequestObjectType)
	}
	var ro RequestObject
	if err := json.Unmarshal(msg.Payload(), &ro); err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "the request object's claims")
	}
	if clientID != "" && ro.ClientID != clientID {
		return nil, errkind.New(errkind.Forbidden, "the request object's client_id %q is not the request's %q", ro.ClientID, clientID)
	}
	verifier, ok := VerifierDID(ro.ClientID)
	if !ok {
		return nil, errkind.New(errkind.Unsupported, "client_id %q is neither decentralized_identifier:<DID> nor a DID", ro.ClientID)
	}
	kid := h.KeyID()
	if id, _, _ := strings.Cut(kid, "#"); id != verifier {
		return nil, errkind.New(errkind.Forbidden, "the request object is signed with %q, not a key of the verifier %s", kid, verifier)
	}
	res, err := resolver.Resolve(ctx, verifier, did.ResolveOptions{})
	if err != nil {
		return nil, err
	}
	if res.Document == nil {
		return nil, errkind.New(errkind.NotFound, "the verifier's DID %s has no document", verifier)
	}
	vm, ok := res.Document.VerificationMethodByID(kid)
	if !ok {
		return nil, errkind.New(errkind.Forbidden, "the verifier's DID document has no verification method %s", kid)
	}
	pub, err := vm.PublicKey()
	if err != nil {
		return nil, err
	}
	alg, err := kms.AlgorithmOf(pub)
	if err != nil {
		return nil, err
	}
	if h.Algorithm().String() != alg {
		return nil, errkind.New(errkind.Forbidden, "the request object's alg %s does not fit the key %s", h.Algorithm(), kid)
	}
	if _, err := jws.Verify([]byte(compact), jws.WithKey(jwa.SignatureAlgorithm(alg), pub)); err != nil {
		return nil, errkind.Wrap(errkind.Forbidden, errors.New("signature mismatch"), "the request object's signature does not verify with %s", kid)
	}
	return &ro, nil
}
