package did

import (
	"context"
	"crypto/x509"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

// MethodWeb is the method name of did:web.
const MethodWeb = "web"

// Defaults of WebOptions.
const (
	DefaultWebTimeout  = 5 * time.Second
	DefaultWebMaxBytes = 1 << 20
	DefaultWebTTL      = 5 * time.Minute
	maxWebRedirects    = 3
)

// WebOptions configures a WebMethod.
type WebOptions struct {
	// AllowPrivate permits fetching from private, loopback, link-local,
	// unspecified and multicast addresses (for tests and closed networks).
	AllowPrivate bool
	// Timeout bounds one resolution, DNS and TLS included
	// (DefaultWebTimeout if 0).
	Timeout time.Duration
	// MaxBytes bounds the size of did.json (DefaultWebMaxBytes if 0).
	MaxBytes int64
	// RootCAs verifies the servers' certificates (the system pool if nil).
	RootCAs *x509.CertPool
	// TTL is how long a MultiResolver caches results, unless its
	// ResolverConfig.TTL says otherwise (DefaultWebTTL if 0; negative
	// turns caching off).
	TTL time.Duration
}

// WebMethod resolves did:web identifiers
// (https://w3c-ccg.github.io/did-method-web/) by fetching did.json over
// HTTPS with a Fetcher, which checks addresses when the connection is
// dialled.
type WebMethod struct {
	opts  WebOptions
	fetch *Fetcher
}

var _ Method = (*WebMethod)(nil)

// NewWebMethod returns a did:web method with opts, defaults filled in.
func NewWebMethod(opts WebOptions) *WebMethod {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultWebTimeout
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultWebMaxBytes
	}
	if opts.TTL == 0 {
		opts.TTL = DefaultWebTTL
	}
	return &WebMethod{opts: opts, fetch: NewFetcher(FetchOptions{
		AllowPrivate: opts.AllowPrivate, Timeout: opts.Timeout, MaxBytes: opts.MaxBytes, RootCAs: opts.RootCAs,
	})}
}

// Method returns "web".
func (w *WebMethod) Method() string { return MethodWeb }

// CacheTTL returns how long results may be cached (0 for not at all).
func (w *WebMethod) CacheTTL() time.Duration { return max(w.opts.TTL, 0) }

// checkDial is the Fetcher's dial check.
func (w *WebMethod) checkDial(network, address string, c syscall.RawConn) error {
	return w.fetch.checkDial(network, address, c)
}

// WebURL returns the HTTPS URL of the did.json of a did:web DID: the
// host (with a %3A-encoded port) and optional ":"-separated path. Errors
// are of kind Invalid with code INVALID_DID.
func WebURL(id DID) (string, error) {
	if id.Method != MethodWeb {
		return "", invalidDID("%q is not a did:web", id.String())
	}
	segs := strings.Split(id.ID, ":")
	hostport, err := url.PathUnescape(segs[0])
	if err != nil {
		return "", invalidDID("did:web host %q: %v", segs[0], err)
	}
	if err := checkWebHost(hostport); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("https://")
	b.WriteString(strings.ToLower(hostport))
	if len(segs) == 1 {
		b.WriteString("/.well-known/did.json")
		return b.String(), nil
	}
	for i, seg := range segs[1:] {
		dec, err := url.PathUnescape(seg)
		switch {
		case seg == "":
			return "", invalidDID("did:web path segment %d of %q is empty", i+1, id.ID)
		case err != nil:
			return "", invalidDID("did:web path segment %q: %v", seg, err)
		case dec == "." || dec == ".." || strings.ContainsAny(dec, "/\\"):
			return "", invalidDID("did:web path segment %q is not allowed (it decodes to %q)", seg, dec)
		}
		b.WriteByte('/')
		b.WriteString(seg)
	}
	b.WriteString("/did.json")
	return b.String(), nil
}

// checkWebHost validates the decoded host[:port] of a did:web DID.
func checkWebHost(hostport string) error {
	host, port := hostport, ""
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.HasSuffix(hostport, "]") {
		host, port = hostport[:i], hostport[i+1:]
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return invalidDID("did:web port %q is not a number from 1 to 65535", port)
		}
	}
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		if ip, err := netip.ParseAddr(host[1 : len(host)-1]); err != nil || !ip.Is6() {
			return invalidDID("did:web host %q is not a valid IPv6 literal", host)
		}
		return nil
	}
	if host == "" {
		return invalidDID("did:web host is empty")
	}
	if len(host) > 253 {
		return invalidDID("did:web host has %d characters; a domain name has at most 253", len(host))
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return invalidDID("did:web host %q has an invalid label %q", host, label)
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return invalidDID("did:web host %q contains %s; a domain name has letters, digits, \"-\" and \".\"", host, quoteByte(c))
			}
		}
	}
	return nil
}

// Resolve fetches and checks the did.json of id. A missing document
// (any status but 200) gives NOT_FOUND, except 410 Gone, which resolves
// as deactivated. Refused addresses give kind Forbidden, an oversized
// document kind TooLarge, network and TLS failures kind Unavailable, and
// a document whose id is not id kind Unavailable (all INTERNAL_ERROR).
// did:web keeps no history: a versionId gives NOT_FOUND and a versionTime
// is answered with the current document. PublicKeyFormat is ignored: the
// publisher chooses the representation.
func (w *WebMethod) Resolve(ctx context.Context, id DID, opts ResolveOptions) (*Resolution, error) {
	if opts.VersionID != "" {
		return nil, errkind.New(errkind.NotFound, "%s has no version %q: did:web keeps no history", id, opts.VersionID).WithCode(CodeNotFound)
	}
	target, err := WebURL(id)
	if err != nil {
		return nil, err
	}
	resp, err := w.fetch.Get(ctx, target, "application/did+json, application/did+ld+json;q=0.9, application/json;q=0.8")
	if err != nil {
		return nil, w.fetchError(id, err)
	}
	switch {
	case resp.Status == http.StatusGone:
		return &Resolution{DocumentMetadata: DocumentMetadata{Deactivated: true}}, nil
	case resp.Status != http.StatusOK:
		return nil, errkind.New(errkind.NotFound, "%s: GET %s answered %d %s", id, target, resp.Status, http.StatusText(resp.Status)).WithCode(CodeNotFound)
	}
	doc, err := ParseDocument(resp.Body)
	if err != nil {
		return nil, errkind.Wrap(errkind.Unavailable, err, "%s: %s is not a valid DID document", id, target).WithCode(CodeInternalError)
	}
	if doc.ID != id.String() {
		return nil, errkind.New(errkind.Unavailable, "%s: %s holds the document of %q, not of %s", id, target, doc.ID, id).WithCode(CodeInternalError)
	}
	md := ResolutionMetadata{}
	if ct, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil && (ct == ContentTypeDIDJSON || ct == ContentTypeDIDLDJSON) {
		md.ContentType = ct
	}
	return &Resolution{Document: doc, ResolutionMetadata: md}, nil
}

// fetchError gives a failed fetch its DID Resolution code: NOT_FOUND
// for a refused address or an unknown host, INTERNAL_ERROR otherwise.
func (w *WebMethod) fetchError(id DID, err error) error {
	code := CodeInternalError
	switch errkind.KindOf(err) {
	case errkind.Forbidden, errkind.NotFound:
		code = CodeNotFound
	case errkind.Invalid:
		code = CodeInvalidDID
	}
	return errkind.Wrap(errkind.KindOf(err), err, "%s", id).WithCode(code)
}
