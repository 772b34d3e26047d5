// Package oid4vci is the issuer side of OpenID for Verifiable Credential
// Issuance 1.0 with the pre-authorized code flow: credential issuer and
// authorization server metadata, credential offers, pre-authorized codes
// with an optional transaction code, access tokens, c_nonces, proof of
// possession JWTs (typ openid4vci-proof+jwt) and the credential endpoint,
// which issues through the issuer instances of vc/issuer and binds each
// credential to the holder's key (cnf.jwk for dc+sd-jwt, the holder's DID
// as credentialSubject.id for ldp_vc and jwt_vc_json).
//
// Single use is enforced by the database: a pre-authorized code is
// redeemed by one conditional UPDATE, a c_nonce is spent by one INSERT
// into a table keyed by its hash, and a configuration of an offer is
// marked issued by one conditional UPDATE, so concurrent requests with one
// code or nonce succeed once.
//
// c_nonces are stateless until spent: random bytes and an expiry under an
// HMAC with a key the Service holds, so the nonce endpoint writes nothing.
//
// Personal data: an offer keeps the subject's claims only until every
// offered credential is issued or the offer (and its access token) expires;
// Sweep deletes expired offers and spent nonces, and the Service runs it
// at most once a minute when offers are created.
//
// Errors carry the OAuth / OID4VCI error code in errkind.Error.Code
// (invalid_grant, invalid_token, invalid_proof, invalid_nonce,
// unknown_credential_configuration, invalid_credential_request, ...).
package oid4vci
