package vote

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"os"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
)

func TestSealedKeyInDirKeys(t *testing.T) {
	ctx := context.Background()
	_, custody, _ := ed25519.GenerateKey(rand.Reader)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := sealKey(custody, "poll-1", priv)
	if err != nil {
		t.Fatal(err)
	}
	keys := DirKeys{Dir: t.TempDir() + "/elections"}
	if _, err := keys.ElectionKey(ctx, "poll-1"); !errors.Is(err, errkind.NotFound) {
		t.Errorf("key before any: got %v; want NotFound", err)
	}
	// A stale key of an earlier attempt is replaced.
	if err := keys.PutElectionKey(ctx, KeyRecord{Election: "poll-1", AgencyID: "a", DID: "d", Sealed: []byte("stale")}); err != nil {
		t.Fatal(err)
	}
	if err := keys.PutElectionKey(ctx, KeyRecord{Election: "poll-1", AgencyID: "a", DID: "d", Sealed: sealed}); err != nil {
		t.Fatal(err)
	}
	rec, err := keys.ElectionKey(ctx, "poll-1")
	if err != nil || rec.AgencyID != "a" || rec.DID != "d" {
		t.Fatalf("read back: got %+v, %v", rec, err)
	}
	if fi, err := os.Stat(keys.path("poll-1")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode: got %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	got, err := openKey(custody, "poll-1", rec.Sealed)
	if err != nil || !got.Equal(priv) {
		t.Errorf("open with the custody key: got %v; want the election key", err)
	}
	for name, tc := range map[string]struct {
		key      ed25519.PrivateKey
		election string
	}{
		"another authority's key": {other, "poll-1"},
		"another election":        {custody, "poll-2"},
	} {
		if _, err := openKey(tc.key, tc.election, rec.Sealed); !errors.Is(err, errkind.Internal) {
			t.Errorf("%s: got %v; want the sealed key not to open", name, err)
		}
	}
	if _, err := keys.ElectionKey(ctx, "../etc"); !errors.Is(err, errkind.NotFound) {
		t.Errorf("a path as election id: got %v; want NotFound", err)
	}
}
