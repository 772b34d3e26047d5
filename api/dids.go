package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/agency"
	"github.com/urbis-id/urbis/internal/errkind"
)

// GetAgency answers with the agency that owns the API key.
func (s *Server) GetAgency(c *gin.Context) {
	a, ok := s.caller(c)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, Agency{Id: a.ID, Name: a.Name, CreatedAt: a.CreatedAt.UTC()})
}

// CreateDID creates a DID with a new key in custody.
func (s *Server) CreateDID(c *gin.Context) {
	a, ok := s.caller(c)
	if !ok {
		return
	}
	var req CreateDIDRequest
	if err := decodeJSON(c, &req); err != nil {
		s.abortWithError(c, err)
		return
	}
	rec, err := s.agencies.CreateDID(c.Request.Context(), a.ID, string(req.Method), string(req.KeyType))
	if err != nil {
		s.abortWithError(c, bodyPointer(err))
		return
	}
	s.renderDID(c, http.StatusCreated, rec)
}

// ListDIDs lists the calling agency's DIDs.
func (s *Server) ListDIDs(c *gin.Context) {
	a, ok := s.caller(c)
	if !ok {
		return
	}
	recs, err := s.agencies.ListDIDs(c.Request.Context(), a.ID)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	items := make([]DIDRecord, 0, len(recs))
	for _, r := range recs {
		items = append(items, recordBody(r, nil))
	}
	c.JSON(http.StatusOK, DIDList{Items: items})
}

// GetDID answers with one of the calling agency's DIDs and its document.
func (s *Server) GetDID(c *gin.Context, id OwnDID) {
	a, ok := s.caller(c)
	if !ok {
		return
	}
	raw, err := pathDID(id)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	rec, err := s.agencies.DID(c.Request.Context(), a.ID, raw)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	s.renderDID(c, http.StatusOK, rec)
}

// RotateDID replaces the key behind a DID with a new key (and, for
// did:key and did:jwk, a new DID). The body is optional.
func (s *Server) RotateDID(c *gin.Context, id OwnDID) {
	a, ok := s.caller(c)
	if !ok {
		return
	}
	raw, err := pathDID(id)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	var req RotateDIDRequest
	if present, err := hasBody(c); err != nil {
		s.abortWithError(c, err)
		return
	} else if present {
		if err := decodeJSON(c, &req); err != nil {
			s.abortWithError(c, err)
			return
		}
	}
	opts := agency.RotateOptions{Compromised: req.Compromised != nil && *req.Compromised}
	rec, err := s.agencies.RotateDIDWith(c.Request.Context(), a.ID, raw, opts)
	if err != nil {
		s.abortWithError(c, bodyPointer(err))
		return
	}
	// The old DID issues and asks no more: drop the issuance and
	// verifier services' cached signers.
	for _, svc := range []any{s.issuers, s.vp} {
		if f, ok := svc.(interface{ ForgetDID(agencyID, id string) }); ok {
			f.ForgetDID(a.ID, raw)
		}
	}
	s.renderDID(c, http.StatusCreated, rec)
}

// hasBody reports whether the request has a body that is more than
// white space, leaving it to be read again.
func hasBody(c *gin.Context) (bool, error) {
	if c.Request.Body == nil || c.Request.Body == http.NoBody {
		return false, nil
	}
	b, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return false, errkind.New(errkind.TooLarge, "request body exceeds the limit of %d bytes", tooBig.Limit)
		}
		return false, errkind.Wrap(errkind.Invalid, err, "reading request body")
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(b))
	return len(bytes.TrimSpace(b)) > 0, nil
}

// renderDID answers with a DID record and its resolved document.
func (s *Server) renderDID(c *gin.Context, status int, rec agency.DIDRecord) {
	res, err := s.resolver.Resolve(c.Request.Context(), rec.DID, did.ResolveOptions{})
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.JSON(status, recordBody(rec, res.Document))
}

// bodyPointer turns the field name of an error about the request body into
// a JSON pointer, so every body error names its field the same way.
func bodyPointer(err error) error {
	var e *errkind.Error
	if errors.As(err, &e) && e.Field != "" && !strings.HasPrefix(e.Field, "/") {
		c := *e
		c.Field = "/" + e.Field
		return &c
	}
	return err
}

func recordBody(r agency.DIDRecord, doc *did.Document) DIDRecord {
	out := DIDRecord{
		Did:       r.DID,
		Method:    DIDRecordMethod(r.Method),
		KeyType:   DIDRecordKeyType(r.KeyType),
		KeyId:     r.KeyID,
		Status:    DIDRecordStatus(r.Status),
		CreatedAt: r.CreatedAt.UTC(),
	}
	if r.ReplacedBy != "" {
		next := r.ReplacedBy
		out.ReplacedBy = &next
	}
	if doc != nil {
		if len(doc.VerificationMethod) > 0 {
			vm := doc.VerificationMethod[0].ID
			out.VerificationMethod = &vm
		}
		var d DIDDocument
		if err := remarshal(doc, &d); err == nil {
			out.DidDocument = &d
		}
	}
	return out
}
