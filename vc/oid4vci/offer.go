package oid4vci

import (
	"context"
	"crypto/rand"
	"math/big"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// Transaction code lengths and offer lifetimes an agency may ask for.
const (
	MinTxCodeLength     = 4
	MaxTxCodeLength     = 8
	DefaultTxCodeLength = 6
	MaxOfferTTL         = 7 * 24 * time.Hour
	sweepEvery          = time.Minute
)

// OfferRequest is what an agency asks for when it makes an offer.
type OfferRequest struct {
	// IssuerID is the agency's issuer instance; when empty, the instance
	// of the first of ConfigurationIDs.
	IssuerID string
	// ConfigurationIDs, when empty, offers every type of the instance.
	ConfigurationIDs []string
	// Claims are the credentialSubject claims, without id: the holder's
	// DID or key is bound at issuance from the proof.
	Claims map[string]any
	// TxCode asks for a numeric transaction code of TxCodeLength digits
	// (DefaultTxCodeLength when 0), described to the holder by
	// TxCodeDescription.
	TxCode            bool
	TxCodeLength      int
	TxCodeDescription string
	// ExpiresIn is the lifetime of the offer and its code; 0 means the
	// configured OfferTTL.
	ExpiresIn time.Duration
}

// CredentialOffer is the credential offer object (OID4VCI 1.0, section 4.1.1).
type CredentialOffer struct {
	CredentialIssuer string                   `json:"credential_issuer"`
	ConfigurationIDs []string                 `json:"credential_configuration_ids"`
	Grants           map[string]PreAuthorized `json:"grants"`
}

// PreAuthorized is the pre-authorized code grant of an offer.
type PreAuthorized struct {
	Code   string      `json:"pre-authorized_code"`
	TxCode *TxCodeSpec `json:"tx_code,omitempty"`
}

// TxCodeSpec tells the wallet what transaction code to ask the holder for.
type TxCodeSpec struct {
	InputMode   string `json:"input_mode,omitempty"`
	Length      int    `json:"length,omitempty"`
	Description string `json:"description,omitempty"`
}

// Created is a new offer as its agency sees it, once.
type Created struct {
	// Ref is the offer's unguessable reference in its URL.
	Ref      string
	Offer    CredentialOffer
	OfferURI string // the credential_offer_uri the wallet fetches
	URI      string // openid-credential-offer://?credential_offer_uri=...
	// TxCode is the transaction code to give the holder out of band.
	TxCode    string
	ExpiresAt time.Time
}

// OfferURI is the credential_offer_uri of the offer ref.
func (s *Service) OfferURI(ref string) string {
	return s.cfg.IssuerURL + "/oid4vci/offers/" + ref
}

// CreateOffer makes an offer of credentials of agencyID's issuer instance
// for the claims. Another agency's instance is NotFound. Errors name their
// field as a JSON pointer into the request body.
func (s *Service) CreateOffer(ctx context.Context, agencyID string, req OfferRequest) (Created, error) {
	if req.IssuerID == "" && len(req.ConfigurationIDs) > 0 {
		// The configurations name their instance.
		if inst, _, ok := splitConfigurationID(req.ConfigurationIDs[0]); ok {
			req.IssuerID = inst
		}
	}
	if req.IssuerID == "" {
		return Created{}, errkind.Field(errkind.Invalid, "/issuerId", "is required (or credentialConfigurationIds): the issuer instance that issues the offered credentials (GET /issuers lists them)")
	}
	in, err := s.cfg.Instances.Get(ctx, agencyID, req.IssuerID)
	if err != nil {
		if errkind.KindOf(err) == errkind.NotFound {
			return Created{}, errkind.Field(errkind.NotFound, "/issuerId", "the agency has no issuer instance %s", req.IssuerID)
		}
		return Created{}, err
	}
	if !Offered(in.Format) {
		return Created{}, errkind.Field(errkind.Invalid, "/issuerId", "issuer instance %s issues %s, which is not offered over OpenID4VCI (ldp_vc, jwt_vc_json and dc+sd-jwt are)", in.ID, in.Format)
	}
	ids := req.ConfigurationIDs
	if len(ids) == 0 {
		for _, t := range in.Types {
			ids = append(ids, ConfigurationID(in.ID, t))
		}
	}
	for i, id := range ids {
		inst, typ, ok := splitConfigurationID(id)
		if !ok || inst != in.ID || !slices.Contains(in.Types, typ) {
			return Created{}, errkind.Field(errkind.Invalid, "/credentialConfigurationIds/"+strconv.Itoa(i), "%q is not a configuration of issuer instance %s; its configurations are %s:<type> for the types %v", id, in.ID, in.ID, in.Types)
		}
		if slices.Contains(ids[:i], id) {
			return Created{}, errkind.Field(errkind.Invalid, "/credentialConfigurationIds/"+strconv.Itoa(i), "%q is listed twice", id)
		}
	}
	if req.Claims == nil {
		return Created{}, errkind.Field(errkind.Invalid, "/credentialSubject", "is required: the subject's claims (an object)")
	}
	if _, ok := req.Claims["id"]; ok {
		return Created{}, errkind.Field(errkind.Invalid, "/credentialSubject/id", "must be absent: the holder's DID or key is bound at issuance from the wallet's proof")
	}
	ttl := s.cfg.OfferTTL
	if req.ExpiresIn != 0 {
		if req.ExpiresIn < time.Second || req.ExpiresIn > MaxOfferTTL {
			return Created{}, errkind.Field(errkind.Invalid, "/expiresIn", "must be between 1 and %d seconds", int(MaxOfferTTL.Seconds()))
		}
		ttl = req.ExpiresIn
	}
	now := s.now()
	s.maybeSweep(ctx, now)
	ref := randomToken(24)
	o := Offer{
		ID: hashOf(ref), AgencyID: agencyID, IssuerID: in.ID, Format: string(in.Format), ConfigurationIDs: ids, Claims: req.Claims,
		CodeHash: hashOf(codeFor(ref)), ExpiresAt: now.Add(ttl).Truncate(time.Microsecond),
		CreatedAt: now.Truncate(time.Microsecond), Issued: []string{},
	}
	o.PurgeAt = o.ExpiresAt
	grant := PreAuthorized{Code: codeFor(ref)}
	out := Created{Ref: ref, OfferURI: s.OfferURI(ref), ExpiresAt: o.ExpiresAt}
	if req.TxCode {
		n := req.TxCodeLength
		if n == 0 {
			n = DefaultTxCodeLength
		}
		if n < MinTxCodeLength || n > MaxTxCodeLength {
			return Created{}, errkind.Field(errkind.Invalid, "/txCode/length", "must be between %d and %d digits; got %d", MinTxCodeLength, MaxTxCodeLength, n)
		}
		if len(req.TxCodeDescription) > 300 {
			return Created{}, errkind.Field(errkind.Invalid, "/txCode/description", "must be at most 300 characters")
		}
		out.TxCode = digits(n)
		o.TxCodeHash, o.TxCodeLength, o.TxCodeDescription = txHash(o.ID, out.TxCode), n, req.TxCodeDescription
		grant.TxCode = &TxCodeSpec{InputMode: "numeric", Length: n, Description: req.TxCodeDescription}
	}
	if _, err := s.writes.apply(ctx, Write{Kind: WriteCreateOffer, Offer: o}); err != nil {
		return Created{}, err
	}
	out.Offer = s.offerObject(o, grant)
	out.URI = s.offerLink(ref)
	return out, nil
}

func (s *Service) offerObject(o Offer, grant PreAuthorized) CredentialOffer {
	return CredentialOffer{
		CredentialIssuer: s.cfg.IssuerURL,
		ConfigurationIDs: o.ConfigurationIDs,
		Grants:           map[string]PreAuthorized{GrantPreAuthorizedCode: grant},
	}
}

// Offer returns the credential offer object that ref names, for the
// wallet that fetches the credential_offer_uri. An unknown or expired
// offer is NotFound.
func (s *Service) Offer(ctx context.Context, ref string) (CredentialOffer, error) {
	o, err := s.cfg.Store.Offer(ctx, hashOf(ref))
	if err != nil {
		return CredentialOffer{}, err
	}
	if !s.now().Before(o.ExpiresAt) {
		return CredentialOffer{}, errkind.New(errkind.NotFound, "the credential offer has expired")
	}
	grant := PreAuthorized{Code: codeFor(ref)}
	if o.TxCodeHash != "" {
		grant.TxCode = &TxCodeSpec{InputMode: "numeric", Length: o.TxCodeLength, Description: o.TxCodeDescription}
	}
	return s.offerObject(o, grant), nil
}

// OfferLink returns the openid-credential-offer:// URI of the offer ref
// and when the offer expires, for its QR code. An unknown or expired offer
// is NotFound.
func (s *Service) OfferLink(ctx context.Context, ref string) (string, time.Time, error) {
	o, err := s.cfg.Store.Offer(ctx, hashOf(ref))
	if err != nil {
		return "", time.Time{}, err
	}
	if !s.now().Before(o.ExpiresAt) {
		return "", time.Time{}, errkind.New(errkind.NotFound, "the credential offer has expired")
	}
	return s.offerLink(ref), o.ExpiresAt, nil
}

// offerLink is the openid-credential-offer:// URI of the offer ref.
func (s *Service) offerLink(ref string) string {
	return "openid-credential-offer://?credential_offer_uri=" + url.QueryEscape(s.OfferURI(ref))
}

// digits returns n random decimal digits.
func digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		d, _ := rand.Int(rand.Reader, big.NewInt(10)) // never fails
		b[i] = byte('0' + d.Int64())
	}
	return string(b)
}

// txHash is the stored form of a transaction code, salted by the offer.
func txHash(offerID, code string) string { return hashOf(offerID + ":" + code) }

// maybeSweep deletes expired offers and spent nonces at most once a minute.
func (s *Service) maybeSweep(ctx context.Context, now time.Time) {
	s.mu.Lock()
	due := now.Sub(s.lastSweep) >= sweepEvery
	if due {
		s.lastSweep = now
	}
	s.mu.Unlock()
	if due {
		_ = s.cfg.Store.Sweep(ctx, now) // retried a minute later
	}
}

// Sweep deletes the offers whose claims may no longer be used (expired,
// and past their access token) and the expired spent nonces.
func (s *Service) Sweep(ctx context.Context) error { return s.cfg.Store.Sweep(ctx, s.now()) }
