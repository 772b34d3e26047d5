// Package land is the land and property program: a land registry,
// accredited on the trust registry for LandTitle, issues title
// credentials (parcel, cadastral reference, owners with shares,
// encumbrances) and records on the registry chain which title is the
// current one of each parcel. A transfer is one chain operation,
// title.transfer, signed by the registry (its approval) and carrying the
// consent of every current owner (a JWS by the owner's DID key) and the
// buyers; it succeeds only if the title it presents is the current one,
// so a parcel never has two current owners. A mortgage (title.encumber,
// signed by a lender accredited for Mortgage, with every owner's consent)
// blocks transfers until the lender releases it (title.release). Every change leaves a history
// entry on the chain, which links the operation whose inclusion proof
// shows it.
//
// The package holds the rules (Program, applied by the chain's state
// machine) and the Service that issues the credentials and submits the
// operations for an agency.
package land

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// The credential types the program governs through accreditation.
const (
	TitleType    = "LandTitle" // the land registry's title credential
	MortgageType = "Mortgage"  // a lender's encumbrance credential
)

// The operation kinds of the program.
const (
	KindRegister = "title.register"
	KindTransfer = "title.transfer"
	KindEncumber = "title.encumber"
	KindRelease  = "title.release"
)

// Limits of a title.
const (
	MaxOwners = 16
	MaxShare  = 1_000_000
	maxID     = 64
)

// Owner is an owner of a parcel: a DID and a share. An owner's part of
// the parcel is its share over the sum of the shares.
type Owner struct {
	DID   string `json:"did"`
	Share int    `json:"share"`
}

// Encumbrance is an active charge on a parcel (a mortgage) that blocks
// its transfer until the lender releases it.
type Encumbrance struct {
	ID           string    `json:"id"`
	Type         string    `json:"type"` // "mortgage"
	Lender       string    `json:"lender"`
	Credential   string    `json:"credential"`   // SHA-256 (hex) of the lender's credential as issued
	CredentialID string    `json:"credentialId"` // its id, for its revocation on release
	Height       uint64    `json:"height"`
	Since        time.Time `json:"since"`
}

// Parcel is a parcel's current state on the chain.
type Parcel struct {
	ID           string        `json:"id"`
	Cadastral    string        `json:"cadastralReference"`
	Registry     string        `json:"registry"` // the DID that registered it
	Title        string        `json:"title"`    // SHA-256 (hex) of the current title credential as issued
	TitleID      string        `json:"titleId"`  // its id, for its revocation on transfer
	Owners       []Owner       `json:"owners"`
	Encumbrances []Encumbrance `json:"encumbrances"`
	Height       uint64        `json:"height"` // the block of the last change
	Updated      time.Time     `json:"updated"`
}

// Event is one entry of a parcel's history: the operation that changed
// it, in which block, and what it changed.
type Event struct {
	Parcel      string    `json:"parcel"`
	Kind        string    `json:"kind"`
	Operation   string    `json:"operation"` // the operation's hash
	Height      uint64    `json:"height"`
	Time        time.Time `json:"time"`
	Signer      string    `json:"signer"`
	Title       string    `json:"title"` // the current title after the operation
	Owners      []Owner   `json:"owners"`
	Encumbrance string    `json:"encumbrance,omitempty"` // encumber and release: its id
}

// Payloads of the operations.
type (
	// RegisterPayload records a new parcel and its first title.
	RegisterPayload struct {
		Parcel    string  `json:"parcel"`
		Cadastral string  `json:"cadastralReference"`
		Title     string  `json:"title"`
		TitleID   string  `json:"titleId"`
		Owners    []Owner `json:"owners"`
	}
	// TransferPayload moves a parcel from its current owners, who each
	// consent, to the buyers, replacing the title presented (which must
	// be current) by the new one.
	TransferPayload struct {
		Parcel     string   `json:"parcel"`
		Title      string   `json:"title"`
		NewTitle   string   `json:"newTitle"`
		NewTitleID string   `json:"newTitleId"`
		Buyers     []Owner  `json:"buyers"`
		Consents   []string `json:"consents"`
	}
	// EncumberPayload records a lender's mortgage on a parcel, with the
	// consent of every current owner.
	EncumberPayload struct {
		Parcel       string   `json:"parcel"`
		Encumbrance  string   `json:"encumbrance"`
		Credential   string   `json:"credential"`
		CredentialID string   `json:"credentialId"`
		Consents     []string `json:"consents"`
	}
	// ReleasePayload lifts a mortgage; only its lender may sign it.
	ReleasePayload struct {
		Parcel      string `json:"parcel"`
		Encumbrance string `json:"encumbrance"`
	}
)

// Consent is what a seller signs (a compact JWS whose kid is a key of
// the seller's DID): this parcel, under this title, goes to these buyers.
type Consent struct {
	Parcel string  `json:"parcel"`
	Title  string  `json:"title"`
	Buyers []Owner `json:"buyers"`
}

// MortgageConsent is what an owner signs to let a lender record a
// mortgage: this parcel, under this title, may carry this lender's
// encumbrance of this id.
type MortgageConsent struct {
	Parcel      string `json:"parcel"`
	Title       string `json:"title"`
	Encumbrance string `json:"encumbrance"`
	Lender      string `json:"lender"`
}

// ParcelKey is the state key of a parcel.
func ParcelKey(id string) string { return "land/parcel/" + id }

// HistoryPrefix is the prefix of the state keys of a parcel's history.
func HistoryPrefix(id string) string { return ParcelKey(id) + "/hist/" }

func historyKey(id string, height uint64, op string) string {
	return fmt.Sprintf("%s%012d/%s", HistoryPrefix(id), height, op)
}

// CheckID accepts parcel and encumbrance ids: 1 to 64 letters, digits,
// '.', '_', ':' or '-'.
func CheckID(field, id string) error {
	if id == "" || len(id) > maxID {
		return errkind.Field(errkind.Invalid, field, "must have 1 to %d characters; got %d", maxID, len(id))
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return errkind.Field(errkind.Invalid, field, "%q holds %q; use letters, digits, '.', '_', ':' and '-'", id, c)
		}
	}
	return nil
}

// checkHash accepts a lowercase hex SHA-256.
func checkHash(field, h string) error {
	if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		return errkind.Field(errkind.Invalid, field, "must be the lowercase hex SHA-256 of a credential as issued (64 characters)")
	}
	return nil
}

// CheckOwners accepts 1 to MaxOwners owners with distinct DIDs that the
// chain can resolve (did:key, did:jwk, did:urbis) and shares of 1 to
// MaxShare.
func CheckOwners(field string, owners []Owner) error {
	if len(owners) == 0 || len(owners) > MaxOwners {
		return errkind.Field(errkind.Invalid, field, "must list 1 to %d owners; got %d", MaxOwners, len(owners))
	}
	seen := map[string]bool{}
	for i, o := range owners {
		f := fmt.Sprintf("%s/%d", field, i)
		if !strings.HasPrefix(o.DID, "did:key:") && !strings.HasPrefix(o.DID, "did:jwk:") && !strings.HasPrefix(o.DID, "did:urbis:") {
			return errkind.Field(errkind.Invalid, f+"/did", "%q: an owner is a did:key, did:jwk or did:urbis DID, whose key the chain can check the owner's consent with", o.DID)
		}
		if seen[o.DID] {
			return errkind.Field(errkind.Invalid, f+"/did", "%s is listed twice", o.DID)
		}
		seen[o.DID] = true
		if o.Share < 1 || o.Share > MaxShare {
			return errkind.Field(errkind.Invalid, f+"/share", "must be an integer from 1 to %d (an owner's part is its share over the sum of the shares); got %d", MaxShare, o.Share)
		}
	}
	return nil
}

// sameOwners reports whether a and b list the same owners in the same order.
func sameOwners(a, b []Owner) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// decode decodes a payload strictly: one JSON object, no unknown fields.
func decode(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errkind.Wrap(errkind.Invalid, err, "malformed payload")
	}
	if dec.More() {
		return errkind.New(errkind.Invalid, "malformed payload: more than one JSON value")
	}
	return nil
}

func (p *RegisterPayload) check() error {
	if err := CheckID("parcel", p.Parcel); err != nil {
		return err
	}
	if strings.TrimSpace(p.Cadastral) == "" || len(p.Cadastral) > 128 {
		return errkind.Field(errkind.Invalid, "cadastralReference", "must have 1 to 128 characters")
	}
	if err := checkHash("title", p.Title); err != nil {
		return err
	}
	if p.TitleID == "" || len(p.TitleID) > 256 {
		return errkind.Field(errkind.Invalid, "titleId", "must be the title credential's id (1 to 256 characters)")
	}
	return CheckOwners("owners", p.Owners)
}

func (p *TransferPayload) check() error {
	if err := CheckID("parcel", p.Parcel); err != nil {
		return err
	}
	if err := checkHash("title", p.Title); err != nil {
		return err
	}
	if err := checkHash("newTitle", p.NewTitle); err != nil {
		return err
	}
	if p.NewTitle == p.Title {
		return errkind.Field(errkind.Invalid, "newTitle", "must differ from the title it replaces")
	}
	if p.NewTitleID == "" || len(p.NewTitleID) > 256 {
		return errkind.Field(errkind.Invalid, "newTitleId", "must be the new title credential's id (1 to 256 characters)")
	}
	if err := CheckOwners("buyers", p.Buyers); err != nil {
		return err
	}
	return checkConsentCount(p.Consents)
}

func (p *EncumberPayload) check() error {
	if err := CheckID("parcel", p.Parcel); err != nil {
		return err
	}
	if err := CheckID("encumbrance", p.Encumbrance); err != nil {
		return err
	}
	if err := checkHash("credential", p.Credential); err != nil {
		return err
	}
	if p.CredentialID == "" || len(p.CredentialID) > 256 {
		return errkind.Field(errkind.Invalid, "credentialId", "must be the mortgage credential's id (1 to 256 characters)")
	}
	return checkConsentCount(p.Consents)
}

func checkConsentCount(consents []string) error {
	if len(consents) == 0 || len(consents) > MaxOwners {
		return errkind.Field(errkind.Invalid, "consents", "must hold 1 to %d consents, one per current owner", MaxOwners)
	}
	return nil
}

func (p *ReleasePayload) check() error {
	if err := CheckID("parcel", p.Parcel); err != nil {
		return err
	}
	return CheckID("encumbrance", p.Encumbrance)
}
