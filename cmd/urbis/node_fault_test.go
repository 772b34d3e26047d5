package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/urbis-id/urbis/registry"
)

// TestNodeFaults runs a 4-validator localnet as four processes and
// checks what the issue asks of it: with one validator killed, writes are
// acknowledged; restarted, it catches up to the same head; with two
// down, writes stall without loss or fork, and resume when one returns;
// every acknowledged operation is on every validator; commit proofs check
// offline and forged ones do not; a validator whose database was altered
// disagrees and halts, saying why, and put back from a backup catches up;
// the governance removes it from the set and adds a fifth validator that
// joined, and with another one killed, writes go on; a proof signed by
// the changed set checks with the validator-set history it carries (as
// the REST API serves it too, from node4), and not with a link of it
// forged; the registry replays the blocks of
// node0, node3 (removed) and node4 (a full node before it was added),
// each vouched for by its CometBFT commit.
func TestNodeFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four validator processes")
	}
	l := newLocalnet(t, 4)
	l.start(0, 1, 2, 3)
	const chain = "urbis-localnet"
	ctx := context.Background()
	client := &http.Client{Timeout: 30 * time.Second}
	w := newWallet(t, l.url(0), chain)
	var acked []string
	write := func(node, n int) {
		t.Helper()
		for range n {
			h, err := w.update(ctx, client, l.url(node), chain)
			if err != nil {
				t.Fatalf("write through node%d: %v", node, err)
			}
			acked = append(acked, h)
		}
	}
	write(0, 2)

	// One validator killed: three of four still make blocks.
	l.signal(3, syscall.SIGKILL)
	write(1, 3)

	// Restarted, it catches up and takes writes.
	l.start(3)
	l.sameHead(0, 1, 2, 3)
	write(3, 2)

	// Two down: no quorum; a write stays pending, nothing forks.
	l.sameHead(0, 1, 2, 3)
	headBefore := l.head(0)
	l.signal(3, syscall.SIGKILL)
	l.signal(2, syscall.SIGKILL)
	stalled := signUpdate(t, w, chain)
	body, _ := json.Marshal(map[string]string{"operation": stalled.JWS})
	resp, err := client.Post(l.url(0)+"/registry/operations", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("submit without quorum: got %s %s; want 202", resp.Status, b)
	}
	time.Sleep(2 * time.Second) // several block intervals
	for _, i := range []int{0, 1} {
		if got := l.opStatus(i, stalled.Hash); got == registry.StatusCommitted {
			t.Fatalf("node%d committed an operation without quorum", i)
		}
		if got := l.head(i); got != headBefore {
			t.Fatalf("node%d head moved without quorum: got %s; want %s", i, got, headBefore)
		}
	}

	// One back: quorum again; the stalled write commits.
	l.start(2)
	deadline := time.Now().Add(60 * time.Second)
	for l.opStatus(0, stalled.Hash) != registry.StatusCommitted {
		if time.Now().After(deadline) {
			t.Fatalf("the stalled write is %q after quorum returned; want committed", l.opStatus(0, stalled.Hash))
		}
		time.Sleep(100 * time.Millisecond)
	}
	w.d.nonce++
	w.d.version++
	acked = append(acked, stalled.Hash)
	write(2, 2)
	l.start(3)
	l.sameHead(0, 1, 2, 3)

	// Every acknowledged operation is on every validator.
	for i := range 4 {
		for _, h := range acked {
			if got := l.opStatus(i, h); got != registry.StatusCommitted {
				t.Errorf("node%d: operation %s is %q; want committed", i, h, got)
			}
		}
	}

	// A proof that rests on the commit signatures checks offline against
	// the genesis; altered, it does not.
	rpc := "http://127.0.0.1:" + strconv.Itoa(l.p2pBase+1)
	proof, err := runCLI(t, nil, "node", "proof", acked[0], "--rpc", rpc)
	if err != nil {
		t.Fatal(err)
	}
	genesis := filepath.Join(l.home(2), "config", "genesis.json")
	checkProof := func(name, body string) (string, error) {
		path := filepath.Join(l.dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut syncBuffer
		p := &program{stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }}
		err := p.run(ctx, []string{"node", "check-proof", path, "--genesis", genesis})
		return out.String() + errOut.String(), err
	}
	if out, err := checkProof("proof.json", proof); err != nil || !strings.Contains(out, "proof checks: operation "+acked[0]) {
		t.Errorf("check-proof: got %q, %v; want it to check", out, err)
	}
	for _, c := range []struct {
		name, want string
		alter      func(p map[string]any)
	}{
		{"another operation", "not of this operation", func(p map[string]any) { p["operation"] = signUpdate(t, w, chain).JWS }},
		{"a rejection shown as accepted", "not the one block", func(p map[string]any) { p["result"].(map[string]any)["code"] = 1 }},
		{"two signatures dropped", "more than two thirds", func(p map[string]any) {
			sigs := p["signedHeader"].(map[string]any)["commit"].(map[string]any)["signatures"].([]any)
			for _, s := range sigs[:2] {
				s.(map[string]any)["block_id_flag"] = 1 // absent
				s.(map[string]any)["validator_address"] = ""
				s.(map[string]any)["timestamp"] = "0001-01-01T00:00:00Z"
				s.(map[string]any)["signature"] = nil
			}
		}},
	} {
		var pr map[string]any
		if err := json.Unmarshal([]byte(proof), &pr); err != nil {
			t.Fatal(err)
		}
		c.alter(pr)
		forged, _ := json.Marshal(pr)
		if out, err := checkProof("forged.json", string(forged)); err == nil || !strings.Contains(out, c.want) {
			t.Errorf("check-proof of %s: got %q, %v; want a failure saying %q", c.name, out, err, c.want)
		}
	}

	// A validator whose state was altered disagrees and halts.
	l.signal(3, syscall.SIGTERM)
	backup := filepath.Join(l.dir, "node3-backup")
	copyHome(t, l.home(3), backup)
	db, err := sql.Open("sqlite", filepath.Join(l.home(3), "urbis", "urbis.db"))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := db.Exec("UPDATE nonces SET nonce = nonce + 1 WHERE signer = ?", w.d.id); err != nil {
		t.Fatal(err)
	} else if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("altered %d nonce rows; want 1", n)
	}
	db.Close()
	l.start(3)
	l.sameHead(0, 1, 2, 3)
	write(0, 2)
	select {
	case err := <-l.exited[3]:
		l.procs[3] = nil
		if err == nil {
			t.Errorf("node3 with an altered database exited with status 0; want a failure")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("node3 with an altered database still runs after 60s; want it halted")
	}
	log, _ := os.ReadFile(l.logPath(3))
	for _, want := range []string{"this validator halted", "AppHash"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("node3 log does not say %q", want)
		}
	}
	for _, line := range strings.Split(string(log), "\n") {
		if strings.Contains(line, "registry engine stopped") {
			t.Logf("node3 said: %.600s", line)
		}
	}
	l.sameHead(0, 1, 2)

	// The governance removes the halted validator from the set: CometBFT
	// applies the update two blocks later.
	out, err := runCLI(t, nil, "node", "set-validator", "--data-dir", filepath.Join(l.home(0), "urbis"), "--server", l.url(1),
		"--id", "node3", "--validator-home", l.home(3), "--power", "0")
	if err != nil || !strings.Contains(out, "validator node3 set to power 0: operation") {
		t.Fatalf("set-validator: got %q, %v", out, err)
	}
	write(0, 2)
	if got := l.validators(0); got != 3 {
		t.Errorf("validators after node3's removal: got %d; want 3", got)
	}

	// Its database and CometBFT data put back from the backup (its
	// last-signed state kept), node3 catches up to the same head.
	if err := os.RemoveAll(filepath.Join(l.home(3), "urbis")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadDir(filepath.Join(l.home(3), "data"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range data {
		if e.Name() != "priv_validator_state.json" {
			if err := os.RemoveAll(filepath.Join(l.home(3), "data", e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	copyHome(t, backup, l.home(3))
	l.start(3)
	l.sameHead(0, 1, 2, 3)

	// A new authority joins: its home syncs as a full node, the
	// governance adds its key, and it counts: with node1 killed, node0,
	// node2 and node4 hold three quarters of the power and take writes.
	home4 := filepath.Join(l.dir, "node4")
	status := func(i int) (id string) {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(l.p2pBase+10*i+1) + "/status")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st struct {
			Result struct {
				NodeInfo struct {
					ID string `json:"id"`
				} `json:"node_info"`
			} `json:"result"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&st)
		return st.Result.NodeInfo.ID
	}
	peers := status(0) + "@127.0.0.1:" + strconv.Itoa(l.p2pBase) + "," + status(2) + "@127.0.0.1:" + strconv.Itoa(l.p2pBase+20)
	if _, err := runCLI(t, nil, "node", "init", "--home", home4, "--join", filepath.Join(l.home(0), "config", "genesis.json"),
		"--peers", peers, "--id", "node4", "--p2p-port", strconv.Itoa(l.p2pBase+40), "--api-port", strconv.Itoa(l.apiBase+4), "--block-interval", "200ms"); err != nil {
		t.Fatal(err)
	}
	l.procs, l.exited = append(l.procs, nil), append(l.exited, nil)
	l.start(4)
	if out, err := runCLI(t, nil, "node", "set-validator", "--data-dir", filepath.Join(l.home(0), "urbis"), "--server", l.url(4),
		"--id", "node4", "--validator-home", home4, "--power", "10"); err != nil || !strings.Contains(out, "validator node4 set to power 10") {
		t.Fatalf("set-validator node4: got %q, %v", out, err)
	}
	joined := l.headHeight(0)
	write(4, 2)
	if got := l.validators(0); got != 4 {
		t.Fatalf("validators after node4 joined: got %d; want 4", got)
	}
	// node4 proposes about one block in four: write until a registry
	// block it proposed is committed.
	for n := 0; !slices.Contains(l.proposers(0, joined), "node4"); n++ {
		if n == 20 {
			t.Fatalf("node4 proposed none of registry blocks %d to %d", joined, l.headHeight(0))
		}
		write(4, 1)
	}
	l.signal(1, syscall.SIGKILL)
	write(4, 2)
	l.sameHead(0, 2, 4)

	// A proof of the last write, signed by a validator set the genesis
	// does not list, checks with the validator-set changes it carries.
	last, err := runCLI(t, nil, "node", "proof", acked[len(acked)-1], "--rpc", "http://127.0.0.1:"+strconv.Itoa(l.p2pBase+41))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := checkProof("last.json", last); err != nil || !strings.Contains(out, "proof checks: operation "+acked[len(acked)-1]) {
		t.Errorf("check-proof after validator-set changes: got %q, %v; want it to check", out, err)
	}
	// The REST API's proof of it, from node4 (which the genesis does not
	// list), carries that commit proof and checks with urbis registry
	// check-proof against the registry genesis.
	resp, err = client.Get(l.url(4) + "/registry/operations/" + acked[len(acked)-1] + "/proof")
	if err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	restPath := filepath.Join(l.dir, "rest-proof.json")
	if err := os.WriteFile(restPath, rest, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = runCLI(t, nil, "registry", "check-proof", restPath, "--genesis", filepath.Join(l.home(0), "urbis", "genesis.json"))
	if err != nil || !strings.Contains(out, "OK: operation "+acked[len(acked)-1]) || !strings.Contains(out, "committed by more than two thirds of the voting power") {
		t.Errorf("registry check-proof of node4's REST proof: got %q, %v (status %d); want OK, vouched for by the commit", out, err, resp.StatusCode)
	}
	var pr map[string]any
	if err := json.Unmarshal([]byte(last), &pr); err != nil {
		t.Fatal(err)
	}
	if h, _ := pr["history"].([]any); len(h) != 2 {
		t.Errorf("the proof carries %d validator-set changes; want 2 (node3 out, node4 in)", len(h))
	}
	delete(pr, "history")
	stripped, _ := json.Marshal(pr)
	if out, err := checkProof("stripped.json", string(stripped)); err == nil || !strings.Contains(out, "another validator set") {
		t.Errorf("check-proof without the validator-set changes: got %q, %v; want a failure", out, err)
	}
	// Each link of the history is checked: a set the change's header does
	// not name, a header altered, a commit short of two thirds of the set
	// then in force.
	for _, c := range []struct {
		name, want string
		alter      func(h []any)
	}{
		{"a validator set forged", "is not the one block", func(h []any) {
			v := h[1].(map[string]any)["validators"].([]any)
			v[0].(map[string]any)["power"] = 1000
		}},
		{"node4's key put in the first change's set", "is not the one block", func(h []any) {
			v0 := h[0].(map[string]any)["validators"].([]any)
			for _, v := range h[1].(map[string]any)["validators"].([]any) {
				if !slices.ContainsFunc(v0, func(w any) bool { return w.(map[string]any)["publicKey"] == v.(map[string]any)["publicKey"] }) {
					h[0].(map[string]any)["validators"] = append(v0, v) // node4, the one the second change adds
				}
			}
		}},
		{"a change's header altered to name another set", "validator-set change at block", func(h []any) {
			sh := h[0].(map[string]any)["signedHeader"].(map[string]any)["header"].(map[string]any)
			sh["next_validators_hash"] = h[1].(map[string]any)["signedHeader"].(map[string]any)["header"].(map[string]any)["next_validators_hash"]
		}},
		{"a change's commit short of two thirds", "more than two thirds", func(h []any) {
			sigs := h[1].(map[string]any)["signedHeader"].(map[string]any)["commit"].(map[string]any)["signatures"].([]any)
			for _, s := range sigs[:2] {
				s.(map[string]any)["block_id_flag"] = 1 // absent
				s.(map[string]any)["validator_address"] = ""
				s.(map[string]any)["timestamp"] = "0001-01-01T00:00:00Z"
				s.(map[string]any)["signature"] = nil
			}
		}},
	} {
		var pr map[string]any
		if err := json.Unmarshal([]byte(last), &pr); err != nil {
			t.Fatal(err)
		}
		c.alter(pr["history"].([]any))
		forged, _ := json.Marshal(pr)
		if out, err := checkProof("forged-history.json", string(forged)); err == nil || !strings.Contains(out, c.want) {
			t.Errorf("check-proof with %s: got %q, %v; want a failure saying %q", c.name, out, err, c.want)
		}
	}

	// The registry replays from the blocks, each vouched for by its
	// CometBFT commit (more than two thirds of the validators in force at
	// its height, node4 added, node3 removed), on every node: node0, in
	// the set throughout; node3, which stored blocks after its removal;
	// node4, which stored blocks before it was added.
	for _, i := range []int{0, 3, 4} {
		l.signal(i, syscall.SIGKILL) // stopped (each block is committed before it counts)
	}
	verify := func(i int) (string, error) {
		return runCLI(t, nil, "registry", "verify", "--data-dir", filepath.Join(l.home(i), "urbis"))
	}
	for _, i := range []int{0, 3, 4} {
		if out, err := verify(i); err != nil || !strings.HasPrefix(out, "OK: chain urbis-localnet") || !strings.Contains(out, "CometBFT commits") {
			t.Errorf("registry verify of node%d: got %q, %v; want OK, checked against the CometBFT commits", i, out, err)
		}
	}
}
