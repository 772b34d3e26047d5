package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// Registry is what the API needs of the registry engine.
type Registry interface {
	Submit(ctx context.Context, compact string) (registry.OpStatus, error)
	Wait(ctx context.Context, hash string) (registry.OpStatus, error)
	Status(ctx context.Context, hash string) (registry.OpStatus, error)
	Proof(ctx context.Context, hash string) (registry.Proof, error)
}

// Chain is what the API reads of chain state.
type Chain interface {
	Head(ctx context.Context) (registry.Header, error)
	Block(ctx context.Context, height uint64) (registry.Block, error)
	Accreditations(ctx context.Context, issuer string) ([]registry.Accreditation, error)
	AccreditationHistory(ctx context.Context, id string) ([]registry.AccreditationEvent, error)
	Schema(ctx context.Context, id string) (registry.Schema, error)
	// SchemasByType returns the schemas registered for typ, oldest first.
	SchemasByType(ctx context.Context, typ string) ([]registry.Schema, error)
	// StatusUpdateAt returns the status.update of a status list bit in
	// force at t; found is false when there is none.
	StatusUpdateAt(ctx context.Context, list string, index int, purpose string, t time.Time) (u registry.StatusUpdate, found bool, err error)
}

// submitWait bounds how long `?wait=true` holds a submission open.
const submitWait = 10 * time.Second

var hexHash = regexp.MustCompile(`^[0-9a-f]{64}$`)

// SubmitOperation queues a signed operation, or with wait=true answers
// once its block is committed.
func (s *Server) SubmitOperation(c *gin.Context, params SubmitOperationParams) {
	req, err := decodeSubmission(c)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	st, err := s.registry.Submit(c.Request.Context(), req.Operation)
	if err != nil {
		s.abortWithError(c, bodyPointer(fieldless(err, "operation")))
		return
	}
	if st.Status == registry.StatusCommitted {
		s.abortWithError(c, errkind.Field(errkind.Conflict, "/operation",
			"replay: operation %s is already committed in block %d; GET /registry/operations/%s shows it", st.Hash, st.Height, st.Hash))
		return
	}
	created := ""
	if st.Kind == registry.KindDIDCreate {
		created = createdDID(req.Operation)
	}
	if params.Wait == nil || !*params.Wait {
		c.JSON(http.StatusAccepted, statusBody(st, created))
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), submitWait)
	defer cancel()
	done, err := s.registry.Wait(ctx, st.Hash)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		c.JSON(http.StatusAccepted, statusBody(st, created))
	case err != nil:
		s.abortWithError(c, err)
	case done.Status == registry.StatusRejected:
		s.rejected(c, done)
	default:
		c.JSON(http.StatusCreated, statusBody(done, created))
	}
}

// decodeSubmission reads the body of POST /registry/operations. The body
// every client sends, {"operation":"<compact JWS>"} and nothing else, is
// taken apart without a JSON decoder: a compact JWS holds only base64url
// characters and dots, so no escape can hide in the string and the
// result is what the decoder would give. Any other body goes through
// decodeStrict, which decodes it or says what is wrong.
func decodeSubmission(c *gin.Context) (SubmitOperationRequest, error) {
	var req SubmitOperationRequest
	body, err := readJSON(c)
	if err != nil {
		return req, err
	}
	const head, tail = `{"operation":"`, `"}`
	b := bytes.TrimSpace(body)
	if v, ok := bytes.CutPrefix(b, []byte(head)); ok {
		if v, ok := bytes.CutSuffix(v, []byte(tail)); ok && compactJWSChars(v) {
			req.Operation = string(v)
			return req, nil
		}
	}
	return req, decodeStrict(body, &req)
}

// compactJWSChars reports whether b holds only base64url characters and
// dots.
func compactJWSChars(b []byte) bool {
	for _, c := range b {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// rejected answers 422 for an operation the state machine refused.
func (s *Server) rejected(c *gin.Context, st registry.OpStatus) {
	detail := "operation " + st.Hash + " was rejected: " + st.Reason
	rid := requestID(c)
	writeProblem(c, Problem{
		Type:      problemType + "rejected",
		Title:     "Operation rejected",
		Status:    http.StatusUnprocessableEntity,
		Detail:    &detail,
		RequestId: &rid,
	})
}

// validDID checks the syntax of a DID given in a path.
func validDID(s string) error {
	_, err := did.Parse(s)
	return err
}

// fieldless names field as the offending input of err when it has none.
func fieldless(err error, field string) error {
	var e *errkind.Error
	if errors.As(err, &e) && e.Field == "" && e.Kind != errkind.Internal {
		c := *e
		c.Field = field
		return &c
	}
	return err
}

// createdDID returns the DID a did.create operation creates, or "".
func createdDID(compact string) string {
	op, err := registry.ParseSigned(compact)
	if err != nil || op.Op.Kind != registry.KindDIDCreate {
		return ""
	}
	var p registry.DIDCreate
	if json.Unmarshal(op.Op.Payload, &p) != nil {
		return ""
	}
	id, _, err := registry.NewDIDCreate(p.Document)
	if err != nil {
		return ""
	}
	return id
}

func statusBody(st registry.OpStatus, created string) OperationStatus {
	out := OperationStatus{Hash: st.Hash, Status: OperationStatusStatus(st.Status)}
	if st.Kind != "" {
		k := string(st.Kind)
		out.Kind = &k
	}
	if st.Status == registry.StatusCommitted {
		h, i := int64(st.Height), st.Index
		out.Height, out.Index = &h, &i
	}
	if st.Reason != "" {
		r := st.Reason
		out.Reason = &r
	}
	if !st.Time.IsZero() {
		t := st.Time.UTC()
		out.Time = &t
	}
	if created != "" {
		out.Did = &created
	}
	return out
}

// checkHash validates an operation hash path parameter.
func checkHash(hash string) error {
	if !hexHash.MatchString(hash) {
		return errkind.Field(errkind.Invalid, "hash", "%q is not an operation hash (64 lowercase hex characters)", hash)
	}
	return nil
}

// GetOperation answers with an operation's status.
func (s *Server) GetOperation(c *gin.Context, hash OpHash) {
	if err := checkHash(hash); err != nil {
		s.abortWithError(c, err)
		return
	}
	st, err := s.registry.Status(c.Request.Context(), hash)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.JSON(http.StatusOK, statusBody(st, ""))
}

// GetOperationProof answers with the inclusion proof of a committed operation.
func (s *Server) GetOperationProof(c *gin.Context, hash OpHash) {
	if err := checkHash(hash); err != nil {
		s.abortWithError(c, err)
		return
	}
	p, err := s.registry.Proof(c.Request.Context(), hash)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.JSON(http.StatusOK, proofBody(p))
}

// proofBody renders a proof; its consensus part, which the engine
// encoded, is passed on as is (numbers kept exact).
func proofBody(p registry.Proof) Proof {
	out := Proof{
		Operation: p.Operation, Hash: p.Hash, Index: p.Index, Path: nonNil(p.Path),
		Header: headerBody(p.Header), Signatures: signaturesBody(p.Signatures),
	}
	if len(p.Consensus) > 0 {
		var c map[string]any
		dec := json.NewDecoder(bytes.NewReader(p.Consensus))
		dec.UseNumber()
		if dec.Decode(&c) == nil {
			out.Consensus = &c
		}
	}
	return out
}

// GetRegistryHead answers with the latest block header.
func (s *Server) GetRegistryHead(c *gin.Context) {
	h, err := s.chain.Head(c.Request.Context())
	if errors.Is(err, errkind.NotFound) {
		c.JSON(http.StatusOK, Head{Chain: s.cfg.ChainID, Height: 0})
		return
	}
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	hash, hb := h.Hash(), headerBody(h)
	c.JSON(http.StatusOK, Head{Chain: h.Chain, Height: int64(h.Height), Hash: &hash, Header: &hb})
}

// GetBlock answers with one block.
func (s *Server) GetBlock(c *gin.Context, height int64) {
	if height < 1 {
		s.abortWithError(c, errkind.Field(errkind.Invalid, "height", "block heights start at 1, not %d", height))
		return
	}
	b, err := s.chain.Block(c.Request.Context(), uint64(height))
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.JSON(http.StatusOK, Block{Hash: b.Header.Hash(), Header: headerBody(b.Header), Signatures: signaturesBody(b.Signatures), Operations: nonNil(b.Ops)})
}

// GetIssuerAccreditations answers with an issuer's accreditations and their history.
func (s *Server) GetIssuerAccreditations(c *gin.Context, rawDID string) {
	id, err := pathDID(rawDID)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	if err := validDID(id); err != nil {
		s.abortWithError(c, err)
		return
	}
	ctx := c.Request.Context()
	list, err := s.chain.Accreditations(ctx, id)
	if err != nil && !errors.Is(err, errkind.NotFound) {
		s.abortWithError(c, err)
		return
	}
	out := IssuerAccreditations{Issuer: id, Accreditations: []Accreditation{}}
	for _, a := range list {
		hist, err := s.chain.AccreditationHistory(ctx, a.ID)
		if err != nil && !errors.Is(err, errkind.NotFound) {
			s.abortWithError(c, err)
			return
		}
		out.Accreditations = append(out.Accreditations, accreditationBody(a, hist))
	}
	c.JSON(http.StatusOK, out)
}

// GetSchema answers with a registered schema.
func (s *Server) GetSchema(c *gin.Context, id string) {
	if !hexHash.MatchString(id) {
		s.abortWithError(c, errkind.Field(errkind.Invalid, "id", "%q is not a schema id (64 lowercase hex characters)", id))
		return
	}
	sc, err := s.chain.Schema(c.Request.Context(), id)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	body, err := schemaBody(sc)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.JSON(http.StatusOK, body)
}

func headerBody(h registry.Header) Header {
	b := Header{Chain: h.Chain, Height: int64(h.Height), Previous: h.Previous, Time: h.Time.UTC(),
		OpCount: h.OpCount, OpsRoot: h.OpsRoot, StateRoot: h.StateRoot, Proposer: h.Proposer}
	if h.ConsensusHeight > 0 {
		c := int64(h.ConsensusHeight)
		b.ConsensusHeight = &c
	}
	return b
}

func signaturesBody(sigs []registry.Signature) []Signature {
	out := make([]Signature, 0, len(sigs))
	for _, s := range sigs {
		out = append(out, Signature{Validator: s.Validator, Signature: s.Signature})
	}
	return out
}

func accreditationBody(a registry.Accreditation, hist []registry.AccreditationEvent) Accreditation {
	out := Accreditation{Id: a.ID, Issuer: a.Issuer, Accreditor: a.Accreditor, Types: nonNil(a.Types),
		ValidFrom: a.ValidFrom.UTC(), MayDelegate: a.MayDelegate, Delegated: a.Delegated,
		Status: AccreditationStatus(a.Status), History: []AccreditationEvent{}}
	if len(a.Districts) > 0 {
		d := a.Districts
		out.Districts = &d
	}
	if !a.ValidUntil.IsZero() {
		u := a.ValidUntil.UTC()
		out.ValidUntil = &u
	}
	for _, e := range hist {
		ev := AccreditationEvent{Kind: string(e.Kind), By: e.By, Height: int64(e.Height), Time: e.Time.UTC()}
		if e.Reason != "" {
			r := e.Reason
			ev.Reason = &r
		}
		if e.OpHash != "" {
			o := e.OpHash
			ev.Operation = &o
		}
		out.History = append(out.History, ev)
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
