package urbis_test

import (
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDeploymentWalkthrough runs docs/DEPLOYMENT.md (see runPage): a
// 4-validator localnet started with two commands; a credential issued
// through one validator and verified through others; one validator
// killed, and issuance and verification go on; a fifth authority joins,
// an operation the five commit is proven offline from the genesis (with
// the validator-set history), and node0's chain replays.
// The page's fixed ports (REST API 8080-8084, CometBFT 26656-26697)
// become free ones.
func TestDeploymentWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds urbis and runs four validators; skipped with -short")
	}
	b, err := os.ReadFile("docs/DEPLOYMENT.md")
	if err != nil {
		t.Fatal(err)
	}
	p2p, api := freeLocalnetPorts(t)
	page := strings.NewReplacer(
		"--api-base-port 8080", "--api-base-port "+strconv.Itoa(api),
		"127.0.0.1:8080", "127.0.0.1:"+strconv.Itoa(api),
		"127.0.0.1:8081", "127.0.0.1:"+strconv.Itoa(api+1),
		"127.0.0.1:8082", "127.0.0.1:"+strconv.Itoa(api+2),
		"127.0.0.1:8083", "127.0.0.1:"+strconv.Itoa(api+3),
		"--base-port 26656", "--base-port "+strconv.Itoa(p2p),
		"127.0.0.1:26657", "127.0.0.1:"+strconv.Itoa(p2p+1),
		"127.0.0.1:26667", "127.0.0.1:"+strconv.Itoa(p2p+11),
		"127.0.0.1:26677", "127.0.0.1:"+strconv.Itoa(p2p+21),
		"127.0.0.1:26687", "127.0.0.1:"+strconv.Itoa(p2p+31),
		"127.0.0.1:26656", "127.0.0.1:"+strconv.Itoa(p2p),
		"--p2p-port 26696", "--p2p-port "+strconv.Itoa(p2p+40),
		"127.0.0.1:26697", "127.0.0.1:"+strconv.Itoa(p2p+41),
		"--api-port 8084", "--api-port "+strconv.Itoa(api+4),
		"127.0.0.1:8084", "127.0.0.1:"+strconv.Itoa(api+4),
	).Replace(string(b))
	path := filepath.Join(t.TempDir(), "DEPLOYMENT.md")
	if err := os.WriteFile(path, []byte(page), 0o600); err != nil {
		t.Fatal(err)
	}
	runPage(t, path, 6)
}

// freeLocalnetPorts returns a CometBFT base port (node i: base+10*i and
// one more) and an API base port (node i: base+i) of a 5-validator
// localnet, free a moment ago and below the ephemeral range.
func freeLocalnetPorts(t *testing.T) (int, int) {
	t.Helper()
	for range 100 {
		// Apart from the ranges of TestNodeFaults (cmd/urbis), which may run
		// at the same time.
		p2p, api := 20000+rand.IntN(4300), 29500+rand.IntN(1400)
		var lns []net.Listener
		ok := true
		for i := range 5 {
			for _, port := range []int{p2p + 10*i, p2p + 10*i + 1, api + i} {
				ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
				if err != nil {
					ok = false
					break
				}
				lns = append(lns, ln)
			}
		}
		for _, ln := range lns {
			ln.Close()
		}
		if ok {
			return p2p, api
		}
	}
	t.Fatal("no free ports for a localnet")
	return 0, 0
}
