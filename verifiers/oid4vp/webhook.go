package oid4vp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// Webhooks posts results to the URL a service gave when it created the
// request. Like did:web resolution it refuses private, loopback,
// link-local and other non-public addresses (checked on the address it
// connects to, so DNS cannot smuggle one in) unless AllowPrivate is set.
// There are no retries: a failed delivery is recorded in the outcome and
// the service can still poll.
type Webhooks struct {
	client       *http.Client
	allowPrivate bool
}

// NewWebhooks returns a Webhooks with timeout per delivery (0 means 10 s).
func NewWebhooks(timeout time.Duration, allowPrivate bool) *Webhooks {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	w := &Webhooks{allowPrivate: allowPrivate}
	dialer := &net.Dialer{Timeout: timeout, Control: w.checkDial}
	w.client = &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{DialContext: dialer.DialContext, Proxy: nil, MaxIdleConns: 4, IdleConnTimeout: 30 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("webhooks do not follow redirects")
		},
	}
	return w
}

// CheckURL refuses a webhook URL that is not an absolute https URL (http
// too when private targets are allowed, for development) or that names a
// non-public IP address.
func (w *Webhooks) CheckURL(raw string) error {
	const field = "/webhookUrl"
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errkind.Field(errkind.Invalid, field, "must be an absolute https URL")
	}
	if u.Scheme == "http" && !w.allowPrivate {
		return errkind.Field(errkind.Invalid, field, "must be an https URL")
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
		if reason := blocked(ip); reason != "" && !w.allowPrivate {
			return errkind.Field(errkind.Forbidden, field, "names a %s address; webhooks go to public addresses only", reason)
		}
	} else if u.Hostname() == "localhost" && !w.allowPrivate {
		return errkind.Field(errkind.Forbidden, field, "names localhost; webhooks go to public addresses only")
	}
	return nil
}

func (w *Webhooks) checkDial(_, address string, _ syscall.RawConn) error {
	if w.allowPrivate {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	if reason := blocked(ip); reason != "" {
		return fmt.Errorf("refusing to connect to %s: a %s address", ip, reason)
	}
	return nil
}

func blocked(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate():
		return "private"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "link-local"
	case ip.IsMulticast():
		return "multicast"
	case ip.IsUnspecified():
		return "unspecified"
	case netip.MustParsePrefix("100.64.0.0/10").Contains(ip):
		return "shared (CGNAT)"
	}
	return ""
}

// WebhookBody is what a webhook receives: the request id and its outcome.
type WebhookBody struct {
	ID             string                 `json:"id"`
	Status         Status                 `json:"status"`
	VerifiedClaims map[string][]Presented `json:"verifiedClaims"`
	Checks         []string               `json:"checks"`
	Errors         []Finding              `json:"errors"`
}

// post sends body to target and reports why it failed, or nil.
func (w *Webhooks) post(ctx context.Context, target string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the webhook answered %d", resp.StatusCode)
	}
	return nil
}

// deliver posts the outcome to the request's webhook and records the
// delivery in the outcome. Once delivered, the claims are erased from
// storage: the service has them.
func (s *Service) deliver(ctx context.Context, r Request, o Outcome) {
	status := "delivered"
	err := s.cfg.Webhooks.post(ctx, r.WebhookURL, WebhookBody{ID: r.ID, Status: o.Status, VerifiedClaims: o.Claims, Checks: o.Checks, Errors: o.Errors})
	if err != nil {
		status = "failed: " + err.Error()
	}
	// The outcome was stored before delivery; a failure to record the
	// delivery leaves it as it was, and the service can still poll.
	_ = s.cfg.Store.SetVPWebhook(ctx, r.ID, status, err == nil)
}
