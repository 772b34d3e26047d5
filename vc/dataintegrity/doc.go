// Package dataintegrity creates and verifies W3C Data Integrity proofs
// (https://www.w3.org/TR/vc-data-integrity/) with the eddsa-rdfc-2022
// cryptosuite (https://www.w3.org/TR/vc-di-eddsa/), and verifies the
// older Ed25519Signature2020 Linked Data proofs through
// aries-framework-go.
//
// eddsa-rdfc-2022 follows the specification's algorithms step by step:
// the document and the proof configuration are canonicalized with RDF
// Dataset Canonicalization (URDNA2015, json-gold v0.4.2) into N-Quads,
// each is hashed with SHA-256, and the Ed25519 signature over the proof
// configuration hash followed by the document hash is the proofValue,
// encoded as multibase base58btc. JSON-LD contexts come only from the
// given loader (vc/ld's embedded contexts by default), never the network.
//
// Every proof made or checked here, and in vc/bbs, runs vc/ld's safe
// mode: a document with a term that JSON-LD processing would drop (a
// property or type no @context defines, an id that is not an absolute
// IRI) is refused at signing (Invalid, naming the term's JSON pointer and
// the context to add) and fails verification (naming the term: the proof
// does not cover it). See CheckTermsForSigning.
package dataintegrity
