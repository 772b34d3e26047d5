// Package verifiers holds verification policies. For now it verifies
// single credentials in every format Urbis issues (Data Integrity
// eddsa-rdfc-2022 and Ed25519Signature2020, JWT-VC, SD-JWT VC) and
// answers each question as a named check: proof, issuer, accreditation,
// schema and validity. It verifies presentations too; OpenID4VP
// presentation requests (the relying party) are in verifiers/oid4vp;
// per-type rules come later.
//
// The issuer's key is looked up in the DID document version in force when
// the credential says it was signed (did:urbis keeps versions), and a key
// the DID's controller declared compromised is refused whenever it
// signed. Status lists come from a ListFetcher: RemoteLists fetches
// other services' lists over HTTPS and caches them.
//
// It reads the trust and schema registries through the small Chain and
// Schemas interfaces, resolves DIDs through did.Resolver, and takes the
// time from an injected clock.
package verifiers
