package vote

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"

	"github.com/cloudflare/circl/blindsign/blindrsa"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// Blinding is the voter's side of one token request: the token, the
// blinded message sent to the authority, and what unblinds its answer.
// It never leaves the voter.
type Blinding struct {
	Token   []byte // the prepared message (random prefix and random bytes)
	Blinded []byte // sent to the authority
	client  blindrsa.Client
	state   blindrsa.State
}

// Blind makes a new random ballot token for an election's key and blinds
// it (RFC 9474, RSABSSA-SHA384-PSS-Randomized).
func Blind(pub *rsa.PublicKey) (*Blinding, error) {
	c, err := blindrsa.NewClient(Variant, pub)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "blind RSA client")
	}
	msg := make([]byte, TokenMessageLen-32)
	rand.Read(msg)
	token, err := c.Prepare(rand.Reader, msg)
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "prepare token")
	}
	blinded, st, err := c.Blind(rand.Reader, token)
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "blind token")
	}
	return &Blinding{Token: token, Blinded: blinded, client: c, state: st}, nil
}

// Finalize unblinds the authority's blind signature and checks it: the
// result is the token's signature.
func (b *Blinding) Finalize(blindSig []byte) ([]byte, error) {
	sig, err := b.client.Finalize(b.state, blindSig)
	if err != nil {
		return nil, errkind.Field(errkind.Forbidden, "blindSignature", "the authority's blind signature does not unblind to a valid token signature: %v", err)
	}
	return sig, nil
}

// BlindSign is the authority's side: it signs a blinded message with the
// election's private key.
func BlindSign(priv *rsa.PrivateKey, blinded []byte) ([]byte, error) {
	sig, err := blindrsa.NewSigner(priv).BlindSign(blinded)
	if err != nil {
		return nil, errkind.Field(errkind.Invalid, "blindedMessage", "cannot be signed with the election's key: %v", err)
	}
	return sig, nil
}

// CastOp returns a ballot.cast operation for chain, signed by a fresh
// did:key that signs nothing else (nonce 1), so that nothing links the
// ballot to the voter's DID.
func CastOp(chain string, p CastPayload) (registry.SignedOp, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return registry.SignedOp{}, errkind.Wrap(errkind.Internal, err, "generate ballot key")
	}
	d, err := did.NewKey(pub)
	if err != nil {
		return registry.SignedOp{}, err
	}
	op, err := registry.NewOperation(chain, KindCast, d.String()+"#"+d.ID, 1, p)
	if err != nil {
		return registry.SignedOp{}, err
	}
	return registry.Sign(op, priv)
}

// NewCast encodes a token and its signature as a ballot.cast payload.
func NewCast(election string, token, sig []byte, choice string) CastPayload {
	return CastPayload{Election: election, Token: b64.EncodeToString(token), Signature: b64.EncodeToString(sig), Choice: choice}
}
