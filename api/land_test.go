package api_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/civic/land"
	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/registry"
)

// landActor is a citizen: a did:key whose key the test holds.
type landActor struct {
	did, kid string
	key      ed25519.PrivateKey
}

func newLandActor(t *testing.T) landActor {
	t.Helper()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	id, err := did.NewKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	s := id.String()
	return landActor{did: s, kid: s + "#" + strings.TrimPrefix(s, "did:key:"), key: key}
}

func (a landActor) owner() land.Owner { return land.Owner{DID: a.did, Share: 1} }

// consent is a's signed consent to transfer parcel, under title, to buyers.
func (a landActor) consent(t *testing.T, parcel, title string, buyers ...land.Owner) string {
	t.Helper()
	return a.sign(t, land.Consent{Parcel: parcel, Title: title, Buyers: buyers})
}

// mortgage is a's signed consent to lender's mortgage enc on parcel under title.
func (a landActor) mortgage(t *testing.T, parcel, title, enc, lender string) string {
	t.Helper()
	return a.sign(t, land.MortgageConsent{Parcel: parcel, Title: title, Encumbrance: enc, Lender: lender})
}

func (a landActor) sign(t *testing.T, v any) string {
	t.Helper()
	b, _ := json.Marshal(v)
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.KeyIDKey, a.kid)
	out, err := jws.Sign(b, jws.WithKey(jwa.EdDSA, a.key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// landWorld is an agency's land registry DID (accredited for LandTitle,
// with a jwt_vc_json instance) and lender DID (accredited for Mortgage,
// with an ldp_vc instance).
type landWorld struct {
	key, registry, lender string
}

func newLandWorld(t *testing.T, e *env, key string) *landWorld {
	t.Helper()
	w := &landWorld{key: key, registry: e.newDID(t, key, "Ed25519"), lender: e.newDID(t, key, "Ed25519")}
	e.accredit(t, w.registry, land.TitleType)
	e.accredit(t, w.lender, land.MortgageType)
	e.createIssuerWith(t, key, map[string]any{"did": w.registry, "format": "jwt_vc_json", "types": []string{land.TitleType}, "statusPurposes": []string{"revocation"}})
	e.createIssuerWith(t, key, map[string]any{"did": w.lender, "format": "ldp_vc", "types": []string{land.MortgageType}, "statusPurposes": []string{"revocation"}})
	return w
}

// landChange is the body of a land change.
type landChange struct {
	Parcel struct {
		Title, TitleId string
		Owners         []land.Owner
		Encumbrances   []struct{ Id string }
	}
	Credential   any
	CredentialId string
	Hash         string
	Revoked      string
	Warnings     []string
}

func (e *env) land(t *testing.T, method, path, key string, body any) (*http.Response, []byte) {
	t.Helper()
	b := ""
	if body != nil {
		raw, _ := json.Marshal(body)
		b = string(raw)
	}
	return e.do(t, method, path, key, b)
}

func (e *env) landOK(t *testing.T, method, path, key string, body any, want int) landChange {
	t.Helper()
	resp, b := e.land(t, method, path, key, body)
	var out landChange
	if resp.StatusCode != want || json.Unmarshal(b, &out) != nil {
		t.Fatalf("%s %s: got %d %s; want %d", method, path, resp.StatusCode, b, want)
	}
	return out
}

func (w *landWorld) register(t *testing.T, e *env, parcel string, owners ...land.Owner) landChange {
	t.Helper()
	return e.landOK(t, http.MethodPost, "/land/parcels", w.key, map[string]any{"registry": w.registry, "parcelId": parcel,
		"cadastralReference": "9872023VH5797S0001WX", "owners": owners}, http.StatusCreated)
}

func (w *landWorld) transferBody(title string, buyers []land.Owner, consents ...string) map[string]any {
	return map[string]any{"registry": w.registry, "title": title, "buyers": buyers, "consents": consents}
}

// TestLandTransfers: a parcel is registered, two sales of it race and
// exactly one wins, the replaced title stops verifying, a mortgage blocks
// a transfer until its lender releases it, and the history proves every
// step; over HTTP, on the real engine and each test database.
func TestLandTransfers(t *testing.T) {
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			w := newLandWorld(t, e, e.key)
			seller, buyerA, buyerB := newLandActor(t), newLandActor(t), newLandActor(t)
			reg := w.register(t, e, "P-1", seller.owner())
			if reg.Hash != reg.Parcel.Title || reg.CredentialId != reg.Parcel.TitleId {
				t.Fatalf("register: credential %s (%s); parcel title %s (%s); want the same", reg.Hash, reg.CredentialId, reg.Parcel.Title, reg.Parcel.TitleId)
			}
			if code, res := e.verify(t, reg.Credential); code != http.StatusOK {
				t.Fatalf("verify the new title: got %d %+v; want 200", code, res)
			}

			// Two sales of the same title at the same moment.
			title := reg.Parcel.Title
			var (
				wg    sync.WaitGroup
				codes [2]int
				out   [2][]byte
			)
			for i, b := range []landActor{buyerA, buyerB} {
				body := w.transferBody(title, []land.Owner{b.owner()}, seller.consent(t, "P-1", title, b.owner()))
				wg.Go(func() {
					resp, got := e.land(t, http.MethodPost, "/land/parcels/P-1/transfers", e.key, body)
					codes[i], out[i] = resp.StatusCode, got
				})
			}
			wg.Wait()
			winner := -1
			for i, c := range codes {
				switch c {
				case http.StatusOK:
					if winner >= 0 {
						t.Fatalf("both transfers got 200: %s / %s; want exactly one", out[0], out[1])
					}
					winner = i
				case http.StatusConflict:
					if !strings.Contains(string(out[i]), "is not the current title of parcel P-1") {
						t.Errorf("the losing transfer: got %s; want a stale title", out[i])
					}
				default:
					t.Errorf("transfer %d: got %d %s; want 200 or 409", i, c, out[i])
				}
			}
			if winner < 0 {
				t.Fatalf("no transfer got 200: %s / %s", out[0], out[1])
			}
			var won landChange
			_ = json.Unmarshal(out[winner], &won)
			want := []landActor{buyerA, buyerB}[winner]
			resp, b := e.land(t, http.MethodGet, "/land/parcels/P-1", "", nil)
			var p struct {
				Title  string
				Owners []land.Owner
			}
			if json.Unmarshal(b, &p) != nil || resp.StatusCode != http.StatusOK || p.Title != won.Hash || len(p.Owners) != 1 || p.Owners[0].DID != want.did {
				t.Errorf("parcel after the race: got %d %s; want title %s owned by %s", resp.StatusCode, b, won.Hash, want.did)
			}
			if won.Revoked != reg.CredentialId {
				t.Errorf("winner revoked %q; want the old title %s", won.Revoked, reg.CredentialId)
			}
			if code, res := e.verify(t, reg.Credential); code != http.StatusUnprocessableEntity || len(res.Errors) == 0 || res.Errors[0].Check != "status" {
				t.Errorf("verify the replaced title: got %d %+v; want 422 status (revoked)", code, res)
			}

			// A mortgage blocks the next sale until released.
			owner := want
			buyers := []land.Owner{buyerA.owner(), buyerB.owner()}
			sale := w.transferBody(won.Hash, buyers, owner.consent(t, "P-1", won.Hash, buyers...))
			m := e.landOK(t, http.MethodPost, "/land/parcels/P-1/encumbrances", e.key,
				map[string]any{"lender": w.lender, "encumbranceId": "m-1", "terms": map[string]any{"principal": "250000.00"},
					"consents": []string{owner.mortgage(t, "P-1", won.Hash, "m-1", w.lender)}}, http.StatusCreated)
			if len(m.Parcel.Encumbrances) != 1 || m.Parcel.Encumbrances[0].Id != "m-1" {
				t.Errorf("encumber: got encumbrances %+v; want m-1", m.Parcel.Encumbrances)
			}
			resp, b = e.land(t, http.MethodPost, "/land/parcels/P-1/transfers", e.key, sale)
			if pr := wantProblem(t, resp, b, http.StatusConflict, ""); !strings.Contains(pr.Detail, "encumbered by mortgage m-1") {
				t.Errorf("transfer of a mortgaged parcel: got %s; want encumbered by mortgage m-1", pr.Detail)
			}
			other := newLandWorld(t, e, e.otherKey)
			resp, b = e.land(t, http.MethodPost, "/land/parcels/P-1/encumbrances/m-1/release", e.otherKey, map[string]any{"lender": other.lender})
			wantProblem(t, resp, b, http.StatusForbidden, "")
			rel := e.landOK(t, http.MethodPost, "/land/parcels/P-1/encumbrances/m-1/release", e.key, map[string]any{"lender": w.lender}, http.StatusOK)
			if rel.Revoked != m.CredentialId {
				t.Errorf("release revoked %q; want the mortgage credential %s", rel.Revoked, m.CredentialId)
			}
			e.landOK(t, http.MethodPost, "/land/parcels/P-1/transfers", e.key, sale, http.StatusOK)

			// The history, each step with a proof that checks against genesis.
			resp, b = e.land(t, http.MethodGet, "/land/parcels/P-1/history", "", nil)
			var h struct {
				Events []struct {
					Kind, Operation string
					Proof           registry.Proof
				}
			}
			if err := json.Unmarshal(b, &h); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("history: got %d %s", resp.StatusCode, b)
			}
			var kinds []string
			for _, ev := range h.Events {
				kinds = append(kinds, ev.Kind)
				if ev.Proof.Hash != ev.Operation {
					t.Errorf("%s: proof of %s; want of %s", ev.Kind, ev.Proof.Hash, ev.Operation)
				}
				if err := registry.CheckProof(ev.Proof, e.chain.genesis); err != nil {
					t.Errorf("%s: proof does not check: %v", ev.Kind, err)
				}
			}
			if got, want := strings.Join(kinds, " "), "title.register title.transfer title.encumber title.release title.transfer"; got != want {
				t.Errorf("history: got %s; want %s", got, want)
			}
		})
	}
}

// TestLandRefusals: bad input is a 4xx problem naming the field, and a
// refused change issues nothing that stays valid.
func TestLandRefusals(t *testing.T) {
	e := newEnvs(t, api.Config{})[0]
	w := newLandWorld(t, e, e.key)
	seller, buyer, stranger := newLandActor(t), newLandActor(t), newLandActor(t)
	reg := w.register(t, e, "P-9", seller.owner())
	unaccredited := e.newDID(t, e.key, "Ed25519")
	title := reg.Parcel.Title
	cases := []struct {
		name, path string
		body       any
		status     int
		field      string
	}{
		{"parcel id with a slash", "/land/parcels", map[string]any{"registry": w.registry, "parcelId": "a/b", "cadastralReference": "c", "owners": []land.Owner{seller.owner()}}, 400, "parcelId"},
		{"did:web owner", "/land/parcels", map[string]any{"registry": w.registry, "parcelId": "P-10", "cadastralReference": "c", "owners": []land.Owner{{DID: "did:web:example.com", Share: 1}}}, 400, "owners/0/did"},
		{"zero share", "/land/parcels", map[string]any{"registry": w.registry, "parcelId": "P-10", "cadastralReference": "c", "owners": []land.Owner{{DID: seller.did, Share: 0}}}, 400, "owners/0/share"},
		{"registered twice", "/land/parcels", map[string]any{"registry": w.registry, "parcelId": "P-9", "cadastralReference": "c", "owners": []land.Owner{seller.owner()}}, 409, "parcelId"},
		{"registry not accredited", "/land/parcels", map[string]any{"registry": unaccredited, "parcelId": "P-11", "cadastralReference": "c", "owners": []land.Owner{seller.owner()}}, 403, ""},
		{"unknown field", "/land/parcels", map[string]any{"registry": w.registry, "parcelId": "P-12", "cadastralReference": "c", "owners": []land.Owner{seller.owner()}, "price": 1}, 400, ""},
		{"stale title", "/land/parcels/P-9/transfers", w.transferBody(strings.Repeat("ab", 32), []land.Owner{buyer.owner()}, seller.consent(t, "P-9", strings.Repeat("ab", 32), buyer.owner())), 409, "title"},
		{"no consent of the owner", "/land/parcels/P-9/transfers", w.transferBody(title, []land.Owner{buyer.owner()}, stranger.consent(t, "P-9", title, buyer.owner())), 403, "consents/0"},
		{"consent to other buyers", "/land/parcels/P-9/transfers", w.transferBody(title, []land.Owner{buyer.owner()}, seller.consent(t, "P-9", title, stranger.owner())), 403, "consents/0"},
		{"consent not a JWS", "/land/parcels/P-9/transfers", w.transferBody(title, []land.Owner{buyer.owner()}, "yes"), 400, "consents/0"},
		{"unknown parcel", "/land/parcels/P-404/transfers", w.transferBody(title, []land.Owner{buyer.owner()}, seller.consent(t, "P-404", title, buyer.owner())), 404, "parcelId"},
		{"another agency's registry DID", "/land/parcels/P-9/transfers", w.transferBody(title, []land.Owner{buyer.owner()}, seller.consent(t, "P-9", title, buyer.owner())), 404, "registry"},
		{"lender not accredited", "/land/parcels/P-9/encumbrances", map[string]any{"lender": w.registry, "encumbranceId": "m-9",
			"consents": []string{seller.mortgage(t, "P-9", title, "m-9", w.registry)}}, 403, ""},
		{"mortgage without the owner's consent", "/land/parcels/P-9/encumbrances", map[string]any{"lender": w.lender, "encumbranceId": "m-9",
			"consents": []string{stranger.mortgage(t, "P-9", title, "m-9", w.lender)}}, 403, "consents/0"},
		{"mortgage with a transfer consent", "/land/parcels/P-9/encumbrances", map[string]any{"lender": w.lender, "encumbranceId": "m-9",
			"consents": []string{seller.consent(t, "P-9", title, buyer.owner())}}, 403, "consents/0"},
		{"mortgage without an id", "/land/parcels/P-9/encumbrances", map[string]any{"lender": w.lender, "encumbranceId": "",
			"consents": []string{seller.mortgage(t, "P-9", title, "", w.lender)}}, 400, "encumbranceId"},
		{"release of no mortgage", "/land/parcels/P-9/encumbrances/m-9/release", map[string]any{"lender": w.lender}, 404, "encumbranceId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := e.key
			if c.name == "another agency's registry DID" {
				key = e.otherKey
			}
			resp, b := e.land(t, http.MethodPost, c.path, key, c.body)
			wantProblem(t, resp, b, c.status, c.field)
		})
	}
	resp, b := e.land(t, http.MethodGet, "/land/parcels/P-9", "", nil)
	if !strings.Contains(string(b), `"title":"`+title+`"`) || resp.StatusCode != http.StatusOK {
		t.Errorf("parcel after the refusals: got %d %s; want title %s unchanged", resp.StatusCode, b, title)
	}
	resp, b = e.land(t, http.MethodGet, "/land/parcels/P-404/history", "", nil)
	wantProblem(t, resp, b, http.StatusNotFound, "parcelId")
}

// landContract is what the land and provenance examples of openapi.yaml
// need: a registry and a lender of the test agency, parcels ES-08019-0001
// (transferred) and ES-08019-0002 (mortgaged, then released), and an
// attestation.
type landContract struct {
	e           *env
	w           *landWorld
	seller      landActor
	attestation any
}

func landContractFixture(t *testing.T, e *env) *landContract {
	t.Helper()
	f := &landContract{e: e, w: newLandWorld(t, e, e.key), seller: newLandActor(t)}
	f.w.register(t, e, "ES-08019-0001", f.seller.owner())
	f.w.register(t, e, "ES-08019-0002", f.seller.owner())
	farmer := newAttester(t, e, "jwt_vc_json", "OrganicOriginAttestation")
	f.attestation, _ = farmer.attest(t, e, "OrganicOriginAttestation", "wheat-2026-F1", nil, nil)
	return f
}

// parcel is the parcel an operation's example names.
func (f *landContract) parcel(opID string) string {
	if opID == "encumberParcel" || opID == "releaseEncumbrance" {
		return "ES-08019-0002"
	}
	return "ES-08019-0001"
}

// rewrite makes an example's body name the fixture's DIDs, the parcel's
// current title, the seller's consent and a real attestation.
func (f *landContract) rewrite(t *testing.T, opID string, body []byte) []byte {
	t.Helper()
	switch opID {
	case "registerParcel", "transferParcel", "encumberParcel", "releaseEncumbrance", "verifyProvenance":
	default:
		return body
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	switch opID {
	case "registerParcel":
		m["registry"], m["parcelId"] = f.w.registry, "ES-08019-0003"
	case "encumberParcel":
		_, b := f.e.land(t, http.MethodGet, "/land/parcels/"+f.parcel(opID), "", nil)
		var p struct{ Title string }
		_ = json.Unmarshal(b, &p)
		enc, _ := m["encumbranceId"].(string)
		m["lender"] = f.w.lender
		m["consents"] = []string{f.seller.mortgage(t, f.parcel(opID), p.Title, enc, f.w.lender)}
	case "releaseEncumbrance":
		m["lender"] = f.w.lender
	case "transferParcel":
		_, b := f.e.land(t, http.MethodGet, "/land/parcels/"+f.parcel(opID), "", nil)
		var p struct{ Title string }
		_ = json.Unmarshal(b, &p)
		raw, _ := json.Marshal(m["buyers"])
		var buyers []land.Owner
		_ = json.Unmarshal(raw, &buyers)
		m["registry"], m["title"] = f.w.registry, p.Title
		m["consents"] = []string{f.seller.consent(t, f.parcel(opID), p.Title, buyers...)}
	case "verifyProvenance":
		m["credentials"] = []any{f.attestation}
	}
	out, _ := json.Marshal(m)
	return out
}

// landTenant is agency A's land resources for the tenancy cases: its
// registry and lender DIDs, parcel T-1 (whose seller consents to a sale)
// and parcel T-2 (mortgaged as m-1).
type landTenant struct {
	w      *landWorld
	sale   map[string]any
	seller landActor
	title  string // of parcel 1
	n      int64  // parcels are T<n>-1, T<n>-2, T<n>-3
}

func (lt *landTenant) parcel(i int) string { return fmt.Sprintf("T%d-%d", lt.n, i) }

var (
	landTenants sync.Map // by *tenantA
	landTenantN atomic.Int64
)

func landTenantOf(t *testing.T, e *env, a *tenantA) *landTenant {
	t.Helper()
	if lt, ok := landTenants.Load(a); ok {
		return lt.(*landTenant)
	}
	lt := &landTenant{w: newLandWorld(t, e, e.key), n: landTenantN.Add(1), seller: newLandActor(t)}
	seller, buyer := lt.seller, newLandActor(t)
	lt.title = lt.w.register(t, e, lt.parcel(1), seller.owner()).Parcel.Title
	lt.sale = lt.w.transferBody(lt.title, []land.Owner{buyer.owner()}, seller.consent(t, lt.parcel(1), lt.title, buyer.owner()))
	title2 := lt.w.register(t, e, lt.parcel(2), seller.owner()).Parcel.Title
	e.landOK(t, http.MethodPost, "/land/parcels/"+lt.parcel(2)+"/encumbrances", e.key, map[string]any{"lender": lt.w.lender, "encumbranceId": "m-1",
		"consents": []string{seller.mortgage(t, lt.parcel(2), title2, "m-1", lt.w.lender)}}, http.StatusCreated)
	landTenants.Store(a, lt)
	return lt
}

// landTenancy is the tenancy case of a land write: agency B names A's
// registry or lender DID and gets 404; A's parcels are unchanged.
func landTenancy(op string) func(a *tenantA) writeCase {
	return func(*tenantA) writeCase {
		call := func(t *testing.T, e *env, a *tenantA, key string) (*http.Response, []byte) {
			lt := landTenantOf(t, e, a)
			switch op {
			case "register":
				return e.land(t, http.MethodPost, "/land/parcels", key, map[string]any{"registry": lt.w.registry, "parcelId": lt.parcel(3),
					"cadastralReference": "c", "owners": []land.Owner{newLandActor(t).owner()}})
			case "transfer":
				return e.land(t, http.MethodPost, "/land/parcels/"+lt.parcel(1)+"/transfers", key, lt.sale)
			case "encumber":
				return e.land(t, http.MethodPost, "/land/parcels/"+lt.parcel(1)+"/encumbrances", key, map[string]any{"lender": lt.w.lender, "encumbranceId": "m-2",
					"consents": []string{lt.seller.mortgage(t, lt.parcel(1), lt.title, "m-2", lt.w.lender)}})
			}
			return e.land(t, http.MethodPost, "/land/parcels/"+lt.parcel(2)+"/encumbrances/m-1/release", key, map[string]any{"lender": lt.w.lender})
		}
		unchanged := func(t *testing.T, e *env, a *tenantA) {
			lt := landTenantOf(t, e, a)
			for _, p := range []struct{ id, want string }{{lt.parcel(1), `"encumbrances":[]`}, {lt.parcel(2), `"id":"m-1"`}} {
				_, b := e.land(t, http.MethodGet, "/land/parcels/"+p.id, "", nil)
				if !strings.Contains(string(b), p.want) || !strings.Contains(string(b), `"height":`) {
					t.Errorf("parcel %s after B's request: %s; want %s", p.id, b, p.want)
				}
			}
			if resp, _ := e.land(t, http.MethodGet, "/land/parcels/"+lt.parcel(3), "", nil); resp.StatusCode != http.StatusNotFound {
				t.Errorf("parcel 3 after B's request: got %d; want 404 (not registered)", resp.StatusCode)
			}
		}
		status := map[string]int{"register": http.StatusCreated, "transfer": http.StatusOK, "encumber": http.StatusCreated, "release": http.StatusOK}[op]
		return writeCase{call: call, unchanged: unchanged, ownerStatus: status}
	}
}
