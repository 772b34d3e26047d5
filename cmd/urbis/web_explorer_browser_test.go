package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/urbis-id/urbis/registry"
)

// TestBrowserExplorer is the explorer journey in Chromium: the chain head
// and recent blocks, a search that finds a block, the block's operation,
// its inclusion proof checked in the page (then with the validator key
// from genesis.json), the DID's version history, a tampered proof shown
// failing, and the explorer at phone width.
func TestBrowserExplorer(t *testing.T) {
	bin := needChromium(t)
	dir := t.TempDir()
	base, _, _ := startServe(t, testDatabaseEnv(t), "--data-dir", dir)
	b := newBrowser(t, bin)
	chain := chainID(t, dir)
	w := newWallet(t, base, chain)
	opHash, err := w.update(context.Background(), http.DefaultClient, base, chain)
	if err != nil {
		t.Fatalf("did.update: %v", err)
	}
	code, body := httpDo(t, http.MethodGet, base+"/registry/operations/"+opHash, "", "")
	var st struct {
		Height int64 `json:"height"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &st) != nil || st.Height < 1 {
		t.Fatalf("GET operation: %d %s", code, body)
	}
	height := strconv.FormatInt(st.Height, 10)

	b.run("open the explorer", chromedp.Navigate(base+"/explorer"), chromedp.WaitVisible(chromedp.CSS("#q")))
	b.shot("01-explorer")
	if got := b.text("main"); !strings.Contains(got, chain) || !strings.Contains(got, "Recent blocks") {
		t.Errorf("explorer front page: got %q; want the chain id %s and the recent blocks", got, chain)
	}

	// Keyboard: the first Tab reaches the skip link, which is then shown.
	kctx, kcancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer kcancel()
	if err := chromedp.Do(kctx, chromedp.KeyEvent("\t")); err != nil {
		t.Fatal(err)
	}
	focused, err := chromedp.Run(kctx, chromedp.Evaluate[string](`document.activeElement.className + ' ' + (document.activeElement.getBoundingClientRect().left >= 0)`))
	if err != nil || focused != "skip-link true" {
		t.Errorf("first Tab: got focus on %q, %v; want the visible skip link", focused, err)
	}

	b.run("search for the block", chromedp.SendKeys(chromedp.CSS("#q"), height), chromedp.Submit(chromedp.CSS("#q")),
		chromedp.WaitVisible(chromedp.CSS("table.stack a.mono")))
	b.shot("02-block")
	if got := b.text("h1"); got != "Block "+height {
		t.Errorf("after searching %s: got heading %q; want %q", height, got, "Block "+height)
	}
	if got := b.text("main"); !strings.Contains(got, "did.update") {
		t.Errorf("block page: got %q; want the did.update operation listed", got)
	}

	b.run("open the operation", chromedp.Click(chromedp.CSS(`a[href="/explorer/operations/`+opHash+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#proof-verdict.ok")))
	b.shot("03-operation-proof")
	if got := b.text("#proof-verdict"); !strings.Contains(got, "The proof checks") {
		t.Errorf("proof verdict: got %q; want it to say the proof checks", got)
	}
	checks := b.text("#proof-checks")
	for _, want := range []string{"Operation hash", "Merkle path", "Block header", "Validator signature: not checked"} {
		if !strings.Contains(checks, want) {
			t.Errorf("proof checks: got %q; want %q", checks, want)
		}
	}

	merkleAgreesWithRegistry(t, b)

	g, err := registry.LoadGenesis(filepath.Join(dir, "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	b.run("check with the validator key", chromedp.SendKeys(chromedp.CSS("#validator-key"), g.Validators[0].PublicKey),
		chromedp.Click(chromedp.CSS("#check-proof")),
		chromedp.WaitVisible(chromedp.CSS("#proof-verdict.ok")))
	if got := b.text("#proof-checks"); !strings.Contains(got, "Validator signature: validator "+g.Validators[0].ID+" signed the header") {
		t.Errorf("with the genesis key: got %q; want the validator's signature checked", got)
	}
	if got := b.text("#proof-verdict"); !strings.Contains(got, "5 of 5 checks passed") {
		t.Errorf("with the genesis key: got verdict %q; want 5 of 5 checks passed", got)
	}
	b.shot("04-operation-proof-signature")

	b.run("open the DID", chromedp.Navigate(base+"/explorer/dids/"+w.d.id), chromedp.WaitVisible(chromedp.CSS("section.version")))
	b.shot("05-did-history")
	if got := b.text("main"); !strings.Contains(got, "Version 2") || !strings.Contains(got, "Version 1") {
		t.Errorf("DID page: got %q; want versions 2 and 1", got)
	}

	// A tampered proof: the operation altered by one character.
	code, body = httpDo(t, http.MethodGet, base+"/registry/operations/"+opHash+"/proof", "", "")
	if code != http.StatusOK {
		t.Fatalf("GET proof: %d %s", code, body)
	}
	var proof map[string]any
	if err := json.Unmarshal(body, &proof); err != nil {
		t.Fatal(err)
	}
	op := proof["operation"].(string)
	proof["operation"] = op[:len(op)-2] + flip(op[len(op)-2]) + op[len(op)-1:]
	tampered, _ := json.Marshal(proof)
	b.run("check a tampered proof", chromedp.Navigate(base+"/explorer/proof"), chromedp.WaitVisible(chromedp.CSS("#proof-json")),
		chromedp.SetValue(chromedp.CSS("#proof-json"), string(tampered)),
		chromedp.Click(chromedp.CSS("#check-proof")),
		chromedp.WaitVisible(chromedp.CSS("#proof-verdict.bad")))
	b.shot("06-tampered-proof")
	if got := b.text("#proof-verdict"); !strings.Contains(got, "does not check") {
		t.Errorf("tampered proof: got verdict %q; want it to say the proof does not check", got)
	}
	if got := b.text("#proof-checks"); !strings.Contains(got, "the operation or the hash was altered") {
		t.Errorf("tampered proof: got checks %q; want the operation hash check to fail", got)
	}

	// Phone width: nothing wider than the screen.
	b.fitsPhone(base+"/explorer/blocks/"+height, "07-block-phone")
	b.fitsPhone(base+"/explorer/operations/"+opHash, "08-operation-phone")
}

// flip changes a base64url character into another one.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// merkleAgreesWithRegistry runs the page's Merkle check (proof.js) on the
// audit paths registry.MerklePath makes for every leaf of trees of 1 to
// 17 operations: each must check, and each with one hash, the index or
// the root altered must not.
func merkleAgreesWithRegistry(t *testing.T, b *browserSession) {
	t.Helper()
	type vector struct {
		Leaf  string   `json:"leaf"`
		Index int      `json:"index"`
		Size  int      `json:"size"`
		Path  []string `json:"path"`
		Root  string   `json:"root"`
		Want  bool     `json:"want"`
	}
	var vs []vector
	for n := 1; n <= 17; n++ {
		hashes := make([]string, n)
		for i := range hashes {
			sum := sha256.Sum256([]byte(fmt.Sprintf("op %d of %d", i, n)))
			hashes[i] = hex.EncodeToString(sum[:])
		}
		root := registry.MerkleRoot(hashes)
		for i, h := range hashes {
			path := registry.MerklePath(hashes, i)
			vs = append(vs, vector{h, i, n, path, root, true})
			vs = append(vs, vector{h, i, n, path, hashes[(i+1)%n], false})
			if n > 1 {
				vs = append(vs, vector{h, (i + 1) % n, n, path, root, false})
				bad := append([]string(nil), path...)
				bad[len(bad)-1] = h
				vs = append(vs, vector{h, i, n, bad, root, false})
			}
		}
	}
	in, _ := json.Marshal(vs)
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]bool](`(async function(vs){const out=[];for(const v of vs){out.push(await window.UrbisProof.verifyPath(v.leaf,v.index,v.size,v.path,v.root));}return out;})(`+string(in)+`)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run the page's Merkle check: %v", err)
	}
	if len(got) != len(vs) {
		t.Fatalf("got %d answers for %d vectors", len(got), len(vs))
	}
	for i, v := range vs {
		if got[i] != v.Want {
			t.Errorf("page's verifyPath(index %d of %d, %d path hashes, want %v): got %v", v.Index, v.Size, len(v.Path), v.Want, got[i])
		}
	}
}
