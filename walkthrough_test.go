package urbis_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// docBlock is a shell block of a docs page and the output it documents.
type docBlock struct {
	line   int      // where the block starts in the page
	script string   // the commands, verbatim
	want   []string // the text block after it, if any: one pattern per line
}

// docBlocks returns the ```sh blocks of a Markdown page, each with the
// ```text block that follows it (before the next sh block), if any.
func docBlocks(t *testing.T, page string) []docBlock {
	t.Helper()
	f, err := os.Open(page)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out   []docBlock
		in    string // "sh", "text" or "" outside a fenced block
		buf   []string
		start int
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		switch {
		case in == "" && (l == "```sh" || l == "```text"):
			in, buf, start = strings.TrimPrefix(l, "```"), nil, n
		case in == "" && strings.HasPrefix(l, "```"):
			in = "other"
		case in != "" && l == "```":
			switch in {
			case "sh":
				out = append(out, docBlock{line: start, script: strings.Join(buf, "\n")})
			case "text":
				if len(out) == 0 || out[len(out)-1].want != nil {
					t.Fatalf("%s:%d: a text block that follows no sh block", page, start)
				}
				out[len(out)-1].want = buf
			}
			in = ""
		case in != "":
			buf = append(buf, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// pattern turns a documented output line into a regexp: "…" stands for
// anything.
func pattern(line string) *regexp.Regexp {
	parts := strings.Split(line, "…")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

// TestWalkthrough runs docs/WALKTHROUGH.md as a new user would (see
// runPage).
func TestWalkthrough(t *testing.T) {
	runPage(t, "docs/WALKTHROUGH.md", 10)
}

// TestWalletWalkthrough runs docs/WALLET-WALKTHROUGH.md the same way: an
// agency offers a resident credential, the wallet takes it with the PIN,
// a shop asks for "over 18 and resident of Eixample", the wallet
// discloses just that, and a revoked credential fails the status check.
func TestWalletWalkthrough(t *testing.T) {
	runPage(t, "docs/WALLET-WALKTHROUGH.md", 8)
}

// TestOID4VPPage runs the walk-through of docs/OID4VP.md (see runPage):
// a shop's presentation requests from templates, a DCQL query and a
// Presentation Exchange definition, answered by the test holder.
func TestOID4VPPage(t *testing.T) {
	runPage(t, "docs/OID4VP.md", 10)
}

// TestWalletPage runs docs/WALLET.md (see runPage): the wallet file,
// did:urbis with its key rotations, a stored credential, a backup, and
// a presentation of a BBS+ credential with a pairwise DID.
func TestWalletPage(t *testing.T) {
	runPage(t, "docs/WALLET.md", 6)
}

// TestElectionsWalkthrough runs docs/programs/elections.md: a poll, a
// blind-signed ballot token, a ballot, its inclusion proof, the close and
// the recount.
func TestElectionsWalkthrough(t *testing.T) {
	runPage(t, "docs/programs/elections.md", 9)
}

// runPage runs the sh blocks of page, in order, in one bash at the root of
// the repository, and checks that each documented output line appears, in
// order, in what its block printed. The only change made to the page is
// the port: 8080 becomes a free one (also URL-encoded).
// TestConsoleWalkthrough runs docs/CONSOLE.md: a poll on a fresh chain,
// then what the explorer and verifier's pages say about it.
func TestConsoleWalkthrough(t *testing.T) {
	runPage(t, "docs/CONSOLE.md", 8)
}

func runPage(t *testing.T, page string, minBlocks int) {
	if testing.Short() {
		t.Skip("builds and runs urbis serve; skipped with -short")
	}
	for _, tool := range []string{"bash", "curl", "date", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the walk-through needs %s on PATH: %v", tool, err)
		}
	}
	blocks := docBlocks(t, page)
	if len(blocks) < minBlocks {
		t.Fatalf("%s has %d sh blocks; want the whole walk-through", page, len(blocks))
	}
	port := freePort(t)
	subst := strings.NewReplacer("127.0.0.1:8080", "127.0.0.1:"+port, "127.0.0.1%3A8080", "127.0.0.1%3A"+port)

	const marker = "@@walkthrough block %d@@"
	var script strings.Builder
	for i, b := range blocks {
		fmt.Fprintf(&script, "echo '"+marker+"'\n%s\n", i, subst.Replace(b.script))
	}
	fmt.Fprintf(&script, "echo '"+marker+"'\n", len(blocks))

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Env = append(os.Environ(), "URBIS_LOG_LEVEL=warn")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	// Whatever the page left running (it stops the service itself) goes.
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Logf("bash: %v", err)
	}

	// Split the output at the markers.
	outputs := make([][]string, len(blocks))
	cur := -1
	for _, l := range strings.Split(out.String(), "\n") {
		var n int
		if _, err := fmt.Sscanf(l, marker, &n); err == nil {
			cur = n
			continue
		}
		if cur >= 0 && cur < len(blocks) {
			outputs[cur] = append(outputs[cur], l)
		}
	}
	for i, b := range blocks {
		got := outputs[i]
		next := 0
		for _, w := range b.want {
			re := pattern(subst.Replace(w))
			for next < len(got) && !re.MatchString(got[next]) {
				next++
			}
			if next == len(got) {
				t.Errorf("%s:%d: the block's output lacks (in order)\n  %s\noutput:\n  %s", page, b.line, w, strings.Join(got, "\n  "))
				break
			}
			next++
		}
	}
	if t.Failed() {
		t.Logf("whole output:\n%s", out.String())
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}
