// Package urbis holds what the whole module shares at its root: the REST
// contract, openapi.yaml, embedded so the server can serve it and the tests
// can validate against it.
package urbis

import _ "embed"

// OpenAPI is the REST contract, the single source of truth for routes and shapes.
//
//go:embed openapi.yaml
var OpenAPI []byte
