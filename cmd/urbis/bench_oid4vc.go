package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/vc/sdjwt"
	"github.com/urbis-id/urbis/verifiers/oid4vp"
)

// benchOID4VCCommands are `urbis bench oid4vci` and `urbis bench oid4vp`.
func (p *program) benchOID4VCCommands() []*cobra.Command {
	return []*cobra.Command{p.benchOID4VCCommand("oid4vci"), p.benchOID4VCCommand("oid4vp")}
}

func (p *program) benchOID4VCCommand(kind string) *cobra.Command {
	var o oid4vcBenchOptions
	short := "Measure complete OpenID4VCI pre-authorized issuance flows over HTTP against the single-row fsync commit rate"
	long := `Measures, in one run, how many one-row INSERT transactions per second a
SQLite file with the store's pragmas (WAL, synchronous=FULL) commits
sequentially for 3 s (the baseline), then starts urbis serve as a child
process on a fresh data directory with --rate-limit 0, creates an agency, an
Ed25519 did:key and an issuer instance (--format; statusPurposes
["revocation"] except for dc+sd-jwt, which carries no status here), and runs --concurrency simulated wallets for --duration,
each with its own Ed25519 did:key. One flow is: the agency POSTs
/oid4vci/offers with a transaction code; the wallet GETs the
credential_offer_uri, POSTs /oid4vci/token with the pre-authorized code and
tx_code, POSTs /oid4vci/nonce, and POSTs /oid4vci/credential with a proof
JWT signed with its key for that c_nonce. A flow counts when the credential
arrives. It reports flows per second, their ratio to the baseline, p50/p99
of a flow and of its credential request, errors, and the server's peak
resident memory, and the CPU time (user+sys) per flow of the server and of
the bench itself.`
	if kind == "oid4vp" {
		short = "Measure complete OpenID4VP presentation flows over HTTP against the raw Ed25519 verify rate"
		long = `Measures, in one run, the raw EdDSA compact-JWS verification rate of this
machine with github.com/lestrrat-go/jwx/v2/jws on all its cores for 3 s (the
baseline), then starts urbis serve as a child process on a fresh data
directory with --rate-limit 0, creates an agency, a verifier DID, an issuer
DID and a dc+sd-jwt issuer instance of ResidentCredential, and issues every
simulated wallet (--concurrency of them, each with its own Ed25519 did:key)
a ResidentCredential with key binding through POST /credentials/issue. For
--duration, each wallet then runs flows: the shop (the agency) POSTs
/verifier/requests with --template (residency or age_over); with --qr
fetch it then GETs the request's qrUrl, as a page that shows the QR code
with <img src> would, and with --qr inline it asks for the PNG in the
answer (qrCode true); by default (--qr none) no QR code PNG is rendered, as
in a same-device flow or a page that renders uri itself, so the run
measures the presentation flow, not PNG encoding. The wallet GETs
the request object and checks its signature, presents its SD-JWT VC with
only the requested claims disclosed and a KB-JWT (nonce of the request,
aud = client_id), POSTs vp_token and state to the response_uri
(direct_post), and the shop GETs /verifier/requests/{id}, which must say
verified. A presentation verification is a direct_post answered 200 after
the verifier checked the presentation and committed the outcome; each flow
has exactly one, and a flow counts only when the shop reads "verified". It
reports verifications (= complete flows) per second, their ratio to the
baseline, p50/p99 of a flow and of its direct_post, errors, the server's
peak resident memory, and the CPU time (user+sys) per flow of the server
and of the bench itself.`
	}
	cmd := &cobra.Command{
		Use:   kind,
		Short: short,
		Long:  long,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(o.output, "text", "json"); err != nil {
				return err
			}
			if kind == "oid4vci" && !slices.Contains([]string{"dc+sd-jwt", "jwt_vc_json", "ldp_vc"}, o.format) {
				return fmt.Errorf("--format %q: want dc+sd-jwt, jwt_vc_json or ldp_vc", o.format)
			}
			if kind == "oid4vp" && o.template != "residency" && o.template != "age_over" {
				return fmt.Errorf("--template %q: want residency or age_over", o.template)
			}
			if kind == "oid4vp" && !slices.Contains([]string{"none", "fetch", "inline"}, o.qr) {
				return fmt.Errorf("--qr %q: want none, fetch or inline", o.qr)
			}
			if o.concurrency < 1 {
				return fmt.Errorf("--concurrency must be at least 1")
			}
			if o.binary == "" {
				exe, err := os.Executable()
				if err != nil {
					return err
				}
				o.binary = exe
			}
			return p.benchOID4VC(cmd.Context(), kind, o)
		},
	}
	cmd.Flags().DurationVar(&o.duration, "duration", 10*time.Second, "how long the load runs")
	cmd.Flags().IntVar(&o.concurrency, "concurrency", 32, "simulated wallets, each running one flow at a time")
	cmd.Flags().StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&o.binary, "binary", "", "urbis binary to start (default: this one)")
	if kind == "oid4vci" {
		cmd.Flags().StringVar(&o.format, "format", "jwt_vc_json", "format of the issuer instance: jwt_vc_json, dc+sd-jwt or ldp_vc (dc+sd-jwt: no status entry)")
	} else {
		cmd.Flags().StringVar(&o.template, "template", "residency", "request template: residency or age_over")
		cmd.Flags().StringVar(&o.qr, "qr", "none", "QR code PNG per flow: none (not rendered), fetch (the shop GETs qrUrl, rendered then) or inline (qrCode true: in the POST answer)")
	}
	return cmd
}

type oid4vcBenchOptions struct {
	duration    time.Duration
	concurrency int
	output      string
	binary      string
	format      string
	template    string
	qr          string // oid4vp: none, fetch or inline
}

// benchWallet is a simulated wallet with its own Ed25519 did:key.
type benchWallet struct {
	priv ed25519.PrivateKey
	did  string
	kid  string
	cred string // oid4vp: its dc+sd-jwt ResidentCredential
}

func newBenchWallet() (*benchWallet, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	d, err := did.NewKey(pub)
	if err != nil {
		return nil, err
	}
	return &benchWallet{priv: priv, did: d.String(), kid: d.String() + "#" + strings.TrimPrefix(d.String(), "did:key:")}, nil
}

// flowStats is the outcome of a flow load.
type flowStats struct {
	Name          string  `json:"name"`
	Flows         int     `json:"flows"`
	Errors        int     `json:"errors"`
	PerSecond     float64 `json:"per_second"`
	Ratio         float64 `json:"ratio_to_baseline"`
	P50Millis     float64 `json:"p50_ms"`
	P99Millis     float64 `json:"p99_ms"`
	StepName      string  `json:"step"`
	StepP50Millis float64 `json:"step_p50_ms"`
	StepP99Millis float64 `json:"step_p99_ms"`
	PeakRSSMiB    float64 `json:"peak_rss_mib"`
	// ServerCPUMillis is the CPU time (user+sys) the server process used
	// per complete flow during the load; ClientCPUMillis the bench's own
	// (the simulated wallets and the shop). On a shared machine these
	// move less than flows per second.
	ServerCPUMillis float64 `json:"server_cpu_ms_per_flow"`
	ClientCPUMillis float64 `json:"client_cpu_ms_per_flow"`
	FirstError      string  `json:"first_error,omitempty"`
}

// flowLoad runs one goroutine per wallet for d, each running flow(w)
// again and again; flow returns the latency of its key step.
func flowLoad(ctx context.Context, wallets []*benchWallet, d time.Duration, flow func(context.Context, *benchWallet) (time.Duration, error)) flowStats {
	var (
		mu        sync.Mutex
		latencies []time.Duration
		steps     []time.Duration
		errs      int
		firstErr  string
		wg        sync.WaitGroup
		deadline  = time.Now().Add(d)
		start     = time.Now()
	)
	for _, w := range wallets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine, mySteps []time.Duration
			bad := 0
			var first error
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t := time.Now()
				step, err := flow(ctx, w)
				if err != nil {
					bad++
					if first == nil {
						first = err
					}
					continue
				}
				mine = append(mine, time.Since(t))
				mySteps = append(mySteps, step)
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			steps = append(steps, mySteps...)
			errs += bad
			if first != nil && firstErr == "" {
				firstErr = first.Error()
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	r := flowStats{Flows: len(latencies), Errors: errs, FirstError: firstErr, PerSecond: float64(len(latencies)) / elapsed.Seconds()}
	r.P50Millis, r.P99Millis = percentiles(latencies)
	r.StepP50Millis, r.StepP99Millis = percentiles(steps)
	return r
}

func percentiles(l []time.Duration) (p50, p99 float64) {
	slices.Sort(l)
	n := len(l)
	if n == 0 {
		return 0, 0
	}
	return float64(l[n*50/100].Microseconds()) / 1000, float64(l[min(n-1, n*99/100)].Microseconds()) / 1000
}

// loadAverage is the first line of /proc/loadavg (empty when unreadable).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func (p *program) benchOID4VC(ctx context.Context, kind string, o oid4vcBenchOptions) error {
	dir, err := os.MkdirTemp("", "urbis-bench-"+kind+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	loadBefore := loadAverage()

	var baseline float64
	baselineName := "single-row fsync commits/s"
	if kind == "oid4vp" {
		baselineName = "raw jws.Verify/s"
		fmt.Fprintf(p.stderr, "measuring raw jws.Verify (EdDSA) on %d cores ...\n", runtime.NumCPU())
		baseline, err = jwsVerifyRate(3 * time.Second)
	} else {
		fmt.Fprintf(p.stderr, "measuring single-row SQLite commits (WAL, synchronous=FULL) ...\n")
		baseline, err = fsyncCommitRate(ctx, dir, 3*time.Second)
	}
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	fmt.Fprintf(p.stderr, "  %s: %.0f\n", baselineName, baseline)

	dataDir := filepath.Join(dir, "data")
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: o.concurrency * 4, MaxIdleConnsPerHost: o.concurrency * 4}, Timeout: 30 * time.Second}
	srv, err := p.startServeChild(ctx, o.binary, dataDir, client)
	if err != nil {
		return err
	}
	defer srv.stop()
	b := &oid4vcBench{client: client, base: srv.base}

	out, err := exec.CommandContext(ctx, o.binary, "agency", "create", "--name", "Bench Agency", "--output", "key", "--data-dir", dataDir).Output()
	if err != nil {
		return fmt.Errorf("agency create: %w", err)
	}
	b.auth = map[string]string{"Authorization": "Bearer " + strings.TrimSpace(string(out))}
	issuerDID, err := b.newDID(ctx)
	if err != nil {
		return err
	}
	wallets := make([]*benchWallet, o.concurrency)
	for i := range wallets {
		if wallets[i], err = newBenchWallet(); err != nil {
			return err
		}
	}

	var flow func(context.Context, *benchWallet) (time.Duration, error)
	var name, step string
	if kind == "oid4vci" {
		var inst struct {
			ID string `json:"id"`
		}
		body := map[string]any{"did": issuerDID, "format": o.format, "types": []string{"BenchCredential"}, "statusPurposes": []string{"revocation"}}
		status := ", revocation status"
		if o.format == "dc+sd-jwt" {
			// SD-JWT VCs carry no credentialStatus here.
			body["statusPurposes"], status = []string{}, ""
		}
		if err := postJSON(ctx, client, b.base+"/issuers", b.auth, body, &inst); err != nil {
			return err
		}
		b.issuerID, b.configID = inst.ID, inst.ID+":BenchCredential"
		flow, name, step = b.issuanceFlow, "OpenID4VCI pre-authorized flow ("+o.format+", tx_code"+status+")", "credential request"
	} else {
		if b.verifierDID, err = b.newDID(ctx); err != nil {
			return err
		}
		var inst struct {
			ID string `json:"id"`
		}
		body := map[string]any{"did": issuerDID, "format": "dc+sd-jwt", "types": []string{"ResidentCredential"}}
		if err := postJSON(ctx, client, b.base+"/issuers", b.auth, body, &inst); err != nil {
			return err
		}
		fmt.Fprintf(p.stderr, "issuing %d wallets a dc+sd-jwt ResidentCredential ...\n", len(wallets))
		for _, w := range wallets {
			if w.cred, err = b.issueResident(ctx, inst.ID, w); err != nil {
				return err
			}
		}
		b.request = map[string]any{"did": b.verifierDID, "template": o.template}
		if o.qr == "inline" {
			b.request["qrCode"] = true
		}
		b.fetchQR = o.qr == "fetch"
		if o.template == "age_over" {
			b.request["params"] = map[string]any{"threshold": "18"}
		}
		b.resolver = did.NewResolver(did.ResolverConfig{}, did.KeyMethod{}, did.JWKMethod{})
		flow, name, step = b.presentationFlow, "OpenID4VP flow (template "+o.template+", dc+sd-jwt + KB-JWT, QR code "+o.qr+")", "direct_post"
	}
	// One flow per wallet first: it must pass, and it warms up the caches.
	for _, w := range wallets[:min(4, len(wallets))] {
		if _, err := flow(ctx, w); err != nil {
			return fmt.Errorf("warm-up flow: %w", err)
		}
	}
	idle, _ := rssMiB(srv.cmd.Process.Pid, "VmRSS")
	fmt.Fprintf(p.stderr, "server pid %d on %s, idle RSS %.1f MiB; %d wallets for %s; load average before %s\nrunning %s ...\n",
		srv.cmd.Process.Pid, srv.base, idle, len(wallets), o.duration, loadBefore, name)
	srvCPU0, _ := processCPU(srv.cmd.Process.Pid)
	selfCPU0 := selfCPU()
	r := flowLoad(ctx, wallets, o.duration, flow)
	srvCPU1, srvErr := processCPU(srv.cmd.Process.Pid)
	selfCPU1 := selfCPU()
	if r.Flows > 0 && srvErr == nil {
		r.ServerCPUMillis = float64((srvCPU1 - srvCPU0).Microseconds()) / 1000 / float64(r.Flows)
		r.ClientCPUMillis = float64((selfCPU1 - selfCPU0).Microseconds()) / 1000 / float64(r.Flows)
	}
	r.Name, r.StepName = name, step
	r.Ratio = r.PerSecond / baseline
	r.PeakRSSMiB, _ = rssMiB(srv.cmd.Process.Pid, "VmHWM")
	loadAfter := loadAverage()
	fmt.Fprintf(p.stderr, "  %d flows, %.0f/s, p99 %.2f ms, %d errors; CPU per flow: server %.2f ms, bench client %.2f ms\n",
		r.Flows, r.PerSecond, r.P99Millis, r.Errors, r.ServerCPUMillis, r.ClientCPUMillis)

	if o.output == "json" {
		if err := json.NewEncoder(p.stdout).Encode(map[string]any{
			"baseline": baselineName, "baseline_per_second": baseline, "cores": runtime.NumCPU(), "idle_rss_mib": idle,
			"wallets": len(wallets), "duration": o.duration.String(), "load_average_before": loadBefore, "load_average_after": loadAfter,
			"result": r,
		}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(p.stdout, "| flow | flows | errors | per s | %s (baseline) | ratio | p50 ms | p99 ms | %s p50 ms | %s p99 ms | peak RSS MiB |\n|---|---|---|---|---|---|---|---|---|---|---|\n", baselineName, step, step)
		fmt.Fprintf(p.stdout, "| %s | %d | %d | %.0f | %.0f | %.3f | %.2f | %.2f | %.2f | %.2f | %.1f |\n", r.Name, r.Flows, r.Errors, r.PerSecond, baseline, r.Ratio, r.P50Millis, r.P99Millis, r.StepP50Millis, r.StepP99Millis, r.PeakRSSMiB)
		fmt.Fprintf(p.stdout, "\n%d cores, %d wallets, %s, idle RSS before load %.1f MiB, load average (1/5/15 min) before %s, after %s\n", runtime.NumCPU(), len(wallets), o.duration, idle, loadBefore, loadAfter)
		fmt.Fprintf(p.stdout, "CPU (user+sys) per flow: server %.2f ms, bench client %.2f ms\n", r.ServerCPUMillis, r.ClientCPUMillis)
	}
	if r.Errors > 0 {
		return fmt.Errorf("%d of %d flows failed; first: %s", r.Errors, r.Flows+r.Errors, r.FirstError)
	}
	return nil
}

// oid4vcBench holds what the flows of one run share.
type oid4vcBench struct {
	client *http.Client
	base   string
	auth   map[string]string // the agency's

	issuerID, configID string // oid4vci

	verifierDID string // oid4vp
	request     map[string]any
	fetchQR     bool // GET the request's qrUrl in each flow
	resolver    did.Resolver
}

func (b *oid4vcBench) newDID(ctx context.Context) (string, error) {
	var d struct {
		DID string `json:"did"`
	}
	if err := postJSON(ctx, b.client, b.base+"/dids", b.auth, map[string]any{"method": "key", "keyType": "Ed25519"}, &d); err != nil {
		return "", err
	}
	return d.DID, nil
}

// do sends a request and returns the body of a 2xx answer.
func (b *oid4vcBench) do(ctx context.Context, method, u, contentType string, hdr map[string]string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %s %s", method, u, resp.Status, bytes.TrimSpace(rb))
	}
	return rb, nil
}

// issuanceFlow runs one pre-authorized issuance for w and returns the
// latency of its credential request.
func (b *oid4vcBench) issuanceFlow(ctx context.Context, w *benchWallet) (time.Duration, error) {
	// The agency makes the offer.
	var offer struct {
		CredentialOfferURI string `json:"credentialOfferUri"`
		TxCode             string `json:"txCode"`
	}
	body := map[string]any{"issuerId": b.issuerID, "credentialSubject": map[string]any{"name": "Alice Example", "district": "Mitte"}, "txCode": true}
	if err := postJSON(ctx, b.client, b.base+"/oid4vci/offers", b.auth, body, &offer); err != nil {
		return 0, err
	}
	// The wallet follows it.
	raw, err := b.do(ctx, http.MethodGet, offer.CredentialOfferURI, "", nil, nil)
	if err != nil {
		return 0, err
	}
	var co struct {
		Issuer string `json:"credential_issuer"`
		Grants map[string]struct {
			Code string `json:"pre-authorized_code"`
		} `json:"grants"`
	}
	if err := json.Unmarshal(raw, &co); err != nil {
		return 0, fmt.Errorf("credential offer: %w", err)
	}
	code := co.Grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"].Code
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"}, "pre-authorized_code": {code}, "tx_code": {offer.TxCode}}
	raw, err = b.do(ctx, http.MethodPost, b.base+"/oid4vci/token", "application/x-www-form-urlencoded", nil, []byte(form.Encode()))
	if err != nil {
		return 0, err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(raw, &tok); err != nil || tok.AccessToken == "" {
		return 0, fmt.Errorf("token response %s: no access_token", raw)
	}
	raw, err = b.do(ctx, http.MethodPost, b.base+"/oid4vci/nonce", "", nil, nil)
	if err != nil {
		return 0, err
	}
	var n struct {
		CNonce string `json:"c_nonce"`
	}
	if err := json.Unmarshal(raw, &n); err != nil || n.CNonce == "" {
		return 0, fmt.Errorf("nonce response %s: no c_nonce", raw)
	}
	proof, err := w.proof(co.Issuer, n.CNonce)
	if err != nil {
		return 0, err
	}
	req, _ := json.Marshal(map[string]any{"credential_configuration_id": b.configID, "proofs": map[string]any{"jwt": []string{proof}}})
	t := time.Now()
	raw, err = b.do(ctx, http.MethodPost, b.base+"/oid4vci/credential", "application/json", map[string]string{"Authorization": "Bearer " + tok.AccessToken}, req)
	if err != nil {
		return 0, err
	}
	step := time.Since(t)
	var cr struct {
		Credentials []struct {
			Credential json.RawMessage `json:"credential"`
		} `json:"credentials"`
	}
	if err := json.Unmarshal(raw, &cr); err != nil || len(cr.Credentials) != 1 || len(cr.Credentials[0].Credential) < 3 {
		return 0, fmt.Errorf("credential response %.200s: want one credential", raw)
	}
	return step, nil
}

// proof signs an OpenID4VCI proof of possession JWT.
func (w *benchWallet) proof(aud, nonce string) (string, error) {
	h := jws.NewHeaders()
	_ = h.Set(jws.TypeKey, "openid4vci-proof+jwt")
	_ = h.Set(jws.KeyIDKey, w.kid)
	payload, _ := json.Marshal(map[string]any{"aud": aud, "iat": time.Now().Unix(), "nonce": nonce})
	b, err := jws.Sign(payload, jws.WithKey(jwa.EdDSA, w.priv, jws.WithProtectedHeaders(h)))
	return string(b), err
}

// issueResident issues w a dc+sd-jwt ResidentCredential bound to its key.
func (b *oid4vcBench) issueResident(ctx context.Context, instance string, w *benchWallet) (string, error) {
	body := map[string]any{
		"credential": map[string]any{
			"@context": []string{"https://www.w3.org/ns/credentials/v2"},
			"type":     []string{"VerifiableCredential", "ResidentCredential"},
			"credentialSubject": map[string]any{"id": w.did, "district": "Mitte", "name": "Alice Example", "birthdate": "1990-04-01",
				"age_equal_or_over": map[string]any{"18": true, "65": false}},
		},
		"options": map[string]any{"keyBinding": true},
	}
	var out struct {
		VerifiableCredential struct {
			ID string `json:"id"`
		} `json:"verifiableCredential"`
	}
	if err := postJSON(ctx, b.client, b.base+"/issuers/"+instance+"/credentials/issue", b.auth, body, &out); err != nil {
		return "", err
	}
	_, tok, ok := strings.Cut(out.VerifiableCredential.ID, ",")
	if !ok || !strings.Contains(tok, "~") {
		return "", fmt.Errorf("issue answered no enveloped SD-JWT: %q", out.VerifiableCredential.ID)
	}
	return tok, nil
}

// presentationFlow runs one OpenID4VP flow for w and returns the latency
// of its direct_post.
func (b *oid4vcBench) presentationFlow(ctx context.Context, w *benchWallet) (time.Duration, error) {
	var created struct {
		ID    string `json:"id"`
		URI   string `json:"uri"`
		QRURL string `json:"qrUrl"`
		QRPNG []byte `json:"qrPng"`
	}
	if err := postJSON(ctx, b.client, b.base+"/verifier/requests", b.auth, b.request, &created); err != nil {
		return 0, err
	}
	if b.request["qrCode"] == true && !bytes.HasPrefix(created.QRPNG, []byte("\x89PNG")) {
		return 0, fmt.Errorf("POST /verifier/requests with qrCode true: the answer has no PNG in qrPng")
	}
	if b.fetchQR {
		if created.QRURL == "" { // a server from before qrUrl
			created.QRURL = b.base + "/verifier/requests/" + created.ID + "/qr.png"
		}
		png, err := b.do(ctx, http.MethodGet, created.QRURL, "", nil, nil)
		if err != nil {
			return 0, err
		}
		if !bytes.HasPrefix(png, []byte("\x89PNG")) {
			return 0, fmt.Errorf("GET %s: not a PNG", created.QRURL)
		}
	}
	u, err := url.Parse(created.URI)
	if err != nil || u.Scheme != "openid4vp" {
		return 0, fmt.Errorf("request uri %q is not openid4vp://", created.URI)
	}
	q := u.Query()
	obj, err := b.do(ctx, http.MethodGet, q.Get("request_uri"), "", nil, nil)
	if err != nil {
		return 0, err
	}
	ro, err := oid4vp.VerifyObject(ctx, b.resolver, strings.TrimSpace(string(obj)), q.Get("client_id"))
	if err != nil {
		return 0, fmt.Errorf("request object: %w", err)
	}
	var dq oid4vp.Query
	if err := json.Unmarshal(ro.DCQLQuery, &dq); err != nil {
		return 0, fmt.Errorf("dcql_query: %w", err)
	}
	i := slices.IndexFunc(dq.Credentials, func(c oid4vp.CredentialQuery) bool { return c.Format == oid4vp.FormatSDJWT })
	if i < 0 {
		return 0, fmt.Errorf("the request has no dc+sd-jwt credential query")
	}
	cq := dq.Credentials[i]
	var reveal []string
	for _, c := range cq.Claims {
		var seg []string
		for _, s := range c.Path {
			switch v := s.(type) {
			case string:
				seg = append(seg, strings.NewReplacer("~", "~0", "/", "~1").Replace(v))
			case float64:
				seg = append(seg, strconv.Itoa(int(v)))
			}
		}
		reveal = append(reveal, "/"+strings.Join(seg, "/"))
	}
	pres, err := sdjwt.Present(w.cred, reveal, &sdjwt.KeyBinding{Signer: w.priv, Audience: ro.ClientID, Nonce: ro.Nonce})
	if err != nil {
		return 0, err
	}
	tok, _ := json.Marshal(map[string]any{cq.ID: []any{pres}})
	form := url.Values{"vp_token": {string(tok)}, "state": {ro.State}}
	t := time.Now()
	if _, err := b.do(ctx, http.MethodPost, ro.ResponseURI, "application/x-www-form-urlencoded", nil, []byte(form.Encode())); err != nil {
		return 0, err
	}
	step := time.Since(t)
	raw, err := b.do(ctx, http.MethodGet, b.base+"/verifier/requests/"+created.ID, "", b.auth, nil)
	if err != nil {
		return 0, err
	}
	var res struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(raw, &res); err != nil || res.Status != string(oid4vp.StatusVerified) {
		return 0, fmt.Errorf("result %.300s: want status %s", raw, oid4vp.StatusVerified)
	}
	return step, nil
}

// processCPU returns the CPU time (user+sys) process pid has used, from
// /proc/pid/stat (clock ticks of 1/100 s, as on Linux).
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; the fields after it
	// start after its closing parenthesis: state is f[0], utime f[11].
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %v, stime %v", pid, err1, err2)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// selfCPU returns the CPU time (user+sys) this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
