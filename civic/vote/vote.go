// Package vote holds elections and city polls with secret ballots: an
// election authority (accredited for ElectionAuthority) creates an
// election with its options, eligibility rule, window and an RSA
// blind-signature key (RFC 9474); an eligible resident gets one
// blind-signed ballot token, recorded on chain only as a hash of the
// election and the resident's credential subject; the ballot is cast by
// a ballot.cast operation that carries the unblinded token, its
// signature and the choice, signed by a fresh throwaway did:key, so
// nothing links it to the voter. The token's hash is the ballot's
// nullifier: the chain counts one ballot per token.
package vote

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// The operation kinds of the program.
const (
	KindCreate registry.Kind = "election.create"
	KindToken  registry.Kind = "election.token"
	KindCast   registry.Kind = "ballot.cast"
	KindClose  registry.Kind = "election.close"
)

// Credential types the program relies on.
const (
	// AuthorityType is the accreditation an election authority holds.
	AuthorityType = "ElectionAuthority"
	// ResultType is the credential the authority issues with a result.
	ResultType = "ElectionResult"
)

// Limits of an election.
const (
	MaxOptions   = 64
	MaxOptionLen = 200
	MaxTitleLen  = 500
	MaxDistricts = 100
	// MinKeyBits is the smallest RSA modulus accepted for ballot tokens.
	MinKeyBits = 2048
	// MaxKeyBits is the largest (it bounds the cost of a verification).
	MaxKeyBits = 4096
	// TokenMessageLen is the length of a ballot token: a 32-byte prefix
	// (RSABSSA randomized variants) and 32 random bytes.
	TokenMessageLen = 64
)

// Rule is who may get a ballot token: the holder of a verified
// credential of CredentialType, issued by an issuer accredited for it,
// whose subject lives in one of Districts (any if empty) and is at least
// MinAge years old on the day the election opens (no limit if 0).
type Rule struct {
	CredentialType string   `json:"credentialType"`
	Districts      []string `json:"districts,omitempty"`
	MinAge         int      `json:"minAge,omitempty"`
}

// CreatePayload is the payload of election.create, signed by the
// authority's DID.
type CreatePayload struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Options     []string `json:"options"`
	Eligibility Rule     `json:"eligibility"`
	Opens       string   `json:"opens"`  // RFC 3339
	Closes      string   `json:"closes"` // RFC 3339
	// PublicKey is the RSA public key that signs ballot tokens: PKIX
	// DER, base64url without padding.
	PublicKey string `json:"publicKey"`
}

// TokenPayload is the payload of election.token: the authority records
// that the resident whose hash is Resident (ResidentHash) got a token.
type TokenPayload struct {
	Election string `json:"election"`
	Resident string `json:"resident"`
}

// CastPayload is the payload of ballot.cast. Token and Signature are
// base64url without padding.
type CastPayload struct {
	Election  string `json:"election"`
	Token     string `json:"token"`
	Signature string `json:"signature"`
	Choice    string `json:"choice"`
}

// ClosePayload is the payload of election.close, signed by the authority
// once the election has closed.
type ClosePayload struct {
	Election string `json:"election"`
}

// Election is an election as the chain keeps it.
type Election struct {
	CreatePayload
	Authority string `json:"authority"` // the DID that created it
	Height    uint64 `json:"height"`    // the block of election.create
	Operation string `json:"operation"` // the hash of election.create
}

// Receipt is what the chain keeps of a counted ballot, under its
// nullifier.
type Receipt struct {
	Operation string `json:"operation"`
	Height    uint64 `json:"height"`
	Choice    string `json:"choice"`
}

// Result is the tally recorded by election.close.
type Result struct {
	Election string   `json:"election"`
	Counts   []uint64 `json:"counts"` // per option, in order
	Ballots  uint64   `json:"ballots"`
	Tokens   uint64   `json:"tokens"`
	Height   uint64   `json:"height"`
	ClosedAt string   `json:"closedAt"` // the block time, RFC 3339
}

// State keys of the program.
func electionKey(id string) string        { return "vote/e/" + id }
func tokenKey(id, resident string) string { return "vote/t/" + id + "/" + resident }
func tokensKey(id string) string          { return "vote/tc/" + id }
func nullifierKey(id, n string) string    { return "vote/n/" + id + "/" + n }
func countsKey(id string) string          { return "vote/c/" + id }
func resultKey(id string) string          { return "vote/r/" + id }

// ResidentHash is what election.token records of a resident: the hex
// SHA-256 of the election id, a newline and the subject id of the
// resident's credential. No personal data goes on chain, and the same
// resident gets the same hash in the same election.
func ResidentHash(election, subject string) string {
	h := sha256.Sum256([]byte(election + "\n" + subject))
	return hex.EncodeToString(h[:])
}

// Nullifier returns a ballot's nullifier: the hex SHA-256 of its token.
func Nullifier(token []byte) string {
	h := sha256.Sum256(token)
	return hex.EncodeToString(h[:])
}

var b64 = base64.RawURLEncoding

// validID accepts election ids of 1 to 64 lowercase letters, digits and
// hyphens, starting with a letter or digit.
func validID(id string) bool {
	if id == "" || len(id) > 64 || id[0] == '-' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func checkID(field, id string) error {
	if !validID(id) {
		return errkind.Field(errkind.Invalid, field, "must be an election id of 1 to 64 lowercase letters, digits and hyphens, such as city-poll-2027; got %q", id)
	}
	return nil
}

// Check checks an election.create payload without state; it returns the
// parsed window.
func (p CreatePayload) Check() (opens, closes time.Time, err error) {
	if err := checkID("id", p.ID); err != nil {
		return opens, closes, err
	}
	if t := strings.TrimSpace(p.Title); t == "" || len(p.Title) > MaxTitleLen {
		return opens, closes, errkind.Field(errkind.Invalid, "title", "must be 1 to %d bytes", MaxTitleLen)
	}
	if len(p.Options) < 2 || len(p.Options) > MaxOptions {
		return opens, closes, errkind.Field(errkind.Invalid, "options", "must list 2 to %d options; got %d", MaxOptions, len(p.Options))
	}
	for i, o := range p.Options {
		if strings.TrimSpace(o) == "" || len(o) > MaxOptionLen {
			return opens, closes, errkind.Field(errkind.Invalid, fmt.Sprintf("options/%d", i), "must be 1 to %d bytes, not blank", MaxOptionLen)
		}
		if slices.Index(p.Options, o) != i {
			return opens, closes, errkind.Field(errkind.Invalid, fmt.Sprintf("options/%d", i), "%q is listed twice", o)
		}
	}
	r := p.Eligibility
	if strings.TrimSpace(r.CredentialType) == "" {
		return opens, closes, errkind.Field(errkind.Invalid, "eligibility/credentialType", "must name the credential type that proves residence, such as ResidentCredential")
	}
	if len(r.Districts) > MaxDistricts {
		return opens, closes, errkind.Field(errkind.Invalid, "eligibility/districts", "lists %d districts; at most %d", len(r.Districts), MaxDistricts)
	}
	if r.MinAge < 0 || r.MinAge > 150 {
		return opens, closes, errkind.Field(errkind.Invalid, "eligibility/minAge", "must be 0 to 150; got %d", r.MinAge)
	}
	if opens, err = time.Parse(time.RFC3339, p.Opens); err != nil {
		return opens, closes, errkind.Field(errkind.Invalid, "opens", "must be an RFC 3339 time such as 2027-05-01T08:00:00Z")
	}
	if closes, err = time.Parse(time.RFC3339, p.Closes); err != nil {
		return opens, closes, errkind.Field(errkind.Invalid, "closes", "must be an RFC 3339 time such as 2027-05-01T20:00:00Z")
	}
	if !closes.After(opens) {
		return opens, closes, errkind.Field(errkind.Invalid, "closes", "must be after opens (%s)", p.Opens)
	}
	if _, err := ParsePublicKey(p.PublicKey); err != nil {
		return opens, closes, err
	}
	return opens.UTC(), closes.UTC(), nil
}

// ParsePublicKey decodes an election's public key: PKIX DER of an RSA key
// of MinKeyBits to MaxKeyBits bits, base64url without padding.
func ParsePublicKey(s string) (*rsa.PublicKey, error) {
	der, err := b64.DecodeString(s)
	if err != nil {
		return nil, errkind.Field(errkind.Invalid, "publicKey", "must be base64url (no padding) of a PKIX DER RSA public key")
	}
	k, err := x509.ParsePKIXPublicKey(der)
	pub, ok := k.(*rsa.PublicKey)
	if err != nil || !ok {
		return nil, errkind.Field(errkind.Invalid, "publicKey", "must be a PKIX DER RSA public key")
	}
	if n := pub.N.BitLen(); n < MinKeyBits || n > MaxKeyBits {
		return nil, errkind.Field(errkind.Invalid, "publicKey", "is a %d-bit RSA key; want %d to %d bits", n, MinKeyBits, MaxKeyBits)
	}
	return pub, nil
}

// EncodePublicKey encodes pub as an election's publicKey.
func EncodePublicKey(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "encode RSA public key")
	}
	return b64.EncodeToString(der), nil
}

// Check checks an election.token payload without state.
func (p TokenPayload) Check() error {
	if err := checkID("election", p.Election); err != nil {
		return err
	}
	if len(p.Resident) != 64 || strings.ToLower(p.Resident) != p.Resident {
		return errkind.Field(errkind.Invalid, "resident", "must be a lowercase hex SHA-256 (64 characters)")
	}
	if _, err := hex.DecodeString(p.Resident); err != nil {
		return errkind.Field(errkind.Invalid, "resident", "must be a lowercase hex SHA-256 (64 characters)")
	}
	return nil
}

// Check checks a ballot.cast payload without state and returns the token
// and signature bytes.
func (p CastPayload) Check() (token, sig []byte, err error) {
	if err := checkID("election", p.Election); err != nil {
		return nil, nil, err
	}
	if token, err = b64.DecodeString(p.Token); err != nil || len(token) != TokenMessageLen {
		return nil, nil, errkind.Field(errkind.Invalid, "token", "must be base64url (no padding) of the %d-byte ballot token", TokenMessageLen)
	}
	if sig, err = b64.DecodeString(p.Signature); err != nil || len(sig) < MinKeyBits/8 || len(sig) > MaxKeyBits/8 {
		return nil, nil, errkind.Field(errkind.Invalid, "signature", "must be base64url (no padding) of the token's RSA signature")
	}
	if p.Choice == "" || len(p.Choice) > MaxOptionLen {
		return nil, nil, errkind.Field(errkind.Invalid, "choice", "must name one of the election's options")
	}
	return token, sig, nil
}

// Check checks an election.close payload without state.
func (p ClosePayload) Check() error { return checkID("election", p.Election) }
