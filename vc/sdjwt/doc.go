// Package sdjwt issues, presents and verifies Selective Disclosure JWTs
// (RFC 9901) and SD-JWT VCs (media type dc+sd-jwt).
//
// The issuer signs a JWT whose selectively disclosable claims are replaced
// by salted SHA-256 digests and hands the holder the disclosures; the holder
// keeps only the disclosures a verifier needs and may bind the presentation
// to its key with a Key Binding JWT; the verifier rebuilds the claims.
//
// It is written on github.com/lestrrat-go/jwx/v2 rather than on
// aries-framework-go's sdjwt, which follows an early draft without sd_hash.
package sdjwt
