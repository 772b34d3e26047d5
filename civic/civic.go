// Package civic lists the city's programs: elections and polls, land
// titles, the city currency, energy trading and provenance. Each lives in
// a package of its own (civic/vote, civic/land, ...) that holds its
// domain rules and the registry.Program that applies its operation kinds
// on the chain; none imports gin or gorm.
package civic

import (
	"github.com/urbis-id/urbis/civic/currency"
	"github.com/urbis-id/urbis/civic/energy"
	"github.com/urbis-id/urbis/civic/land"
	"github.com/urbis-id/urbis/civic/vote"
	"github.com/urbis-id/urbis/registry"
)

// Programs returns the programs every node of an Urbis chain runs, in a
// fixed order. A chain's blocks replay only on a machine with the same
// programs, so adding one is a change of the chain's rules.
func Programs() []registry.Program {
	return []registry.Program{land.Program{}, currency.Program{}, energy.Program{}, vote.NewProgram()}
}
