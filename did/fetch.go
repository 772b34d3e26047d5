package did

import (
	"context"
	"crypto/tls"
	"crypto/x509"
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

// FetchOptions configures a Fetcher.
type FetchOptions struct {
	// AllowPrivate permits fetching from private, loopback, link-local,
	// unspecified and multicast addresses (for tests and closed networks).
	AllowPrivate bool
	// Timeout bounds one fetch, DNS and TLS included (DefaultWebTimeout if 0).
	Timeout time.Duration
	// MaxBytes bounds the body (DefaultWebMaxBytes if 0).
	MaxBytes int64
	// RootCAs verifies the servers' certificates (the system pool if nil).
	RootCAs *x509.CertPool
}

// Fetcher gets small documents over HTTPS from servers on the public
// internet: did:web's did.json, status list credentials. Addresses are
// checked when the connection is dialled, so a DNS answer that changes
// between lookups cannot smuggle in a private address; there is no
// proxy (it would hide the address dialled), at most three redirects,
// all to HTTPS, a timeout and a size limit. It is safe for concurrent use.
type Fetcher struct {
	opts   FetchOptions
	client *http.Client
}

// Fetched is a response: its status, headers and, for a 200, its body.
type Fetched struct {
	Status int
	Header http.Header
	Body   []byte
}

// NewFetcher returns a Fetcher with opts, defaults filled in.
func NewFetcher(opts FetchOptions) *Fetcher {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultWebTimeout
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultWebMaxBytes
	}
	f := &Fetcher{opts: opts}
	dialer := &net.Dialer{Timeout: opts.Timeout, Control: f.checkDial}
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would hide the address being dialled
		DialContext:           dialer.DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   opts.Timeout,
		ResponseHeaderTimeout: opts.Timeout,
		MaxIdleConns:          16,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	f.client = &http.Client{
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxWebRedirects {
				return fmt.Errorf("more than %d redirects", maxWebRedirects)
			}
			if req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to non-HTTPS URL %s", req.URL.Redacted())
			}
			return nil
		},
	}
	return f
}

// Get fetches target, an https URL, asking for the media types in
// accept. The body is read only for a 200 answer. Errors are of kind
// Invalid (not an https URL), Forbidden (a refused address), NotFound
// (an unknown host), TooLarge (a body over MaxBytes), and Unavailable
// (timeouts, network and TLS failures).
func (f *Fetcher) Get(ctx context.Context, target, accept string) (Fetched, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return Fetched{}, errkind.New(errkind.Invalid, "%q is not an https URL", target)
	}
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return Fetched{}, errkind.Wrap(errkind.Invalid, err, "bad URL %q", target)
	}
	req.Header.Set("Accept", accept)
	resp, err := f.client.Do(req)
	if err != nil {
		return Fetched{}, f.fetchError(target, err)
	}
	defer resp.Body.Close()
	out := Fetched{Status: resp.StatusCode, Header: resp.Header}
	if resp.StatusCode != http.StatusOK {
		return out, nil
	}
	if resp.ContentLength > f.opts.MaxBytes {
		return Fetched{}, f.tooLarge(target)
	}
	out.Body, err = io.ReadAll(io.LimitReader(resp.Body, f.opts.MaxBytes+1))
	if err != nil {
		return Fetched{}, f.fetchError(target, err)
	}
	if int64(len(out.Body)) > f.opts.MaxBytes {
		return Fetched{}, f.tooLarge(target)
	}
	return out, nil
}

func (f *Fetcher) tooLarge(target string) error {
	return errkind.New(errkind.TooLarge, "%s is larger than the limit of %d bytes", target, f.opts.MaxBytes)
}

// fetchError classifies a failed HTTP exchange.
func (f *Fetcher) fetchError(target string, err error) error {
	var blocked *blockedAddrError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &blocked):
		return errkind.New(errkind.Forbidden, "refusing to fetch %s: %v (private addresses are not allowed)", target, blocked)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return errkind.Wrap(errkind.Unavailable, err, "GET %s timed out (limit %s)", target, f.opts.Timeout)
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return errkind.New(errkind.NotFound, "host %q does not exist", dnsErr.Name)
	}
	return errkind.Wrap(errkind.Unavailable, err, "GET %s failed", target)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// blockedAddrError reports a dial to an address that is not allowed.
type blockedAddrError struct {
	addr   netip.Addr
	reason string
}

func (e *blockedAddrError) Error() string {
	return fmt.Sprintf("address %s is %s", e.addr, e.reason)
}

// extraBlocked are special-purpose IPv4 ranges that netip has no
// predicate for.
var extraBlocked = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "in 0.0.0.0/8 (this network)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (100.64.0.0/10)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved for IETF protocol assignments"},
	{netip.MustParsePrefix("198.18.0.0/15"), "reserved for benchmarking"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved (240.0.0.0/4)"},
}

// checkDial is the net.Dialer Control hook: it refuses addresses that are
// not public unless AllowPrivate is set.
func (f *Fetcher) checkDial(_, address string, _ syscall.RawConn) error {
	if f.opts.AllowPrivate {
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
	ip = ip.Unmap()
	reason := ""
	switch {
	case ip.IsLoopback():
		reason = "loopback"
	case ip.IsPrivate():
		reason = "private"
	case ip.IsMulticast():
		reason = "multicast"
	case ip.IsLinkLocalUnicast():
		reason = "link-local"
	case ip.IsUnspecified():
		reason = "unspecified"
	default:
		for _, b := range extraBlocked {
			if b.prefix.Contains(ip) {
				reason = b.reason
				break
			}
		}
	}
	if reason != "" {
		return &blockedAddrError{addr: ip, reason: reason}
	}
	return nil
}
