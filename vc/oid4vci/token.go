package oid4vci

import (
	"context"
	"crypto/subtle"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// TokenRequest is a token request of the pre-authorized code flow.
type TokenRequest struct {
	GrantType string
	Code      string
	TxCode    string
}

// Token is an access token for the credential endpoint.
type Token struct {
	AccessToken string
	ExpiresIn   int // seconds
}

// Token exchanges a pre-authorized code (and its transaction code) for an
// access token. The code is single use: of concurrent requests with one
// code, one succeeds. MaxTxAttempts wrong transaction codes kill the code.
func (s *Service) Token(ctx context.Context, req TokenRequest) (Token, error) {
	switch {
	case req.GrantType == "":
		return Token{}, oauthError(errkind.Invalid, ErrInvalidRequest, "grant_type is required: %s", GrantPreAuthorizedCode)
	case req.GrantType != GrantPreAuthorizedCode:
		return Token{}, oauthError(errkind.Invalid, ErrUnsupportedGrantType, "grant_type %q is not supported; use %s", req.GrantType, GrantPreAuthorizedCode)
	case req.Code == "":
		return Token{}, oauthError(errkind.Invalid, ErrInvalidRequest, "pre-authorized_code is required")
	}
	o, err := s.cfg.Store.OfferByCode(ctx, hashOf(req.Code))
	if errkind.KindOf(err) == errkind.NotFound {
		return Token{}, oauthError(errkind.Invalid, ErrInvalidGrant, "the pre-authorized code is unknown or expired")
	}
	if err != nil {
		return Token{}, err
	}
	now := s.now()
	switch {
	case !now.Before(o.ExpiresAt):
		return Token{}, oauthError(errkind.Invalid, ErrInvalidGrant, "the pre-authorized code expired at %s", o.ExpiresAt.Format(time.RFC3339))
	case o.Redeemed:
		return Token{}, oauthError(errkind.Invalid, ErrInvalidGrant, "the pre-authorized code was already used (or killed by wrong transaction codes)")
	case o.TxCodeHash == "" && req.TxCode != "":
		return Token{}, oauthError(errkind.Invalid, ErrInvalidRequest, "tx_code was sent, but this offer has no transaction code")
	case o.TxCodeHash != "" && req.TxCode == "":
		return Token{}, oauthError(errkind.Invalid, ErrInvalidRequest, "tx_code is required: the %d-digit transaction code the holder received out of band", o.TxCodeLength)
	}
	if o.TxCodeHash != "" && subtle.ConstantTimeCompare([]byte(txHash(o.ID, req.TxCode)), []byte(o.TxCodeHash)) != 1 {
		n, err := s.cfg.Store.FailTxCode(ctx, o.ID, MaxTxAttempts)
		if err != nil {
			return Token{}, err
		}
		if n >= MaxTxAttempts {
			return Token{}, oauthError(errkind.Invalid, ErrInvalidGrant, "wrong transaction code; after %d wrong attempts the pre-authorized code is no longer valid", MaxTxAttempts)
		}
		return Token{}, oauthError(errkind.Invalid, ErrInvalidGrant, "wrong transaction code; %d attempts left", MaxTxAttempts-n)
	}
	tok := randomToken(32)
	exp := now.Add(s.cfg.TokenTTL).Truncate(time.Microsecond)
	purge := o.ExpiresAt
	if exp.After(purge) {
		purge = exp
	}
	failed, err := s.writes.apply(ctx, Write{Kind: WriteRedeem, ID: o.ID, TokenHash: hashOf(tok), TokenExpires: exp, PurgeAt: purge, Max: MaxTxAttempts})
	if err != nil {
		return Token{}, err
	}
	if failed >= 0 {
		return Token{}, oauthError(errkind.Invalid, ErrInvalidGrant, "the pre-authorized code was already used (or killed by wrong transaction codes)")
	}
	return Token{AccessToken: tok, ExpiresIn: int(s.cfg.TokenTTL.Seconds())}, nil
}

// authorize returns the offer of an access token; invalid_token
// (Unauthorized) when it is unknown or expired.
func (s *Service) authorize(ctx context.Context, accessToken string) (Offer, error) {
	if accessToken == "" {
		return Offer{}, oauthError(errkind.Unauthorized, ErrInvalidToken, "missing access token; send \"Authorization: Bearer <access_token>\" from the token endpoint")
	}
	o, err := s.cfg.Store.OfferByToken(ctx, hashOf(accessToken))
	if errkind.KindOf(err) == errkind.NotFound {
		return Offer{}, oauthError(errkind.Unauthorized, ErrInvalidToken, "the access token is unknown or expired")
	}
	if err != nil {
		return Offer{}, err
	}
	if !s.now().Before(o.TokenExpiresAt) {
		return Offer{}, oauthError(errkind.Unauthorized, ErrInvalidToken, "the access token expired at %s", o.TokenExpiresAt.Format(time.RFC3339))
	}
	return o, nil
}
