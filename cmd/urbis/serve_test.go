package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGracefulShutdownFinishesInFlight starts a resolution that takes a
// second (a slow did:web host), stops the server half-way, and checks that
// the request still gets its answer and the server then stops cleanly.
func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	var id string
	host := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Second)
		fmt.Fprintf(w, `{"@context":"https://www.w3.org/ns/did/v1","id":%q}`, id)
	}))
	defer host.Close()
	id = "did:web:" + strings.ReplaceAll(strings.TrimPrefix(host.URL, "https://"), ":", "%3A")
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: host.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	base, logs, stop := startServe(t, nil, "--data-dir", t.TempDir(), "--did-web-allow-private", "--did-web-ca-file", ca)

	type answer struct {
		code int
		body string
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		resp, err := http.Get(base + "/1.0/identifiers/" + id)
		if err != nil {
			got <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- answer{code: resp.StatusCode, body: string(b)}
	}()
	time.Sleep(300 * time.Millisecond) // the request is now waiting on the slow host
	if err := stop(); err != nil {
		t.Fatalf("serve stopped with %v; want a clean shutdown", err)
	}
	a := <-got
	if a.err != nil || a.code != http.StatusOK || !strings.Contains(a.body, id) {
		t.Errorf("in-flight request: got %d %q %v; want 200 with the document", a.code, a.body, a.err)
	}
	if !strings.Contains(logs.String(), "finishing in-flight requests") {
		t.Errorf("shutdown not logged:\n%s", logs.String())
	}
}

// TestServeTLS serves HTTPS with --tls-cert and --tls-key.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSignedCert(t, dir)
	base, _, stop := startServe(t, nil, "--data-dir", dir, "--tls-cert", certFile, "--tls-key", keyFile)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(strings.Replace(base, "http://", "https://", 1) + "/healthz")
	if err != nil {
		t.Fatalf("HTTPS GET /healthz: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Errorf("got %d (TLS %v); want 200 over TLS", resp.StatusCode, resp.TLS != nil)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "urbis test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
