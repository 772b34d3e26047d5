// Package statuslist implements the W3C Bitstring Status List v1.0
// (https://www.w3.org/TR/vc-bitstring-status-list/): the bitstring and its
// encodedList form, random allocation of list indexes for herd privacy,
// the credentialStatus entry and the unsigned status list credential,
// the verifier's check of an entry against a fetched list, and a bounded
// cache of fetched lists.
//
// Signing, publishing, anchoring status changes on the registry chain and
// fetching lists over the network belong to the callers. State comes
// through the Store interface, time from an injected clock.
//
// Errors are errkind kinds; where the specification names an error
// (RANGE_ERROR, STATUS_LIST_LENGTH_ERROR, ...) its name is the error's
// Code.
package statuslist

// Error codes from the specification's "Processing Errors" section, set
// as errkind.Error.Code.
const (
	CodeRetrieval    = "STATUS_RETRIEVAL_ERROR"    // the list could not be had
	CodeVerification = "STATUS_VERIFICATION_ERROR" // the entry does not match the list
	CodeListLength   = "STATUS_LIST_LENGTH_ERROR"  // the list is shorter than the minimum
	CodeRange        = "RANGE_ERROR"               // the index lies outside the list
	CodeMalformed    = "MALFORMED_VALUE_ERROR"     // a value is not what the data model says
)
