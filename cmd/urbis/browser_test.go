package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser tests drive the pages (web/) in headless Chromium through
// chromedp, against the real program started by startServe. Chromium is
// Debian's package (.ci/run installs it, pinned); without it they skip on
// a developer's machine and fail under CI (CI=true), so CI never skips
// them silently.

// chromiumPath finds the Chromium binary: $URBIS_CHROMIUM, or chromium on
// PATH (Debian's /usr/bin/chromium).
func chromiumPath() string {
	if p := os.Getenv("URBIS_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserSession is one headless Chromium tab with what its console said.
type browserSession struct {
	t      *testing.T
	ctx    context.Context
	mu     sync.Mutex
	errors []string
	shots  string
	axe    string // axe-core's source, for auditPage
}

// needChromium returns the Chromium binary, or skips t (fails it under CI)
// when there is none. Call it first, then start the service, then
// newBrowser: the browser then stops before the service does.
func needChromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts Chromium; skipped with -short")
	}
	bin := chromiumPath()
	if bin == "" {
		msg := "Chromium is not installed: the browser tests need it (Debian: sudo apt-get install chromium; or set URBIS_CHROMIUM to a Chromium binary)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; CI must run them (.ci/run installs it)")
		}
		t.Skip(msg)
	}
	return bin
}

// newBrowser starts Chromium bin for t. Every console error, uncaught
// exception and CSP violation the pages cause fails t at its end.
func newBrowser(t *testing.T, bin string) *browserSession {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // the tests run as root in CI
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		// Without these Chromium reaches for Google's services, which
		// the closed network refuses.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	b := &browserSession{t: t, ctx: ctx, shots: artifactsDir(t)}
	// The first call starts the browser; it must not have a timeout.
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("start Chromium (%s): %v", bin, err)
	}
	done := make(chan struct{})
	msgs := chromedp.Console(ctx)
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			// Console errors, uncaught exceptions, failed loads (a 404
			// of a script) and CSP violations (source "security").
			if m.Type == chromedp.ConsoleError || m.IsException() || m.Source == "security" {
				b.addError(fmt.Sprintf("%s (%s %s)", m.String(), m.Source, m.URL))
			}
		}
	}()
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		<-done
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range b.errors {
			t.Errorf("the browser reported: %s", e)
		}
	})
	return b
}

func (b *browserSession) addError(s string) {
	b.mu.Lock()
	b.errors = append(b.errors, s)
	b.mu.Unlock()
}

// run runs chromedp actions and fails the test on error, with a
// screenshot of where it stopped.
func (b *browserSession) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.shot("failed-" + what)
		b.t.Fatalf("%s: %v", what, err)
	}
}

// shot saves a full-page screenshot as name.png in the artifacts folder.
func (b *browserSession) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.t.Logf("screenshot: %s", p)
}

// text returns the text content of the first node matching sel.
func (b *browserSession) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.shot("failed-read")
		b.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// artifactsDir is where screenshots go: $URBIS_TEST_ARTIFACTS/<test>, or
// a temporary folder.
func artifactsDir(t *testing.T) string {
	root := os.Getenv("URBIS_TEST_ARTIFACTS")
	if root == "" {
		return t.TempDir()
	}
	dir := filepath.Join(root, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts folder: %v", err)
	}
	return dir
}

// fitsPhone loads url at a phone's width (390 px, mobile) and fails the
// test if the page is wider than the screen (it would scroll sideways).
func (b *browserSession) fitsPhone(url, name string) {
	b.t.Helper()
	b.run("phone width "+url, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("h1")))
	b.shot(name)
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int64]("document.documentElement.scrollWidth"))
	if err != nil {
		b.t.Fatal(err)
	}
	if width > 390 {
		b.t.Errorf("%s at 390 px: got a page %d px wide; want no sideways scrolling", url, width)
	}
	b.run("desktop width", chromedp.ResetViewport())
}
