package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/urbis-id/urbis/civic/land"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/vc/issuer"
)

// Land is what the API needs of the land program (land.Service).
type Land interface {
	Register(ctx context.Context, agencyID string, r land.RegisterRequest) (land.Result, error)
	Transfer(ctx context.Context, agencyID string, r land.TransferRequest) (land.Result, error)
	Encumber(ctx context.Context, agencyID string, r land.EncumberRequest) (land.Result, error)
	Release(ctx context.Context, agencyID, lender, parcel, encumbrance string) (land.Result, error)
	Parcel(ctx context.Context, id string) (land.Parcel, error)
	History(ctx context.Context, id string) ([]land.Entry, error)
}

var errNoLand = errkind.New(errkind.Unsupported, "this server runs no land program")

// RegisterParcel registers a parcel and issues its first title.
func (s *Server) RegisterParcel(c *gin.Context) {
	a, ok := s.caller(c)
	if !ok {
		return
	}
	var req RegisterParcelRequest
	if err := decodeJSON(c, &req); err != nil {
		s.abortWithError(c, err)
		return
	}
	if s.land == nil {
		s.abortWithError(c, errNoLand)
		return
	}
	res, err := s.land.Register(c.Request.Context(), a.ID, land.RegisterRequest{
		Registry: req.Registry, Parcel: req.ParcelId, Cadastral: req.CadastralReference,
		Owners: ownersIn(req.Owners), Format: issuer.Format(deref(req.Format)),
	})
	s.landAnswer(c, http.StatusCreated, res, err)
}

// TransferParcel applies a transfer approved by the calling land registry.
func (s *Server) TransferParcel(c *gin.Context, parcelID ParcelID) {
	a, ok := s.caller(c)
	if !ok {
		return
	}
	var req TransferParcelRequest
	if err := decodeJSON(c, &req); err != nil {
		s.abortWithError(c, err)
		return
	}
	if s.land == nil {
		s.abortWithError(c, errNoLand)
		return
	}
	res, err := s.land.Transfer(c.Request.Context(), a.ID, land.TransferRequest{
		Registry: req.Registry, Parcel: parcelID, Title: req.Title, Buyers: ownersIn(req.Buyers),
		Consents: req.Consents, Format: issuer.Format(deref(req.Format)),
	})
	s.landAnswer(c, http.StatusOK, res, err)
}

// EncumberParcel records the calling lender's mortgage on a parcel.
func (s *Server) EncumberParcel(c *gin.Context, parcelID ParcelID) {
	a, ok := s.caller(c)
	if !ok {
		return
	}
	var req EncumberParcelRequest
	if err := decodeJSON(c, &req); err != nil {
		s.abortWithError(c, err)
		return
	}
	if s.land == nil {
		s.abortWithError(c, errNoLand)
		return
	}
	r := land.EncumberRequest{Lender: req.Lender, Parcel: parcelID, Encumbrance: req.EncumbranceId, Consents: req.Consents, Format: issuer.Format(deref(req.Format))}
	if req.Terms != nil {
		r.Terms = *req.Terms
	}
	res, err := s.land.Encumber(c.Request.Context(), a.ID, r)
	s.landAnswer(c, http.StatusCreated, res, err)
}

// ReleaseEncumbrance lifts the calling lender's mortgage.
func (s *Server) ReleaseEncumbrance(c *gin.Context, parcelID ParcelID, encumbranceID string) {
	a, ok := s.caller(c)
	if !ok {
		return
	}
	var req ReleaseEncumbranceRequest
	if err := decodeJSON(c, &req); err != nil {
		s.abortWithError(c, err)
		return
	}
	if s.land == nil {
		s.abortWithError(c, errNoLand)
		return
	}
	res, err := s.land.Release(c.Request.Context(), a.ID, req.Lender, parcelID, encumbranceID)
	s.landAnswer(c, http.StatusOK, res, err)
}

// GetParcel answers with a parcel's current state.
func (s *Server) GetParcel(c *gin.Context, parcelID ParcelID) {
	if s.land == nil {
		s.abortWithError(c, errNoLand)
		return
	}
	p, err := s.land.Parcel(c.Request.Context(), parcelID)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.JSON(http.StatusOK, parcelBody(p))
}

// GetParcelHistory answers with a parcel's history and proofs.
func (s *Server) GetParcelHistory(c *gin.Context, parcelID ParcelID) {
	if s.land == nil {
		s.abortWithError(c, errNoLand)
		return
	}
	h, err := s.land.History(c.Request.Context(), parcelID)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	out := ParcelHistory{Parcel: parcelID, Events: make([]ParcelEvent, len(h))}
	for i, e := range h {
		p := e.Proof
		ev := ParcelEvent{
			Kind: ParcelEventKind(e.Kind), Operation: e.Operation, Height: int64(e.Height), Time: e.Time,
			Signer: e.Signer, Title: e.Title, Owners: ownersOut(e.Owners),
			Proof: proofBody(p),
		}
		if e.Encumbrance != "" {
			enc := e.Encumbrance
			ev.Encumbrance = &enc
		}
		out.Events[i] = ev
	}
	c.JSON(http.StatusOK, out)
}

// landAnswer renders a change of a parcel, or its error with the
// program's field names turned into the request's.
func (s *Server) landAnswer(c *gin.Context, status int, res land.Result, err error) {
	if err != nil {
		s.abortWithError(c, landField(err))
		return
	}
	out := LandChange{Parcel: parcelBody(res.Parcel), Operation: statusBody(res.Operation, ""), Warnings: nonNil(res.Warnings)}
	if res.Issued != nil {
		if res.Issued.Token != "" {
			out.Credential = res.Issued.Token
		} else {
			out.Credential = res.Issued.Credential
		}
		out.CredentialId, out.Hash = &res.CredentialID, &res.Hash
	}
	if res.Revoked != "" {
		out.Revoked = &res.Revoked
	}
	c.JSON(status, out)
}

// landField names the request's fields: the operation's "parcel" is the
// request's parcelId, its "title" of a register is the credential issued.
func landField(err error) error {
	var e *errkind.Error
	if !errors.As(err, &e) || e.Field == "" {
		return err
	}
	c := *e
	switch {
	case c.Field == "parcel":
		c.Field = "parcelId"
	case strings.HasPrefix(c.Field, "encumbrance"):
		c.Field = "encumbranceId"
	}
	return &c
}

func parcelBody(p land.Parcel) Parcel {
	out := Parcel{Id: p.ID, CadastralReference: p.Cadastral, Registry: p.Registry, Title: p.Title, TitleId: p.TitleID,
		Owners: ownersOut(p.Owners), Encumbrances: make([]LandEncumbrance, len(p.Encumbrances)), Height: int64(p.Height), Updated: p.Updated}
	for i, e := range p.Encumbrances {
		out.Encumbrances[i] = LandEncumbrance{Id: e.ID, Type: LandEncumbranceType(e.Type), Lender: e.Lender, Credential: e.Credential,
			CredentialId: e.CredentialID, Height: int64(e.Height), Since: e.Since}
	}
	return out
}

func ownersIn(os []LandOwner) []land.Owner {
	out := make([]land.Owner, len(os))
	for i, o := range os {
		out[i] = land.Owner{DID: o.Did, Share: o.Share}
	}
	return out
}

func ownersOut(os []land.Owner) []LandOwner {
	out := make([]LandOwner, len(os))
	for i, o := range os {
		out[i] = LandOwner{Did: o.DID, Share: o.Share}
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
