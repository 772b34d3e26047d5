// Package jwtvc signs and verifies W3C Verifiable Credentials and
// Presentations in the JWT encoding of the VC Data Model 1.1 (section 6.3.1),
// the OpenID4VC format jwt_vc_json: the credential travels in the vc claim
// (the presentation in vp) and its registered properties are mirrored in
// iss, sub, nbf, exp and jti.
//
// Tokens are signed with EdDSA (Ed25519) or ES256 (P-256) through
// github.com/lestrrat-go/jwx/v2; the header kid is the DID URL of the
// signing key and its DID must be the issuer (or holder).
package jwtvc
