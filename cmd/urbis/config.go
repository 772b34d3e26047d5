package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// config is the typed, validated configuration of every command. It is
// loaded once from flags, then URBIS_* environment variables for flags
// that were not given.
type config struct {
	Addr               string
	DataDir            string
	DatabaseURL        string
	PublicURL          string
	TLSCert            string
	TLSKey             string
	LogLevel           string
	MasterKeyFile      string
	DIDWebAllowPrivate bool
	DIDWebCAFile       string
	DIDWebTTL          time.Duration
	RateLimit          float64
	RateBurst          int
	MaxBodyBytes       int64
	ShutdownTimeout    time.Duration
	BlockInterval      time.Duration
	MaxBlockOps        int
	AnchorInterval     time.Duration
	AnchorMaxBatch     int
	OfferTTL           time.Duration
	TokenTTL           time.Duration
	NonceTTL           time.Duration
	BatchSize          int
	VPRequestTTL       time.Duration
	VPResultTTL        time.Duration
	VPWebhookPrivate   bool
}

// bindStorage adds the flags every command that touches the database needs.
func (c *config) bindStorage(fs *pflag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", "./data", "directory for the SQLite database and the master key")
	fs.StringVar(&c.DatabaseURL, "database-url", "", "database: a postgres:// URL, or a SQLite file (default <data-dir>/urbis.db)")
	fs.StringVar(&c.MasterKeyFile, "master-key-file", "", "file holding the key-custody master key (default <data-dir>/master.key; URBIS_MASTER_KEY holds it inline)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
}

// bindServe adds the flags of `urbis serve`.
func (c *config) bindServe(fs *pflag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.PublicURL, "public-url", "", "base URL written into DIDs, status lists and offers (default http://<addr>)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "TLS certificate file (PEM); with --tls-key, serve HTTPS")
	fs.StringVar(&c.TLSKey, "tls-key", "", "TLS private key file (PEM)")
	fs.BoolVar(&c.DIDWebAllowPrivate, "did-web-allow-private", false, "let did:web resolve hosts on private and loopback addresses (tests, private networks)")
	fs.StringVar(&c.DIDWebCAFile, "did-web-ca-file", "", "extra CA certificates (PEM) trusted for did:web hosts")
	fs.DurationVar(&c.DIDWebTTL, "did-web-ttl", 5*time.Minute, "how long a resolved did:web document is cached")
	fs.Float64Var(&c.RateLimit, "rate-limit", 50, "requests per second one client may make to public endpoints (0: no limit)")
	fs.IntVar(&c.RateBurst, "rate-burst", 100, "burst above --rate-limit")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", 1<<20, "largest request body accepted")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 15*time.Second, "how long to let in-flight requests finish on SIGTERM")
	fs.DurationVar(&c.BlockInterval, "block-interval", 250*time.Millisecond, "the registry makes a block of pending operations this often")
	fs.IntVar(&c.MaxBlockOps, "max-block-ops", 5000, "most operations in one block; a tenth of this many pending start a block at once")
	fs.DurationVar(&c.AnchorInterval, "anchor-interval", time.Second, "how often the hashes of issued credentials are anchored on the registry (one Merkle root per issuer DID)")
	fs.IntVar(&c.AnchorMaxBatch, "anchor-max-batch", 10000, "most issued credentials one anchor operation covers")
	fs.DurationVar(&c.OfferTTL, "offer-ttl", 5*time.Minute, "OpenID4VCI: default lifetime of a credential offer and its pre-authorized code")
	fs.DurationVar(&c.TokenTTL, "token-ttl", 5*time.Minute, "OpenID4VCI: lifetime of an access token")
	fs.DurationVar(&c.NonceTTL, "nonce-ttl", 5*time.Minute, "OpenID4VCI: lifetime of a c_nonce, and the oldest iat a proof may have")
	fs.IntVar(&c.BatchSize, "batch-size", 10, "OpenID4VCI: most proofs (credentials) in one credential request")
	fs.DurationVar(&c.VPRequestTTL, "vp-request-ttl", 5*time.Minute, "how long a wallet may answer an OpenID4VP presentation request")
	fs.DurationVar(&c.VPResultTTL, "vp-result-ttl", time.Hour, "how long after its expiry an unread OpenID4VP result (verified claims) is kept")
	fs.BoolVar(&c.VPWebhookPrivate, "vp-webhook-allow-private", false, "let OpenID4VP result webhooks go to private and loopback addresses, over http too (tests, private networks)")
}

// applyEnv sets every flag not given on the command line from its
// URBIS_* variable: --data-dir from URBIS_DATA_DIR, and so on.
func applyEnv(fs *pflag.FlagSet, getenv func(string) string) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		name := "URBIS_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %v", name, v, e)
			}
		}
	})
	return err
}

// finish fills in defaults that depend on other settings and validates.
func (c *config) finish(serving bool) error {
	if c.DataDir == "" {
		return fmt.Errorf("--data-dir must not be empty")
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = filepath.Join(c.DataDir, "urbis.db")
	}
	if c.MasterKeyFile == "" {
		c.MasterKeyFile = filepath.Join(c.DataDir, "master.key")
	}
	if _, err := c.level(); err != nil {
		return err
	}
	if !serving {
		return nil
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("--addr %q is not host:port: %v", c.Addr, err)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together; give both or neither")
	}
	if c.PublicURL == "" {
		scheme := "http"
		if c.TLSCert != "" {
			scheme = "https"
		}
		c.PublicURL = scheme + "://" + c.Addr
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--public-url %q must be an absolute http or https URL", c.PublicURL)
	}
	if c.RateLimit < 0 || c.RateBurst < 0 {
		return fmt.Errorf("--rate-limit and --rate-burst must not be negative")
	}
	if c.BlockInterval < time.Millisecond || c.MaxBlockOps < 1 {
		return fmt.Errorf("--block-interval must be at least 1ms and --max-block-ops at least 1")
	}
	if c.AnchorInterval < time.Millisecond || c.AnchorMaxBatch < 1 {
		return fmt.Errorf("--anchor-interval must be at least 1ms and --anchor-max-batch at least 1")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--offer-ttl", c.OfferTTL}, {"--token-ttl", c.TokenTTL}, {"--nonce-ttl", c.NonceTTL}} {
		if d.v < time.Second || d.v > 7*24*time.Hour {
			return fmt.Errorf("%s %s must be between 1s and 168h", d.name, d.v)
		}
	}
	if c.BatchSize < 1 || c.BatchSize > 100 {
		return fmt.Errorf("--batch-size %d must be between 1 and 100", c.BatchSize)
	}
	if c.MaxBodyBytes < 1024 {
		return fmt.Errorf("--max-body-bytes %d is below the 1024 minimum", c.MaxBodyBytes)
	}
	return nil
}

func (c *config) level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}
