package bbs

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/verifier"
	gold "github.com/piprate/json-gold/ld"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/bls"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/ld"
)

// checkSubjectIDs refuses subjects without an id: aries names such a
// blank node urn:bnid:... in the derived credential, and the derived
// proof then does not verify (seen with aries-framework-go v0.3.2).
func checkSubjectIDs(v any) error {
	subjects, ok := v.([]any)
	if !ok {
		subjects = []any{v}
	}
	for i, s := range subjects {
		m, _ := s.(map[string]any)
		if id, _ := m["id"].(string); id == "" {
			p := "/credentialSubject/id"
			if ok {
				p = fmt.Sprintf("/credentialSubject/%d/id", i)
			}
			return errkind.Field(errkind.Invalid, p, "is required for a BBS+ credential: the derived proofs of a subject without an id do not verify (aries-framework-go v0.3.2); use the holder's DID")
		}
	}
	return nil
}

// newURN returns a random urn:uuid (version 4).
func newURN() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func decodeBase64(v any) ([]byte, error) {
	s, _ := v.(string)
	if s == "" {
		return nil, errors.New("absent or empty")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// normalize returns doc as JSON decoding gives it, the only form the
// JSON-LD processor takes.
func normalize(doc map[string]any) (map[string]any, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "document is not JSON")
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "document is not JSON")
	}
	return out, nil
}

func loaderOr(l gold.DocumentLoader) gold.DocumentLoader {
	if l != nil {
		return l
	}
	return ld.Default()
}

// ariesKeys adapts a KeyResolver to aries' key resolver, remembering the
// resolver's own error so that its kind survives aries' wrapping.
type ariesKeys struct {
	ctx     context.Context
	resolve KeyResolver
	err     error
}

func (a *ariesKeys) Resolve(id string) (*verifier.PublicKey, error) {
	pub, err := a.resolve(a.ctx, id)
	if err != nil {
		a.err = err
		return nil, err
	}
	return &verifier.PublicKey{Type: did.TypeBls12381G2Key2020, Value: pub.Bytes()}, nil
}

// recordingLoader remembers the first error of the loader it wraps.
type recordingLoader struct {
	gold.DocumentLoader
	err error
}

func (r *recordingLoader) LoadDocument(u string) (*gold.RemoteDocument, error) {
	d, err := r.DocumentLoader.LoadDocument(u)
	if err != nil && r.err == nil {
		r.err = err
	}
	return d, err
}

// DIDKeyResolver returns a KeyResolver that resolves a verification
// method's DID with r and returns its BLS12-381 G2 key, after checking
// that the DID document authorizes the method for rel.
func DIDKeyResolver(r did.Resolver, rel did.Relationship) KeyResolver {
	return func(ctx context.Context, vm string) (*bls.PublicKey, error) {
		pub, err := did.AuthorizedKey(ctx, r, vm, rel)
		if err != nil {
			return nil, err
		}
		k, ok := pub.(*bls.PublicKey)
		if !ok {
			return nil, errkind.New(errkind.Unsupported, "%s is a %T key; BBS+ proofs need a BLS12-381 G2 key", vm, pub)
		}
		return k, nil
	}
}

// movedField returns err with its Field moved from under from to under
// to ("/proof" to "/verifiableCredential/proof", say).
func movedField(err error, from, to string) error {
	var e *errkind.Error
	if !errors.As(err, &e) || (e.Field != from && !strings.HasPrefix(e.Field, from+"/")) {
		return err
	}
	c := *e
	c.Field = to + e.Field[len(from):]
	return &c
}
