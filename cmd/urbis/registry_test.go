package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/registry"
)

// chainWallet is a did:urbis controlled by a key the test holds, as a citizen's
// wallet would: it signs its own operations.
type chainWallet struct {
	d *benchDID
}

func newWallet(t *testing.T, base, chain string) *chainWallet {
	t.Helper()
	d, err := benchCreate(context.Background(), http.DefaultClient, base, chain)
	if err != nil {
		t.Fatalf("create did:urbis: %v", err)
	}
	return &chainWallet{d: d}
}

// update submits a did.update with wait=true and returns the operation
// hash when it is acknowledged (201).
func (w *chainWallet) update(ctx context.Context, client *http.Client, base, chain string) (string, error) {
	d := w.d
	spec, err := benchDocument(d.key.Public().(ed25519.PublicKey), d.version+1)
	if err != nil {
		return "", err
	}
	op, err := registry.NewOperation(chain, registry.KindDIDUpdate, d.id+"#key-1", d.nonce+1,
		registry.DIDUpdate{DID: d.id, PreviousVersion: d.version, Document: spec})
	if err != nil {
		return "", err
	}
	signed, err := registry.Sign(op, d.key)
	if err != nil {
		return "", err
	}
	body, _ := json.Marshal(map[string]string{"operation": signed.JWS})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/registry/operations?wait=true", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("%s %s", resp.Status, b)
	}
	d.nonce++
	d.version++
	return signed.Hash, nil
}

func chainID(t *testing.T, dataDir string) string {
	t.Helper()
	g, err := registry.LoadGenesis(filepath.Join(dataDir, "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	return g.ChainID
}

// startChild runs urbis serve as a child process (this test binary acting
// as urbis) and waits until it is ready.
func startChild(t *testing.T, env map[string]string, dataDir string) (*exec.Cmd, string) {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], "serve", "--addr", addr, "--data-dir", dataDir, "--rate-limit", "0", "--log-level", "error")
	cmd.Env = append(os.Environ(), "URBIS_TEST_AS_MAIN=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd, base
			}
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("child serve not ready in 60s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRegistryCrashRecovery submits operations at full speed, kills the
// server with SIGKILL in the middle, restarts it, and checks that every
// acknowledged operation is committed and that the chain verifies.
func TestRegistryCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dataDir := t.TempDir()
	env := testDatabaseEnv(t)
	cmd, base := startChild(t, env, dataDir)
	chain := chainID(t, dataDir)

	const writers = 16
	wallets := make([]*chainWallet, writers)
	for i := range wallets {
		wallets[i] = newWallet(t, base, chain)
	}
	client := &http.Client{Timeout: 20 * time.Second}
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	for _, w := range wallets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				h, err := w.update(ctx, client, base, chain)
				if err != nil {
					return // the server died under us: this one was not acknowledged
				}
				mu.Lock()
				acked = append(acked, h)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	cancel()
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no operation was acknowledged before the kill; want some")
	}

	cmd, base = startChild(t, env, dataDir)
	for _, h := range acked {
		resp, err := http.Get(base + "/registry/operations/" + h)
		if err != nil {
			t.Fatal(err)
		}
		var st struct{ Status string }
		_ = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if st.Status != "committed" {
			t.Errorf("acknowledged operation %s is %q after kill -9; want committed", h, st.Status)
		}
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()

	out, err := runCLI(t, env, "registry", "verify", "--data-dir", dataDir)
	if err != nil || !strings.HasPrefix(out, "OK") {
		t.Errorf("registry verify after the crash: got %q, %v; want OK", out, err)
	}
	t.Logf("%d operations acknowledged before kill -9, all committed; %s", len(acked), strings.TrimSpace(out))
}

// TestRegistryVerifyDetectsTampering edits a block row, then a state row,
// directly in the database; registry verify must name what broke.
func TestRegistryVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name string
		edit string
		want string
	}{
		{"block header", `UPDATE blocks SET header = replace(header, '"opCount":1', '"opCount":0') WHERE height = 2`, "block 2"},
		{"block operation", `UPDATE block_ops SET jws = jws || 'A' WHERE height = 3`, "block 3"},
		{"state row", "UPDATE nonces SET nonce = nonce + 7 WHERE signer = (SELECT signer FROM nonces ORDER BY signer LIMIT 1)", "state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dataDir := t.TempDir()
			env := testDatabaseEnv(t)
			base, _, stop := startServe(t, env, "--data-dir", dataDir, "--block-interval", "20ms")
			chain := chainID(t, dataDir)
			w := newWallet(t, base, chain)
			for range 3 {
				if _, err := w.update(context.Background(), http.DefaultClient, base, chain); err != nil {
					t.Fatal(err)
				}
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if out, err := runCLI(t, env, "registry", "verify", "--data-dir", dataDir); err != nil || !strings.HasPrefix(out, "OK") {
				t.Fatalf("verify before tampering: got %q, %v; want OK", out, err)
			}
			url := env["URBIS_DATABASE_URL"]
			if url == "" {
				url = filepath.Join(dataDir, "urbis.db")
			}
			db, err := store.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := db.ExecRaw(context.Background(), tt.edit); err != nil || n == 0 {
				t.Fatalf("edit %q: %d rows, %v; want one row changed", tt.edit, n, err)
			}
			db.Close()
			out, err := runCLI(t, env, "registry", "verify", "--data-dir", dataDir)
			if err == nil || !strings.Contains(out, "FAILED") || !strings.Contains(out, tt.want) {
				t.Errorf("verify after %s: got %q, %v; want FAILED naming %q", tt.name, out, err, tt.want)
			}
		})
	}
}
