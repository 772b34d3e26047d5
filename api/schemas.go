package api

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// registerSchemaBody is RegisterSchemaRequest with the schema kept as
// sent, so that no number in it passes through a float64.
type registerSchemaBody struct {
	Did    string          `json:"did"`
	Type   string          `json:"type"`
	Schema json.RawMessage `json:"schema"`
}

// RegisterSchema registers a credential schema on the chain, signed by
// one of the calling agency's DIDs.
func (s *Server) RegisterSchema(c *gin.Context) {
	a, ok := s.caller(c)
	if !ok {
		return
	}
	var req registerSchemaBody
	if err := decodeJSON(c, &req); err != nil {
		s.abortWithError(c, err)
		return
	}
	if req.Did == "" {
		s.abortWithError(c, errkind.Field(errkind.Invalid, "/did", "is required: one of the agency's DIDs, accredited for the type"))
		return
	}
	sc, err := s.agencies.RegisterSchema(c.Request.Context(), a.ID, req.Did, req.Type, req.Schema)
	if err != nil {
		s.abortWithError(c, bodyPointer(err))
		return
	}
	body, err := schemaBody(sc)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.Header("Location", "/schemas/"+sc.ID)
	c.JSON(http.StatusCreated, body)
}

// schemaBody renders a registered schema.
func schemaBody(sc registry.Schema) (Schema, error) {
	var content map[string]any
	if err := json.Unmarshal(sc.Content, &content); err != nil {
		return Schema{}, errkind.Wrap(errkind.Internal, err, "stored schema %s", sc.ID)
	}
	op := sc.OpHash
	return Schema{Id: sc.ID, Type: sc.Type, Issuer: sc.Issuer, Schema: content,
		Height: int64(sc.Height), Time: sc.Time.UTC(), Operation: &op}, nil
}
