package api_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/civic/vote"
	"github.com/urbis-id/urbis/registry"
	"github.com/urbis-id/urbis/verifiers"
)

var b64url = base64.RawURLEncoding

// electionFixture is what the elections examples name: an open election
// with one counted ballot, an election that has closed, and a resident
// with an eligible credential who has not asked for a token yet.
type electionFixture struct {
	open, closing string
	nullifier     string
	authority     string
	resident      *holderKey
	residentCred  map[string]any
}

// residentIssuer is a DID of the test agency accredited for the governed
// type ResidentCredential, with an ldp_vc instance; it returns the
// instance id.
func (e *env) residentIssuer(t *testing.T) string {
	t.Helper()
	iss := e.newDID(t, e.key, "Ed25519")
	e.accredit(t, iss, "CityResidentCredential")
	schema := `{"did":"` + iss + `","type":"CityResidentCredential","schema":{"type":"object","properties":{"district":{"type":"string"}}}}`
	if resp, b := e.do(t, http.MethodPost, "/schemas", e.key, schema); resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusConflict {
		t.Fatalf("register the ResidentCredential schema: got %d %s", resp.StatusCode, b)
	}
	return e.createIssuer(t, e.key, iss, "ldp_vc", "CityResidentCredential")
}

// resident issues a ResidentCredential about a new holder.
func (e *env) resident(t *testing.T, issuerID string, claims map[string]any) (*holderKey, map[string]any) {
	t.Helper()
	h := newHolder(t)
	subject := map[string]any{"id": h.did}
	for k, v := range claims {
		subject[k] = v
	}
	return h, issued(t, e.issue(t, e.key, issuerID, credentialFor("ldp_vc", "", "CityResidentCredential", subject), http.StatusCreated))
}

// createElection creates an election of the test agency signed by auth,
// open from now until closes.
func (e *env) createElection(t *testing.T, key, auth, id string, closes time.Time) vote.Election {
	t.Helper()
	body := fmt.Sprintf(`{"did":%q,"id":%q,"title":"City poll","options":["yes","no"],
		"eligibility":{"credentialType":"CityResidentCredential","districts":["Eixample"],"minAge":16},
		"opens":%q,"closes":%q}`, auth, id, time.Now().UTC().Add(-time.Minute).Format(time.RFC3339), closes.UTC().Format(time.RFC3339))
	resp, b := e.do(t, http.MethodPost, "/elections", key, body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create election %s: got %d %s; want 201", id, resp.StatusCode, b)
	}
	var el vote.Election
	if err := json.Unmarshal(b, &el); err != nil {
		t.Fatal(err)
	}
	return el
}

// authority is a new DID of the test agency accredited for ElectionAuthority.
func (e *env) authority(t *testing.T) string {
	t.Helper()
	d := e.newDID(t, e.key, "Ed25519")
	e.accredit(t, d, vote.AuthorityType)
	return d
}

// tokenBody is a token request of h for election el with its credential.
func tokenBody(t *testing.T, h *holderKey, cred map[string]any, el vote.Election) ([]byte, *vote.Blinding) {
	t.Helper()
	pub, err := vote.ParsePublicKey(el.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	bl, err := vote.Blind(pub)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{
		"blindedMessage": b64url.EncodeToString(bl.Blinded),
		"presentation":   h.ldpVP(t, h.did, vote.Challenge(bl.Blinded), vote.Domain(el.ID), cred),
	})
	return b, bl
}

// token gets a ballot token for h through the API.
func (e *env) token(t *testing.T, h *holderKey, cred map[string]any, el vote.Election) (tok, sig []byte) {
	t.Helper()
	body, bl := tokenBody(t, h, cred, el)
	resp, b := e.do(t, http.MethodPost, "/elections/"+el.ID+"/tokens", "", string(body))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: got %d %s; want 200", resp.StatusCode, b)
	}
	var out struct{ BlindSignature string }
	json.Unmarshal(b, &out)
	bs, _ := b64url.DecodeString(out.BlindSignature)
	sig, err := bl.Finalize(bs)
	if err != nil {
		t.Fatal(err)
	}
	return bl.Token, sig
}

// cast submits a ballot through POST /registry/operations and waits.
func (e *env) cast(t *testing.T, el, choice string, tok, sig []byte) registry.OpStatus {
	t.Helper()
	op, err := vote.CastOp(e.chain.genesis.ChainID, vote.NewCast(el, tok, sig, choice))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"operation": op.JWS})
	resp, b := e.do(t, http.MethodPost, "/registry/operations?wait=true", "", string(body))
	var st struct {
		Hash, Status, Reason, Detail string
	}
	json.Unmarshal(b, &st)
	switch {
	case resp.StatusCode >= 500:
		t.Fatalf("cast: got %d %s", resp.StatusCode, b)
	case resp.StatusCode >= 400: // a problem: the chain's refusal
		return registry.OpStatus{Hash: op.Hash, Status: registry.StatusRejected, Reason: st.Detail}
	}
	return registry.OpStatus{Hash: st.Hash, Status: st.Status, Reason: st.Reason}
}

func newElectionFixture(t *testing.T, e *env) *electionFixture {
	t.Helper()
	f := &electionFixture{open: "fixture-open", closing: "fixture-closing", authority: e.authority(t)}
	closes := time.Now().Add(2 * time.Second).Truncate(time.Second).Add(time.Second)
	e.createElection(t, e.key, f.authority, f.closing, closes)
	el := e.createElection(t, e.key, f.authority, f.open, time.Now().Add(time.Hour))
	iss := e.residentIssuer(t)
	voter, cred := e.resident(t, iss, map[string]any{"district": "Eixample", "birthDate": "1990-04-01"})
	tok, sig := e.token(t, voter, cred, el)
	if st := e.cast(t, f.open, "yes", tok, sig); st.Status != registry.StatusCommitted {
		t.Fatalf("cast: got %+v; want committed", st)
	}
	f.nullifier = vote.Nullifier(tok)
	f.resident, f.residentCred = e.resident(t, iss, map[string]any{"district": "Eixample", "birthDate": "1990-04-01"})
	time.Sleep(time.Until(closes))
	return f
}

// pathParam names the fixture's things in the examples' paths.
func (f *electionFixture) pathParam(p, name string) string {
	switch {
	case name == "nullifier":
		return f.nullifier
	case strings.HasSuffix(p, "/close"):
		return f.closing
	}
	return f.open
}

// rewrite makes the elections examples runnable: the authority DID of the
// test agency, a fresh id, and a real token request.
func (f *electionFixture) rewrite(t *testing.T, e *env, opID string, body []byte) []byte {
	t.Helper()
	switch opID {
	case "createElection":
		var m map[string]any
		json.Unmarshal(body, &m)
		m["did"] = f.authority
		b, _ := json.Marshal(m)
		return b
	case "requestBallotToken":
		resp, b := e.do(t, http.MethodGet, "/elections/"+f.open, "", "")
		var el vote.Election
		if err := json.Unmarshal(b, &el); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("get election: %d %s", resp.StatusCode, b)
		}
		out, _ := tokenBody(t, f.resident, f.residentCred, el)
		return out
	}
	return body
}

// TestElectionOverHTTP runs an election through the API with the real
// presentation verifier: an eligible resident gets one token and only
// one, an ineligible one none, the ballot is counted once and its receipt
// and inclusion proof are served, and the tally closes with its
// ElectionResult credential.
func TestElectionOverHTTP(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			auth := e.authority(t)
			iss := e.residentIssuer(t)
			closes := time.Now().Add(3 * time.Second).Truncate(time.Second).Add(time.Second)
			el := e.createElection(t, e.key, auth, "http-poll", closes)

			// Another agency cannot sign with this agency's DID.
			body := fmt.Sprintf(`{"did":%q,"id":"other-poll","title":"x","options":["a","b"],"eligibility":{"credentialType":"CityResidentCredential"},"opens":"2026-01-01T00:00:00Z","closes":"2099-01-01T00:00:00Z"}`, auth)
			resp, b := e.do(t, http.MethodPost, "/elections", e.otherKey, body)
			wantProblem(t, resp, b, http.StatusNotFound, "")
			// A DID that is not accredited cannot create one.
			body = strings.Replace(body, auth, e.newDID(t, e.key, "Ed25519"), 1)
			resp, b = e.do(t, http.MethodPost, "/elections", e.key, body)
			wantProblem(t, resp, b, http.StatusForbidden, "/did")

			alice, aliceCred := e.resident(t, iss, map[string]any{"district": "Eixample", "birthDate": "2000-01-01"})
			tok, sig := e.token(t, alice, aliceCred, el)
			again, _ := tokenBody(t, alice, aliceCred, el)
			resp, b = e.do(t, http.MethodPost, "/elections/http-poll/tokens", "", string(again))
			wantProblem(t, resp, b, http.StatusConflict, "/presentation")

			bob, bobCred := e.resident(t, iss, map[string]any{"district": "Sants", "birthDate": "2000-01-01"})
			req, _ := tokenBody(t, bob, bobCred, el)
			resp, b = e.do(t, http.MethodPost, "/elections/http-poll/tokens", "", string(req))
			wantProblem(t, resp, b, http.StatusForbidden, "/presentation")
			// A presentation bound to another blinded message is refused.
			carol, carolCred := e.resident(t, iss, map[string]any{"district": "Eixample", "birthDate": "2000-01-01"})
			req1, _ := tokenBody(t, carol, carolCred, el)
			req2, _ := tokenBody(t, carol, carolCred, el)
			var m1, m2 map[string]any
			json.Unmarshal(req1, &m1)
			json.Unmarshal(req2, &m2)
			m1["blindedMessage"] = m2["blindedMessage"]
			mixed, _ := json.Marshal(m1)
			resp, b = e.do(t, http.MethodPost, "/elections/http-poll/tokens", "", string(mixed))
			wantProblem(t, resp, b, http.StatusForbidden, "/presentation")

			st := e.cast(t, el.ID, "no", tok, sig)
			if st.Status != registry.StatusCommitted {
				t.Fatalf("cast: got %+v; want committed", st)
			}
			if st := e.cast(t, el.ID, "yes", tok, sig); st.Status != registry.StatusRejected || !strings.Contains(st.Reason, "already counted") {
				t.Errorf("second ballot with the token: got %+v; want rejected, already counted", st)
			}
			resp, b = e.do(t, http.MethodGet, "/elections/http-poll/ballots/"+vote.Nullifier(tok), "", "")
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"operation":"`+st.Hash+`"`) {
				t.Errorf("receipt: got %d %s; want 200 naming %s", resp.StatusCode, b, st.Hash)
			}
			if resp, b := e.do(t, http.MethodGet, "/registry/operations/"+st.Hash+"/proof", "", ""); resp.StatusCode != http.StatusOK {
				t.Errorf("inclusion proof of the ballot: got %d %s; want 200", resp.StatusCode, b)
			}
			resp, b = e.do(t, http.MethodGet, "/elections/http-poll/tally", "", "")
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"counts":[0,1]`) || !strings.Contains(string(b), `"closed":false`) {
				t.Errorf("live tally: got %d %s; want counts [0,1], open", resp.StatusCode, b)
			}
			resp, b = e.do(t, http.MethodPost, "/elections/http-poll/close", e.key, "")
			wantProblem(t, resp, b, http.StatusConflict, "")
			time.Sleep(time.Until(closes))
			resp, b = e.do(t, http.MethodPost, "/elections/http-poll/close", e.otherKey, "")
			wantProblem(t, resp, b, http.StatusNotFound, "")
			resp, b = e.do(t, http.MethodPost, "/elections/http-poll/close", e.key, "")
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"closed":true`) || !strings.Contains(string(b), `"resultCredential":"ey`) {
				t.Fatalf("close: got %d %s; want 200, closed, with the credential", resp.StatusCode, b)
			}
			var tally struct{ ResultCredential string }
			json.Unmarshal(b, &tally)
			vb, _ := json.Marshal(map[string]any{"verifiableCredential": tally.ResultCredential})
			if resp, b := e.do(t, http.MethodPost, "/credentials/verify", "", string(vb)); resp.StatusCode != http.StatusOK {
				t.Errorf("verify the ElectionResult credential: got %d %s; want 200", resp.StatusCode, b)
			}
		})
	}
}

// electionAuthority accredits d for ElectionAuthority (once) and returns it.
func (e *env) electionAuthority(t *testing.T, d string) string {
	t.Helper()
	if ok, _, err := verifiers.NewTrust(e.db, e.db).AccreditedAt(t.Context(), d, vote.AuthorityType, time.Now()); err != nil || !ok {
		e.accredit(t, d, vote.AuthorityType)
	}
	return d
}

// closedElection creates an election of the test agency signed by auth
// that has closed by the time it returns.
func (e *env) closedElection(t *testing.T, auth string) string {
	t.Helper()
	closes := time.Now().Add(time.Second).Truncate(time.Second).Add(time.Second)
	e.createElection(t, e.key, auth, "tenancy-closed", closes)
	time.Sleep(time.Until(closes))
	return "tenancy-closed"
}
