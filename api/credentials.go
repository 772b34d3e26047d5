package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc"
	"github.com/urbis-id/urbis/vc/issuer"
	"github.com/urbis-id/urbis/vc/sdjwt"
	"github.com/urbis-id/urbis/verifiers"
)

// Issuers is what the API needs of the issuance service.
type Issuers interface {
	Create(ctx context.Context, agencyID string, req issuer.CreateRequest) (issuer.Instance, error)
	List(ctx context.Context, agencyID string) ([]issuer.Instance, error)
	Issue(ctx context.Context, agencyID, issuerID string, cred map[string]any, opts issuer.IssueOptions) (issuer.Issued, error)
	SetStatus(ctx context.Context, agencyID, credentialID, status string) error
	SetStatusReason(ctx context.Context, agencyID, credentialID, status, reason string) error
	Credentials(ctx context.Context, agencyID string, f issuer.CredentialSearch) ([]issuer.IssuedCredential, error)
	StatusList(ctx context.Context, listID string) (issuer.StatusList, error)
	StatusListToken(ctx context.Context, listID string) (token string, version uint64, err error)
	AnchorProof(ctx context.Context, agencyID, ref string) (issuer.AnchorState, error)
}

// Verifier is what the API needs to verify credentials.
type Verifier interface {
	VerifyCredential(ctx context.Context, in any) (*verifiers.Result, error)
	VerifyPresentation(ctx context.Context, in any, opts verifiers.PresentationOptions) (*verifiers.PresentationResult, error)
}

// Media types of the enveloped formats, for the data: URL.
var envelopeMediaType = map[issuer.Format]string{
	issuer.FormatJWT:   "application/jwt",
	issuer.FormatSDJWT: "application/" + sdjwt.MediaType,
}

// CreateIssuer creates an issuer instance for the calling agency.
func (s *Server) CreateIssuer(c *gin.Context) {
	a, ok := s.caller(c)
	if !ok {
		return
	}
	var req CreateIssuerRequest
	if err := decodeJSON(c, &req); err != nil {
		s.abortWithError(c, err)
		return
	}
	cr := issuer.CreateRequest{DID: req.Did, Format: issuer.Format(req.Format), Types: req.Types}
	if req.Cryptosuite != nil {
		cr.Cryptosuite = string(*req.Cryptosuite)
	}
	if req.StatusPurposes != nil {
		cr.StatusPurposes = []string{}
		for _, p := range *req.StatusPurposes {
			cr.StatusPurposes = append(cr.StatusPurposes, string(p))
		}
	}
	in, err := s.issuers.Create(c.Request.Context(), a.ID, cr)
	if err != nil {
		s.abortWithError(c, bodyPointer(err))
		return
	}
	c.JSON(http.StatusCreated, issuerBody(in))
}

// ListIssuers lists the calling agency's issuer instances.
func (s *Server) ListIssuers(c *gin.Context) {
	a, ok := s.caller(c)
	if !ok {
		return
	}
	ins, err := s.issuers.List(c.Request.Context(), a.ID)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	items := make([]IssuerInstance, 0, len(ins))
	for _, in := range ins {
		items = append(items, issuerBody(in))
	}
	c.JSON(http.StatusOK, IssuerList{Items: items})
}

// IssueCredential issues with the instance whose DID is credential.issuer.
func (s *Server) IssueCredential(c *gin.Context) { s.issue(c, "") }

// IssueCredentialWith issues with the named issuer instance.
func (s *Server) IssueCredentialWith(c *gin.Context, issuerID IssuerID) { s.issue(c, issuerID) }

func (s *Server) issue(c *gin.Context, issuerID string) {
	a, ok := s.caller(c)
	if !ok {
		return
	}
	var req IssueCredentialRequest
	if err := decodeJSON(c, &req); err != nil {
		s.abortWithError(c, err)
		return
	}
	var opts issuer.IssueOptions
	if req.Options != nil {
		if req.Options.Format != nil {
			opts.Format = issuer.Format(*req.Options.Format)
		}
		if req.Options.KeyBinding != nil {
			opts.KeyBinding = *req.Options.KeyBinding
		}
		if req.Options.Disclosable != nil {
			opts.Disclosable = append([]string{}, *req.Options.Disclosable...)
		}
	}
	out, err := s.issuers.Issue(c.Request.Context(), a.ID, issuerID, req.Credential, opts)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	body := out.Credential
	if out.Token != "" {
		body = map[string]any{
			"@context": []any{vc.ContextV2},
			"type":     "EnvelopedVerifiableCredential",
			"id":       "data:" + envelopeMediaType[out.Instance.Format] + "," + out.Token,
		}
	}
	c.JSON(http.StatusCreated, IssueCredentialResponse{VerifiableCredential: body})
}

// VerifyCredential verifies a credential in any format Urbis issues.
func (s *Server) VerifyCredential(c *gin.Context) {
	var req VerifyCredentialRequest
	if err := decodeJSON(c, &req); err != nil {
		s.abortWithError(c, err)
		return
	}
	res, err := s.verifier.VerifyCredential(c.Request.Context(), req.VerifiableCredential)
	if err != nil {
		s.abortWithError(c, fieldUnder(err, "/verifiableCredential"))
		return
	}
	body := verificationBody(res)
	status := http.StatusOK
	if !res.Verified {
		status = http.StatusUnprocessableEntity
	}
	c.JSON(status, body)
}

func verificationBody(res *verifiers.Result) VerificationResult {
	body := VerificationResult{
		Verified: res.Verified,
		Checks:   append([]string{}, res.Checks...),
		Warnings: findings(res.Warnings, "Warning"),
		Errors:   findings(res.Errors, "Check failed"),
	}
	if res.Format != "" {
		f := VerificationResultFormat(res.Format)
		body.Format = &f
	}
	if len(res.Notes) > 0 {
		notes := make([]VerificationNote, 0, len(res.Notes))
		for _, n := range res.Notes {
			notes = append(notes, VerificationNote{Check: n.Check, Detail: n.Message})
		}
		body.Notes = &notes
	}
	return body
}

func findings(fs []verifiers.Finding, title string) []VerificationProblem {
	out := make([]VerificationProblem, 0, len(fs))
	for _, f := range fs {
		p := VerificationProblem{
			Type:   problemType + "check/" + f.Check,
			Title:  title + ": " + f.Check,
			Check:  VerificationProblemCheck(f.Check),
			Detail: f.Message,
		}
		if f.Field != "" {
			field := f.Field
			p.Field = &field
		}
		out = append(out, p)
	}
	return out
}

// fieldUnder puts p in front of the field of err (a pointer into the
// credential), or makes p the field when err has none.
func fieldUnder(err error, p string) error {
	e, ok := err.(*errkind.Error)
	if !ok || e.Kind == errkind.Internal {
		return err
	}
	c := *e
	c.Field = p + e.Field
	return &c
}

func issuerBody(in issuer.Instance) IssuerInstance {
	purposes := make([]IssuerInstanceStatusPurposes, 0, len(in.StatusPurposes))
	for _, p := range in.StatusPurposes {
		purposes = append(purposes, IssuerInstanceStatusPurposes(p))
	}
	return IssuerInstance{
		StatusPurposes: &purposes,
		Id:             in.ID,
		Did:            in.DID,
		Format:         IssuerInstanceFormat(in.Format),
		Cryptosuite:    in.Cryptosuite,
		Types:          append([]string{}, in.Types...),
		CreatedAt:      in.CreatedAt.UTC(),
	}
}
