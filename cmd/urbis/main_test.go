package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/store/storetest"
)

// TestMain lets the test binary act as the urbis binary, so tests can
// start `urbis serve` as a real child process (and kill -9 it).
func TestMain(m *testing.M) {
	if os.Getenv("URBIS_TEST_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// syncBuffer is a bytes.Buffer safe for the logger and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runCLI runs one urbis command in-process and returns its stdout.
func runCLI(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errOut syncBuffer
	p := &program{stdout: &out, stderr: &errOut, getenv: func(k string) string { return env[k] }}
	err := p.run(context.Background(), args)
	if err != nil {
		t.Logf("urbis %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), err
}

// startServe runs `urbis serve` in-process on a random port and returns
// its base URL, its log, and a stop function that waits for it to end.
func startServe(t *testing.T, env map[string]string, args ...string) (string, *syncBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	addrc := make(chan net.Addr, 1)
	p := &program{stdout: io.Discard, stderr: logs, getenv: func(k string) string { return env[k] },
		onListen: func(a net.Addr) { addrc <- a }}
	done := make(chan error, 1)
	go func() {
		done <- p.run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...))
	}()
	select {
	case a := <-addrc:
		var once sync.Once
		var stopErr error
		stop := func() error {
			once.Do(func() {
				cancel()
				select {
				case stopErr = <-done:
				case <-time.After(30 * time.Second):
					t.Error("serve did not stop within 30s of cancel")
				}
			})
			return stopErr
		}
		t.Cleanup(func() { _ = stop() })
		return "http://" + a.String(), logs, stop
	case err := <-done:
		cancel()
		t.Fatalf("serve exited before listening: %v\nlog: %s", err, logs.String())
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("serve did not listen within 60s\nlog: %s", logs.String())
	}
	return "", nil, nil
}

func httpDo(t *testing.T, method, url, key, body string) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestQuickstart walks the README quickstart through the real serve code
// path: fresh data dir, create an agency, create a did:key, resolve it.
func TestQuickstart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	env := testDatabaseEnv(t)
	base, logs, stop := startServe(t, env, "--data-dir", dir)

	// First start creates the master key with mode 0600 and says so.
	fi, err := os.Stat(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatalf("master key not created: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("got master key mode %v; want 0600", fi.Mode().Perm())
	}
	for _, want := range []string{"created master key", "applied migrations", "urbis is serving"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("start-up log lacks %q:\n%s", want, logs.String())
		}
	}

	out, err := runCLI(t, env, "agency", "create", "--name", "Land Registry", "--output", "json", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("agency create --output json printed %q: %v", out, err)
	}
	if created.ID == "" || created.Name != "Land Registry" || !strings.HasPrefix(created.APIKey, "urbis_") {
		t.Fatalf("got %q; want id, name Land Registry and an urbis_ API key", out)
	}

	code, body := httpDo(t, http.MethodPost, base+"/dids", created.APIKey, `{"method":"key","keyType":"Ed25519"}`)
	var rec struct {
		DID string `json:"did"`
	}
	_ = json.Unmarshal(body, &rec)
	if code != http.StatusCreated || !strings.HasPrefix(rec.DID, "did:key:z6Mk") {
		t.Fatalf("POST /dids: got %d %s; want 201 with a did:key", code, body)
	}
	code, body = httpDo(t, http.MethodGet, base+"/1.0/identifiers/"+rec.DID, "", "")
	if code != http.StatusOK || !strings.Contains(string(body), `"didDocument"`) || !strings.Contains(string(body), rec.DID) {
		t.Errorf("resolve: got %d %s; want 200 with the document", code, body)
	}
	if strings.Contains(logs.String(), created.APIKey) {
		t.Error("the API key appears in the log")
	}

	// The listing command sees the agency; a revoked key stops working.
	out, err = runCLI(t, env, "agency", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(out, created.ID) {
		t.Errorf("agency list: got %q, %v; want a line with %s", out, err, created.ID)
	}
	if _, err := runCLI(t, env, "agency", "revoke-key", created.ID, "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	// The service trusts a key it has seen for up to 2 s without reading
	// the database again: the revocation by another process takes that.
	revokedAt := time.Now()
	for {
		code, body := httpDo(t, http.MethodGet, base+"/dids", created.APIKey, "")
		if code == http.StatusUnauthorized {
			break
		}
		if time.Since(revokedAt) > 3*time.Second {
			t.Errorf("revoked key, 3 s later: got %d %s; want 401 within 2 s", code, body)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	newKey, err := runCLI(t, env, "agency", "new-key", created.ID, "--output", "key", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := httpDo(t, http.MethodGet, base+"/dids", strings.TrimSpace(newKey), ""); code != http.StatusOK || !strings.Contains(string(body), rec.DID) {
		t.Errorf("new key: got %d %s; want 200 listing %s", code, body, rec.DID)
	}

	if err := stop(); err != nil {
		t.Errorf("serve stopped with %v; want a clean shutdown", err)
	}
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Errorf("shutdown not logged:\n%s", logs.String())
	}
}

// testDatabaseEnv points the commands at a fresh PostgreSQL database when
// URBIS_TEST_POSTGRES_URL is set; otherwise they use SQLite in --data-dir.
func testDatabaseEnv(t *testing.T) map[string]string {
	t.Helper()
	env := map[string]string{}
	if u := freshPostgresURL(t); u != "" {
		env["URBIS_DATABASE_URL"] = u
	}
	return env
}

// freshPostgresURL returns the URL of a new, empty PostgreSQL database
// when URBIS_TEST_POSTGRES_URL is set, and "" otherwise.
func freshPostgresURL(t *testing.T) string {
	if os.Getenv(storetest.EnvPostgresURL) == "" {
		return ""
	}
	return storetest.PostgresURL(t)
}

func TestMigrateCommands(t *testing.T) {
	dir := t.TempDir()
	env := testDatabaseEnv(t)
	out, err := runCLI(t, env, "migrate", "status", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "pending") {
		t.Fatalf("status on a new database: got %q, %v; want pending migrations", out, err)
	}
	if out, err = runCLI(t, env, "migrate", "up", "--data-dir", dir); err != nil || !strings.Contains(out, "applied") {
		t.Fatalf("up: got %q, %v; want applied", out, err)
	}
	if out, err = runCLI(t, env, "migrate", "up", "--data-dir", dir); err != nil || !strings.Contains(out, "no pending") {
		t.Fatalf("second up: got %q, %v; want no pending", out, err)
	}
	if out, err = runCLI(t, env, "migrate", "down", "--data-dir", dir); err != nil || !strings.Contains(out, "rolled back") {
		t.Fatalf("down: got %q, %v; want rolled back", out, err)
	}
	if _, err = runCLI(t, env, "migrate", "sideways", "--data-dir", dir); err == nil {
		t.Error("migrate sideways: got no error; want one naming up, down, status")
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"tls cert without key", nil, []string{"serve", "--tls-cert", "x.pem"}, "--tls-key"},
		{"bad addr", nil, []string{"serve", "--addr", "nowhere"}, "--addr"},
		{"bad log level", nil, []string{"serve", "--log-level", "loud"}, "--log-level"},
		{"bad env value", map[string]string{"URBIS_RATE_LIMIT": "fast"}, []string{"serve"}, "URBIS_RATE_LIMIT"},
		{"bad public url", nil, []string{"serve", "--public-url", "ftp://x"}, "--public-url"},
		{"bad output", nil, []string{"agency", "create", "--name", "x", "--output", "xml"}, "--output"},
		{"missing name", nil, []string{"agency", "create"}, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errOut syncBuffer
			p := &program{stdout: io.Discard, stderr: &errOut, getenv: func(k string) string { return tt.env[k] }}
			args := append(tt.args, "--data-dir", t.TempDir())
			if err := p.run(context.Background(), args); err == nil || !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("got error %v, stderr %q; want an error mentioning %q", err, errOut.String(), tt.want)
			}
		})
	}
}

func TestEnvironmentConfiguresServe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "from-env")
	env := map[string]string{"URBIS_DATA_DIR": dir, "URBIS_LOG_LEVEL": "warn"}
	_, logs, stop := startServe(t, env)
	if _, err := os.Stat(filepath.Join(dir, "urbis.db")); err != nil {
		t.Errorf("URBIS_DATA_DIR not used: %v", err)
	}
	if strings.Contains(logs.String(), `"level":"INFO"`) {
		t.Errorf("URBIS_LOG_LEVEL=warn not used; got info lines:\n%s", logs.String())
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestVersion(t *testing.T) {
	out, err := runCLI(t, nil, "version")
	if err != nil || !strings.HasPrefix(out, "urbis ") {
		t.Errorf("got %q, %v; want urbis <version>", out, err)
	}
}

// TestAcknowledgedWritesSurviveKill9 starts urbis serve as a child
// process, creates DIDs, kills it with SIGKILL right after the answers
// arrive, restarts it on the same data, and finds every DID.
func TestAcknowledgedWritesSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	env := testDatabaseEnv(t)
	out, err := runCLI(t, env, "agency", "create", "--name", "Durable", "--output", "key", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(out)

	cmd, base := startChild(t, env, dir)
	var acked []string
	for range 20 {
		code, body := httpDo(t, http.MethodPost, base+"/dids", key, `{"method":"jwk","keyType":"P-256"}`)
		var rec struct {
			DID string `json:"did"`
		}
		_ = json.Unmarshal(body, &rec)
		if code != http.StatusCreated {
			t.Fatalf("POST /dids: got %d %s", code, body)
		}
		acked = append(acked, rec.DID)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	cmd, base = startChild(t, env, dir)
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	_, body := httpDo(t, http.MethodGet, base+"/dids", key, "")
	for _, id := range acked {
		if !strings.Contains(string(body), id) {
			t.Errorf("acknowledged DID %s lost across kill -9", id)
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
