// Package wallet is the holder side of Urbis: an encrypted file of keys,
// DIDs and credentials that a citizen keeps.
//
// The file is sealed with XChaCha20-Poly1305 under a key derived from the
// passphrase with argon2id; every change replaces it atomically. The
// OpenID4VCI and OpenID4VP clients (receive, present) are not built yet.
package wallet
