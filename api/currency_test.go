package api_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/civic/currency"
	"github.com/urbis-id/urbis/civic/energy"
	"github.com/urbis-id/urbis/did"
)

// keyAccount is a did:key whose key the test holds: a citizen's wallet
// or a smart meter.
type keyAccount struct {
	did, kid string
	key      ed25519.PrivateKey
}

func newKeyAccount(t *testing.T) keyAccount {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	d, err := did.NewKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return keyAccount{did: d.String(), kid: d.String() + "#" + d.ID, key: priv}
}

func (a keyAccount) jws(t *testing.T, v any) (string, []byte) {
	t.Helper()
	b, _ := json.Marshal(v)
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.KeyIDKey, a.kid)
	s, err := jws.Sign(b, jws.WithKey(jwa.EdDSA, a.key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(s), b
}

// post is a JSON POST as the agency with key; it returns the status and body.
func (e *env) postJSON(t *testing.T, key, path string, body any) (*http.Response, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	return e.do(t, http.MethodPost, path, key, string(b))
}

// civicFixture is chain state for the currency and energy examples: a
// treasury DID of the test agency with BCN defined and minted (to itself
// too, for burns), a BalanceCredential issuer instance on it, a grid
// operator DID, a registered meter and one settled trade.
type civicFixture struct {
	treasury, operator, issuerID string
	meter                        keyAccount
	trade                        string
}

func newCivicFixture(t *testing.T, e *env) *civicFixture {
	t.Helper()
	f := &civicFixture{treasury: e.newDID(t, e.key, "Ed25519"), operator: e.newDID(t, e.key, "Ed25519"), meter: newKeyAccount(t)}
	e.accredit(t, f.treasury, currency.IssuerType)
	e.accredit(t, f.operator, energy.OperatorType)
	seller, buyer := newKeyAccount(t), newKeyAccount(t)
	for _, c := range []struct {
		path string
		body any
	}{
		{"/currencies", map[string]any{"did": f.treasury, "code": "BCN", "name": "Barcelona coin", "decimals": 2}},
		{"/currencies/BCN/mint", map[string]any{"did": f.treasury, "to": f.treasury, "amount": 100_000}},
		{"/currencies/BCN/mint", map[string]any{"did": f.treasury, "to": buyer.did, "amount": 10_000}},
		{"/energy/meters", map[string]any{"did": f.operator, "meter": f.meter.did, "prosumer": seller.did, "zone": "Z1", "capacityW": 5000}},
	} {
		if resp, b := e.postJSON(t, e.key, c.path, c.body); resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST %s: got %d %s; want 201", c.path, resp.StatusCode, b)
		}
	}
	f.issuerID = e.createIssuer(t, e.key, f.treasury, "jwt_vc_json", currency.BalanceCredentialType)
	f.trade = tradeOp(t, e, seller, buyer, f.meter, 1200, 300, 1)
	return f
}

// tradeOp has buyer buy wh of seller's meter reading for price, signed
// with buyer's nonce, and returns the committed operation's hash.
func tradeOp(t *testing.T, e *env, seller, buyer, meter keyAccount, wh, price int64, nonce uint64) string {
	t.Helper()
	from := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
	reading, body := meter.jws(t, energy.Reading{Meter: meter.did, From: from.Format(time.RFC3339), Until: from.Add(time.Hour).Format(time.RFC3339), ExportWh: wh})
	consent, _ := seller.jws(t, energy.Consent{Buyer: buyer.did, Currency: "BCN", Wh: wh, Price: price, Reading: energy.ReadingHash(body)})
	st := e.chain.commit(t, buyer.key, buyer.kid, energy.KindTrade, energy.Trade{Seller: seller.did, Currency: "BCN", Wh: wh, Price: price, Reading: reading, Consent: consent})
	return st.Hash
}

// param returns the fixture's value for a path parameter of the civic routes.
func (f *civicFixture) param(name string) string {
	switch name {
	case "meter":
		return f.meter.did
	case "operation":
		return f.trade
	}
	return ""
}

// rewrite makes an example body of the civic routes name the fixture's
// DIDs (and a new meter, which registers once).
func (f *civicFixture) rewrite(t *testing.T, opID string, body []byte) []byte {
	t.Helper()
	var m map[string]any
	switch opID {
	case "defineCurrency", "mintCurrency", "burnCurrency", "registerMeter", "issueBalanceCredential":
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
	default:
		return body
	}
	switch opID {
	case "registerMeter":
		m["did"], m["meter"] = f.operator, newKeyAccount(t).did
	case "issueBalanceCredential":
		m["issuerId"] = f.issuerID
	default:
		m["did"] = f.treasury
	}
	b, _ := json.Marshal(m)
	return b
}

func TestCurrencyAPI(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			f := newCivicFixture(t, e)
			alice, bob := newKeyAccount(t), newKeyAccount(t)
			if resp, b := e.postJSON(t, e.key, "/currencies/BCN/mint", map[string]any{"did": f.treasury, "to": alice.did, "amount": 5_000}); resp.StatusCode != http.StatusCreated ||
				!strings.Contains(string(b), `"balance":5000`) {
				t.Fatalf("mint to alice: got %d %s; want 201 with her balance 5000", resp.StatusCode, b)
			}
			// Alice pays Bob with her own key, through the registry.
			e.chain.commit(t, alice.key, alice.kid, currency.KindTransfer, currency.Transfer{Code: "BCN", To: bob.did, Amount: 1_250, Memo: "bike"})
			resp, b := e.do(t, http.MethodGet, "/currencies/BCN/accounts/"+alice.did, "", "")
			var acc api.CurrencyAccount
			if err := json.Unmarshal(b, &acc); err != nil || resp.StatusCode != http.StatusOK || acc.Balance != 3_750 || acc.Sequence != 1 || acc.Height == 0 {
				t.Errorf("alice's account: got %d %s; want 3750 at sequence 1", resp.StatusCode, b)
			}
			resp, b = e.do(t, http.MethodGet, "/currencies/BCN/accounts/"+bob.did+"/history", "", "")
			var hist api.CurrencyHistory
			if err := json.Unmarshal(b, &hist); err != nil || resp.StatusCode != http.StatusOK || len(hist.Entries) != 1 ||
				hist.Entries[0].Amount != 1_250 || *hist.Entries[0].Counterparty != alice.did || *hist.Entries[0].Memo != "bike" {
				t.Errorf("bob's history: got %d %s; want one credit of 1250 from alice", resp.StatusCode, b)
			}

			// A balance credential, valid for minutes, verifies.
			resp, b = e.postJSON(t, e.key, "/currencies/BCN/balance-credentials", map[string]any{"issuerId": f.issuerID, "account": bob.did})
			var bc api.BalanceCredentialResponse
			if err := json.Unmarshal(b, &bc); err != nil || resp.StatusCode != http.StatusCreated || bc.Account.Balance != 1_250 {
				t.Fatalf("balance credential: got %d %s; want 201 attesting 1250", resp.StatusCode, b)
			}
			token := strings.TrimPrefix(bc.VerifiableCredential["id"].(string), "data:application/jwt,")
			payload, err := jws.ParseString(token)
			if err != nil {
				t.Fatal(err)
			}
			var claims struct {
				Exp, Nbf int64
				Vc       struct{ CredentialSubject map[string]any }
			}
			_ = json.Unmarshal(payload.Payload(), &claims)
			if life := claims.Exp - claims.Nbf; life != int64(currency.BalanceCredentialTTL/time.Second) || claims.Vc.CredentialSubject["balance"] != float64(1_250) ||
				claims.Vc.CredentialSubject["height"] != float64(bc.Account.Height) {
				t.Errorf("credential: got lifetime %d s and subject %v; want %v and balance 1250 at height %d", life, claims.Vc.CredentialSubject, currency.BalanceCredentialTTL, bc.Account.Height)
			}
			vb, _ := json.Marshal(map[string]any{"verifiableCredential": token})
			if resp, b := e.do(t, http.MethodPost, "/credentials/verify", "", string(vb)); resp.StatusCode != http.StatusOK {
				t.Errorf("verify the balance credential: got %d %s; want 200", resp.StatusCode, b)
			}

			// The same from an ldp_vc (VC 2.0) instance: validUntil.
			ldp := e.createIssuer(t, e.key, f.treasury, "ldp_vc", currency.BalanceCredentialType)
			resp, b = e.postJSON(t, e.key, "/currencies/BCN/balance-credentials", map[string]any{"issuerId": ldp, "account": bob.did})
			if err := json.Unmarshal(b, &bc); err != nil || resp.StatusCode != http.StatusCreated || bc.VerifiableCredential["validUntil"] == nil {
				t.Fatalf("ldp_vc balance credential: got %d %s; want 201 with validUntil", resp.StatusCode, b)
			}
			vb, _ = json.Marshal(map[string]any{"verifiableCredential": bc.VerifiableCredential})
			if resp, b := e.do(t, http.MethodPost, "/credentials/verify", "", string(vb)); resp.StatusCode != http.StatusOK {
				t.Errorf("verify the ldp_vc balance credential: got %d %s; want 200", resp.StatusCode, b)
			}

			unaccredited := e.newDID(t, e.key, "Ed25519")
			otherIssuer := e.createIssuer(t, e.key, unaccredited, "jwt_vc_json", currency.BalanceCredentialType)
			for _, tc := range []struct {
				name, key, path string
				body            any
				status          int
				field, detail   string
			}{
				{"define without accreditation", e.key, "/currencies", map[string]any{"did": unaccredited, "code": "NOPE", "name": "No", "decimals": 0}, 403, "", "holds no accreditation for CurrencyIssuer"},
				{"define again", e.key, "/currencies", map[string]any{"did": f.treasury, "code": "BCN", "name": "Again", "decimals": 2}, 409, "/code", "already defined"},
				{"bad code", e.key, "/currencies", map[string]any{"did": f.treasury, "code": "b", "name": "B", "decimals": 2}, 400, "/code", "not a currency code"},
				{"too many decimals", e.key, "/currencies", map[string]any{"did": f.treasury, "code": "DEC", "name": "D", "decimals": 9}, 400, "/decimals", ""},
				{"another agency's DID", e.otherKey, "/currencies/BCN/mint", map[string]any{"did": f.treasury, "to": alice.did, "amount": 1}, 404, "/did", ""},
				{"mint by a DID that is not the issuer", e.key, "/currencies/BCN/mint", map[string]any{"did": unaccredited, "to": alice.did, "amount": 1}, 403, "", "only " + f.treasury},
				{"mint of an undefined currency", e.key, "/currencies/XYZ/mint", map[string]any{"did": f.treasury, "to": alice.did, "amount": 1}, 404, "/code", "no currency XYZ"},
				{"mint to no DID", e.key, "/currencies/BCN/mint", map[string]any{"did": f.treasury, "to": "alice", "amount": 1}, 400, "/to", ""},
				{"mint nothing", e.key, "/currencies/BCN/mint", map[string]any{"did": f.treasury, "to": alice.did, "amount": 0}, 400, "/amount", ""},
				{"no did", e.key, "/currencies/BCN/burn", map[string]any{"amount": 1}, 400, "/did", ""},
				{"burn more than held", e.key, "/currencies/BCN/burn", map[string]any{"did": f.treasury, "amount": 1 << 40}, 409, "/amount", "insufficient funds"},
				{"unknown field", e.key, "/currencies/BCN/burn", map[string]any{"did": f.treasury, "amount": 1, "from": alice.did}, 400, "/from", ""},
				{"balance credential by another issuer", e.key, "/currencies/BCN/balance-credentials", map[string]any{"issuerId": otherIssuer, "account": bob.did}, 403, "/issuerId", "attested by its issuer"},
				{"balance credential of no DID", e.key, "/currencies/BCN/balance-credentials", map[string]any{"issuerId": f.issuerID, "account": "bob"}, 400, "/account", ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					resp, b := e.postJSON(t, tc.key, tc.path, tc.body)
					p := wantProblem(t, resp, b, tc.status, tc.field)
					if !strings.Contains(p.Detail, tc.detail) {
						t.Errorf("got detail %q; want it to mention %q", p.Detail, tc.detail)
					}
				})
			}
			for _, tc := range []struct {
				path   string
				status int
			}{
				{"/currencies/XYZ", 404}, {"/currencies/bad", 400}, {"/currencies/BCN/accounts/alice", 400},
				{"/currencies/BCN/accounts/" + alice.did + "/history?after=a%20b", 400},
			} {
				resp, b := e.do(t, http.MethodGet, tc.path, "", "")
				wantProblem(t, resp, b, tc.status, "")
			}
		})
	}
}

func TestEnergyAPI(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			f := newCivicFixture(t, e)
			resp, b := e.do(t, http.MethodGet, "/energy/trades/"+f.trade, "", "")
			var tr api.EnergyTrade
			if err := json.Unmarshal(b, &tr); err != nil || resp.StatusCode != http.StatusOK || tr.Wh != 1200 || tr.Price != 300 || tr.Meter != f.meter.did {
				t.Fatalf("the trade: got %d %s; want 1200 Wh for 300", resp.StatusCode, b)
			}
			q := fmt.Sprintf("?from=%s&until=%s", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
			resp, b = e.do(t, http.MethodGet, "/energy/participants/"+tr.Seller+"/settlement"+q, "", "")
			var rep api.Settlement
			if err := json.Unmarshal(b, &rep); err != nil || resp.StatusCode != http.StatusOK || len(rep.Trades) != 1 || len(rep.Totals) != 1 ||
				rep.Totals[0].Received != 300 || rep.Totals[0].SoldWh != 1200 {
				t.Errorf("seller's settlement: got %d %s; want one trade, 1200 Wh sold for 300", resp.StatusCode, b)
			}
			resp, b = e.do(t, http.MethodGet, "/energy/meters/"+f.meter.did, "", "")
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"operator":"`+f.operator+`"`) {
				t.Errorf("the meter: got %d %s; want its registration by the operator", resp.StatusCode, b)
			}
			unaccredited := e.newDID(t, e.key, "Ed25519")
			meter := newKeyAccount(t)
			for _, tc := range []struct {
				name   string
				key    string
				body   map[string]any
				status int
				field  string
			}{
				{"operator not accredited", e.key, map[string]any{"did": unaccredited, "meter": meter.did, "prosumer": meter.did, "zone": "Z1", "capacityW": 1}, 403, ""},
				{"another agency's operator", e.otherKey, map[string]any{"did": f.operator, "meter": meter.did, "prosumer": meter.did, "zone": "Z1", "capacityW": 1}, 404, "/did"},
				{"meter registered already", e.key, map[string]any{"did": f.operator, "meter": f.meter.did, "prosumer": meter.did, "zone": "Z1", "capacityW": 1}, 409, "/meter"},
				{"meter not a did:key", e.key, map[string]any{"did": f.operator, "meter": f.operator + "x", "prosumer": meter.did, "zone": "Z1", "capacityW": 1}, 400, "/meter"},
				{"no zone", e.key, map[string]any{"did": f.operator, "meter": meter.did, "prosumer": meter.did, "capacityW": 1}, 400, "/zone"},
				{"no capacity", e.key, map[string]any{"did": f.operator, "meter": meter.did, "prosumer": meter.did, "zone": "Z1"}, 400, "/capacityW"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					resp, b := e.postJSON(t, tc.key, "/energy/meters", tc.body)
					wantProblem(t, resp, b, tc.status, tc.field)
				})
			}
			for _, tc := range []struct {
				path   string
				status int
			}{
				{"/energy/meters/" + meter.did, 404}, {"/energy/trades/00", 404},
				{"/energy/participants/" + tr.Seller + "/settlement?from=2030-01-01T00:00:00Z&until=2020-01-01T00:00:00Z", 400},
				{"/energy/participants/" + tr.Seller + "/settlement?from=yesterday&until=2020-01-01T00:00:00Z", 400},
				{"/energy/participants/nobody/settlement?from=2020-01-01T00:00:00Z&until=2030-01-01T00:00:00Z", 400},
			} {
				resp, b := e.do(t, http.MethodGet, tc.path, "", "")
				wantProblem(t, resp, b, tc.status, "")
			}
		})
	}
}

// The tenancy cases of the civic routes: agency B names agency A's
// treasury or grid operator DID, or A's issuer instance, and gets 404.
func init() {
	withSetup := func(setup func(t *testing.T, e *env, a *tenantA), path string, body func(a *tenantA) any) func(*testing.T, *env, *tenantA, string) (*http.Response, []byte) {
		done := false
		return func(t *testing.T, e *env, a *tenantA, key string) (*http.Response, []byte) {
			if !done {
				setup(t, e, a)
				done = true
			}
			return e.postJSON(t, key, path, body(a))
		}
	}
	treasury := func(code string, mint int64) func(t *testing.T, e *env, a *tenantA) {
		return func(t *testing.T, e *env, a *tenantA) {
			e.accredit(t, a.did, currency.IssuerType)
			if code == "" {
				return
			}
			if resp, b := e.postJSON(t, e.key, "/currencies", map[string]any{"did": a.did, "code": code, "name": code, "decimals": 0}); resp.StatusCode != http.StatusCreated {
				t.Fatalf("define %s: %d %s", code, resp.StatusCode, b)
			}
			if mint > 0 {
				if resp, b := e.postJSON(t, e.key, "/currencies/"+code+"/mint", map[string]any{"did": a.did, "to": a.did, "amount": mint}); resp.StatusCode != http.StatusCreated {
					t.Fatalf("mint %s: %d %s", code, resp.StatusCode, b)
				}
			}
		}
	}
	balance := func(code string, want int64) func(t *testing.T, e *env, a *tenantA) {
		return func(t *testing.T, e *env, a *tenantA) {
			resp, b := e.do(t, http.MethodGet, "/currencies/"+code+"/accounts/"+a.did, "", "")
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), fmt.Sprintf(`"balance":%d,`, want)) {
				t.Errorf("A's %s account after B's request: got %d %s; want balance %d", code, resp.StatusCode, b, want)
			}
		}
	}
	meter := map[*tenantA]string{}
	tenancyWrites["POST /currencies"] = func(a *tenantA) writeCase {
		return writeCase{
			call: withSetup(treasury("", 0), "/currencies", func(a *tenantA) any {
				return map[string]any{"did": a.did, "code": "TENDEF", "name": "Tenancy", "decimals": 0}
			}),
			unchanged: func(t *testing.T, e *env, a *tenantA) {
				resp, b := e.do(t, http.MethodGet, "/currencies/TENDEF", "", "")
				wantProblem(t, resp, b, http.StatusNotFound, "")
			},
			ownerStatus: http.StatusCreated,
		}
	}
	tenancyWrites["POST /currencies/{code}/mint"] = func(a *tenantA) writeCase {
		return writeCase{
			call: withSetup(treasury("TENMNT", 0), "/currencies/TENMNT/mint", func(a *tenantA) any {
				return map[string]any{"did": a.did, "to": a.did, "amount": 5}
			}),
			unchanged:   balance("TENMNT", 0),
			ownerStatus: http.StatusCreated,
		}
	}
	tenancyWrites["POST /currencies/{code}/burn"] = func(a *tenantA) writeCase {
		return writeCase{
			call: withSetup(treasury("TENBRN", 10), "/currencies/TENBRN/burn", func(a *tenantA) any {
				return map[string]any{"did": a.did, "amount": 5}
			}),
			unchanged:   balance("TENBRN", 10),
			ownerStatus: http.StatusCreated,
		}
	}
	issuerOf := map[*tenantA]string{}
	tenancyWrites["POST /currencies/{code}/balance-credentials"] = func(a *tenantA) writeCase {
		setup := func(t *testing.T, e *env, a *tenantA) {
			treasury("TENBAL", 10)(t, e, a)
			issuerOf[a] = e.createIssuer(t, e.key, a.did, "jwt_vc_json", currency.BalanceCredentialType)
		}
		return writeCase{
			call: withSetup(setup, "/currencies/TENBAL/balance-credentials", func(a *tenantA) any {
				return map[string]any{"issuerId": issuerOf[a], "account": a.did}
			}),
			ownerStatus: http.StatusCreated,
		}
	}
	tenancyWrites["POST /energy/meters"] = func(a *tenantA) writeCase {
		setup := func(t *testing.T, e *env, a *tenantA) {
			e.accredit(t, a.did, energy.OperatorType)
			meter[a] = newKeyAccount(t).did
		}
		return writeCase{
			call: withSetup(setup, "/energy/meters", func(a *tenantA) any {
				return map[string]any{"did": a.did, "meter": meter[a], "prosumer": a.did, "zone": "Z1", "capacityW": 1000}
			}),
			unchanged: func(t *testing.T, e *env, a *tenantA) {
				resp, b := e.do(t, http.MethodGet, "/energy/meters/"+meter[a], "", "")
				wantProblem(t, resp, b, http.StatusNotFound, "")
			},
			ownerStatus: http.StatusCreated,
		}
	}
}
