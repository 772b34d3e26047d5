package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"

	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/internal/store/storetest"
)

func TestZZProfVerify(t *testing.T) {
	if os.Getenv("ZZPROF") == "" {
		t.Skip()
	}
	db := storetest.Open(t)[0]
	e := newEnv(t, db.Dialect(), db, api.Config{})
	id := e.createIssuerWith(t, e.key, map[string]any{"did": e.newDID(t, e.key, "Ed25519"), "format": "jwt_vc_json",
		"types": []string{"ExampleDegreeCredential"}, "statusPurposes": []string{"revocation"}})
	var out struct{ VerifiableCredential map[string]any }
	json.Unmarshal(e.issue(t, e.key, id, credentialFor("jwt_vc_json", "", "ExampleDegreeCredential", map[string]any{"name": "Alice"}), 201), &out)
	_, tok, _ := strings.Cut(out.VerifiableCredential["id"].(string), ",")
	body, _ := json.Marshal(map[string]any{"verifiableCredential": tok})
	code, r := e.verify(t, tok)
	t.Logf("%d %+v", code, r)
	f, _ := os.Create("/tmp/verify.prof")
	pprof.StartCPUProfile(f)
	var wg sync.WaitGroup
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	cl := &http.Client{Transport: tr}
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				resp, err := cl.Post(e.srv.URL+"/credentials/verify", "application/json", bytes.NewReader(body))
				if err != nil || resp.StatusCode != 200 {
					t.Error(err, resp.StatusCode)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	pprof.StopCPUProfile()
}
