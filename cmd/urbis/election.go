package main

import (
	"path/filepath"
	"time"

	"github.com/urbis-id/urbis/civic/vote"
	"github.com/urbis-id/urbis/vc/issuer"
	"github.com/urbis-id/urbis/verifiers"
)

// newElections is the elections service of urbis serve: elections' sealed
// RSA keys are kept in DATA_DIR/elections.
func newElections(cfg *config, a *app, chain chainAccess, verifier *verifiers.Verifier, trust *verifiers.Trust, locks *issuer.Service) *vote.Service {
	return vote.NewService(vote.Config{
		Chain: chain, State: a.db, Custody: vote.AgencyCustody{DIDs: a.agencies, Keys: a.keys},
		Keys: vote.DirKeys{Dir: filepath.Join(cfg.DataDir, "elections")}, Presentations: verifier, Trust: trust,
		Locks: locks, Clock: time.Now,
	})
}
