package issuer

// LockSigner takes the lock under which the Service signs the chain
// operations of did (the status.update of its lists) and returns its
// release. Whoever else signs chain operations of the same DID (the agency
// service registering schemas) takes it too, so that both take the DID's
// nonces in turn.
func (s *Service) LockSigner(did string) func() { return s.chainLocks.LockSigner(did) }
