package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/api"
)

// TestVPRequestAfterRotation checks that the verifier's cached request
// signer is dropped when its DID is rotated: the next request with the
// old DID is refused at once, and the successor signs.
func TestVPRequestAfterRotation(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			old := e.newDID(t, e.key, "Ed25519")
			body := `{"did":"` + old + `","template":"residency","params":{"districts":"Mitte"}}`
			if resp, got := e.do(t, http.MethodPost, "/verifier/requests", e.key, body); resp.StatusCode != http.StatusCreated {
				t.Fatalf("request with the DID: got %d %s; want 201", resp.StatusCode, got)
			}
			if resp, got := e.do(t, http.MethodPost, "/dids/"+old+"/rotate", e.key, ""); resp.StatusCode != http.StatusCreated {
				t.Fatalf("rotate: got %d %s; want 201", resp.StatusCode, got)
			}
			resp, got := e.do(t, http.MethodPost, "/verifier/requests", e.key, body)
			if resp.StatusCode != http.StatusConflict || !strings.Contains(string(got), "successor") {
				t.Errorf("request with the rotated DID: got %d %s; want 409 naming its successor", resp.StatusCode, got)
			}
		})
	}
}
