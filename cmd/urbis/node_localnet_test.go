package main

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/urbis-id/urbis/registry"
)

// localnet is a network of validators, each a child process (this test
// binary acting as urbis) running urbis node start.
type localnet struct {
	t       *testing.T
	dir     string
	apiBase int
	p2pBase int
	procs   []*exec.Cmd
	exited  []chan error
}

func newLocalnet(t *testing.T, n int) *localnet {
	t.Helper()
	dir := t.TempDir()
	p2p, api := freePortBases(t, n)
	if _, err := runCLI(t, nil, "node", "localnet", "--validators", strconv.Itoa(n), "--dir", dir,
		"--base-port", strconv.Itoa(p2p), "--api-base-port", strconv.Itoa(api), "--block-interval", "200ms"); err != nil {
		t.Fatal(err)
	}
	l := &localnet{t: t, dir: dir, apiBase: api, p2pBase: p2p, procs: make([]*exec.Cmd, n), exited: make([]chan error, n)}
	t.Cleanup(func() {
		for i, c := range l.procs {
			if c != nil {
				_ = c.Process.Kill()
				<-l.exited[i]
			}
		}
		if t.Failed() {
			for i := range l.procs {
				b, _ := os.ReadFile(l.logPath(i))
				if len(b) > 4000 {
					b = b[len(b)-4000:]
				}
				t.Logf("node%d log (tail):\n%s", i, b)
			}
		}
	})
	return l
}

// freePortBases finds a P2P base port (node i uses base+10*i and one
// more) and an API base port (node i uses base+i) that are free.
func freePortBases(t *testing.T, n int) (int, int) {
	t.Helper()
	free := func(ports ...int) bool {
		var lns []net.Listener
		defer func() {
			for _, ln := range lns {
				ln.Close()
			}
		}()
		for _, p := range ports {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				return false
			}
			lns = append(lns, ln)
		}
		return true
	}
	for range 100 {
		// Below the ephemeral range (32768-), and apart from the ranges of
		// TestDeploymentWalkthrough, which may run at the same time.
		p2p, api := 24600+rand.IntN(4300), 31000+rand.IntN(1500)
		var ports []int
		for i := range n + 1 { // and one more, which joins later
			ports = append(ports, p2p+10*i, p2p+10*i+1, api+i)
		}
		if free(ports...) {
			return p2p, api
		}
	}
	t.Fatal("no free ports")
	return 0, 0
}

func (l *localnet) home(i int) string    { return filepath.Join(l.dir, fmt.Sprintf("node%d", i)) }
func (l *localnet) logPath(i int) string { return filepath.Join(l.dir, fmt.Sprintf("node%d.log", i)) }
func (l *localnet) url(i int) string     { return "http://127.0.0.1:" + strconv.Itoa(l.apiBase+i) }

// caughtUp reports whether validator i's CometBFT has caught up with
// the network (its RPC status says so).
func (l *localnet) caughtUp(i int) bool {
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(l.p2pBase+10*i+1) + "/status")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var st struct {
		Result struct {
			SyncInfo struct {
				CatchingUp bool `json:"catching_up"`
			} `json:"sync_info"`
		} `json:"result"`
	}
	return json.NewDecoder(resp.Body).Decode(&st) == nil && !st.Result.SyncInfo.CatchingUp
}

// start starts validators and waits until their APIs are ready and they
// have caught up.
func (l *localnet) start(nodes ...int) {
	l.t.Helper()
	for _, i := range nodes {
		l.spawn(i)
	}
	for _, i := range nodes {
		l.ready(i)
	}
}

// spawn starts validator i.
func (l *localnet) spawn(i int) {
	l.t.Helper()
	logf, err := os.OpenFile(l.logPath(i), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		l.t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "node", "start", "--home", l.home(i), "--rate-limit", "0", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "URBIS_TEST_AS_MAIN=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		l.t.Fatal(err)
	}
	ch := make(chan error, 1)
	go func() { ch <- cmd.Wait(); logf.Close() }()
	l.procs[i], l.exited[i] = cmd, ch
}

// ready waits until validator i is ready and has caught up.
func (l *localnet) ready(i int) {
	l.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get(l.url(i) + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && l.caughtUp(i) {
				return
			}
		}
		select {
		case err := <-l.exited[i]:
			l.procs[i] = nil
			l.t.Fatalf("node%d exited while starting: %v", i, err)
		default:
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("node%d not ready in 60s", i)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// signal sends sig to validator i and waits for it to exit.
func (l *localnet) signal(i int, sig syscall.Signal) {
	l.t.Helper()
	if err := l.procs[i].Process.Signal(sig); err != nil {
		l.t.Fatal(err)
	}
	<-l.exited[i]
	l.procs[i] = nil
}

// head returns the hash of validator i's registry head.
func (l *localnet) head(i int) string {
	resp, err := http.Get(l.url(i) + "/registry/head")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var h struct {
		Hash string `json:"hash"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&h)
	return h.Hash
}

// headHeight returns the height of validator i's registry head.
func (l *localnet) headHeight(i int) uint64 {
	resp, err := http.Get(l.url(i) + "/registry/head")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var h struct {
		Height uint64 `json:"height"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&h)
	return h.Height
}

// proposers returns the proposers of validator i's registry blocks from
// height from to its head.
func (l *localnet) proposers(i int, from uint64) []string {
	var out []string
	for h := max(from, 1); h <= l.headHeight(i); h++ {
		resp, err := http.Get(l.url(i) + "/registry/blocks/" + strconv.FormatUint(h, 10))
		if err != nil {
			return out
		}
		var b struct {
			Header struct {
				Proposer string `json:"proposer"`
			} `json:"header"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&b)
		resp.Body.Close()
		out = append(out, b.Header.Proposer)
	}
	return out
}

// sameHead waits until the validators have one registry head.
func (l *localnet) sameHead(nodes ...int) {
	l.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var heads []string
		for _, i := range nodes {
			heads = append(heads, l.head(i))
		}
		same := heads[0] != ""
		for _, h := range heads {
			same = same && h == heads[0]
		}
		if same {
			return
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("validators %v: heads %v after 60s; want one head", nodes, heads)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// opStatus returns an operation's status on validator i.
func (l *localnet) opStatus(i int, hash string) string {
	resp, err := http.Get(l.url(i) + "/registry/operations/" + hash)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var st struct {
		Status string `json:"status"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&st)
	return st.Status
}

// signUpdate signs w's next did.update without submitting it.
func signUpdate(t *testing.T, w *chainWallet, chain string) registry.SignedOp {
	t.Helper()
	d := w.d
	spec, err := benchDocument(d.key.Public().(ed25519.PublicKey), d.version+1)
	if err != nil {
		t.Fatal(err)
	}
	op, err := registry.NewOperation(chain, registry.KindDIDUpdate, d.id+"#key-1", d.nonce+1, registry.DIDUpdate{DID: d.id, PreviousVersion: d.version, Document: spec})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := registry.Sign(op, d.key)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// validators returns the size of validator i's current CometBFT validator set.
func (l *localnet) validators(i int) int {
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(l.p2pBase+10*i+1) + "/validators")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var v struct {
		Result struct {
			Total string `json:"total"`
		} `json:"result"`
	}
	if json.NewDecoder(resp.Body).Decode(&v) != nil {
		return -1
	}
	n, _ := strconv.Atoi(v.Result.Total)
	return n
}

// copyHome copies a validator home's urbis/ and data/ directories from
// one home to another, except data/priv_validator_state.json: a backup
// must never take a validator's last-signed state back.
func copyHome(t *testing.T, from, to string) {
	t.Helper()
	for _, sub := range []string{"urbis", "data"} {
		err := filepath.WalkDir(filepath.Join(from, sub), func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(from, path)
			dst := filepath.Join(to, rel)
			switch {
			case d.IsDir():
				return os.MkdirAll(dst, 0o700)
			case rel == filepath.Join("data", "priv_validator_state.json"):
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, b, 0o600)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
