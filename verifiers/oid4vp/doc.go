// Package oid4vp is the verifier (relying party) side of OpenID for
// Verifiable Presentations 1.0: a service asks for credentials with a
// DCQL query (or a ready-made template), Urbis signs the request object
// with one of the service's DIDs (client identifier prefix
// decentralized_identifier, typ oauth-authz-req+jwt, kid the DID URL),
// the wallet fetches it by reference (request_uri, GET) and answers with
// response mode direct_post: vp_token, a JSON object from credential
// query ids to arrays of presentations, and state.
//
// Every presentation is verified with verifiers.Verifier (proof, issuer,
// accreditation, schema, validity, status, and holder binding: the KB-JWT
// of an SD-JWT VC or the VP's proof with nonce and aud/domain = client_id),
// then matched against its credential query. The outcome keeps the
// requested claims only, never the presentations; the nonce and state are
// single use (the store answers a request once, atomically).
package oid4vp
