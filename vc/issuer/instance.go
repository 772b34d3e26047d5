package issuer

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urbis-id/urbis/internal/agency"
	"github.com/urbis-id/urbis/internal/errkind"
)

// MaxTypes bounds the types of one issuer instance.
const MaxTypes = 64

// CreateRequest is what an agency asks for when it creates an instance.
type CreateRequest struct {
	DID    string
	Format Format
	Types  []string
	// StatusPurposes, when nil, defaults to ["revocation"] for instances
	// that can carry status (ldp_vc and jwt_vc_json with an Ed25519 DID),
	// and to [] for the others (dc+sd-jwt, ldp_vc-bbs, P-256 DIDs). A
	// dc+sd-jwt instance with an Ed25519 DID may ask for ["revocation"]:
	// its credentials then carry a Token Status List status claim (one
	// reference, so no suspension).
	StatusPurposes []string
	// Cryptosuite picks the proof of an ldp_vc instance: eddsa-rdfc-2022
	// (VC 2.0, the default) or Ed25519Signature2020 (VC 1.1). The other
	// formats have one each; "" takes it.
	Cryptosuite string
}

// Create makes an issuer instance for agencyID. The DID must be one of
// the agency's own active DIDs (another agency's is NotFound), with an
// Ed25519 key for ldp_vc; types must be non-empty credential type names.
// Errors about the request name its field ("did", "format", "types").
func (s *Service) Create(ctx context.Context, agencyID string, req CreateRequest) (Instance, error) {
	if !slices.Contains(Formats, req.Format) {
		return Instance{}, errkind.Field(errkind.Invalid, "format", "unknown format %q; allowed values are ldp_vc, jwt_vc_json, dc+sd-jwt and ldp_vc-bbs", req.Format)
	}
	types, err := checkTypes(req.Types)
	if err != nil {
		return Instance{}, err
	}
	if req.DID == "" {
		return Instance{}, errkind.Field(errkind.Invalid, "did", "is required: one of the agency's DIDs (GET /dids lists them)")
	}
	rec, err := s.dids.DID(ctx, agencyID, req.DID)
	if err != nil {
		if errkind.KindOf(err) == errkind.NotFound {
			return Instance{}, errkind.Field(errkind.NotFound, "did", "the agency has no DID %s", req.DID)
		}
		return Instance{}, err
	}
	if rec.Status != agency.StatusActive {
		return Instance{}, errkind.Field(errkind.Invalid, "did", "%s is %s; use an active DID", rec.DID, rec.Status)
	}
	suite, err := chooseSuite(req.Format, req.Cryptosuite, rec.KeyType)
	if err != nil {
		return Instance{}, err
	}
	purposes := defaultPurposes(req.Format, rec.KeyType)
	if statusless(suite) {
		purposes = []string{}
	}
	if req.StatusPurposes != nil {
		if err := checkSuitePurposes(suite, req.StatusPurposes); err != nil {
			return Instance{}, err
		}
		if purposes, err = checkPurposes(req.StatusPurposes, req.Format, rec.KeyType); err != nil {
			return Instance{}, err
		}
	}
	in := Instance{
		ID: newID("iss_"), AgencyID: agencyID, DID: rec.DID, Format: req.Format,
		Cryptosuite: suite, Types: types, StatusPurposes: purposes, CreatedAt: s.clock().UTC().Truncate(time.Microsecond),
	}
	if err := s.store.CreateIssuer(ctx, in); err != nil {
		return Instance{}, err
	}
	s.agencyIns.Remove(agencyID)
	return in, nil
}

// List returns agencyID's issuer instances, oldest first.
func (s *Service) List(ctx context.Context, agencyID string) ([]Instance, error) {
	return s.store.Issuers(ctx, agencyID)
}

// Get returns agencyID's issuer instance id; NotFound for another agency's.
func (s *Service) Get(ctx context.Context, agencyID, id string) (Instance, error) {
	return s.store.Issuer(ctx, agencyID, id)
}

func checkTypes(types []string) ([]string, error) {
	if len(types) == 0 {
		return nil, errkind.Field(errkind.Invalid, "types", "is required: list the credential types this issuer may issue, e.g. [\"ResidentCredential\"]")
	}
	if len(types) > MaxTypes {
		return nil, errkind.Field(errkind.Invalid, "types", "has %d entries; at most %d are allowed", len(types), MaxTypes)
	}
	var out []string
	for i, t := range types {
		switch {
		case t == "" || len(t) > 200 || strings.ContainsAny(t, " \t\r\n"):
			return nil, errkind.Field(errkind.Invalid, "types/"+strconv.Itoa(i), "%q is not a credential type name (1 to 200 characters, no spaces)", t)
		case t == "VerifiableCredential":
			continue // every credential has it
		case slices.Contains(out, t):
			return nil, errkind.Field(errkind.Invalid, "types/"+strconv.Itoa(i), "%q is listed twice", t)
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, errkind.Field(errkind.Invalid, "types", "lists only VerifiableCredential; name the specific types this issuer may issue")
	}
	return out, nil
}

func newID(prefix string) string {
	b := make([]byte, 16)
	rand.Read(b) // never fails
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}
