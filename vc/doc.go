// Package vc is the W3C Verifiable Credentials data model, versions 1.1
// and 2.0: credentials and presentations as parsed JSON with typed
// accessors, validated against the rules of the specifications.
//
// A Credential keeps the whole JSON object it was parsed from, so proof
// formats (Data Integrity in vc/dataintegrity, JWT-VC, SD-JWT VC) sign
// and verify exactly what the issuer wrote, and no property is lost.
// JSON-LD contexts are served by vc/ld, from embedded documents only.
//
// Errors are of kind errkind.Invalid and name the offending member with a
// JSON pointer ("/credentialSubject/0/id").
package vc
