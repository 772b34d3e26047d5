package issuer

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/kms"
	"github.com/urbis-id/urbis/vc"
	"github.com/urbis-id/urbis/vc/dataintegrity"
	"github.com/urbis-id/urbis/vc/ld"
	"github.com/urbis-id/urbis/vc/statuslist"
)

// StatusRecord is one status entry of an issued credential: where the
// issuing agency changes its status.
type StatusRecord struct {
	CredentialID string
	Purpose      string
	ListID       string
	Index        int
	AgencyID     string
	IssuerID     string
	CreatedAt    time.Time
	// Reason and ChangedAt are the reason given with the last change of
	// this entry through SetStatusReason and when it was made (zero if
	// never changed).
	Reason    string
	ChangedAt time.Time
}

// StatusStore keeps the status entries of issued credentials.
type StatusStore interface {
	AddStatuses(ctx context.Context, recs []StatusRecord) error
	// Statuses returns agencyID's entries of credentialID; NotFound when
	// there are none (another agency's credential included).
	Statuses(ctx context.Context, agencyID, credentialID string) ([]StatusRecord, error)
	// ListRecord returns one entry of list listID; NotFound if none.
	ListRecord(ctx context.Context, listID string) (StatusRecord, error)
	// SearchStatuses returns every entry of at most f.Limit of agencyID's
	// credentials that match f, newest credential first.
	SearchStatuses(ctx context.Context, agencyID string, f CredentialSearch) ([]StatusRecord, error)
	// NoteStatus records reason and time at on agencyID's entry of
	// credentialID for purpose; nothing if there is no such entry.
	NoteStatus(ctx context.Context, agencyID, credentialID, purpose, reason string, at time.Time) error
}

// Lists allocates status list indexes and changes statuses
// (statuslist.Allocator implements it).
type Lists interface {
	Allocate(ctx context.Context, purpose, issuer string) (statuslist.Allocation, error)
	SetStatus(ctx context.Context, listID string, index int, value bool) error
	Credential(ctx context.Context, listID, listURL string) (map[string]any, error)
}

var _ Lists = (*statuslist.Allocator)(nil)

// ListVersions reads a list's version (statuslist.Store implements it).
type ListVersions interface {
	List(ctx context.Context, listID string) (statuslist.List, error)
	// ListVersion returns the list's version and when it last changed,
	// without its bits.
	ListVersion(ctx context.Context, listID string) (uint64, time.Time, error)
}

// Statuses a credential can be set to through SetStatus.
const (
	StatusRevoked   = "revoked"
	StatusSuspended = "suspended"
	StatusActive    = "active"
)

// defaultPurposes returns the status purposes of an instance that names
// none: revocation where Urbis can sign the list (an Ed25519 DID and a
// format that carries credentialStatus), none otherwise.
func defaultPurposes(f Format, t kms.KeyType) []string {
	if f == FormatSDJWT || t != kms.Ed25519 {
		return []string{}
	}
	return []string{statuslist.PurposeRevocation}
}

// checkPurposes validates an instance's statusPurposes.
func checkPurposes(ps []string, f Format, t kms.KeyType) ([]string, error) {
	out := []string{}
	for i, p := range ps {
		if err := statuslist.CheckPurpose(p); err != nil {
			return nil, errkind.Field(errkind.Invalid, fmt.Sprintf("statusPurposes/%d", i), "%q: allowed values are revocation and suspension", p)
		}
		if slices.Contains(out, p) {
			return nil, errkind.Field(errkind.Invalid, fmt.Sprintf("statusPurposes/%d", i), "%q is listed twice", p)
		}
		out = append(out, p)
	}
	switch {
	case f == FormatSDJWT && slices.Contains(out, statuslist.PurposeSuspension):
		return nil, errkind.Field(errkind.Invalid, "statusPurposes", "a dc+sd-jwt credential carries one Token Status List reference, its revocation entry; suspension is not offered for dc+sd-jwt: use [\"revocation\"] or []")
	case len(out) > 0 && t != kms.Ed25519:
		return nil, errkind.Field(errkind.Invalid, "statusPurposes", "status list credentials are signed with eddsa-rdfc-2022, which needs an Ed25519 DID; this DID has a %s key; use []", t)
	}
	return out, nil
}

// addStatus allocates an index for each of the instance's purposes and
// puts the entries in cred's credentialStatus, giving cred an id when it
// has none. It returns the records to keep once the credential is signed.
func (s *Service) addStatus(ctx context.Context, in Instance, cred map[string]any) ([]StatusRecord, error) {
	if len(in.StatusPurposes) == 0 || s.lists == nil {
		return nil, nil
	}
	if _, ok := cred["credentialStatus"]; ok {
		if in.Format == FormatSDJWT {
			return nil, errkind.Field(errkind.Invalid, "/credential/credentialStatus", "must be absent: issuer instance %s adds the SD-JWT VC's status claim (a Token Status List reference)", in.ID)
		}
		return nil, errkind.Field(errkind.Invalid, "/credential/credentialStatus", "must be absent: issuer instance %s adds the status entries", in.ID)
	}
	id, _ := cred["id"].(string)
	if id == "" {
		if _, ok := cred["id"]; ok {
			return nil, errkind.Field(errkind.Invalid, "/credential/id", "must be a URL")
		}
		id = "urn:uuid:" + uuid()
		cred["id"] = id
	}
	var recs []StatusRecord
	var entries []any
	for _, p := range in.StatusPurposes {
		a, err := s.lists.Allocate(ctx, p, in.DID)
		if err != nil {
			return nil, err
		}
		entries = append(entries, statuslist.Entry(s.listURL(a.ListID), a.Index, p))
		recs = append(recs, StatusRecord{CredentialID: id, Purpose: p, ListID: a.ListID, Index: a.Index,
			AgencyID: in.AgencyID, IssuerID: in.ID, CreatedAt: s.clock().UTC().Truncate(time.Microsecond)})
	}
	if in.Format == FormatSDJWT {
		return recs, nil // the status claim is made from recs (tokenStatusClaim)
	}
	if len(entries) == 1 {
		cred["credentialStatus"] = entries[0]
	} else {
		cred["credentialStatus"] = entries
	}
	if contextVersion(cred) == vc.V1 {
		addStatusContext(cred) // VC 1.1 does not define the entry's terms
	}
	return recs, nil
}

// tokenStatusClaim returns the status claim of an SD-JWT VC whose status
// entries are recs (one, of purpose revocation), nil for none.
func (s *Service) tokenStatusClaim(recs []StatusRecord) map[string]any {
	for _, r := range recs {
		if r.Purpose == statuslist.PurposeRevocation {
			return statuslist.TokenClaim(s.listURL(r.ListID), r.Index)
		}
	}
	return nil
}

func (s *Service) listURL(listID string) string {
	return strings.TrimRight(s.publicURL, "/") + "/status/" + listID
}

// SetStatus sets the status of agencyID's credential credentialID:
// revoked (final), suspended, or active (lifts a suspension). Setting
// the status a credential has changes nothing. NotFound for an unknown
// credential or another agency's; Conflict to reinstate a revoked one;
// Invalid when the credential has no entry of the purpose needed. With a
// Chain, each change is first anchored as a status.update (see setBit);
// Conflict if the chain refuses it, and then nothing changes.
func (s *Service) SetStatus(ctx context.Context, agencyID, credentialID, status string) error {
	if credentialID == "" {
		return errkind.Field(errkind.Invalid, "credentialId", "is required")
	}
	if s.statuses == nil || s.lists == nil {
		return errkind.New(errkind.NotFound, "credential %s has no status entries", credentialID)
	}
	recs, err := s.statuses.Statuses(ctx, agencyID, credentialID)
	if err != nil {
		return err
	}
	find := func(p string) (StatusRecord, bool) {
		for _, r := range recs {
			if r.Purpose == p {
				return r, true
			}
		}
		return StatusRecord{}, false
	}
	rev, hasRev := find(statuslist.PurposeRevocation)
	sus, hasSus := find(statuslist.PurposeSuspension)
	switch status {
	case StatusRevoked:
		if !hasRev {
			return errkind.Field(errkind.Invalid, "credentialStatus/0/status", "credential %s has no revocation entry; its issuer instance lists no revocation purpose", credentialID)
		}
		return s.setBit(ctx, rev, true)
	case StatusSuspended, StatusActive:
		if status == StatusActive && hasRev {
			revoked, err := s.bit(ctx, rev)
			if err != nil {
				return err
			}
			if revoked {
				return errkind.New(errkind.Conflict, "credential %s is revoked; revocation is final", credentialID)
			}
		}
		if !hasSus {
			if status == StatusActive {
				return nil
			}
			return errkind.Field(errkind.Invalid, "credentialStatus/0/status", "credential %s has no suspension entry; its issuer instance lists no suspension purpose", credentialID)
		}
		return s.setBit(ctx, sus, status == StatusSuspended)
	}
	return errkind.Field(errkind.Invalid, "credentialStatus/0/status", "%q: allowed values are revoked, suspended and active", status)
}

func (s *Service) bit(ctx context.Context, r StatusRecord) (bool, error) {
	l, err := s.versions.List(ctx, r.ListID)
	if err != nil {
		return false, err
	}
	return l.Bits.Get(r.Index)
}

// StatusList is a signed status list credential as published.
type StatusList struct {
	Credential map[string]any // shared between callers: read, never change
	JSON       []byte         // Credential, encoded
	Version    uint64
}

// signedLists bounds the cache of signed status list credentials, one
// per list version: signing (RDFC canonicalization) costs far more than
// reading the list's version.
var signedLists = statuslist.CacheConfig{MaxEntries: 1024, MaxBytes: 64 << 20, TTL: 10 * time.Minute}

// StatusList returns the status list credential of listID, signed with
// eddsa-rdfc-2022 by the key of the DID of the instance that issued from
// it. NotFound for an unknown list.
func (s *Service) StatusList(ctx context.Context, listID string) (StatusList, error) {
	if s.statuses == nil || s.lists == nil {
		return StatusList{}, errkind.New(errkind.NotFound, "status list %s not found", listID)
	}
	rec, err := s.statuses.ListRecord(ctx, listID)
	if err != nil {
		return StatusList{}, err
	}
	version, updated, err := s.versions.ListVersion(ctx, listID)
	if err != nil {
		return StatusList{}, err
	}
	key := listID + "@" + strconv.FormatUint(version, 10)
	if b, ok := s.signed.Get(key); ok {
		if m, ok := s.parsedLists.get(key); ok {
			return StatusList{Credential: m, JSON: b, Version: version}, nil
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err == nil {
			s.parsedLists.put(key, m)
			return StatusList{Credential: m, JSON: b, Version: version}, nil
		}
	}
	in, err := s.store.Issuer(ctx, rec.AgencyID, rec.IssuerID)
	if err != nil {
		return StatusList{}, err
	}
	unsigned, err := s.lists.Credential(ctx, listID, s.listURL(listID))
	if err != nil {
		return StatusList{}, err
	}
	signer, vm, err := s.signer(ctx, in)
	if err != nil {
		return StatusList{}, err
	}
	if _, ok := signer.Public().(ed25519.PublicKey); !ok {
		return StatusList{}, errkind.New(errkind.Internal, "status list %s: issuer key is not Ed25519", listID)
	}
	signed, err := dataintegrity.Sign(ctx, unsigned, dataintegrity.ProofOptions{VerificationMethod: vm, Created: updated.UTC().Truncate(time.Second)}, signer, ld.Default())
	if err != nil {
		return StatusList{}, err
	}
	b, err := json.Marshal(signed)
	if err != nil {
		return StatusList{}, errkind.Wrap(errkind.Internal, err, "encode status list %s", listID)
	}
	s.signed.Put(key, b, 0)
	return StatusList{Credential: signed, JSON: b, Version: version}, nil
}

func uuid() string {
	var b [16]byte
	rand.Read(b[:]) // never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// FetchList returns the signed status list credential published at url,
// and its JSON as published, when url is one of this service's lists
// (under PublicURL/status/).
// Fetching other issuers' lists over the network is not built:
// Unsupported.
func (s *Service) FetchList(ctx context.Context, url string) (map[string]any, []byte, error) {
	prefix := strings.TrimRight(s.publicURL, "/") + "/status/"
	id, ok := strings.CutPrefix(url, prefix)
	if !ok || s.publicURL == "" || id == "" || strings.ContainsAny(id, "/?#") {
		return nil, nil, errkind.New(errkind.Unsupported, "status list %s is not published by this service; fetching status lists from elsewhere is not supported yet", url)
	}
	l, err := s.StatusList(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return l.Credential, l.JSON, nil
}

// TokenTTL is the ttl claim of a Status List Token: how long, in seconds,
// a relying party may cache it.
const TokenTTL = 60

// StatusListToken returns the Status List Token of listID
// (draft-ietf-oauth-status-list, typ statuslist+jwt, bits 1): the same
// bits as StatusList, in the token's order, signed by the key of the DID
// of the instance that issued from it. iat is when the list last
// changed, so a version has one token. NotFound for an unknown list.
func (s *Service) StatusListToken(ctx context.Context, listID string) (token string, version uint64, err error) {
	if s.statuses == nil || s.lists == nil {
		return "", 0, errkind.New(errkind.NotFound, "status list %s not found", listID)
	}
	rec, err := s.statuses.ListRecord(ctx, listID)
	if err != nil {
		return "", 0, err
	}
	version, _, err = s.versions.ListVersion(ctx, listID)
	if err != nil {
		return "", 0, err
	}
	key := listID + "@" + strconv.FormatUint(version, 10) + "#jwt"
	if b, ok := s.signed.Get(key); ok {
		return string(b), version, nil
	}
	l, err := s.versions.List(ctx, listID)
	if err != nil {
		return "", 0, err
	}
	in, err := s.store.Issuer(ctx, rec.AgencyID, rec.IssuerID)
	if err != nil {
		return "", 0, err
	}
	signer, vm, err := s.signer(ctx, in)
	if err != nil {
		return "", 0, err
	}
	tok, err := statuslist.SignToken(s.listURL(listID), l.Bits, l.Updated, TokenTTL, signer, vm)
	if err != nil {
		return "", 0, err
	}
	// The version read with the bits is the one the token shows.
	key = listID + "@" + strconv.FormatUint(l.Version, 10) + "#jwt"
	s.signed.Put(key, []byte(tok), 0)
	return tok, l.Version, nil
}

// FetchStatusToken returns the Status List Token published at uri when
// uri is one of this service's lists; Unsupported otherwise.
func (s *Service) FetchStatusToken(ctx context.Context, uri string) (string, error) {
	prefix := strings.TrimRight(s.publicURL, "/") + "/status/"
	id, ok := strings.CutPrefix(uri, prefix)
	if !ok || s.publicURL == "" || id == "" || strings.ContainsAny(id, "/?#") {
		return "", errkind.New(errkind.Unsupported, "status list %s is not published by this service; fetching status list tokens from elsewhere is not supported yet", uri)
	}
	tok, _, err := s.StatusListToken(ctx, id)
	return tok, err
}
