package api

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/urbis-id/urbis/civic/vote"
	"github.com/urbis-id/urbis/internal/errkind"
)

// Elections is the elections program's service (vote.Service).
type Elections interface {
	Create(ctx context.Context, agencyID string, req vote.CreateRequest) (vote.Election, error)
	Election(ctx context.Context, id string) (vote.Election, error)
	IssueToken(ctx context.Context, id string, req vote.TokenRequest) ([]byte, error)
	ResultCredential(ctx context.Context, id string) (vote.Tally, string, error)
	Receipt(ctx context.Context, id, nullifier string) (vote.Receipt, error)
	Close(ctx context.Context, agencyID, id string) (vote.Tally, string, error)
}

var _ Elections = (*vote.Service)(nil)

func (s *Server) electionsOn(c *gin.Context) bool {
	if s.elections == nil {
		s.abortWithError(c, errkind.New(errkind.Unsupported, "elections are not configured on this server"))
		return false
	}
	return true
}

// createElectionBody is CreateElectionRequest with the times as sent.
type createElectionBody struct {
	Did         string    `json:"did"`
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Options     []string  `json:"options"`
	Eligibility vote.Rule `json:"eligibility"`
	Opens       string    `json:"opens"`
	Closes      string    `json:"closes"`
}

// CreateElection creates an election signed by one of the agency's DIDs.
func (s *Server) CreateElection(c *gin.Context) {
	a, ok := s.caller(c)
	if !ok || !s.electionsOn(c) {
		return
	}
	var req createElectionBody
	if err := decodeJSON(c, &req); err != nil {
		s.abortWithError(c, err)
		return
	}
	e, err := s.elections.Create(c.Request.Context(), a.ID, vote.CreateRequest{
		DID: req.Did, ID: req.ID, Title: req.Title, Options: req.Options, Eligibility: req.Eligibility, Opens: req.Opens, Closes: req.Closes,
	})
	if err != nil {
		s.abortWithError(c, bodyPointer(err))
		return
	}
	c.Header("Location", "/elections/"+e.ID)
	c.JSON(http.StatusCreated, electionBody(e))
}

func electionBody(e vote.Election) Election {
	opens, _ := time.Parse(time.RFC3339, e.Opens)
	closes, _ := time.Parse(time.RFC3339, e.Closes)
	rule := EligibilityRule{CredentialType: e.Eligibility.CredentialType}
	if len(e.Eligibility.Districts) > 0 {
		d := e.Eligibility.Districts
		rule.Districts = &d
	}
	if e.Eligibility.MinAge > 0 {
		m := e.Eligibility.MinAge
		rule.MinAge = &m
	}
	return Election{
		Id: e.ID, Title: e.Title, Options: e.Options, Eligibility: rule, Opens: opens.UTC(), Closes: closes.UTC(),
		PublicKey: e.PublicKey, Authority: e.Authority, Operation: e.Operation, Height: int64(e.Height),
	}
}

// GetElection answers an election as the chain records it.
func (s *Server) GetElection(c *gin.Context, id string) {
	if !s.electionsOn(c) {
		return
	}
	e, err := s.elections.Election(c.Request.Context(), id)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.JSON(http.StatusOK, electionBody(e))
}

// RequestBallotToken checks a voter's eligibility and answers the blind
// signature of its token.
func (s *Server) RequestBallotToken(c *gin.Context, id string) {
	if !s.electionsOn(c) {
		return
	}
	var req BallotTokenRequest
	if err := decodeJSON(c, &req); err != nil {
		s.abortWithError(c, err)
		return
	}
	blinded, err := base64.RawURLEncoding.DecodeString(req.BlindedMessage)
	if err != nil {
		s.abortWithError(c, errkind.Field(errkind.Invalid, "/blindedMessage", "must be base64url without padding"))
		return
	}
	sig, err := s.elections.IssueToken(c.Request.Context(), id, vote.TokenRequest{Presentation: req.Presentation, Blinded: blinded})
	if err != nil {
		s.abortWithError(c, bodyPointer(err))
		return
	}
	c.JSON(http.StatusOK, BallotTokenResponse{BlindSignature: base64.RawURLEncoding.EncodeToString(sig)})
}

// GetElectionTally answers the live count, or the final tally with its
// credential.
func (s *Server) GetElectionTally(c *gin.Context, id string) {
	if !s.electionsOn(c) {
		return
	}
	t, cred, err := s.elections.ResultCredential(c.Request.Context(), id)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.JSON(http.StatusOK, tallyBody(t, cred))
}

func tallyBody(t vote.Tally, cred string) ElectionTally {
	out := ElectionTally{Election: t.Election, Options: t.Options, Counts: make([]int64, len(t.Counts)),
		Ballots: int64(t.Ballots), Tokens: int64(t.Tokens), Closed: t.Closed}
	counts := t.Counts
	if t.Result != nil {
		counts = t.Result.Counts
		out.Ballots, out.Tokens = int64(t.Result.Ballots), int64(t.Result.Tokens)
		h := int64(t.Result.Height)
		out.ClosedInBlock = &h
	}
	for i, n := range counts {
		out.Counts[i] = int64(n)
	}
	if cred != "" {
		out.ResultCredential = &cred
	}
	return out
}

// GetBallotReceipt answers what the chain recorded of a counted ballot.
func (s *Server) GetBallotReceipt(c *gin.Context, id, nullifier string) {
	if !s.electionsOn(c) {
		return
	}
	if _, err := hex.DecodeString(nullifier); err != nil || len(nullifier) != 64 {
		s.abortWithError(c, errkind.Field(errkind.Invalid, "nullifier", "must be the hex SHA-256 of the ballot's token (64 characters)"))
		return
	}
	r, err := s.elections.Receipt(c.Request.Context(), id, nullifier)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.JSON(http.StatusOK, BallotReceipt{Election: id, Nullifier: nullifier, Operation: r.Operation, Height: int64(r.Height), Choice: r.Choice})
}

// CloseElection records the final tally and answers it with the
// ElectionResult credential.
func (s *Server) CloseElection(c *gin.Context, id string) {
	a, ok := s.caller(c)
	if !ok || !s.electionsOn(c) {
		return
	}
	t, cred, err := s.elections.Close(c.Request.Context(), a.ID, id)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.JSON(http.StatusOK, tallyBody(t, cred))
}
