package registry

// Exports for the external tests (package registry_test).

// NewMemStore returns a ChainStore in memory.
func NewMemStore() ChainStore { return newMemStore() }
