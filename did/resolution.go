package did

import (
	"context"
	"errors"
	"slices"

	"github.com/urbis-id/urbis/internal/errkind"
)

// Content types of DID document representations.
const (
	ContentTypeDIDJSON   = "application/did+json"
	ContentTypeDIDLDJSON = "application/did+ld+json"
)

// Method resolves the DIDs of one DID method. Implementations return
// *errkind.Error values carrying a DID Resolution code. A method that
// knows a DID is deactivated returns a Resolution whose
// DocumentMetadata.Deactivated is true and a nil error.
type Method interface {
	// Method returns the method name, e.g. "key".
	Method() string
	// Resolve resolves id, whose Method is the method's name.
	Resolve(ctx context.Context, id DID, opts ResolveOptions) (*Resolution, error)
}

// Resolver resolves DIDs of any supported method. MultiResolver
// implements it; consumers declare it where they need resolution.
type Resolver interface {
	Resolve(ctx context.Context, did string, opts ResolveOptions) (*Resolution, error)
}

// ResolveOptions are the DID resolution options.
type ResolveOptions struct {
	// PublicKeyFormat selects the verification method representation of
	// did:key ("Multikey", the default, "JsonWebKey2020" or
	// "Ed25519VerificationKey2020").
	PublicKeyFormat string
	// VersionID and VersionTime ask for a historical document.
	// VersionTime is an XML datetime such as "2002-10-10T17:00:00Z".
	VersionID   string
	VersionTime string
	// NoEncryptionKeyDerivation turns off the X25519 key agreement method
	// that did:key derives from an Ed25519 key (the did:key option
	// enableEncryptionKeyDerivation=false).
	NoEncryptionKeyDerivation bool
}

// Resolution is the DID resolution result.
type Resolution struct {
	Document           *Document          `json:"didDocument"`
	ResolutionMetadata ResolutionMetadata `json:"didResolutionMetadata"`
	DocumentMetadata   DocumentMetadata   `json:"didDocumentMetadata"`
}

// ResolutionMetadata describes the resolution process.
type ResolutionMetadata struct {
	ContentType  string `json:"contentType,omitempty"`
	Error        string `json:"error,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
	Retrieved    string `json:"retrieved,omitempty"` // RFC 3339 time the document was obtained
	Duration     int64  `json:"duration,omitempty"`  // milliseconds the method took
	Method       string `json:"method,omitempty"`    // the DID method that resolved the DID
	Cached       bool   `json:"cached,omitempty"`    // served from the resolver cache
}

// DocumentMetadata describes the resolved document.
type DocumentMetadata struct {
	Created       string `json:"created,omitempty"`
	Updated       string `json:"updated,omitempty"`
	VersionID     string `json:"versionId,omitempty"`
	NextUpdate    string `json:"nextUpdate,omitempty"`
	NextVersionID string `json:"nextVersionId,omitempty"`
	Deactivated   bool   `json:"deactivated,omitempty"`
	// BlockHeight is the registry block that anchors this version, for
	// methods with a chain (did:urbis).
	BlockHeight uint64 `json:"blockHeight,omitempty"`
	// Compromised lists the verification methods the DID's controller
	// has declared compromised, as the method knows them now, whatever
	// version was asked for (did:urbis): a verifier refuses what they
	// signed, whenever it was signed.
	Compromised []CompromisedMethod `json:"compromised,omitempty"`
}

// CompromisedMethod is a verification method declared compromised.
type CompromisedMethod struct {
	ID                 string `json:"id"` // its DID URL
	PublicKeyMultibase string `json:"publicKeyMultibase,omitempty"`
	Since              string `json:"since"`     // RFC 3339: when it was declared
	VersionID          string `json:"versionId"` // the version that declared it
}

// CompromisedBy returns the entry of Compromised that names vm, by id or
// by key.
func (md DocumentMetadata) CompromisedBy(vm VerificationMethod) (CompromisedMethod, bool) {
	for _, c := range md.Compromised {
		if c.ID == vm.ID || (c.PublicKeyMultibase != "" && c.PublicKeyMultibase == vm.PublicKeyMultibase) {
			return c, true
		}
	}
	return CompromisedMethod{}, false
}

// ErrorResolution returns the resolution result that reports err: no
// document, and the error's DID Resolution code and message in the
// resolution metadata (INTERNAL_ERROR when err carries no code).
func ErrorResolution(err error) *Resolution {
	code, msg := CodeInternalError, "internal error"
	var e *errkind.Error
	if errors.As(err, &e) {
		if e.Code != "" {
			code = e.Code
		}
		if e.Kind != errkind.Internal {
			msg = e.Error()
		}
	}
	return &Resolution{ResolutionMetadata: ResolutionMetadata{Error: code, ErrorMessage: msg}}
}

// clone returns a deep copy of r, so a cached result is never shared.
func (r *Resolution) clone() *Resolution {
	c := *r
	c.Document = r.Document.Clone()
	c.DocumentMetadata.Compromised = slices.Clone(r.DocumentMetadata.Compromised)
	return &c
}
